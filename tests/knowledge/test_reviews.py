"""Article reviews: which live articles are past their review date, and one reminder per article and review date to
the owner (else the knowledge managers), in the inbox and by e-mail, from the beat task."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from inbox.models import Notification
from itsm.audit import Actor
from itsm.celery import app
from knowledge import services
from knowledge.choices import ArticleState
from knowledge.models import Article, ReviewReminder
from knowledge.reviews import past_review, send_review_reminders
from knowledge.tasks import knowledge_review_reminders_task
from tests.knowledge.factories import ArticleFactory, ReminderFactory, make_knowledge_manager, make_writer, publish

pytestmark = pytest.mark.django_db
S = ArticleState
TODAY = timezone.localdate()


def later(days: int) -> dt.date:
    return TODAY + dt.timedelta(days=days)


@pytest.fixture
def articles():
    owner, other = make_writer(), make_writer()
    soon = ArticleFactory(state=S.PUBLISHED, author=owner, review_by=later(10))
    late = ArticleFactory(state=S.PUBLISHED, author=other, review_by=later(40))
    draft = ArticleFactory(author=owner, review_by=later(1))
    retired = ArticleFactory(state=S.RETIRED, author=owner, review_by=later(5))
    return {'owner': owner, 'other': other, 'soon': soon, 'late': late, 'draft': draft, 'retired': retired}


def test_past_review_lists_live_articles_past_their_date_only(articles):
    assert list(past_review(today=later(10))) == []
    assert list(past_review(today=later(11))) == [articles['soon']]
    found = list(past_review(today=later(60)))
    assert set(found) == {articles['soon'], articles['late']}  # never drafts or retired articles


def test_past_review_groups_by_owner_and_unowned_come_last(articles):
    unowned = ArticleFactory(state=S.PUBLISHED, review_by=later(3))
    assert unowned.owner is None
    found = list(past_review(today=later(60)))
    assert found[-1] == unowned
    owners = [a.owner_id for a in found[:-1]]
    assert owners == sorted(owners)


def test_one_reminder_per_article_and_review_date(articles, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert send_review_reminders(today=later(11)) == 1
    reminder = ReviewReminder.objects.get()
    assert (reminder.article, reminder.review_by, reminder.sent_to) == (
        articles['soon'],
        later(10),
        articles['owner'],
    )
    assert [m.to for m in mail.outbox] == [[articles['owner'].email]]
    assert 'due for review' in mail.outbox[0].body and articles['soon'].number in mail.outbox[0].subject
    assert Notification.objects.filter(recipient=articles['owner'], event='review_due').count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert send_review_reminders(today=later(12)) == 0
    assert len(mail.outbox) == 1


def test_a_new_review_date_gets_its_own_reminder(articles):
    send_review_reminders(today=later(11))
    manager = make_knowledge_manager()
    article = Article.objects.get(pk=articles['soon'].pk)
    actor = Actor(user=manager, channel='ui')
    services.article_revise(article=article, actor=actor)
    services.article_update(article=article, actor=actor, review_by=later(20))
    publish(article, manager)
    assert send_review_reminders(today=later(21)) == 1
    assert ReviewReminder.objects.filter(article=article).count() == 2


def test_without_an_owner_the_knowledge_managers_are_reminded(django_capture_on_commit_callbacks):
    managers = [make_knowledge_manager(), make_knowledge_manager()]
    article = ArticleFactory(state=S.PUBLISHED, review_by=later(2))
    with django_capture_on_commit_callbacks(execute=True):
        assert send_review_reminders(today=later(3)) == 1
    assert sorted(mail.outbox[0].to) == sorted(m.email for m in managers)
    assert ReviewReminder.objects.get(article=article).sent_to is None
    assert Notification.objects.filter(event='review_due').count() == 2


def test_reminder_factory_and_the_task(articles):
    reminder = ReminderFactory(article=articles['late'])
    assert reminder.review_by == later(40)
    assert knowledge_review_reminders_task() == 0  # nothing is past review today


def test_the_beat_runs_the_task_hourly_by_default():
    entry = app.conf.beat_schedule['knowledge-review-reminders']
    assert entry['task'] == 'knowledge.tasks.knowledge_review_reminders_task'
    assert entry['schedule'] == 3600.0
    assert knowledge_review_reminders_task.name == entry['task']
