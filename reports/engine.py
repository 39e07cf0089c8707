"""Counters for a slice, grouped by period and/or dimensions: live from the tickets and clocks, or summed from
the daily rollups (with any day not rolled up yet computed on the fly), and the rows a day's rollup holds.

Group keys are tuples in the order of `by`: a period's first day (`date`) for 'period', an `int` for
'priority', and a string for the others (an id, a kind or channel code; '' when the ticket has none).
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

from django.db.models import Count, F, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import Trunc, TruncDate

from .choices import Dimension, RollupPeriod, Source
from .counters import BASES, Base, Counters, annotate_at, bucket_expression
from .models import COUNTER_FIELDS, DailyRollup, PeriodRollup
from .slices import Slice, local_zone, next_period, period_start, start_of
from .sql import PercentileCont, percentiles_by_window, supports_percentile_cont

__all__ = [
    'Figures',
    'NotRepresentable',
    'Query',
    'add_exact_percentiles',
    'build_rows',
    'compute',
    'daily_cells',
    'daily_rows',
    'dimension_rows',
    'merge_into',
    'period_cells',
    'period_rows',
    'periods_of',
    'rollup_dimension',
    'split_days',
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
    if wanted == {'group', 'agent'}:
        return Dimension.GROUP_AGENT
    if len(wanted) > 1:
        raise NotRepresentable(f'rollups hold one dimension, or group and agent, at a time, not {sorted(wanted)}')
    dimension = wanted.pop() if wanted else Dimension.ALL
    if dimension == Dimension.AGREEMENT and any(base.name != 'sla' for base in bases):
        raise NotRepresentable('agreement rows hold SLA counters only')
    return dimension


def _cells_filter(slice_: Slice, dimension: str) -> Q:
    """The rows of one dimension that pass the slice's filters, whatever period they cover."""
    condition = Q(dimension=dimension)
    filters = slice_.filters()
    if 'kind' in filters:
        condition &= Q(kind=filters['kind'])
    if 'priority' in filters:
        condition &= Q(priority__in=filters['priority'])

    def key(name: str) -> str:
        return '' if filters[name] == 0 else str(filters[name])

    if dimension == Dimension.GROUP_AGENT:
        if 'group' in filters and 'agent' in filters:
            condition &= Q(key=f'{key("group")}:{key("agent")}')
        elif 'group' in filters:
            condition &= Q(key__startswith=f'{key("group")}:')
        elif 'agent' in filters:
            condition &= Q(key__endswith=f':{key("agent")}')
    elif dimension in filters:
        condition &= Q(key=key(dimension))
    return condition


def _rollup_fields(by: Sequence[str], dimension: str, date_field: str) -> list[str]:
    fields = []
    for name in by:
        if name == 'period':
            fields.append(date_field)
        elif name in ('priority', 'kind'):
            fields.append(name)
        elif name == dimension or dimension == Dimension.GROUP_AGENT:
            fields.append('key')
    return list(dict.fromkeys(fields))


def _rollup_key(values: dict, by: Sequence[str], interval: str, dimension: str) -> tuple:
    key = []
    for name in by:
        if name == 'period':
            key.append(period_start(values['day'] if 'day' in values else values['start'], interval))
        elif name in ('priority', 'kind'):
            key.append(_key(name, values[name]))
        elif dimension == Dimension.GROUP_AGENT:
            group, _, agent = values['key'].partition(':')
            key.append(group if name == 'group' else agent)
        else:
            key.append(_key(name, values['key']))
    return tuple(key)


def period_end(start: dt.date, interval: str) -> dt.date:
    return next_period(start, interval) - dt.timedelta(days=1)


