"""Major-incident measures over a `reports` slice: major incidents per period, mean time to declare, mean time to
restore, updates on time and action items overdue.

Each is a function of a `reports.slices.Slice` answering its figures and, where it has a trend, a `series` entry per
period. `register()` (called by the app's ready) adds them to `reports.registry`, so `/api/v1/metrics/{measure}/`
serves them beside the desk's; the major-incident dashboard (`major_incidents.views.dashboard`) shows them. Filters:
priority and service, read on the major incident.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from typing import Any

from django.db.models import Q
from django.urls import reverse

from reports.registry import RegisteredMeasure
from reports.slices import Slice

from .choices import MajorIncidentState, UpdateAudience
from .models import ActionItem, MajorIncident, MajorIncidentUpdate
from .review import today

__all__ = [
    'FILTERS',
    'MEASURES',
    'action_items_overdue',
    'dashboard',
    'major_incident_count',
    'time_to_declare',
    'time_to_restore',
    'updates_on_time',
]

FILTERS = ('priority', 'service')
# Updates that promise something to people outside the response team: the cadence is measured on these.
TOLD_AUDIENCES = (UpdateAudience.RECIPIENTS, UpdateAudience.PUBLIC)


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _major_q(slice_: Slice, prefix: str = '') -> Q:
    condition = Q()
    if slice_.priorities:
        condition &= Q(**{f'{prefix}priority__in': slice_.priorities})
    if slice_.service is not None:
        if slice_.service == 0:
            condition &= Q(**{f'{prefix}services__isnull': True})
        else:
            condition &= Q(
                **{
                    f'{prefix}pk__in': MajorIncident.services.through.objects.filter(
                        configurationitem=slice_.service
                    ).values('majorincident')
                }
            )
    return condition


def _durations(values: list[float], unit: str = 'hours') -> dict[str, Any]:
    scale = _hours if unit == 'hours' else _minutes
    return {
        'count': len(values),
        f'mean_{unit}': scale(statistics.fmean(values)) if values else None,
        f'median_{unit}': scale(statistics.median(values)) if values else None,
    }


def _declared(slice_: Slice):
    # Cancelled ones were not major incidents after all.
    return MajorIncident.objects.filter(_major_q(slice_), slice_.within('declared_at')).exclude(
        state=MajorIncidentState.CANCELLED
    )


#
# The measures
#


def major_incident_count(slice_: Slice) -> dict[str, Any]:
    """Major incidents declared in the slice (cancelled ones aside), per period and by priority."""
    rows = _declared(slice_).values_list('declared_at', 'priority')
    per_period: dict[dt.date, int] = defaultdict(int)
    by_priority: dict[int, int] = defaultdict(int)
    for declared_at, priority in rows:
        per_period[slice_.period_of(declared_at)] += 1
        by_priority[priority] += 1
    return {
        'count': sum(per_period.values()),
        'by_priority': {str(p): n for p, n in sorted(by_priority.items())},
        'series': slice_.series(lambda key: {'count': per_period[key]}),
    }


def time_to_declare(slice_: Slice) -> dict[str, Any]:
    """From the start of the outage to the declaration, over the major incidents declared in the slice."""
    rows = _declared(slice_).values_list('outage_started_at', 'declared_at')
    minutes: dict[dt.date, list[float]] = defaultdict(list)
    every = []
    for started, declared in rows:
        elapsed = max((declared - started).total_seconds(), 0.0)
        minutes[slice_.period_of(declared)].append(elapsed)
        every.append(elapsed)
    return {
        **_durations(every, 'minutes'),
        'series': slice_.series(lambda key: _durations(minutes[key], 'minutes')),
    }


def time_to_restore(slice_: Slice) -> dict[str, Any]:
    """From the start of the outage to the service restored, over the major incidents restored in the slice."""
    rows = MajorIncident.objects.filter(
        _major_q(slice_), slice_.within('restored_at'), restored_at__isnull=False
    ).values_list('outage_started_at', 'restored_at')
    seconds: dict[dt.date, list[float]] = defaultdict(list)
    every = []
    for started, restored in rows:
        elapsed = max((restored - started).total_seconds(), 0.0)
        seconds[slice_.period_of(restored)].append(elapsed)
        every.append(elapsed)
    return {**_durations(every), 'series': slice_.series(lambda key: _durations(seconds[key]))}


def _on_time(total: int, on_time: int) -> dict[str, Any]:
    return {'updates': total, 'on_time': on_time, 'late': total - on_time, 'percent': _percent(on_time, total)}


def updates_on_time(slice_: Slice) -> dict[str, Any]:
    """Of the updates posted in the slice to the recipient list or the status page, those posted by the time the
    cadence said."""
    rows = MajorIncidentUpdate.objects.filter(
        _major_q(slice_, 'major_incident__'), slice_.within('posted_at'), audience__in=TOLD_AUDIENCES
    ).values_list('posted_at', 'on_time')
    per_period: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0])
    for posted_at, on_time in rows:
        counts = per_period[slice_.period_of(posted_at)]
        counts[0] += 1
        counts[1] += int(on_time)
    total = sum(c[0] for c in per_period.values())
    punctual = sum(c[1] for c in per_period.values())
    return {**_on_time(total, punctual), 'series': slice_.series(lambda key: _on_time(*per_period[key]))}


def action_items_overdue(slice_: Slice, *, on: dt.date | None = None) -> dict[str, Any]:
    """Action items open now, and those of them due before today (the desk's day), whatever the period."""
    on = on or today()
    items = ActionItem.objects.filter(_major_q(slice_, 'review__major_incident__'), done_at__isnull=True).values_list(
        'due_date', flat=True
    )
    due_dates = list(items)
    overdue = sum(1 for due in due_dates if due < on)
    return {
        'open': len(due_dates),
        'overdue': overdue,
        'url': f'{reverse("major_incidents:actionitem_list")}?view=overdue',
    }


#
# Definitions and registration
#

MEASURES: dict[str, RegisteredMeasure] = {
    m.slug: m
    for m in [
        RegisteredMeasure(
            slug='major_incidents',
            label='Major incidents',
            unit='major incidents',
            definition='Major incidents declared in the period, cancelled ones aside, per period and by priority.',
            counted_on='the day the major incident was declared',
            permission='major_incidents.view_majorincident',
            compute=major_incident_count,
            filters=FILTERS,
        ),
        RegisteredMeasure(
            slug='major_time_to_declare',
            label='Mean time to declare',
            unit='minutes',
            definition=(
                'The average time from the start of the outage to the declaration of the major incident, over '
                'those declared in the period (cancelled ones aside), with the median. Calendar time.'
            ),
            counted_on='the day the major incident was declared',
            permission='major_incidents.view_majorincident',
            compute=time_to_declare,
            filters=FILTERS,
        ),
        RegisteredMeasure(
            slug='major_time_to_restore',
            label='Mean time to restore',
            unit='hours',
            definition=(
                'The average time from the start of the outage to the service restored, over the major incidents '
                'restored in the period, with the median. Calendar time.'
            ),
            counted_on='the day the service was restored',
            permission='major_incidents.view_majorincident',
            compute=time_to_restore,
            filters=FILTERS,
        ),
        RegisteredMeasure(
            slug='major_updates_on_time',
            label='Updates on time',
            unit='%',
            definition=(
                'The share of the updates posted in the period to the recipient list or the public status page '
                'that were posted by the time the update cadence said.'
            ),
            counted_on='the day the update was posted',
            permission='major_incidents.view_majorincident',
            compute=updates_on_time,
            filters=FILTERS,
        ),
        RegisteredMeasure(
            slug='major_action_items_overdue',
            label='Action items overdue',
            unit='action items',
            definition=(
                'Action items of post-incident reviews open now, and those of them due before today, whatever '
                'the period.'
            ),
            counted_on='now',
            permission='major_incidents.view_actionitem',
            compute=action_items_overdue,
            filters=FILTERS,
        ),
    ]
}


def dashboard(slice_: Slice) -> dict[str, Any]:
    """Every major-incident measure over the slice, for the dashboard."""
    return {slug: measure.compute(slice_) for slug, measure in MEASURES.items()}


def register() -> None:
    """Serves the measures from the metrics API (called by MajorIncidentsConfig.ready)."""
    from reports import registry

    for measure in MEASURES.values():
        registry.register(measure)
