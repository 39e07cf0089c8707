"""The knowledge dashboard: tiles for every measure over 30/90/365 days, the weekly chart, top articles by views
and uses, the least helpful and those past review; constant queries; staff only."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from itsm.choices import Role
from knowledge.choices import ArticleState
from knowledge.models import Article, ArticleViewDay
from tests.base import ItsmTestCase
from tests.factories import make_user

from .factories import ArticleFactory, DeflectionFactory, UseFactory, VoteFactory

S = ArticleState
URL = '/knowledge/dashboard/'


def busy_article(title: str, *, views: int = 3, review_by: dt.date | None = None, article_type: str = 'how_to'):
    """A live article read today, used once, rated twice (once helpful) and said to solve one report."""
    article = ArticleFactory(
        state=S.PUBLISHED,
        audience='everyone',
        title=title,
        owner=make_user(Role.SERVICE_DESK_AGENT),
        article_type=article_type,
    )
    ArticleViewDay.objects.create(article=article, day=timezone.localdate(), views=views)
    UseFactory(article=article)
    VoteFactory(article=article, voter=make_user(), helpful=True)
    VoteFactory(article=article, voter=make_user(), helpful=False)
    DeflectionFactory(article=article, requester=make_user())
    if review_by:
        Article.objects.filter(pk=article.pk).update(review_by=review_by)
    return article


class DashboardPageTests(ItsmTestCase):
    def test_named_route(self):
        self.assertEqual(reverse('knowledge:dashboard'), URL)

    def test_tiles_chart_and_lists_with_constant_queries(self):
        self.client.force_login(make_user(Role.KNOWLEDGE_MANAGER))
        yesterday = timezone.localdate() - dt.timedelta(days=1)
        first = busy_article('Reset <b>VPN</b> tokens', views=9, review_by=yesterday)
        response = self.client.get(URL, {'days': 30})
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.context['days'], 30)
        figures = response.context['figures']
        self.assertEqual(figures['knowledge_views']['count'], 9)
        self.assertEqual(figures['knowledge_reuse']['count'], 1)
        self.assertEqual(figures['knowledge_deflections']['count'], 1)
        self.assertEqual(figures['knowledge_helpful']['percent'], 50.0)
        self.assertEqual(figures['knowledge_past_review']['count'], 1)
        self.assertContains(response, 'chart-knowledge-data')
        self.assertContains(response, 'Reset &lt;b&gt;VPN&lt;/b&gt; tokens')
        self.assertNotContains(response, 'Reset <b>VPN</b>')
        self.assertEqual(response.context['top_views'], [(first, 9)])
        self.assertEqual(response.context['past_review'], [first])
        self.assertEqual(response.context['least_helpful'], [first])
        few = self.count_queries(lambda: self.client.get(URL, {'days': 30}))
        for n in range(4):
            busy_article(f'More help {n}', review_by=yesterday)
        self.assertEqual(self.count_queries(lambda: self.client.get(URL, {'days': 30})), few)

    def test_filtered_by_type(self):
        self.client.force_login(make_user(Role.SERVICE_DESK_AGENT))
        busy_article('How to print', views=2)
        busy_article('Printing FAQ', views=5, article_type='faq')
        response = self.client.get(URL, {'type': 'faq'})
        self.assertEqual(response.context['article_type'], 'faq')
        self.assertEqual(response.context['figures']['knowledge_views']['count'], 5)
        response = self.client.get(URL, {'type': 'poem'})
        self.assertEqual(response.context['article_type'], '')
        self.assertEqual(response.context['figures']['knowledge_views']['count'], 7)

    def test_an_unknown_period_falls_back_and_requesters_are_refused(self):
        self.client.force_login(make_user(Role.SERVICE_DESK_AGENT))
        self.assertEqual(self.client.get(URL, {'days': 'x'}).context['days'], 90)
        self.assertEqual(self.client.get(URL, {'days': 7}).context['days'], 90)
        self.client.force_login(make_user())
        self.assertHttpStatus(self.client.get(URL), 403)
        self.client.logout()
        response = self.client.get(URL)
        self.assertHttpStatus(response, 302)
        self.assertIn(reverse('itsm:login'), response['Location'])