def split_days(
    slice_: Slice, today: dt.date, intervals: Sequence[str]
) -> tuple[dict[str, list[dt.date]], list[tuple[dt.date, dt.date]]]:
    """The slice's days as whole periods of `intervals` (coarsest first) and the ranges of days left over: the
    run of whole months first, then whole weeks in the days before and after it, then single days.

    A period is whole when the slice covers it, or when it holds today and the slice runs to today (no day after
    today holds anything yet)."""
    periods: dict[str, list[dt.date]] = {interval: [] for interval in intervals}
    days: list[tuple[dt.date, dt.date]] = []

    def carve(first: dt.date, last: dt.date, remaining: Sequence[str]) -> None:
        if first > last:
            return
        if not remaining:
            days.append((first, last))
            return
        interval = remaining[0]
        cursor = period_start(first, interval)
        if cursor < first:
            cursor = next_period(cursor, interval)
        run = []
        while cursor <= last:
            end = period_end(cursor, interval)
            if not (end <= last or (last == slice_.end and cursor <= today <= last)):
                break
            run.append(cursor)
            cursor = end + dt.timedelta(days=1)
        if not run:
            carve(first, last, remaining[1:])
            return
        carve(first, run[0] - dt.timedelta(days=1), remaining[1:])
        periods[interval].extend(run)
        carve(cursor, last, remaining[1:])

    carve(slice_.start, slice_.end, list(intervals))
    for starts in periods.values():
        starts.sort()
    return periods, days


def _rollup_sources(slice_: Slice, by: Sequence[str], dimension: str) -> list[tuple[QuerySet, str]]:
    """The rows to sum, with the name of their date: week and month rows for the whole weeks and months of the
    slice that the grouping allows (a trend by week reads weeks, by month months, by day neither), daily rows
    for the days left over."""
    from django.utils import timezone

    if 'period' not in by:
        intervals = [RollupPeriod.MONTH, RollupPeriod.WEEK]
    else:
        intervals = [slice_.interval] if slice_.interval in RollupPeriod.values else []
    periods, days = split_days(slice_, timezone.localdate(timezone=local_zone()), intervals)
    cells = _cells_filter(slice_, dimension)
    sources = []
    chosen = Q()
    for interval, starts in periods.items():
        if starts:
            chosen |= Q(period=interval, start__in=starts)
    if chosen:
        # Neither filtered nor split by kind or priority: the combined cells hold it in a tenth of the rows.
        filters = slice_.filters()
        combined = not ({'kind', 'priority'} & (set(by) | set(filters)))
        rows = PeriodRollup.objects.filter(cells, combined=combined).filter(chosen)
        sources.append((rows, 'start'))
    if days:
        ranges = Q()
        for first, last in days:
            ranges |= Q(day__gte=first, day__lte=last)
        sources.append((DailyRollup.objects.filter(cells).filter(ranges), 'day'))
    return sources


def _rollup(
    query: Query, bases: Sequence[Base], by: Sequence[str], durations: set[str], keys: Collection | None = None
) -> Figures:
    slice_, built = query.slice, query.built()
    dimension = rollup_dimension(slice_, by, bases)
    # The rows of other values are left unread where the row's key is the value itself (not `group:agent`).
    only = Q(key__in=[str(key) for key in keys]) if keys is not None and by[0] == dimension else Q()
    counters = [name for base in bases for name in base.counters()]
    durations = {d for d in durations if any(base.duration == d for base in bases)}
    figures = Figures(source=Source.ROLLUP)

    def target(values: dict) -> Counters:
        return figures.groups.setdefault(_rollup_key(values, by, slice_.interval, dimension), Counters())

    histograms = [f'{duration}_hist' for duration in sorted(durations)]
    for rows, date_field in _rollup_sources(slice_, by, dimension):
        rows = rows.filter(only)
        fields = _rollup_fields(by, dimension, date_field)
        if not histograms:  # counters only: summed by the database
            for row in _aggregate(rows, fields, {name: Sum(name) for name in counters}):
                target(row).add_values({name: row[name] for name in counters})
            continue
        # With histograms every row comes over anyway: one pass reads its counters with them.
        width = len(fields) + len(counters)
        for row in rows.values_list(*fields, *counters, *histograms).order_by().iterator(2000):
            cell = target(dict(zip(fields, row, strict=False)))
            cell.add_values(dict(zip(counters, row[len(fields) : width], strict=True)))
            for name, histogram in zip(sorted(durations), row[width:], strict=True):
                if histogram:
                    cell.add_histogram(name, histogram)
    # Days not rolled up yet (today before the first run, say): the same rows, built on the fly.
    wanted = _cells_filter(slice_, dimension) & Q(day__gte=slice_.start, day__lte=slice_.end)
    for row in built:
        if not _matches(row, wanted):
            continue
        counters_ = target({f: getattr(row, f) for f in ('day', 'kind', 'priority', 'key')})
        counters_.add_values({name: getattr(row, name) for name in counters})
        for duration in durations:
            counters_.add_histogram(duration, getattr(row, f'{duration}_hist'))
    add_exact_percentiles(query, bases, by, figures, durations)
    return figures


