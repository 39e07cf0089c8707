"""Counters for a slice, grouped by period and/or dimensions: live from the tickets and clocks, or summed from
the daily rollups (with any day not rolled up yet computed on the fly), and the rows a day's rollup holds.

Group keys are tuples in the order of `by`: a period's first day (`date`) for 'period', an `int` for
'priority', and a string for the others (an id, a kind or channel code; '' when the ticket has none).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db.models import F, Max, Q, QuerySet, Sum
from django.db.models.functions import Trunc, TruncDate

from .choices import Dimension, Source
from .counters import BASES, Base, Counters, annotate_at, bucket_expression
from .models import DailyRollup
from .slices import Slice, local_zone, period_start, start_of
from .sql import PercentileCont, percentiles_by_window, supports_percentile_cont

__all__ = [
    'Figures',
    'NotRepresentable',
    'Query',
    'add_exact_percentiles',
    'build_rows',
    'compute',
    'rollup_dimension',
]

PERCENTILES = (0.5, 0.9)
ROLLUP_DIMENSIONS = ('group', 'service', 'category', 'channel', 'agent', 'agreement')
# With more days than this not rolled up yet, the live path answers instead of computing them on the fly.
MAX_UNROLLED_DAYS = 7
# Which counter counts the rows of a duration's histogram.
DURATION_COUNTER = {'accept': 'accepted', 'resolve': 'completed'}


class NotRepresentable(Exception):
    """The rollups cannot answer this slice and grouping (two dimensions besides priority and kind)."""


@dataclass
class Figures:
    """Counters per group key, and where they came from."""

    groups: dict[tuple, Counters] = field(default_factory=dict)
    source: str = Source.LIVE
    as_of: dt.datetime | None = None

    def get(self, key: tuple) -> Counters:
        return self.groups.get(key) or Counters()


def _key(dimension: str, value) -> object:
    if dimension == 'period':
        return value
    if dimension == 'priority':
        return int(value)
    return '' if value is None else str(value)


#
# Live
#


def filtered(base: Base, slice_: Slice, at_range: Q | None = None) -> QuerySet:
    queryset = annotate_at(base, base.queryset())
    if at_range is None:
        queryset = queryset.filter(**{f'{base.at}__gte': slice_.start_at, f'{base.at}__lt': slice_.end_at})
    else:
        queryset = queryset.filter(at_range)
    return queryset.filter(filter_q(base, slice_))


def filter_q(base: Base, slice_: Slice) -> Q:
    """The slice's filters on a base's rows (a filter value of 0 selects rows without that dimension)."""
    condition = Q()
    for dimension, value in slice_.filters().items():
        path = base.dims[dimension]
        if dimension == 'priority':
            condition &= Q(**{f'{path}__in': value})
        elif value == 0:
            condition &= Q(**{f'{path}__isnull': True})
        else:
            condition &= Q(**{path: value})
    return condition


def _grouped(base: Base, queryset: QuerySet, slice_: Slice, by: Sequence[str]) -> tuple[QuerySet, list[str]]:
    names, annotations = [], {}
    for dimension in by:
        name = f'rk_{dimension}'
        names.append(name)
        if dimension == 'period':
            annotations[name] = Trunc(base.at, slice_.interval, tzinfo=local_zone())
        else:
            annotations[name] = F(base.dims[dimension])
    return queryset.annotate(**annotations), names


def _live_key(row: dict, names: list[str], by: Sequence[str]) -> tuple:
    key = []
    for name, dimension in zip(names, by, strict=True):
        value = row[name]
        if dimension == 'period':
            value = _local_date(value)
        key.append(_key(dimension, value))
    return tuple(key)


def _local_date(value) -> dt.date | None:
    """A truncated period start as a local date (raw SQL on SQLite hands back the local time as text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(local_zone()).date() if value.tzinfo else value.date()
    return value


def _aggregate(queryset: QuerySet, names: list[str], aggregates: dict) -> list[dict]:
    """Aggregates per distinct `names`, or over the whole queryset when there are none."""
    if not names:
        row = queryset.aggregate(**aggregates)
        return [row] if any(v is not None for v in row.values()) else []
    return list(queryset.values(*names).annotate(**aggregates).order_by())


def _live(slice_: Slice, bases: Sequence[Base], by: Sequence[str], durations: set[str]) -> Figures:
    figures = Figures(source=Source.LIVE)
    for base in bases:
        if not all(base.supports(d) for d in by if d != 'period'):
            continue
        queryset, names = _grouped(base, filtered(base, slice_), slice_, by)
        for row in _aggregate(queryset, names, base.counters()):
            counters = figures.groups.setdefault(_live_key(row, names, by), Counters())
            counters.add_values({name: row[name] for name in base.counters()})
        if base.duration in durations:
            exact = _live_percentiles(base, queryset, names)
            for names_key, values in exact.items():
                key = _live_key(dict(zip(names, names_key, strict=True)), names, by)
                counters = figures.groups.setdefault(key, Counters())
                counters.exact[base.duration] = dict(zip(PERCENTILES, values, strict=True))
    return figures


def _live_percentiles(base: Base, queryset: QuerySet, names: list[str]) -> dict[tuple, list[float | None]]:
    """Exact percentiles per group: percentile_cont on PostgreSQL, window functions elsewhere."""
    queryset = queryset.annotate(rsecs=base.seconds())
    if supports_percentile_cont(queryset.db):
        aggregates = {f'p{i}': PercentileCont('rsecs', fraction) for i, fraction in enumerate(PERCENTILES)}
        rows = _aggregate(queryset, names, aggregates)
        return {tuple(row[n] for n in names): [row[f'p{i}'] for i in range(len(PERCENTILES))] for row in rows}
    return percentiles_by_window(queryset, keys=names, value='rsecs', fractions=PERCENTILES, using=queryset.db)


def live_percentiles_by_window(slice_: Slice, duration: str, by: Sequence[str] = ()) -> dict[tuple, list]:
    """The window-function path on any database (tests compare it with percentile_cont on PostgreSQL)."""
    base = next(b for b in BASES.values() if b.duration == duration)
    queryset, names = _grouped(base, filtered(base, slice_), slice_, by)
    queryset = queryset.annotate(rsecs=base.seconds())
    raw = percentiles_by_window(queryset, keys=names, value='rsecs', fractions=PERCENTILES, using=queryset.db)
    return {_live_key(dict(zip(names, k, strict=True)), names, by): v for k, v in raw.items()}


#
# Rollups
#


def rollup_dimension(slice_: Slice, by: Sequence[str], bases: Sequence[Base]) -> str:
    """The one rollup dimension whose rows answer this slice and grouping, or NotRepresentable."""
    wanted = {d for d in slice_.filters() if d in ROLLUP_DIMENSIONS} | {d for d in by if d in ROLLUP_DIMENSIONS}
    if len(wanted) > 1:
        raise NotRepresentable(f'rollups hold one dimension at a time, not {sorted(wanted)}')
    dimension = wanted.pop() if wanted else Dimension.ALL
    if dimension == Dimension.AGREEMENT and any(base.name != 'sla' for base in bases):
        raise NotRepresentable('agreement rows hold SLA counters only')
    return dimension


def _rollup_filter(slice_: Slice, dimension: str) -> Q:
    condition = Q(dimension=dimension, day__gte=slice_.start, day__lte=slice_.end)
    filters = slice_.filters()
    if 'kind' in filters:
        condition &= Q(kind=filters['kind'])
    if 'priority' in filters:
        condition &= Q(priority__in=filters['priority'])
    if dimension in filters:
        condition &= Q(key='' if filters[dimension] == 0 else str(filters[dimension]))
    return condition


def _rollup_fields(by: Sequence[str], dimension: str) -> list[str]:
    fields = []
    for name in by:
        if name == 'period':
            fields.append('day')
        elif name in ('priority', 'kind'):
            fields.append(name)
        elif name == dimension:
            fields.append('key')
    return fields


def _rollup_key(values: Sequence, by: Sequence[str], interval: str) -> tuple:
    key = []
    for value, dimension in zip(values, by, strict=True):
        key.append(period_start(value, interval) if dimension == 'period' else _key(dimension, value))
    return tuple(key)


def _rollup(slice_: Slice, bases: Sequence[Base], by: Sequence[str], durations: set[str], built) -> Figures:
    dimension = rollup_dimension(slice_, by, bases)
    fields = _rollup_fields(by, dimension)
    counters = [name for base in bases for name in base.counters()]
    wanted = _rollup_filter(slice_, dimension)
    rows = DailyRollup.objects.filter(wanted)
    figures = Figures(source=Source.ROLLUP)
    for row in _aggregate(rows, fields, {name: Sum(name) for name in counters}):
        key = _rollup_key([row[f] for f in fields], by, slice_.interval)
        figures.groups.setdefault(key, Counters()).add_values({name: row[name] for name in counters})
    durations = {d for d in durations if any(base.duration == d for base in bases)}
    for duration in sorted(durations):
        for *values, histogram in rows.values_list(*fields, f'{duration}_hist').order_by().iterator(2000):
            if histogram:
                key = _rollup_key(values, by, slice_.interval)
                figures.groups.setdefault(key, Counters()).add_histogram(duration, histogram)
    # Days not rolled up yet (today before the first run, say): the same rows, built on the fly.
    for row in built:
        if not _matches(row, wanted):
            continue
        key = _rollup_key([getattr(row, f) for f in fields], by, slice_.interval)
        target = figures.groups.setdefault(key, Counters())
        target.add_values({name: getattr(row, name) for name in counters})
        for duration in durations:
            target.add_histogram(duration, getattr(row, f'{duration}_hist'))
    add_exact_percentiles(slice_, bases, by, figures, durations)
    return figures


def add_exact_percentiles(slice_: Slice, bases, by: Sequence[str], figures: Figures, durations) -> None:
    """Where few enough durations are behind rollup figures to sort them, take the exact percentiles from the
    tickets (one query per duration), as the live path gives; larger sets keep the histogram estimate."""
    for duration in sorted(durations):
        base = next((b for b in bases if b.duration == duration), None)
        total = sum(c[DURATION_COUNTER[duration]] for c in figures.groups.values())
        if base is None or not 0 < total <= exact_percentiles_up_to():
            continue
        queryset, names = _grouped(base, filtered(base, slice_), slice_, by)
        for raw, values in _live_percentiles(base, queryset, names).items():
            key = _live_key(dict(zip(names, raw, strict=True)), names, by)
            if key in figures.groups:
                figures.groups[key].exact[duration] = dict(zip(PERCENTILES, values, strict=True))


def exact_percentiles_up_to() -> int:
    """Up to how many durations the rollup path still sorts the tickets' own for exact medians and p90s."""
    from django.conf import settings

    return getattr(settings, 'REPORTS_EXACT_PERCENTILES_UP_TO', 50_000)


def _matches(row: DailyRollup, condition: Q) -> bool:
    """Whether an unsaved rollup row passes a filter built by `_rollup_filter` (flat ANDed lookups)."""
    for child in condition.children:
        name, value = child
        field_name, _, lookup = name.partition('__')
        actual = getattr(row, field_name)
        if (
            (lookup == '' and actual != value)
            or (lookup == 'in' and actual not in value)
            or (lookup == 'gte' and actual < value)
            or (lookup == 'lte' and actual > value)
        ):
            return False
    return True


class Query:
    """Figures for one slice. It finds out once which of the slice's days are not rolled up yet (and builds
    their rows on the fly when the rollups answer), so a dashboard's many figures cost one look each."""

    def __init__(self, slice_: Slice):
        self.slice = slice_
        self._unrolled: list[dt.date] | None = None
        self._built: list[DailyRollup] | None = None
        self._as_of: dict = {}

    def unrolled(self) -> list[dt.date]:
        """Days of the slice up to today that have no rollup yet."""
        from django.utils import timezone

        if self._unrolled is None:
            slice_ = self.slice
            last = min(slice_.end, timezone.localdate(timezone=local_zone()))
            self._unrolled = []
            if last >= slice_.start:
                marks = DailyRollup.objects.filter(dimension=Dimension.DAY, day__gte=slice_.start, day__lte=last)
                rolled = set(marks.values_list('day', flat=True))
                days = (slice_.start + dt.timedelta(days=i) for i in range((last - slice_.start).days + 1))
                self._unrolled = [day for day in days if day not in rolled]
        return self._unrolled

    def as_of(self) -> dt.datetime | None:
        """The moment the rollups are current as of: the start of the last refresh (every refresh re-rolls the
        days that changed since the one before, so every rolled day is as of then)."""
        if 'at' not in self._as_of:
            marks = DailyRollup.objects.filter(dimension=Dimension.DAY)
            self._as_of['at'] = marks.aggregate(at=Max('computed_at'))['at']
        return self._as_of['at']

    def built(self) -> list[DailyRollup]:
        if self._built is None:
            self._built = build_rows(self.unrolled(), as_of=None)
        return self._built

    def source(self, bases: Sequence[Base], by: Sequence[str]) -> str:
        """Which path answers: the slice's choice, or for `auto` the rollups whenever they can."""
        if self.slice.source == Source.LIVE:
            return Source.LIVE
        try:
            rollup_dimension(self.slice, by, bases)
        except NotRepresentable:
            if self.slice.source == Source.ROLLUP:
                raise
            return Source.LIVE
        if self.slice.source == Source.AUTO and len(self.unrolled()) > MAX_UNROLLED_DAYS:
            return Source.LIVE
        return Source.ROLLUP

    def compute(self, base_names: Iterable[str], *, by: Sequence[str] = (), durations: Iterable[str] = ()) -> Figures:
        """Counters of the named bases, grouped by `by` ('period' and/or dimensions)."""
        bases = [BASES[name] for name in dict.fromkeys(base_names)]
        durations = set(durations)
        if self.source(bases, by) == Source.LIVE:
            return _live(self.slice, bases, by, durations)
        figures = _rollup(self.slice, bases, by, durations, self.built())
        figures.as_of = self.as_of()
        return figures


def compute(
    slice_: Slice, base_names: Iterable[str], *, by: Sequence[str] = (), durations: Iterable[str] = ()
) -> Figures:
    """Counters of the named bases for `slice_` (see `Query.compute`)."""
    return Query(slice_).compute(base_names, by=by, durations=durations)


#
# Building rollup rows
#


def _day_ranges(days: Sequence[dt.date]) -> list[tuple[dt.date, dt.date]]:
    ranges: list[list[dt.date]] = []
    for day in sorted(set(days)):
        if ranges and (day - ranges[-1][1]).days == 1:
            ranges[-1][1] = day
        else:
            ranges.append([day, day])
    return [(a, b) for a, b in ranges]


def _in_days(at: str, ranges: list[tuple[dt.date, dt.date]]) -> Q:
    condition = Q()
    for first, last in ranges:
        condition |= Q(**{f'{at}__gte': start_of(first), f'{at}__lt': start_of(last + dt.timedelta(days=1))})
    return condition


def build_rows(days: Iterable[dt.date], *, as_of: dt.datetime | None) -> list[DailyRollup]:
    """The rollup rows of `days` (unsaved): for each base, one query at full grain (day × kind × priority ×
    every dimension value [× duration bucket]) whose rows are then summed into each dimension's rows."""
    ranges = _day_ranges(list(days))
    cells: dict[tuple, DailyRollup] = {}
    if not ranges:
        return []

    def cell(day, dimension, key, kind, priority) -> DailyRollup:
        index = (day, dimension, key, kind, priority)
        row = cells.get(index)
        if row is None:
            row = cells[index] = DailyRollup(
                day=day, dimension=dimension, key=key, kind=kind, priority=priority, computed_at=as_of,
                accept_hist={}, resolve_hist={},
            )  # fmt: skip
        return row

    zone = local_zone()
    for base in BASES.values():
        queryset = annotate_at(base, base.queryset()).filter(_in_days(base.at, ranges))
        dims = [d for d in base.dims if d not in ('kind', 'priority')]
        annotations = {'rday': TruncDate(base.at, tzinfo=zone), **{f'rk_{d}': F(base.dims[d]) for d in base.dims}}
        names = ['rday', *(f'rk_{d}' for d in base.dims)]
        if base.duration:
            annotations['rsecs'] = base.seconds()
            names.append('rbucket')
        queryset = queryset.annotate(**annotations)
        if base.duration:
            queryset = queryset.annotate(rbucket=bucket_expression('rsecs'))
        counter_names = list(base.counters())
        for row in queryset.values(*names).annotate(**base.counters()).order_by().iterator(5000):
            values = {name: row[name] or 0 for name in counter_names}
            kind, priority = row['rk_kind'], row['rk_priority']
            targets = [(Dimension.ALL, '')] + [(d, _key(d, row[f'rk_{d}'])) for d in dims]
            for dimension, key in targets:
                target = cell(row['rday'], dimension, key, kind, priority)
                for name, value in values.items():
                    setattr(target, name, getattr(target, name) + value)
                if base.duration:
                    histogram = getattr(target, f'{base.duration}_hist')
                    bucket = str(row['rbucket'])
                    histogram[bucket] = histogram.get(bucket, 0) + values[DURATION_COUNTER[base.duration]]
    for first, last in ranges:
        for offset in range((last - first).days + 1):
            cell(first + dt.timedelta(days=offset), Dimension.DAY, '', '', 0)
    return list(cells.values())
