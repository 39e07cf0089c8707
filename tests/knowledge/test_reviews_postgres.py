"""Review reminders on PostgreSQL: overlapping beats on real parallel connections send one reminder and one message
per article and review date."""

from __future__ import annotations

import datetime as dt
from functools import partial

import pytest
from django.core import mail
from django.utils import timezone

from inbox.models import Notification
from knowledge.choices import ArticleState
from knowledge.models import ReviewReminder
from knowledge.reviews import send_review_reminders
from tests.concurrency import run_in_parallel
from tests.knowledge.factories import ArticleFactory, make_writer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
BEATS = 4


def test_overlapping_beats_remind_once_per_article_and_review_date():
    today = timezone.localdate()
    owners = [make_writer() for _ in range(3)]
    articles = [
        ArticleFactory(state=ArticleState.PUBLISHED, author=owner, review_by=today + dt.timedelta(days=5 + i))
        for i, owner in enumerate(owners)
    ]
    mail.outbox = []
    beat = partial(send_review_reminders, today=today + dt.timedelta(days=30))

    results = run_in_parallel([beat] * BEATS)
    assert [r[0] for r in results] == ['ok'] * BEATS, results
    assert sum(r[1] for r in results) == len(articles), 'each article claimed by exactly one beat'
    for article, owner in zip(articles, owners, strict=True):
        assert ReviewReminder.objects.filter(article=article).count() == 1
        assert len([m for m in mail.outbox if m.to == [owner.email]]) == 1
        assert Notification.objects.filter(recipient=owner, object_id=article.pk, event='review_due').count() == 1

    results = run_in_parallel([beat] * BEATS)
    assert sum(r[1] for r in results) == 0, 'a date already reminded is not reminded again'
    assert len(mail.outbox) == len(articles)
