"""What every measure counts, defined once.

A measure is a formula over additive counters (`reports.measures`); each counter is an aggregate over one
*base*: a set of rows (tickets or SLA clocks) that places each row on the day of one moment. The live path
runs these aggregates over the tickets for any slice; the rollup builder runs the very same aggregates per
day, kind, priority and dimension value and stores them in `DailyRollup`, so both paths agree by construction.

Durations (MTTR, MTTA) are also kept as histograms with buckets 2^(1/8) wide (about 9 %), which merge across
days; percentiles over rollups are read from them (see `percentile_from_histogram`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, Count, F, IntegerField, Q, Sum, Value, When
from django.db.models.functions import Cast, Coalesce, Floor, Ln

from incidents.choices import TicketState
from sla.choices import ClockKind, ClockState, StopReason

from .models import COUNTER_FIELDS
from .sql import Seconds

__all__ = [
    'BASES',
    'BUCKET_RATIO',
    'DIMENSIONS',
    'Base',
    'Counters',
    'bucket_bounds',
    'bucket_of',
    'percentile_from_histogram',
]

# Dimensions a slice can filter or break down by (period aside).
DIMENSIONS = ('kind', 'priority', 'group', 'service', 'category', 'channel', 'agent', 'agreement')

#
# Duration buckets
#

BUCKET_RATIO = 2 ** (1 / 8)
FIRST_BUCKET_SECONDS = 60.0  # bucket 0 holds everything under a minute
_LN_RATIO = math.log(BUCKET_RATIO)


def bucket_of(seconds: float) -> int:
    """The histogram bucket of a duration: 0 below a minute, then k for [60·r^(k-1), 60·r^k)."""
    if seconds < FIRST_BUCKET_SECONDS:
        return 0
    return int(math.floor(math.log(seconds / FIRST_BUCKET_SECONDS) / _LN_RATIO)) + 1


def bucket_bounds(index: int) -> tuple[float, float]:
    if index <= 0:
        return 0.0, FIRST_BUCKET_SECONDS
    low = FIRST_BUCKET_SECONDS * BUCKET_RATIO ** (index - 1)
    return low, low * BUCKET_RATIO


def bucket_expression(seconds) -> Case:
    """`bucket_of` in SQL (LN and FLOOR exist on PostgreSQL and, through Django, on SQLite)."""
    return Case(
        When(Q(**{f'{seconds}__lt': FIRST_BUCKET_SECONDS}), then=Value(0)),
        default=Cast(Floor(Ln(F(seconds) / Value(FIRST_BUCKET_SECONDS)) / Value(_LN_RATIO)), IntegerField()) + Value(1),
        output_field=IntegerField(),
    )


def percentile_from_histogram(histogram: dict[int, int], fraction: float) -> float | None:
    """Estimate the continuous percentile (as `percentile_cont` defines it) from bucket counts.

    Like `percentile_cont`, it interpolates between the two order statistics around rank p·(n−1); each of
    those is estimated inside its own bucket (spread evenly over it), so each is off by less than a bucket's
    width, and so is their weighted mean: the estimate is within 9.1 % of the exact value.
    """
    total = sum(histogram.values())
    if not total:
        return None
    rank = fraction * (total - 1)
    low_rank = math.floor(rank)
    low = _order_statistic(histogram, low_rank)
    if low_rank + 1 >= total or rank == low_rank:
        return low
    return low + (rank - low_rank) * (_order_statistic(histogram, low_rank + 1) - low)


def _order_statistic(histogram: dict[int, int], rank: int) -> float:
    """The estimated value of the rank-th smallest duration (0-based)."""
    seen = 0
    for index in sorted(histogram):
        count = histogram[index]
        if count and rank < seen + count:
            low, high = bucket_bounds(index)
            return low + (high - low) * (rank - seen + 0.5) / count
        seen += count
    return bucket_bounds(max(histogram))[1]


#
# Bases
#

BREACHED = Q(breached_at__isnull=False) | Q(state=ClockState.BREACHED)
MET = Q(stopped_at__isnull=False, breached_at__isnull=True) & ~Q(state=ClockState.BREACHED)
DECIDED = BREACHED | Q(stopped_at__isnull=False)
COMPLETED_STATES = (TicketState.COMPLETED, TicketState.CLOSED)

TICKET_DIMS = {
    'kind': 'kind',
    'priority': 'priority',
    'group': 'assignment_group',
    'service': 'service',
    'category': 'category',
    'channel': 'channel',
    'agent': 'assignee',
}
# A clock reaches its ticket through the tickets' `sla_clocks` generic relation (query name `ticket`).
CLOCK_DIMS = {name: f'ticket__{path}' for name, path in TICKET_DIMS.items()}


@dataclass(frozen=True)
class Base:
    """Rows placed on the day of one moment (`at`), with the dimension paths and the counters they feed."""

    name: str
    model: str  # 'incidents.Ticket' or 'sla.SlaClock'
    at: str
    where: Q
    dims: dict[str, str]
    counters: Callable[[], dict[str, Any]]
    # For duration bases: the histogram name and the moment the duration starts from.
    duration: str = ''
    duration_start: str = ''
    # For clock bases: the kind of record whose clocks count (clocks measure any process record; reports count
    # tickets'). A constant content type on the clock table, so no join is added where no dimension needs one.
    record: str = ''

    def queryset(self):
        from django.apps import apps

        rows = apps.get_model(self.model)._default_manager.filter(self.where)
        if self.record:
            from django.contrib.contenttypes.models import ContentType

            rows = rows.filter(content_type=ContentType.objects.get_for_model(apps.get_model(self.record)))
        return rows

    def seconds(self) -> Seconds:
        return Seconds(F(self.at), F(self.duration_start))

    def supports(self, dimension: str) -> bool:
        return dimension in self.dims


def _decided_at():
    return Coalesce('breached_at', 'stopped_at')


BASES: dict[str, Base] = {
    'opened': Base(
        name='opened',
        model='incidents.Ticket',
        at='opened_at',
        where=Q(),
        dims=TICKET_DIMS,
        counters=lambda: {'opened': Count('pk')},
    ),
    'accepted': Base(
        name='accepted',
        model='incidents.Ticket',
        at='accepted_at',
        where=Q(accepted_at__isnull=False),
        dims=TICKET_DIMS,
        counters=lambda: {'accepted': Count('pk'), 'accept_seconds': Sum(Seconds(F('accepted_at'), F('opened_at')))},
        duration='accept',
        duration_start='opened_at',
    ),
    'completed': Base(
        name='completed',
        model='incidents.Ticket',
        at='completed_at',
        # completed_at is set while a ticket is Completed or Closed (not on a ticket an imported source closed
        # without resolution, which counts nowhere); the state serves the index.
        where=Q(state__in=COMPLETED_STATES, completed_at__isnull=False),
        dims=TICKET_DIMS,
        counters=lambda: {
            'completed': Count('pk'),
            'resolve_seconds': Sum(Seconds(F('completed_at'), F('opened_at'))),
            'first_time': Count('pk', filter=Q(reassignment_count=0, reopen_count=0)),
            'reopened': Count('pk', filter=Q(reopen_count__gt=0)),
            'reassigned': Count('pk', filter=Q(reassignment_count__gt=0)),
            'reassignments': Sum('reassignment_count'),
        },
        duration='resolve',
        duration_start='opened_at',
    ),
    'sla': Base(
        name='sla',
        model='sla.SlaClock',
        record='incidents.Ticket',
        at='decided_at',
        where=Q(kind__in=(ClockKind.RESPONSE, ClockKind.RESOLUTION)) & DECIDED,
        dims={**CLOCK_DIMS, 'agreement': 'sla'},
        counters=lambda: {
            'response_met': Count('pk', filter=Q(kind=ClockKind.RESPONSE) & MET),
            'response_breached': Count('pk', filter=Q(kind=ClockKind.RESPONSE) & BREACHED),
            'resolution_met': Count('pk', filter=Q(kind=ClockKind.RESOLUTION) & MET),
            'resolution_breached': Count('pk', filter=Q(kind=ClockKind.RESOLUTION) & BREACHED),
        },
    ),
    'ola': Base(
        name='ola',
        model='sla.SlaClock',
        record='incidents.Ticket',
        at='decided_at',
        # A group that handed the ticket on before its target ran out neither met nor missed it.
        where=Q(kind__in=(ClockKind.OLA_ACCEPT, ClockKind.OLA_RESOLVE))
        & (BREACHED | (Q(stopped_at__isnull=False) & ~Q(stop_reason=StopReason.HANDOFF))),
        dims={**CLOCK_DIMS, 'group': 'support_group'},
        counters=lambda: {'ola_met': Count('pk', filter=MET), 'ola_breached': Count('pk', filter=BREACHED)},
    ),
    'answer': Base(
        name='answer',
        model='sla.SlaClock',
        record='incidents.Ticket',
        at='ticket__opened_at',
        where=Q(kind=ClockKind.RESPONSE) & DECIDED,
        dims=CLOCK_DIMS,
        counters=lambda: {
            'answered_in_target': Count('pk', filter=MET),
            'answered_late': Count('pk', filter=BREACHED),
        },
    ),
}

# Which base feeds each counter.
COUNTER_BASE = {name: base.name for base in BASES.values() for name in base.counters()}
assert set(COUNTER_BASE) == set(COUNTER_FIELDS), 'every rollup counter comes from exactly one base'


def annotate_at(base: Base, queryset):
    """Give the base's moment a name (`decided_at` of a clock is breached_at, else stopped_at)."""
    if base.at == 'decided_at':
        return queryset.annotate(decided_at=_decided_at())
    return queryset


