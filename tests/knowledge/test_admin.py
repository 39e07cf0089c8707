"""The admin site for the knowledge base: every model registered, changelists and change pages load in a number of
queries that does not grow with the rows, and everything is read-only there (the services keep the rules)."""

from __future__ import annotations

import datetime as dt

from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from itsm.choices import Role
from knowledge.choices import ArticleState
from knowledge.models import (
    Article,
    ArticleUse,
    ArticleVersion,
    ArticleViewDay,
    ArticleVote,
    Deflection,
    ReviewReminder,
)
from knowledge.services import article_viewed
from tests.base import ItsmTestCase
from tests.factories import make_user

from .factories import ArticleFactory, DeflectionFactory, ReminderFactory, UseFactory, VersionFactory, VoteFactory

S = ArticleState


def view_day():
    article = ArticleFactory(state=S.PUBLISHED)
    article_viewed(article=article, user=make_user(Role.SERVICE_DESK_AGENT))
    return ArticleViewDay.objects.get(article=article)


def reminder():
    article = ArticleFactory(state=S.PUBLISHED, owner=make_user(Role.SERVICE_DESK_AGENT))
    Article.objects.filter(pk=article.pk).update(review_by=dt.date(2026, 1, 1))
    return ReminderFactory(article=article)


BUILDERS = {
    Article: lambda: ArticleFactory(owner=make_user(Role.SERVICE_DESK_AGENT)),
    ArticleVersion: VersionFactory,
    ArticleVote: VoteFactory,
    ArticleViewDay: view_day,
    ArticleUse: UseFactory,
    Deflection: DeflectionFactory,
    ReviewReminder: reminder,
}


class KnowledgeAdminTests(ItsmTestCase):
    def setUp(self):
        self.admin = make_user(Role.ADMINISTRATOR, username='root', is_staff=True, is_superuser=True)
        self.client.force_login(self.admin)

    def url(self, model, view: str, *args) -> str:
        return reverse(f'admin:knowledge_{model._meta.model_name}_{view}', args=args)

    def test_every_model_is_registered(self):
        for model in apps.get_app_config('knowledge').get_models():
            with self.subTest(model=model.__name__):
                self.assertTrue(admin.site.is_registered(model))
                self.assertIn(model, BUILDERS)

    def test_changelists_and_change_pages_load_in_constant_queries(self):
        for model, build in BUILDERS.items():
            with self.subTest(model=model.__name__):
                obj = build()
                url = self.url(model, 'changelist')
                self.client.get(url)
                few = self.count_queries(lambda url=url: self.assertHttpStatus(self.client.get(url), 200))
                for _ in range(3):
                    build()
                many = self.count_queries(lambda url=url: self.assertHttpStatus(self.client.get(url), 200))
                self.assertEqual(few, many, f'{model.__name__} changelist queries grew from {few} to {many}')
                self.assertHttpStatus(self.client.get(self.url(model, 'change', obj.pk)), 200)
                self.assertHttpStatus(self.client.get(url, {'q': 'KB'}), 200)

    def test_records_are_read_only(self):
        article = ArticleFactory()
        self.assertHttpStatus(self.client.get(self.url(Article, 'add')), 403)
        response = self.client.get(self.url(Article, 'change', article.pk))
        self.assertNotContains(response, 'name="_save"')
        self.assertHttpStatus(self.client.post(self.url(Article, 'delete', article.pk)), 403)
        self.assertTrue(Article.objects.filter(pk=article.pk).exists())

    def test_search_finds_an_article_by_title(self):
        wanted = ArticleFactory(title='Rotate the Wi-Fi certificate')
        ArticleFactory(title='Printer queues')
        response = self.client.get(self.url(Article, 'changelist'), {'q': 'Wi-Fi'})
        self.assertContains(response, wanted.number)
        self.assertEqual(response.context['cl'].result_count, 1)