def add_exact_percentiles(query: Query, bases, by: Sequence[str], figures: Figures, durations) -> None:
    """Where the slice's days hold few enough durations to sort them, answer the duration from the tickets: its
    count, total (so its mean) and exact percentiles, all from the same live rows (two queries per duration), as
    the live path gives. Larger sets keep the rollups' count, total and histogram estimate. Either way one answer
    comes from one source: rollups a refresh behind never pair their count and mean with live percentiles.

    What counts is every duration of those days, whatever the filters: that is what the query reads through
    (by the moment's index), so a selective filter over a busy year does not send it through a million rows."""
    slice_ = query.slice
    for duration in sorted(durations):
        base = next((b for b in bases if b.duration == duration), None)
        if base is None or query.durations_in_days()[DURATION_COUNTER[duration]] > exact_percentiles_up_to():
            continue
        queryset, names = _grouped(base, filtered(base, slice_), slice_, by)
        for counters in figures.groups.values():  # groups the live rows no longer hold have none now
            counters.exact[duration] = {'count': 0, 'total': 0.0}
        totals = _aggregate(queryset, names, {'rcount': Count('pk'), 'rtotal': Sum(base.seconds())})
        for row in totals:
            counters = figures.groups.setdefault(_live_key(row, names, by), Counters())
            counters.exact[duration] = {'count': row['rcount'] or 0, 'total': row['rtotal'] or 0.0}
        for raw, values in _live_percentiles(base, queryset, names).items():
            key = _live_key(dict(zip(names, raw, strict=True)), names, by)
            figures.groups.setdefault(key, Counters()).exact.setdefault(duration, {}).update(
                dict(zip(PERCENTILES, values, strict=True))
            )


def _durations_in_days(slice_: Slice, built) -> dict[str, int]:
    """The count of each duration's rows over the slice's days, all tickets (from the rollups), by counter."""
    days = Slice(start=slice_.start, end=slice_.end, interval=slice_.interval)
    counters = sorted(set(DURATION_COUNTER.values()))
    totals = dict.fromkeys(counters, 0)
    for rows, _ in _rollup_sources(days, (), Dimension.ALL):
        for counter, total in rows.aggregate(**{counter: Sum(counter) for counter in counters}).items():
            totals[counter] += total or 0
    for row in built:
        if row.dimension == Dimension.ALL and days.start <= row.day <= days.end:
            for counter in counters:
                totals[counter] += getattr(row, counter)
    return totals


def exact_percentiles_up_to() -> int:
    """Up to how many durations over a slice's days the rollup path sorts the tickets' own for exact medians
    and p90s."""
    from django.conf import settings

    return getattr(settings, 'REPORTS_EXACT_PERCENTILES_UP_TO', 10_000)


def _matches(row: DailyRollup, condition: Q) -> bool:
    """Whether an unsaved rollup row passes a filter built by `_cells_filter` (flat ANDed lookups)."""
    for child in condition.children:
        name, value = child
        field_name, _, lookup = name.partition('__')
        actual = getattr(row, field_name)
        if (
            (lookup == '' and actual != value)
            or (lookup == 'in' and actual not in value)
            or (lookup == 'gte' and actual < value)
            or (lookup == 'lte' and actual > value)
            or (lookup == 'startswith' and not actual.startswith(value))
            or (lookup == 'endswith' and not actual.endswith(value))
        ):
            return False
    return True


