"""Knowledge measures: views, helpful share, reuse in resolutions, deflections and articles past review, per period
and filtered by service, category and type; in the metrics API."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from itsm.choices import Role
from knowledge import measures
from knowledge.choices import ArticleState
from knowledge.models import Article, ArticleUse, ArticleViewDay, ArticleVote, Deflection
from reports.choices import Interval
from reports.slices import Slice
from tests.base import ItsmTestCase
from tests.cmdb.factories import make_service
from tests.factories import make_user
from tests.problems.factories import make_category

from .factories import ArticleFactory, DeflectionFactory, UseFactory, VoteFactory

S = ArticleState
UTC = dt.UTC


def at(day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, tzinfo=UTC)


def march(**kwargs) -> Slice:
    return Slice(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31), interval=Interval.WEEK, **kwargs)


def vote(article, helpful, when):
    row = VoteFactory(article=article, voter=make_user(), helpful=helpful)
    ArticleVote.objects.filter(pk=row.pk).update(voted_at=when)


def use(article, when):
    row = UseFactory(article=article)
    ArticleUse.objects.filter(pk=row.pk).update(used_at=when)


def deflection(article, when):
    row = DeflectionFactory(article=article, requester=make_user())
    Deflection.objects.filter(pk=row.pk).update(deflected_at=when)


class MeasureTests(ItsmTestCase):
    @classmethod
    def setUpTestData(cls):
        cls.mail = make_service('Mail').ci
        cls.network = make_category('Network')
        cls.howto = ArticleFactory(
            state=S.PUBLISHED, audience='everyone', services=[cls.mail], categories=[cls.network]
        )
        cls.faq = ArticleFactory(state=S.PUBLISHED, audience='everyone', article_type='faq')
        for article, day, views in ((cls.howto, 2, 3), (cls.howto, 10, 2), (cls.faq, 10, 4)):
            ArticleViewDay.objects.create(article=article, day=dt.date(2026, 3, day), views=views)
        ArticleViewDay.objects.create(article=cls.faq, day=dt.date(2026, 2, 20), views=10)  # before the slice
        vote(cls.howto, True, at(3))
        vote(cls.howto, False, at(11))
        vote(cls.faq, True, at(11))
        vote(cls.faq, False, at(1) - dt.timedelta(days=5))
        use(cls.howto, at(4))
        use(cls.howto, at(12))
        use(cls.faq, at(12))
        deflection(cls.faq, at(5))
        deflection(cls.faq, at(1) - dt.timedelta(days=2))

    def test_views_per_period(self):
        figures = measures.views(march())
        self.assertEqual(figures['count'], 9)
        weeks = {row['period']: row['count'] for row in figures['series']}
        self.assertEqual(weeks['2026-03-02'], 3)
        self.assertEqual(weeks['2026-03-09'], 6)
        self.assertEqual(sum(weeks.values()), 9)

    def test_helpful_share(self):
        figures = measures.helpful_share(march())
        self.assertEqual((figures['votes'], figures['helpful'], figures['percent']), (3, 2, 66.7))

    def test_reuse_and_deflections(self):
        self.assertEqual(measures.reuse(march())['count'], 3)
        self.assertEqual(measures.deflections(march())['count'], 1)

    def test_filters_by_service_category_and_type(self):
        by_service = march(service=self.mail.pk)
        self.assertEqual(measures.views(by_service)['count'], 5)
        self.assertEqual(measures.reuse(by_service)['count'], 2)
        self.assertEqual(measures.views(march(category=self.network.pk))['count'], 5)
        self.assertEqual(measures.views(march(), article_type='faq')['count'], 4)
        self.assertEqual(measures.helpful_share(march(), article_type='faq')['votes'], 1)

    def test_articles_past_review_count_live_ones_now(self):
        yesterday = timezone.localdate() - dt.timedelta(days=1)
        retired = ArticleFactory(state=S.RETIRED)
        Article.objects.filter(pk__in=[self.howto.pk, retired.pk]).update(review_by=yesterday)
        figures = measures.articles_past_review(march())
        self.assertEqual(figures['count'], 1)
        self.assertEqual(figures['url'], '/knowledge/review-due/')
        self.assertEqual(measures.articles_past_review(march(), article_type='faq')['count'], 0)

    def test_rankings(self):
        self.assertEqual(measures.top_by_views(march()), [(self.howto, 5), (self.faq, 4)])
        self.assertEqual(measures.top_by_uses(march())[0], (self.howto, 2))
        least = measures.least_helpful(march())
        # Each has one helpful vote of two (all time); ties go by the older article.
        self.assertEqual(least, [self.howto, self.faq])
        self.assertEqual(least[0].vote_total, 2)


class MetricsAPITests(ItsmTestCase):
    @classmethod
    def setUpTestData(cls):
        article = ArticleFactory(state=S.PUBLISHED, audience='everyone')
        ArticleViewDay.objects.create(article=article, day=dt.date(2026, 3, 2), views=7)

    def call(self, slug, user, params=None):
        client = self.api_client(user)
        return client.get(f'/api/v1/metrics/{slug}/', {'from': '2026-03-01', 'to': '2026-03-31', **(params or {})})

    def test_served_with_their_definitions(self):
        manager = make_user(Role.MANAGER)  # reads the desk's metrics and the knowledge base
        for slug in measures.MEASURES:
            with self.subTest(slug):
                response = self.call(slug, manager)
                self.assertHttpStatus(response, 200)
                self.assertEqual(response.data['definition'], measures.MEASURES[slug].definition)
        self.assertEqual(self.call('knowledge_views', manager).data['count'], 7)
        listing = self.api_client(manager).get('/api/v1/metrics/')
        self.assertLessEqual(set(measures.MEASURES), {row['measure'] for row in listing.data['measures']})

    def test_requesters_are_refused_and_unknown_filters_are_400(self):
        self.assertHttpStatus(self.call('knowledge_views', make_user()), 403)
        response = self.call('knowledge_views', make_user(Role.KNOWLEDGE_MANAGER), {'group': 'x'})
        self.assertHttpStatus(response, 400)
