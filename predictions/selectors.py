"""Read side of predictions: the profile list (API), a ticket's prediction, the requester's sentence."""

from __future__ import annotations

import math

from django.db.models import QuerySet

from incidents.models import Ticket

from .models import DurationProfile, Prediction

__all__ = ['plain_duration', 'prediction_of', 'profile_list', 'requester_text']


def profile_list() -> QuerySet[DurationProfile]:
    return DurationProfile.objects.select_related('category', 'service', 'assignment_group')


def prediction_of(ticket: Ticket) -> Prediction | None:
    """The stored prediction of an open ticket (one query unless prefetched), None otherwise."""
    if not ticket.is_open:
        return None
    try:
        return ticket.prediction
    except Prediction.DoesNotExist:
        return None


def plain_duration(seconds: float) -> str:
    """A duration as a requester reads it: "within the hour", "within about 5 hours", "within about 3 days"."""
    hours = seconds / 3600
    if hours < 1:
        return 'within the hour'
    if hours < 48:
        n = math.ceil(hours)
        return f'within about {n} hour{"s" if n != 1 else ""}'
    return f'within about {math.ceil(hours / 24)} days'


def requester_text(ticket: Ticket, prediction: Prediction | None) -> str:
    """The one rule for the portal's "expected resolution": nothing once the ticket is no longer open or when the
    desk has set an ETA (the portal shows that), else how long similar tickets usually take, or plainly that
    there are too few to say."""
    if not ticket.is_open or ticket.eta:
        return ''
    if prediction is None:
        return 'Too few similar requests were resolved recently to say how long this usually takes.'
    return f'Similar requests are usually resolved {plain_duration(prediction.typical.total_seconds())}.'