def _first_ticket_day() -> dt.date | None:
    from incidents.models import Ticket

    first = Ticket.objects.aggregate(first=Min('opened_at'))['first']
    return first.astimezone(local_zone()).date() if first else None


class Query:
    """Figures for one slice. It finds out once which of the slice's days are not rolled up yet (and builds
    their rows on the fly when the rollups answer), so a dashboard's many figures cost one look each."""

    def __init__(self, slice_: Slice):
        self.slice = slice_
        self._unrolled: list[dt.date] | None = None
        self._built: list[DailyRollup] | None = None
        self._as_of: dict = {}
        self._durations: dict[str, int] | None = None

    def unrolled(self) -> list[dt.date]:
        """Days of the slice up to today that have no rollup yet."""
        from django.utils import timezone

        if self._unrolled is None:
            slice_ = self.slice
            last = min(slice_.end, timezone.localdate(timezone=local_zone()))
            self._unrolled = []
            # Days before the first ticket hold nothing: there is nothing to roll up.
            first = _first_ticket_day()
            start = max(slice_.start, first) if first else last + dt.timedelta(days=1)
            if last >= start:
                marks = DailyRollup.objects.filter(dimension=Dimension.DAY, day__gte=start, day__lte=last)
                rolled = set(marks.values_list('day', flat=True))
                days = (start + dt.timedelta(days=i) for i in range((last - start).days + 1))
                self._unrolled = [day for day in days if day not in rolled]
        return self._unrolled

    def as_of(self) -> dt.datetime | None:
        """The moment the rollups are current as of: the start of the last refresh (every refresh re-rolls the
        days that changed since the one before, so every rolled day is as of then)."""
        if 'at' not in self._as_of:
            marks = DailyRollup.objects.filter(dimension=Dimension.DAY)
            self._as_of['at'] = marks.aggregate(at=Max('computed_at'))['at']
        return self._as_of['at']

    def durations_in_days(self) -> dict[str, int]:
        """How many accept and resolve durations the slice's days hold, whatever the filters (by counter)."""
        if self._durations is None:
            self._durations = _durations_in_days(self.slice, self.built())
        return self._durations

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

    def compute(
        self,
        base_names: Iterable[str],
        *,
        by: Sequence[str] = (),
        durations: Iterable[str] = (),
        keys: Collection | None = None,
    ) -> Figures:
        """Counters of the named bases, grouped by `by` ('period' and/or dimensions). `keys`, with one dimension in
        `by`, keeps only those values of it (as the group keys hold them): the rollup rows of the others are not
        read."""
        bases = [BASES[name] for name in dict.fromkeys(base_names)]
        durations = set(durations)
        if keys is not None and (len(by) != 1 or by[0] == 'period'):
            raise ValueError('keys need exactly one dimension to group by')
        if self.source(bases, by) == Source.LIVE:
            figures = _live(self.slice, bases, by, durations)
        else:
            figures = _rollup(self, bases, by, durations, keys)
            figures.as_of = self.as_of()
        if keys is not None:
            wanted = set(keys)
            figures.groups = {key: counters for key, counters in figures.groups.items() if key[0] in wanted}
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


# A row's counters (in COUNTER_FIELDS order) and its accept and resolve histograms, while rows are summed: plain
# lists and dicts, since the summing loops run for every dimension of every full-grain row.
Sums = tuple[list[float], dict[str, int], dict[str, int]]
DailyCells = dict[tuple, Sums]  # (day, dimension, key, kind, priority) -> sums
PeriodCells = dict[tuple, Sums]  # (period, start, combined, dimension, key, kind, priority) -> sums
CELL_COLUMNS = ('dimension', 'key', 'kind', 'priority', 'accept_hist', 'resolve_hist', *COUNTER_FIELDS)
DAILY_COLUMNS = ('day', *CELL_COLUMNS, 'computed_at')
PERIOD_COLUMNS = ('period', 'start', 'combined', *CELL_COLUMNS, 'computed_at')