#
# Counter values
#


@dataclass
class Counters:
    """Counter values for one group of rows: additive counts and sums, duration histograms, and (taken from the
    tickets) exact percentiles per duration, with the count and total they were taken over when the rollups
    answered the rest."""

    values: dict[str, float] = field(default_factory=dict)
    histograms: dict[str, dict[str | int, int]] = field(default_factory=dict)
    exact: dict[str, dict[float | str, float | None]] = field(default_factory=dict)
    # Each histogram with numeric bucket keys, as percentiles read it (made on first use).
    _buckets: dict[str, dict[int, int]] = field(default_factory=dict, repr=False, compare=False)

    def __getitem__(self, name: str) -> float:
        return self.values.get(name, 0) or 0

    def add_values(self, values: dict[str, Any]) -> None:
        for name, value in values.items():
            if value:
                self.values[name] = self.values.get(name, 0) + value

    def add_histogram(self, name: str, histogram: dict) -> None:
        # Bucket keys stay as stored (JSON object keys are strings) while merging, the hot loop of reading
        # rollups; `percentile` reads them as numbers.
        tally = self.histograms.setdefault(name, {})
        get = tally.get
        for index, count in histogram.items():
            tally[index] = get(index, 0) + count
        self._buckets.pop(name, None)

    def merge(self, other: Counters) -> None:
        self.add_values(other.values)
        for name, histogram in other.histograms.items():
            self.add_histogram(name, histogram)
        # Exact percentiles do not merge; whoever merges live figures recomputes them.
        self.exact = {}

    def duration_totals(self, duration: str, *, count: str, total: str) -> tuple[int, float]:
        """How many durations and their sum: from the tickets when the percentiles were taken there too (so the
        four statistics of a duration share one source), else these counters'."""
        exact = self.exact.get(duration)
        if exact is not None and 'count' in exact:
            return int(exact['count']), float(exact['total'])
        return int(self[count]), float(self[total])

    def percentile(self, duration: str, fraction: float) -> float | None:
        """Seconds at `fraction` of the durations: exact when computed live, else from the histogram."""
        exact = self.exact.get(duration)
        if exact is not None and fraction in exact:
            return exact[fraction]
        buckets = self._buckets.get(duration)
        if buckets is None:
            buckets = self._buckets[duration] = {}
            for index, count in self.histograms.get(duration, {}).items():
                buckets[int(index)] = buckets.get(int(index), 0) + count
        return percentile_from_histogram(buckets, fraction)


def merged(groups: Iterable[Counters]) -> Counters:
    total = Counters()
    for counters in groups:
        total.merge(counters)
    return total
