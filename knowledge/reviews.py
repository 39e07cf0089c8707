"""Article reviews (domain §12): live articles past their review date, and the reminders to their owners.

A reminder is one `ReviewReminder` row per article and review date; its unique constraint decides which of two
overlapping runs sends it (the INSERT that loses the race sends nothing). Publishing a new version moves a past
review date on, so the next date gets its own reminder.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .models import Article, ReviewReminder


def past_review(today: dt.date | None = None):
    """Live articles whose review date has passed, the longest overdue first; articles with an owner before those
    without (someone is accountable for the former)."""
    today = today or timezone.localdate()
    return (
        Article.objects.live()
        .filter(review_by__lt=today)
        .select_related('owner')
        .order_by(F('owner').asc(nulls_last=True), 'review_by', 'pk')
    )


def due_for_reminder(today: dt.date | None = None):
    """Articles past review whose current review date has had no reminder yet."""
    return past_review(today).exclude(
        pk__in=ReviewReminder.objects.filter(review_by=F('article__review_by')).values('article_id')
    )


def send_review_reminders(today: dt.date | None = None) -> int:
    """Remind the owner (else the knowledge managers) of each article past review, once per review date.
    Returns how many reminders this run sent."""
    from .notifications import review_due

    sent = 0
    for article in due_for_reminder(today):
        try:
            with transaction.atomic():
                ReviewReminder.objects.create(article=article, review_by=article.review_by, sent_to=article.owner)
                review_due(article)
        except IntegrityError:  # an overlapping run sent this one
            continue
        sent += 1
    return sent