def build_rows(days: Iterable[dt.date], *, as_of: dt.datetime | None) -> list[DailyRollup]:
    """The rollup rows of `days` (unsaved)."""
    return [DailyRollup(**dict(zip(DAILY_COLUMNS, row, strict=True))) for row in daily_rows(daily_cells(days), as_of)]


# Rows are written in the order of their unique index, dimension first: a dashboard reads one dimension's rows
# over a run of days or periods, and rows written together share table pages. Written in the order they were
# summed, a breakdown by service over a year read 15,000 rows from 6,900 pages.


def _daily_order(item) -> tuple:
    day, dimension, key, kind, priority = item[0]
    return dimension, day, key, kind, priority


def _period_order(item) -> tuple:
    period, start, combined, dimension, key, kind, priority = item[0]
    return dimension, period, combined, start, key, kind, priority


def daily_rows(cells: DailyCells, as_of: dt.datetime | None) -> Iterable[tuple]:
    """The cells as rows of values in `DAILY_COLUMNS` order, in the order of the rows' unique index."""
    for (day, dimension, key, kind, priority), (sums, accept, resolve) in sorted(cells.items(), key=_daily_order):
        yield (day, dimension, key, kind, priority, accept, resolve, *sums, as_of)


def period_rows(cells: PeriodCells, as_of: dt.datetime | None) -> Iterable[tuple]:
    """The cells as rows of values in `PERIOD_COLUMNS` order, in the order of the rows' unique index."""
    for cell, (sums, accept, resolve) in sorted(cells.items(), key=_period_order):
        period, start, combined, dimension, key, kind, priority = cell
        yield (period, start, combined, dimension, key, kind, priority, accept, resolve, *sums, as_of)


def dimension_rows(dims: Sequence[str], keys: Sequence[str], pair) -> list[tuple[str, str]]:
    """The rows, as (dimension, key), that one full-grain row of a base counts in: all, each of its dimensions,
    and group with agent (`pair`: the positions of group and agent in `dims`, or False)."""
    rows = [(Dimension.ALL, ''), *zip(dims, keys, strict=True)]
    if pair:
        rows.append((Dimension.GROUP_AGENT, f'{keys[pair[0]]}:{keys[pair[1]]}'))
    return rows


def daily_cells(days: Iterable[dt.date]) -> DailyCells:
    """The sums of the rollup rows of `days`: for each base, one query at full grain (day × kind × priority ×
    every dimension value [× duration bucket]) whose rows are then summed into each dimension's rows."""
    ranges = _day_ranges(list(days))
    if not ranges:
        return {}
    cells: DailyCells = {}
    position = {name: index for index, name in enumerate(COUNTER_FIELDS)}
    zone = local_zone()
    for base in BASES.values():
        queryset = annotate_at(base, base.queryset()).filter(_in_days(base.at, ranges))
        dims = [d for d in base.dims if d not in ('kind', 'priority')]
        annotations = {'rday': TruncDate(base.at, tzinfo=zone), **{f'rk_{d}': F(base.dims[d]) for d in base.dims}}
        names = ['rday', 'rk_kind', 'rk_priority', *(f'rk_{d}' for d in dims)]
        if base.duration:
            annotations['rsecs'] = base.seconds()
        queryset = queryset.annotate(**annotations)
        if base.duration:
            queryset = queryset.annotate(rbucket=bucket_expression('rsecs'))
            names.append('rbucket')
        counter_names = list(base.counters())
        slots = [position[name] for name in counter_names]
        histogram_slot = {'accept': 1, 'resolve': 2}.get(base.duration)
        counted = counter_names.index(DURATION_COUNTER[base.duration]) if base.duration else None
        pair = ('group' in dims and 'agent' in dims) and (dims.index('group'), dims.index('agent'))
        rows = queryset.values(*names).annotate(**base.counters()).values_list(*names, *counter_names)
        for row in rows.order_by().iterator(5000):
            day, kind, priority = row[0], row[1], row[2]
            dim_values = row[3 : 3 + len(dims)]
            keys = [_key(d, v) for d, v in zip(dims, dim_values, strict=True)]
            values = [value or 0 for value in row[len(names) :]]
            bucket = str(row[len(names) - 1]) if histogram_slot else ''
            for dimension, key in dimension_rows(dims, keys, pair):
                index = (day, dimension, key, kind, priority)
                cell = cells.get(index)
                if cell is None:
                    cell = cells[index] = ([0] * len(COUNTER_FIELDS), {}, {})
                sums = cell[0]
                for slot, value in zip(slots, values, strict=True):
                    sums[slot] += value
                if histogram_slot:
                    histogram = cell[histogram_slot]
                    histogram[bucket] = histogram.get(bucket, 0) + values[counted]
    for first, last in ranges:
        for offset in range((last - first).days + 1):
            cells.setdefault(
                (first + dt.timedelta(days=offset), Dimension.DAY, '', '', 0), ([0] * len(COUNTER_FIELDS), {}, {})
            )
    return cells


