"""Knowledge test data, made through the services so it obeys the same rules as real articles.

writer = make_writer()
article = ArticleFactory(state='published', audience='everyone', body='## Steps...', services=[service])
version = VersionFactory(article=article, body='Newer text')     # revise, edit, submit, publish
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import factory
from factory.django import DjangoModelFactory

from itsm.audit import Actor
from itsm.choices import Role
from knowledge import services
from knowledge.choices import ArticleState
from knowledge.models import Article, ArticleUse, ArticleVersion, ArticleVote, Deflection, ReviewReminder
from tests.factories import make_user

S = ArticleState
SYSTEM = Actor.system()


def make_knowledge_manager(**kwargs):
    return make_user(Role.KNOWLEDGE_MANAGER, **kwargs)


def make_writer(**kwargs):
    """A service desk (L1) agent: drafts, edits and submits articles."""
    return make_user(Role.SERVICE_DESK_AGENT, **kwargs)


def as_actor(user) -> Actor:
    return Actor(user=user, channel='ui') if user is not None else SYSTEM


def publish(article: Article, actor=None, *, change_note: str = '') -> Article:
    """Submit (when in draft) and publish `article`; `actor` a knowledge manager (a system job when None)."""
    approver = as_actor(actor)
    article = Article.objects.get(pk=article.pk)
    if article.state == S.PUBLISHED:
        article = services.article_revise(article=article, actor=approver)
    if article.state == S.DRAFT:
        article = services.article_submit(article=article, actor=approver)
    return services.article_publish(article=article, actor=approver, change_note=change_note)


def drive(article: Article, state: str, *, actor: Actor = SYSTEM) -> Article:
    """Move a new draft to `state` the way people would."""
    if state == S.DRAFT:
        return article
    article = services.article_submit(article=article, actor=actor)
    if state == S.REVIEW:
        return article
    return services.article_publish(article=article, actor=actor)


class ArticleFactory(DjangoModelFactory):
    """`ArticleFactory(state='published')` drafts through `article_create` and publishes version 1; `retired`
    publishes version 1 and retires it; `author` is who drafts it (a system job by default)."""

    class Meta:
        model = Article

    title = factory.Sequence(lambda n: f'How to reset a forgotten VPN password {n}')
    body = '## Steps\n\n1. Open the self-service page.\n2. Choose **Reset password**.\n'
    summary = 'Reset it yourself in two minutes.'

    @classmethod
    def _create(cls, model_class, *args, state: str = S.DRAFT, author=None, actor: Actor | None = None, **kwargs):
        creator = as_actor(author) if author is not None else (actor or SYSTEM)
        article = services.article_create(actor=creator, **kwargs)
        article = drive(article, S.PUBLISHED if state == S.RETIRED else state, actor=actor or SYSTEM)
        if state == S.RETIRED:  # published first, as articles that get retired usually were
            article = services.article_retire(article=article, actor=actor or SYSTEM, reason='Superseded.')
        return Article.objects.get(pk=article.pk)


class VersionFactory(DjangoModelFactory):
    """A published version: of a new article, or the next one of `article` (revised, edited with the given fields,
    submitted and published)."""

    class Meta:
        model = ArticleVersion

    @classmethod
    def _create(cls, model_class, *args, article: Article | None = None, actor=None, change_note='', **fields: Any):
        if article is None:
            article = ArticleFactory(state=S.PUBLISHED, **fields)
            return article.published_version
        approver = as_actor(actor)
        article = Article.objects.get(pk=article.pk)
        if article.state == S.PUBLISHED:
            article = services.article_revise(article=article, actor=approver)
        if fields:
            article = services.article_update(article=article, actor=approver, **fields)
        article = publish(article, actor, change_note=change_note)
        return article.published_version


class VoteFactory(DjangoModelFactory):
    class Meta:
        model = ArticleVote

    article = factory.LazyFunction(lambda: ArticleFactory(state=S.PUBLISHED, audience='everyone'))
    voter = factory.LazyFunction(make_user)
    helpful = True
    comment = ''

    @classmethod
    def _create(cls, model_class, *args, article, voter, **kwargs):
        return services.article_vote(article=article, actor=as_actor(voter), **kwargs)


class UseFactory(DjangoModelFactory):
    """An article used to resolve an incident (a new incident and agent unless given)."""

    class Meta:
        model = ArticleUse

    article = factory.LazyFunction(lambda: ArticleFactory(state=S.PUBLISHED))

    @classmethod
    def _create(cls, model_class, *args, article, incident=None, used_by=None, **kwargs):
        from tests.factories import make_ticket

        incident = incident or make_ticket()
        return services.article_use(article=article, incident=incident, actor=as_actor(used_by or make_writer()))


class DeflectionFactory(DjangoModelFactory):
    class Meta:
        model = Deflection

    article = factory.LazyFunction(lambda: ArticleFactory(state=S.PUBLISHED, audience='everyone'))
    requester = factory.LazyFunction(make_user)
    query = 'vpn password'

    @classmethod
    def _create(cls, model_class, *args, article, requester, query='', **kwargs):
        return services.deflect(article=article, actor=as_actor(requester), query=query)


class ReminderFactory(DjangoModelFactory):
    """The review reminder of a live article, sent by `send_review_reminders` the day after its review date."""

    class Meta:
        model = ReviewReminder

    article = factory.LazyFunction(lambda: ArticleFactory(state=S.PUBLISHED))

    @classmethod
    def _create(cls, model_class, *args, article, **kwargs):
        from knowledge.reviews import send_review_reminders

        article = Article.objects.get(pk=article.pk)
        send_review_reminders(today=article.review_by + dt.timedelta(days=1))
        return ReviewReminder.objects.get(article=article, review_by=article.review_by)
