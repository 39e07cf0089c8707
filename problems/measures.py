"""Problem management's measures (domain §7: problem metrics are reported regularly), over a `reports` slice.

Each measure is a function of a `reports.slices.Slice` answering its figures, a `series` entry per period where it
has a trend, and the drill-down links to the problems (or incidents) behind each number. They are registered with
`reports.registry` in `ProblemsConfig.ready`, so `/api/v1/metrics/{measure}/` serves them, and the problems
dashboard (`problems.views.dashboard`) shows them. Filters: priority, top-level category and service, read on the
problem (or, for the incidents' measures, on the incident).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone

from incidents.models import Ticket
from itsm.choices import Priority, TicketKind
from reports.registry import RegisteredMeasure
from reports.slices import Slice, local_day, local_zone, period_label, period_start

from .choices import ProblemState
from .models import KnownErrorUse, Problem, ProblemIncident

__all__ = [
    'AGE_BANDS',
    'FILTERS',
    'MEASURES',
    'OPEN_STATES',
    'RECURRENCE_DAYS',
    'dashboard',
    'drill_url',
    'incidents_behind',
    'incidents_per_problem',
    'known_error_share',
    'open_problems',
    'problems_behind',
    'recurrence',
    'time_to_root_cause',
]

OPEN_STATES = (
    ProblemState.NEW,
    ProblemState.ASSESSED,
    ProblemState.ROOT_CAUSE_ANALYSIS,
    ProblemState.FIX_IN_PROGRESS,
)
FILTERS = ('priority', 'category', 'service')
# An incident on a closed problem's CIs or services, with its category, this long after the closure recurs.
RECURRENCE_DAYS = 30


@dataclass(frozen=True)
class AgeBand:
    key: str
    label: str
    min_days: int
    max_days: int | None


# Problems live longer than tickets: their bands are wider than the ticket backlog's.
AGE_BANDS = (
    AgeBand('lt7d', 'Under 7 days', 0, 7),
    AgeBand('7to30d', '7–30 days', 7, 30),
    AgeBand('30to90d', '30–90 days', 30, 90),
    AgeBand('90to180d', '90–180 days', 90, 180),
    AgeBand('gt180d', 'Over 180 days', 180, None),
)


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _p90(values: list[float]) -> float:
    """The 90th percentile, interpolated between the closest ranks (as percentile_cont)."""
    ordered = sorted(values)
    position = 0.9 * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _band(age: dt.timedelta) -> AgeBand:
    days = age.total_seconds() / 86400
    for band in AGE_BANDS:
        if band.max_days is None or days < band.max_days:
            return band
    return AGE_BANDS[-1]


#
# Slices and links
#


def drill_url(measure: str, slice_: Slice, **params: Any) -> str:
    """The page listing the problems (or incidents) behind a figure of `measure`."""
    query = {**slice_.params(), 'measure': measure, **{k: v for k, v in params.items() if v not in (None, '')}}
    return f'{reverse("problems:dashboard_drilldown")}?{urlencode(query)}'


def _problem_q(slice_: Slice) -> Q:
    condition = Q()
    if slice_.priorities:
        condition &= Q(priority__in=slice_.priorities)
    if slice_.category is not None:
        condition &= Q(category__isnull=True) if slice_.category == 0 else Q(category=slice_.category)
    if slice_.service is not None:
        if slice_.service == 0:
            condition &= Q(services__isnull=True)
        else:
            condition &= Q(
                pk__in=Problem.services.through.objects.filter(configurationitem=slice_.service).values('problem')
            )
    return condition


def _incident_q(slice_: Slice) -> Q:
    condition = Q(kind=TicketKind.INCIDENT)
    if slice_.priorities:
        condition &= Q(priority__in=slice_.priorities)
    if slice_.category is not None:
        condition &= Q(category__isnull=True) if slice_.category == 0 else Q(category=slice_.category)
    if slice_.service is not None:
        condition &= Q(service__isnull=True) if slice_.service == 0 else Q(service=slice_.service)
    return condition


def _in_slice(field: str, slice_: Slice) -> Q:
    return Q(**{f'{field}__gte': slice_.start_at, f'{field}__lt': slice_.end_at})


def _periods(slice_: Slice) -> list[tuple[dt.date, dt.date]]:
    return slice_.periods()


def _series(slice_: Slice, per_period, **links) -> list[dict[str, Any]]:
    """One entry per period of the slice: `per_period(start_of_period)` answers its figures."""
    rows = []
    for first, last in _periods(slice_):
        key = period_start(first, slice_.interval)
        rows.append(
            {
                'period': first.isoformat(),
                'label': period_label(key, slice_.interval),
                'from': first.isoformat(),
                'to': last.isoformat(),
                **per_period(key),
                **{
                    f'{name}_url': drill_url(measure, slice_.replace(start=first, end=last), **params)
                    for name, (measure, params) in links.items()
                },
            }
        )
    return rows


def _period_of(moment: dt.datetime, slice_: Slice) -> dt.date:
    return period_start(local_day(moment), slice_.interval)


#
# The measures
#


def open_problems(slice_: Slice, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """Problems open now (New to Fix in progress) by age since they were opened and by priority."""
    now = now or timezone.now()
    rows = Problem.objects.filter(_problem_q(slice_), state__in=OPEN_STATES).values_list('priority', 'opened_at')
    cells: dict[tuple[str, int], int] = defaultdict(int)
    for priority, opened_at in rows:
        cells[(_band(now - opened_at).key, priority)] += 1
    priorities = [value for value, _label in Priority.choices]
    bands = [
        {
            'key': band.key,
            'label': band.label,
            'count': sum(cells[(band.key, p)] for p in priorities),
            'by_priority': [
                {
                    'priority': p,
                    'count': cells[(band.key, p)],
                    'url': drill_url('open_problems', slice_, part=band.key, priority=p),
                }
                for p in priorities
            ],
            'url': drill_url('open_problems', slice_, part=band.key),
        }
        for band in AGE_BANDS
    ]
    by_priority = [
        {
            'priority': p,
            'label': label,
            'count': sum(cells[(band.key, p)] for band in AGE_BANDS),
            'url': drill_url('open_problems', slice_, priority=p),
        }
        for p, label in Priority.choices
    ]
    return {
        'count': sum(cells.values()),
        'bands': bands,
        'by_priority': by_priority,
        'url': drill_url('open_problems', slice_),
    }


def _durations(values: list[float]) -> dict[str, Any]:
    return {
        'count': len(values),
        'mean_hours': _hours(statistics.fmean(values)) if values else None,
        'median_hours': _hours(statistics.median(values)) if values else None,
        'p90_hours': _hours(_p90(values)) if values else None,
    }


def time_to_root_cause(slice_: Slice) -> dict[str, Any]:
    """From opened to root cause found, over the problems whose root cause was found in the slice."""
    rows = Problem.objects.filter(
        _problem_q(slice_), _in_slice('root_cause_found_at', slice_), root_cause_found_at__isnull=False
    ).values_list('opened_at', 'root_cause_found_at')
    seconds: dict[dt.date, list[float]] = defaultdict(list)
    every = []
    for opened_at, found_at in rows:
        elapsed = max((found_at - opened_at).total_seconds(), 0.0)
        seconds[_period_of(found_at, slice_)].append(elapsed)
        every.append(elapsed)
    return {
        **_durations(every),
        'url': drill_url('time_to_root_cause', slice_),
        'series': _series(slice_, lambda key: _durations(seconds[key]), problems=('time_to_root_cause', {})),
    }


def _per_problem(problems: int, incidents: int, counts: list[int]) -> dict[str, Any]:
    return {
        'problems': problems,
        'incidents': incidents,
        'per_problem': round(incidents / problems, 2) if problems else None,
        'median': statistics.median(counts) if counts else None,
        'most': max(counts) if counts else None,
    }


def incidents_per_problem(slice_: Slice) -> dict[str, Any]:
    """Incidents linked to each problem opened in the slice (cancelled problems aside)."""
    rows = (
        Problem.objects.filter(_problem_q(slice_), _in_slice('opened_at', slice_))
        .exclude(state=ProblemState.CANCELLED)
        .annotate(linked=Count('incident_links'))
        .values_list('opened_at', 'linked')
    )
    counts: dict[dt.date, list[int]] = defaultdict(list)
    every = []
    for opened_at, linked in rows:
        counts[_period_of(opened_at, slice_)].append(linked)
        every.append(linked)
    return {
        **_per_problem(len(every), sum(every), every),
        'url': drill_url('incidents_per_problem', slice_),
        'series': _series(
            slice_,
            lambda key: _per_problem(len(counts[key]), sum(counts[key]), counts[key]),
            problems=('incidents_per_problem', {}),
        ),
    }


def _share(total: int, known_error: int, problem: int, either: int) -> dict[str, Any]:
    return {
        'incidents': total,
        'known_error': known_error,
        'problem': problem,
        'either': either,
        'percent': _percent(either, total),
        'known_error_percent': _percent(known_error, total),
        'problem_percent': _percent(problem, total),
    }


def known_error_share(slice_: Slice) -> dict[str, Any]:
    """Of the incidents opened in the slice, those a known error was applied to, those linked to a problem and
    those with either."""
    used = Exists(KnownErrorUse.objects.filter(incident=OuterRef('pk')))
    linked = Exists(ProblemIncident.objects.filter(incident=OuterRef('pk')))
    rows = (
        Ticket.objects.filter(_incident_q(slice_), _in_slice('opened_at', slice_))
        .annotate(day=TruncDate('opened_at', tzinfo=local_zone()))
        .values('day')
        .annotate(
            total=Count('pk'),
            known_error=Count('pk', filter=Q(used)),
            problem=Count('pk', filter=Q(linked)),
            either=Count('pk', filter=Q(used) | Q(linked)),
        )
        .order_by('day')
    )
    per_period: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for row in rows:
        day = row['day'] if isinstance(row['day'], dt.date) else dt.date.fromisoformat(str(row['day']))
        totals = per_period[period_start(day, slice_.interval)]
        for index, name in enumerate(('total', 'known_error', 'problem', 'either')):
            totals[index] += row[name]
    overall = [sum(values[i] for values in per_period.values()) for i in range(4)]
    return {
        **_share(*overall),
        'urls': {part: drill_url('known_error_share', slice_, part=part) for part in ('known_error', 'problem')},
        'series': _series(
            slice_,
            lambda key: _share(*per_period[key]),
            known_error=('known_error_share', {'part': 'known_error'}),
            problem=('known_error_share', {'part': 'problem'}),
        ),
    }


def _recurrences(slice_: Slice) -> tuple[list[Problem], dict[int, list[Ticket]]]:
    """The problems closed in the slice, and for each the incidents that recurred within RECURRENCE_DAYS of its
    closure: on one of its CIs or services, with its top-level category (any when it has none)."""
    problems = list(
        Problem.objects.filter(_problem_q(slice_), _in_slice('closed_at', slice_), state=ProblemState.CLOSED)
        .only('pk', 'number', 'closed_at', 'category_id', 'priority', 'opened_at')
        .order_by('closed_at')
    )
    if not problems:
        return [], {}
    ids = [p.pk for p in problems]
    cis: dict[int, set[int]] = defaultdict(set)
    services: dict[int, set[int]] = defaultdict(set)
    for problem_id, ci_id in Problem.cis.through.objects.filter(problem__in=ids).values_list(
        'problem', 'configurationitem'
    ):
        cis[problem_id].add(ci_id)
    for problem_id, ci_id in Problem.services.through.objects.filter(problem__in=ids).values_list(
        'problem', 'configurationitem'
    ):
        services[problem_id].add(ci_id)
    window = dt.timedelta(days=RECURRENCE_DAYS)
    condition = Q()
    for problem in problems:
        items = Q(ci__in=cis[problem.pk]) | Q(service__in=services[problem.pk])
        if not cis[problem.pk] and not services[problem.pk]:
            continue
        same = Q(opened_at__gt=problem.closed_at, opened_at__lte=problem.closed_at + window) & items
        if problem.category_id:
            same &= Q(category=problem.category_id)
        condition |= same
    found: dict[int, list[Ticket]] = defaultdict(list)
    if not condition:
        return problems, found
    incidents = Ticket.objects.filter(condition, kind=TicketKind.INCIDENT).only(
        'pk', 'number', 'opened_at', 'ci_id', 'service_id', 'category_id'
    )
    for incident in incidents:
        for problem in problems:
            if (
                problem.closed_at < incident.opened_at <= problem.closed_at + window
                and (incident.ci_id in cis[problem.pk] or incident.service_id in services[problem.pk])
                and (not problem.category_id or incident.category_id == problem.category_id)
            ):
                found[problem.pk].append(incident)
    return problems, found


def _recurrence_figures(problems: Iterable[Problem], found: dict[int, list[Ticket]]) -> dict[str, Any]:
    problems = list(problems)
    recurring = [p for p in problems if found.get(p.pk)]
    incidents = {i.pk for p in problems for i in found.get(p.pk, ())}
    return {
        'closed': len(problems),
        'recurred': len(recurring),
        'incidents': len(incidents),
        'percent': _percent(len(recurring), len(problems)),
    }


def recurrence(slice_: Slice) -> dict[str, Any]:
    """Incidents recurring within RECURRENCE_DAYS after a problem closed in the slice."""
    problems, found = _recurrences(slice_)
    per_period: dict[dt.date, list[Problem]] = defaultdict(list)
    for problem in problems:
        per_period[_period_of(problem.closed_at, slice_)].append(problem)
    return {
        **_recurrence_figures(problems, found),
        'window_days': RECURRENCE_DAYS,
        'url': drill_url('recurrence', slice_, part='recurred'),
        'series': _series(
            slice_,
            lambda key: _recurrence_figures(per_period[key], found),
            problems=('recurrence', {'part': 'recurred'}),
        ),
    }


#
# What lies behind a figure
#


def problems_behind(measure: str, slice_: Slice, *, part: str = '', now: dt.datetime | None = None) -> QuerySet:
    """The problems a figure of `measure` counts (`part`: an age band of open problems, or `recurred`)."""
    problems = Problem.objects.filter(_problem_q(slice_))
    if measure == 'open_problems':
        problems = problems.filter(state__in=OPEN_STATES)
        band = next((b for b in AGE_BANDS if b.key == part), None)
        if band is not None:
            now = now or timezone.now()
            problems = problems.filter(opened_at__lte=now - dt.timedelta(days=band.min_days))
            if band.max_days is not None:
                problems = problems.filter(opened_at__gt=now - dt.timedelta(days=band.max_days))
    elif measure == 'time_to_root_cause':
        problems = problems.filter(_in_slice('root_cause_found_at', slice_))
    elif measure == 'incidents_per_problem':
        problems = problems.filter(_in_slice('opened_at', slice_)).exclude(state=ProblemState.CANCELLED)
    elif measure == 'recurrence':
        closed, found = _recurrences(slice_)
        keep = [p.pk for p in closed if found.get(p.pk)] if part == 'recurred' else [p.pk for p in closed]
        problems = problems.filter(pk__in=keep)
    else:
        return Problem.objects.none()
    return problems.distinct()


def incidents_behind(slice_: Slice, *, part: str = '') -> QuerySet:
    """The incidents opened in the slice with a known error applied (`known_error`), linked to a problem
    (`problem`), or all of them."""
    incidents = Ticket.objects.filter(_incident_q(slice_), _in_slice('opened_at', slice_))
    if part == 'known_error':
        incidents = incidents.filter(Exists(KnownErrorUse.objects.filter(incident=OuterRef('pk'))))
    elif part == 'problem':
        incidents = incidents.filter(Exists(ProblemIncident.objects.filter(incident=OuterRef('pk'))))
    return incidents


#
# Definitions and registration
#

MEASURES: dict[str, RegisteredMeasure] = {
    m.slug: m
    for m in [
        RegisteredMeasure(
            slug='open_problems',
            label='Open problems',
            unit='problems',
            definition=(
                'Problems open now (New, Assessed, Root-cause analysis or Fix in progress) by age since they were '
                'opened (under 7 days, 7 to 30, 30 to 90, 90 to 180, over 180 days) and by priority.'
            ),
            counted_on='now',
            permission='problems.view_problem',
            compute=open_problems,
            filters=FILTERS,
        ),
        RegisteredMeasure(
            slug='time_to_root_cause',
            label='Mean time to root cause',
            unit='hours',
            definition=(
                'The average time from when a problem was opened to when its root cause was recorded, over the '
                'problems whose root cause was found in the period, shown with the median and the 90th '
                'percentile. Calendar time.'
            ),
            counted_on='the day the root cause was found',
            permission='problems.view_problem',
            compute=time_to_root_cause,
            filters=FILTERS,
        ),
        RegisteredMeasure(
            slug='incidents_per_problem',
            label='Incidents per problem',
            unit='per problem',
            definition=(
                'The incidents linked to each problem opened in the period, on average, with the median and the '
                'most; cancelled problems do not count.'
            ),
            counted_on='the day the problem was opened',
            permission='problems.view_problem',
            compute=incidents_per_problem,
            filters=FILTERS,
        ),
        RegisteredMeasure(
            slug='known_error_share',
            label='Incidents with a known error or problem',
            unit='%',
            definition=(
                'The share of incidents opened in the period that a known error was applied to or that are '
                'linked to a problem, with each share apart.'
            ),
            counted_on='the day the incident was opened',
            permission='problems.view_problem',
            compute=known_error_share,
            filters=FILTERS,
        ),
        RegisteredMeasure(
            slug='recurrence',
            label='Recurrence after closure',
            unit='problems',
            definition=(
                f'Of the problems closed in the period, those an incident recurred on within {RECURRENCE_DAYS} '
                "days of the closure: an incident opened on one of the problem's configuration items or services, "
                'with its category (any, when the problem has none); with the number of such incidents.'
            ),
            counted_on='the day the problem was closed',
            permission='problems.view_problem',
            compute=recurrence,
            filters=FILTERS,
        ),
    ]
}


def dashboard(slice_: Slice) -> dict[str, Any]:
    """Every problem measure over the slice, for the problems dashboard."""
    return {slug: measure.compute(slice_) for slug, measure in MEASURES.items()}


def register() -> None:
    """Serves the measures from the metrics API (called by ProblemsConfig.ready)."""
    from reports import registry

    for measure in MEASURES.values():
        registry.register(measure)