def periods_of(days: Iterable[dt.date]) -> list[tuple[str, dt.date]]:
    """The weeks and months the days fall in, as (period, first day)."""
    return sorted({(interval, period_start(day, interval)) for day in days for interval in RollupPeriod.values})


def period_cells(periods: Iterable[tuple[str, dt.date]], *, fresh: DailyCells) -> PeriodCells:
    """The sums of the rows of weeks and months: each period's daily rows summed, their histograms merged, per
    kind and priority and combined over them. The `fresh` daily cells (just built) stand for the stored rows of
    their days, which then need not be read back."""
    fresh_by_day: dict[dt.date, list[tuple]] = {}
    for (day, dimension, key, kind, priority), sums in fresh.items():
        if dimension != Dimension.DAY:
            fresh_by_day.setdefault(day, []).append((dimension, key, kind, priority, sums))
    width = len(COUNTER_FIELDS)
    cells: PeriodCells = {}

    def add(interval, start, dimension, key, kind, priority, counters, accept, resolve) -> None:
        for cell_key in (
            (interval, start, False, dimension, key, kind, priority),
            (interval, start, True, dimension, key, '', 0),
        ):
            cell = cells.get(cell_key)
            if cell is None:
                cell = cells[cell_key] = ([0] * width, {}, {})
            if counters is not None:
                sums = cell[0]
                sums[:] = map(operator.add, sums, counters)
            merge_into(cell[1], accept)
            merge_into(cell[2], resolve)

    names = ('dimension', 'key', 'kind', 'priority')
    for interval, start in sorted(set(periods)):
        end = period_end(start, interval)
        own = [day for day in fresh_by_day if start <= day <= end]
        stored = DailyRollup.objects.filter(day__gte=start, day__lte=end).exclude(dimension=Dimension.DAY)
        stored = stored.exclude(day__in=own)
        summed = stored.values(*names).annotate(**{n: Sum(n) for n in COUNTER_FIELDS}).order_by()
        for row in summed.values_list(*names, *COUNTER_FIELDS):
            add(interval, start, *row[:4], row[4:], None, None)
        histograms = stored.values_list(*names, 'accept_hist', 'resolve_hist').order_by()
        for *index, accept, resolve in histograms.iterator(5000):
            if accept or resolve:
                add(interval, start, *index, None, accept, resolve)
        for day in own:
            for dimension, key, kind, priority, (sums, accept, resolve) in fresh_by_day[day]:
                add(interval, start, dimension, key, kind, priority, sums, accept, resolve)
    return cells


def merge_into(histogram: dict[str, int], other: dict[str, int] | None) -> None:
    for bucket, count in (other or {}).items():
        histogram[bucket] = histogram.get(bucket, 0) + count
