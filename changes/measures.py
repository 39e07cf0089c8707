"""Change management's measures over a `reports` slice: the change success rate, the share of emergency changes,
the changes that caused incidents and the lead times (opened → authorised or scheduled, opened → closed).

Each measure is a function of a `reports.slices.Slice` answering its figures and a `series` entry per period of
the slice. They are registered with `reports.registry` from `ChangesConfig.ready`, so `/api/v1/metrics/{measure}/`
serves them, and the change dashboard (`changes.views.dashboard`) shows them. Filters: the change's assignment
group and its affected services (`group`, `service`; 0 for "none").
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from itsm.choices import TimelineKind
from itsm.models import TimelineEntry
from reports.registry import RegisteredMeasure
from reports.slices import Slice

from .choices import ChangeOutcome, ChangeState, ChangeType
from .models import Change

__all__ = [
    'FILTERS',
    'MEASURES',
    'change_lead_time',
    'change_success_rate',
    'changes_causing_incidents',
    'dashboard',
    'emergency_share',
    'register',
]

FILTERS = ('group', 'service')
SUCCESSFUL = (ChangeOutcome.SUCCESSFUL, ChangeOutcome.SUCCESSFUL_WITH_ISSUES)


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def _p90(values: list[float]) -> float:
    """The 90th percentile, interpolated between the closest ranks (as percentile_cont)."""
    ordered = sorted(values)
    position = 0.9 * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _durations(values: list[float]) -> dict[str, Any]:
    return {
        'count': len(values),
        'mean_hours': _hours(statistics.fmean(values)) if values else None,
        'median_hours': _hours(statistics.median(values)) if values else None,
        'p90_hours': _hours(_p90(values)) if values else None,
    }


def _change_q(slice_: Slice) -> Q:
    condition = Q()
    if slice_.group is not None:
        condition &= Q(assignment_group__isnull=True) if slice_.group == 0 else Q(assignment_group=slice_.group)
    if slice_.service is not None:
        if slice_.service == 0:
            condition &= Q(services__isnull=True)
        else:
            through = Change.services.through.objects.filter(configurationitem=slice_.service)
            condition &= Q(pk__in=through.values('change'))
    return condition


# ------------------------------------------------------------------------------------------ the measures
def _outcomes(outcomes: list[str]) -> dict[str, Any]:
    counts = {outcome.value: outcomes.count(outcome.value) for outcome in ChangeOutcome}
    succeeded = sum(counts[outcome] for outcome in SUCCESSFUL)
    return {'closed': len(outcomes), **counts, 'succeeded': succeeded, 'percent': _percent(succeeded, len(outcomes))}


def change_success_rate(slice_: Slice) -> dict[str, Any]:
    """Of the changes closed in the slice with an outcome, those successful or successful with issues."""
    rows = Change.objects.filter(_change_q(slice_), slice_.within('closed_at'), state=ChangeState.CLOSED).exclude(
        outcome=''
    )
    per_period: dict[dt.date, list[str]] = defaultdict(list)
    every = []
    for closed_at, outcome in rows.values_list('closed_at', 'outcome'):
        per_period[slice_.period_of(closed_at)].append(outcome)
        every.append(outcome)
    return {**_outcomes(every), 'series': slice_.series(lambda key: _outcomes(per_period[key]))}


def _types(types: list[str]) -> dict[str, Any]:
    counts = {kind.value: types.count(kind.value) for kind in ChangeType}
    return {'changes': len(types), **counts, 'percent': _percent(counts[ChangeType.EMERGENCY], len(types))}


def emergency_share(slice_: Slice) -> dict[str, Any]:
    """Of the changes raised in the slice and submitted (drafts, and drafts cancelled before submission, do not
    count), the emergency ones."""
    cancelled_as_draft = TimelineEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Change),
        object_id=OuterRef('pk'),
        kind=TimelineKind.TRANSITION,
        data__action='cancel',
        data__from=ChangeState.DRAFT,
    )
    rows = (
        Change.objects.filter(_change_q(slice_), slice_.within('opened_at'))
        .exclude(state=ChangeState.DRAFT)
        .exclude(Exists(cancelled_as_draft))
    )
    per_period: dict[dt.date, list[str]] = defaultdict(list)
    every = []
    for opened_at, change_type in rows.values_list('opened_at', 'change_type'):
        per_period[slice_.period_of(opened_at)].append(change_type)
        every.append(change_type)
    return {**_types(every), 'series': slice_.series(lambda key: _types(per_period[key]))}


def _caused(rows: list[int]) -> dict[str, Any]:
    caused = sum(1 for incidents in rows if incidents)
    return {
        'implemented': len(rows),
        'caused': caused,
        'incidents': sum(rows),
        'percent': _percent(caused, len(rows)),
    }


def changes_causing_incidents(slice_: Slice) -> dict[str, Any]:
    """Of the changes whose implementation started in the slice, those recorded as the cause of an incident."""
    rows = (
        Change.objects.filter(_change_q(slice_), slice_.within('actual_start'))
        .annotate(caused_count=Count('caused_incidents'))
        .values_list('actual_start', 'caused_count')
    )
    per_period: dict[dt.date, list[int]] = defaultdict(list)
    every = []
    for started_at, incidents in rows:
        per_period[slice_.period_of(started_at)].append(incidents)
        every.append(incidents)
    return {**_caused(every), 'series': slice_.series(lambda key: _caused(per_period[key]))}


def _first_scheduled():
    """When the change was first scheduled (its first `schedule` transition)."""
    return (
        TimelineEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Change),
            object_id=OuterRef('pk'),
            kind=TimelineKind.TRANSITION,
            data__action='schedule',
        )
        .order_by('at')
        .values('at')[:1]
    )


def change_lead_time(slice_: Slice) -> dict[str, Any]:
    """From opened to authorised (or, for changes that skip the CAB, first scheduled), over the changes that
    reached it in the slice; and from opened to closed, over the changes closed in the slice."""
    approved = (
        Change.objects.filter(_change_q(slice_))
        .annotate(approved_at=Coalesce('authorized_at', Subquery(_first_scheduled())))
        .filter(slice_.within('approved_at'))
        .values_list('opened_at', 'approved_at')
    )
    closed = Change.objects.filter(_change_q(slice_), slice_.within('closed_at'), state=ChangeState.CLOSED).values_list(
        'opened_at', 'closed_at'
    )
    figures = {}
    per_period: dict[str, dict[dt.date, list[float]]] = {}
    for name, rows in (('approval', approved), ('closure', closed)):
        seconds: dict[dt.date, list[float]] = defaultdict(list)
        every = []
        for opened_at, reached_at in rows:
            elapsed = max((reached_at - opened_at).total_seconds(), 0.0)
            seconds[slice_.period_of(reached_at)].append(elapsed)
            every.append(elapsed)
        figures[name] = _durations(every)
        per_period[name] = seconds
    return {
        **figures,
        'series': slice_.series(
            lambda key: {name: _durations(per_period[name][key]) for name in ('approval', 'closure')},
        ),
    }


MEASURES = {
    measure.slug: measure
    for measure in [
        RegisteredMeasure(
            slug='change_success_rate',
            label='Change success rate',
            unit='%',
            definition=(
                'Of the changes closed in the period with an outcome, the share closed as successful or successful '
                'with issues (failed and backed-out changes are the rest), with the count of each outcome.'
            ),
            counted_on='the day the change was closed',
            permission='changes.view_change',
            compute=change_success_rate,
            filters=FILTERS,
        ),
        RegisteredMeasure(
            slug='emergency_change_share',
            label='Emergency changes',
            unit='%',
            definition=(
                'Of the changes raised in the period and submitted (drafts, and drafts cancelled before submission, '
                'do not count), the share of emergency changes, with the count of each type.'
            ),
            counted_on='the day the change was opened',
            permission='changes.view_change',
            compute=emergency_share,
            filters=FILTERS,
        ),
        RegisteredMeasure(
            slug='changes_causing_incidents',
            label='Changes that caused incidents',
            unit='%',
            definition=(
                'Of the changes whose implementation started in the period, the share recorded as the cause of at '
                'least one incident, with the number of such incidents.'
            ),
            counted_on='the day implementation started',
            permission='changes.view_change',
            compute=changes_causing_incidents,
            filters=FILTERS,
        ),
        RegisteredMeasure(
            slug='change_lead_time',
            label='Change lead time',
            unit='hours',
            definition=(
                'From when a change was opened to its authorisation (or, for changes that skip the CAB, to when it '
                'was first scheduled), over the changes authorised or scheduled in the period; and from opened to '
                'closed, over the changes closed in the period. Mean, median and 90th percentile; calendar time.'
            ),
            counted_on='the day the change was authorised or scheduled, and the day it was closed',
            permission='changes.view_change',
            compute=change_lead_time,
            filters=FILTERS,
        ),
    ]
}


def dashboard(slice_: Slice) -> dict[str, Any]:
    """Every change measure over the slice, for the change dashboard."""
    return {slug: measure.compute(slice_) for slug, measure in MEASURES.items()}


def register() -> None:
    """Serves the measures from the metrics API (called by ChangesConfig.ready)."""
    from reports import registry

    for measure in MEASURES.values():
        registry.register(measure)
