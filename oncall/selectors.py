"""Reads of on-call shared by the pages and the API (constant queries whatever the row count)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from itsm.models import User

from . import services
from .choices import PageState
from .models import EscalationPolicy, OnCallOverride, OnCallSchedule, Page, RotationLayer

NOW_AND_NEXT_DAYS = 14


def schedule_list() -> QuerySet[OnCallSchedule]:
    return OnCallSchedule.objects.select_related('group', 'group__manager')


def layer_list() -> QuerySet[RotationLayer]:
    return RotationLayer.objects.select_related('schedule', 'schedule__group')


def override_list() -> QuerySet[OnCallOverride]:
    return OnCallOverride.objects.select_related('schedule', 'schedule__group', 'person')


def policy_list() -> QuerySet[EscalationPolicy]:
    return EscalationPolicy.objects.select_related('group', 'group__manager')


def page_list() -> QuerySet[Page]:
    return Page.objects.select_related('group', 'schedule', 'recipient', 'acknowledged_by')


def schedules_with_rotation(queryset: QuerySet[OnCallSchedule] | None = None) -> QuerySet[OnCallSchedule]:
    """Schedules with their layers and overrides prefetched (three queries however many)."""
    horizon = timezone.now() - dt.timedelta(days=1)
    return (queryset if queryset is not None else schedule_list()).prefetch_related(
        'layers', Prefetch('overrides', queryset=OnCallOverride.objects.filter(end__gt=horizon))
    )


def schedule_names(group) -> dict[int, str]:
    """The names of a group's schedules by id (what an escalation level names)."""
    return dict(OnCallSchedule.objects.filter(group=group).values_list('pk', 'name'))


def acknowledgement_of(page: Page) -> Page | None:
    """The page that acknowledged `page`'s record, with who did it; None while nobody has."""
    return (
        Page.objects.filter(
            content_type_id=page.content_type_id, object_id=page.object_id, state=PageState.ACKNOWLEDGED
        )
        .select_related('acknowledged_by')
        .first()
    )


def people_by_id(ids) -> dict[int, User]:
    return {u.pk: u for u in User.objects.filter(pk__in=set(ids) - {None})}


def now_and_next(schedules, *, at: dt.datetime | None = None, days: int = NOW_AND_NEXT_DAYS) -> list[dict]:
    """Per schedule: the shifts from `at` (now) for `days` days, with the people resolved, the current shift
    first. One query for the people of every schedule."""
    at = at or timezone.now()
    end = at + dt.timedelta(days=days)
    plans = [(schedule, services.shifts_of(schedule, at, end)) for schedule in schedules]
    people = people_by_id(s.person for _, shifts in plans for s in shifts)
    rows = []
    for schedule, shifts in plans:
        resolved = [
            {'person': people.get(s.person), 'person_id': s.person, 'start': s.start, 'end': s.end, 'source': s.source}
            for s in shifts
        ]
        current = resolved[0] if resolved and resolved[0]['start'] <= at else None
        upcoming = resolved[1:] if current else resolved
        rows.append(
            {
                'schedule': schedule,
                'now': current,
                'next': upcoming[0] if upcoming else None,
                'shifts': resolved,
            }
        )
    return rows
