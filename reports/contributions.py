"""What each ticket adds to the rollups, so a refresh costs what changed.

A ticket's *contribution* is the list of full-grain rows it (and its SLA clocks) feeds: for each base
(`reports.counters.BASES`) the day it counts on, its kind, priority, dimension values, duration bucket and counter
values, exactly what `engine.build_rows` groups. It is kept per ticket (`RollupContribution`). A refresh
computes the contributions of the tickets that changed, subtracts each one's stored contribution from every day,
week and month row it touched and adds the new one: counters and histogram buckets are additive, so the rows
end as a full rebuild would write them. A deleted ticket's contribution is subtracted and forgotten.
"""

from __future__ import annotations

import datetime as dt
import json
import operator
from collections.abc import Iterable, Sequence

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import F, Q
from django.db.models.functions import TruncDate

from itsm.bulk import insert_rows

from .choices import Dimension, RollupPeriod
from .counters import BASES, annotate_at, bucket_expression
from .engine import (
    DAILY_COLUMNS,
    DURATION_COUNTER,
    PERIOD_COLUMNS,
    DailyCells,
    PeriodCells,
    daily_rows,
    dimension_rows,
    merge_into,
    period_rows,
)
from .models import COUNTER_FIELDS, DailyRollup, PeriodRollup
from .slices import local_zone, period_start

__all__ = ['RebuildSums', 'add_cells', 'apply_cells', 'contributions_of', 'decode', 'encode']

BASE_LIST = list(BASES.values())
_POSITION = {name: index for index, name in enumerate(COUNTER_FIELDS)}
_FLOAT_SLOTS = tuple(index for index, name in enumerate(COUNTER_FIELDS) if name.endswith('_seconds'))
_COUNT_SLOTS = tuple(index for index in range(len(COUNTER_FIELDS)) if index not in _FLOAT_SLOTS)
DAY = 'day'  # the period of a daily row in a cell key
READ_BATCH = 1000  # cells whose stored rows one query reads


def _layout(base):
    dims = [d for d in base.dims if d not in ('kind', 'priority')]
    counter_names = list(base.counters())
    pair = ('group' in dims and 'agent' in dims) and (dims.index('group'), dims.index('agent'))
    histogram = {'accept': 1, 'resolve': 2}.get(base.duration)
    counted = counter_names.index(DURATION_COUNTER[base.duration]) if base.duration else None
    return dims, counter_names, [_POSITION[n] for n in counter_names], pair, histogram, counted


LAYOUTS = [_layout(base) for base in BASE_LIST]


def _owner(base) -> str:
    """The field holding the ticket's id on the base's rows."""
    return 'pk' if base.model == 'incidents.Ticket' else 'object_id'


def contributions_of(tickets: Q | Sequence[int]) -> dict[int, list[list]]:
    """Each ticket's full-grain rows, by ticket id: `tickets` is a list of ids, or a condition on `id` (say a
    range) that is applied to the tickets and to their clocks alike. Tickets with no rows are left out."""
    zone = local_zone()
    found: dict[int, list[list]] = {}
    for index, base in enumerate(BASE_LIST):
        dims, counter_names, _, _, histogram, _ = LAYOUTS[index]
        owner = _owner(base)
        queryset = annotate_at(base, base.queryset())
        if isinstance(tickets, Q):
            queryset = queryset.filter(_renamed(tickets, owner))
            if owner != 'pk':
                # The same range on the joined tickets: PostgreSQL does not carry it across the join, and would
                # otherwise merge-join from the first ticket on, reading every ticket before the range.
                queryset = queryset.filter(_renamed(tickets, 'ticket__pk'))
        else:
            queryset = queryset.filter(**{f'{owner}__in': list(tickets)})
        annotations = {
            'rticket': F(owner),
            'rday': TruncDate(base.at, tzinfo=zone),
            **{f'rk_{d}': F(base.dims[d]) for d in base.dims},
        }
        names = ['rticket', 'rday', 'rk_kind', 'rk_priority', *(f'rk_{d}' for d in dims)]
        if histogram:
            annotations['rsecs'] = base.seconds()
        queryset = queryset.annotate(**annotations)
        if histogram:
            queryset = queryset.annotate(rbucket=bucket_expression('rsecs'))
            names.append('rbucket')
        rows = queryset.values(*names).annotate(**base.counters()).values_list(*names, *counter_names)
        width = len(names)
        end = 4 + len(dims)
        for row in _fetched(rows.order_by()):
            # Dimension values are ids and codes: their keys are strings, '' for none (`engine._key`).
            keys = ['' if value is None else str(value) for value in row[4:end]]
            bucket = row[width - 1] if histogram else None
            values = [value or 0 for value in row[width:]]
            day = row[1] if isinstance(row[1], dt.date) else dt.date.fromisoformat(row[1])
            entry = [index, day.toordinal(), row[2], int(row[3]), keys, bucket, values]
            found.setdefault(int(row[0]), []).append(entry)
    for entries in found.values():
        entries.sort(key=_entry_order)
    return found


def _fetched(rows) -> list[tuple]:
    """The rows of a values_list query as the database driver gives them. Django's converters, called for every
    value, cost more than the loop that uses the rows and change nothing here: ids, codes, counts and the float
    seconds arrive as they are used; only the day arrives as text on SQLite."""
    compiler = rows.query.get_compiler(using=rows.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return []
    with compiler.connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _entry_order(entry: list) -> tuple:
    """A ticket's entries in a fixed order, so contributions computed twice compare equal. No two entries share
    their base, day, kind, priority, keys and bucket (the rows are grouped by them), so the values never decide."""
    index, ordinal, kind, priority, keys, bucket, _ = entry
    return index, ordinal, kind, priority, keys, -1 if bucket is None else bucket


def _renamed(condition: Q, owner: str) -> Q:
    """A condition on the ticket's `id` applied to another base's owner field (`id__gte` -> `object_id__gte`)."""
    renamed = Q()
    renamed.connector, renamed.negated = condition.connector, condition.negated
    for child in condition.children:
        if isinstance(child, Q):
            renamed.children.append(_renamed(child, owner))
        else:
            name, value = child
            _, _, lookup = name.partition('__')
            renamed.children.append((f'{owner}__{lookup}' if lookup else owner, value))
    return renamed


def encode(entries: list[list]) -> str:
    """Entries as compact JSON: the ticket's kind, priority and dimension keys once, in a header, and each entry
    as [base, day, bucket, values] with only what differs from the header (an SLA clock's agreement after the
    ticket's keys; an OLA clock's group in full)."""
    if not entries:
        return '[]'
    kind, priority, keys = entries[0][2:5]
    encoded = []
    for index, ordinal, kind_, priority_, keys_, bucket, values in entries:
        entry = [index, ordinal, bucket, values]
        if (kind_, priority_) != (kind, priority):
            entry += [kind_, priority_, keys_]
        elif keys_[: len(keys)] == keys and len(keys_) > len(keys):
            entry.append(keys_[len(keys) :])
        elif keys_ != keys:
            entry += [kind_, priority_, keys_]
        encoded.append(entry)
    return json.dumps([[kind, priority, keys], *encoded], separators=(',', ':'))


def decode(text: str) -> list[list]:
    loaded = json.loads(text) if text else []
    if not loaded:
        return []
    header, *encoded = loaded
    kind, priority, keys = header
    entries = []
    for index, ordinal, bucket, values, *rest in encoded:
        if len(rest) == 3:
            entries.append([index, ordinal, *rest, bucket, values])
        elif rest:
            entries.append([index, ordinal, kind, priority, keys + rest[0], bucket, values])
        else:
            entries.append([index, ordinal, kind, priority, keys, bucket, values])
    return entries


#
# Cells
#

Cells = dict[tuple, list]  # (period, first day, combined, dimension, key, kind, priority) -> [sums, accept, resolve]


def _cell(cells: Cells, key: tuple) -> list:
    cell = cells.get(key)
    if cell is None:
        cell = cells[key] = [[0] * len(COUNTER_FIELDS), {}, {}]
    return cell


def add_cells(cells: Cells, entries: Iterable[list], sign: int = 1) -> None:
    """Add (or with `sign` -1, take away) the entries to every day, week and month row they count in: each
    dimension's row of their kind and priority, and the period rows combined over every kind and priority."""
    for index, ordinal, kind, priority, keys, bucket, values in entries:
        dims, _, slots, pair, histogram, counted = LAYOUTS[index]
        day = dt.date.fromordinal(ordinal)
        periods = [(DAY, day, False)]
        for interval in RollupPeriod.values:
            start = period_start(day, interval)
            periods += [(interval, start, False), (interval, start, True)]
        targets = dimension_rows(dims, keys, pair)
        bucket_name = str(bucket)
        for period, start, combined in periods:
            cell_kind, cell_priority = ('', 0) if combined else (kind, priority)
            for dimension, key in targets:
                cell = _cell(cells, (period, start, combined, dimension, key, cell_kind, cell_priority))
                sums = cell[0]
                for slot, value in zip(slots, values, strict=True):
                    sums[slot] += sign * value
                if histogram:
                    tally = cell[histogram]
                    tally[bucket_name] = tally.get(bucket_name, 0) + sign * values[counted]


class RebuildSums:
    """The day, week and month rows of a full rebuild, summed from the tickets' contributions as they are computed
    (so each base is read once, for the contributions), as `engine.daily_cells` and `engine.period_cells` sum
    them from the bases.

    Sums are nested by (day, kind, priority), then by (dimension, key): the entries of one row share the outer
    key, which is looked up once per entry rather than once per dimension row. Weeks and months are summed per
    kind and priority from the day rows, and the rows combined over kind and priority from those."""

    def __init__(self, days: Iterable[dt.date]):
        self._days: dict[tuple[int, str, int], dict[tuple[str, str], list]] = {}
        for day in days:
            self._days[(day.toordinal(), '', 0)] = {(Dimension.DAY, ''): ([0] * len(COUNTER_FIELDS), {}, {})}

    def add(self, entries: Iterable[list]) -> None:
        width = len(COUNTER_FIELDS)
        for index, ordinal, kind, priority, keys, bucket, values in entries:
            dims, _, slots, pair, histogram, counted = LAYOUTS[index]
            outer = (ordinal, kind, priority)
            rows = self._days.get(outer)
            if rows is None:
                rows = self._days[outer] = {}
            changes = list(zip(slots, values, strict=True))
            bucket_name = str(bucket)
            for target in dimension_rows(dims, keys, pair):
                cell = rows.get(target)
                if cell is None:
                    cell = rows[target] = ([0] * width, {}, {})
                sums = cell[0]
                for slot, value in changes:
                    sums[slot] += value
                if histogram:
                    tally = cell[histogram]
                    tally[bucket_name] = tally.get(bucket_name, 0) + values[counted]

    def daily_cells(self) -> DailyCells:
        cells: DailyCells = {}
        for (ordinal, kind, priority), rows in self._days.items():
            day = dt.date.fromordinal(ordinal)
            for (dimension, key), sums in rows.items():
                cells[(day, dimension, key, kind, priority)] = sums
        return cells

    def period_cells(self) -> PeriodCells:
        own: dict[tuple, dict[tuple[str, str], list]] = {}
        for (ordinal, kind, priority), rows in self._days.items():
            day = dt.date.fromordinal(ordinal)
            for interval in RollupPeriod.values:
                target = own.setdefault((interval, period_start(day, interval), kind, priority), {})
                for dimension_key, sums in rows.items():
                    if dimension_key[0] != Dimension.DAY:
                        _sum_into(target, dimension_key, sums)
        combined: dict[tuple, dict[tuple[str, str], list]] = {}
        for (interval, start, _, _), rows in own.items():
            target = combined.setdefault((interval, start), {})
            for dimension_key, sums in rows.items():
                _sum_into(target, dimension_key, sums)
        cells: PeriodCells = {}
        for (interval, start, kind, priority), rows in own.items():
            for (dimension, key), sums in rows.items():
                cells[(interval, start, False, dimension, key, kind, priority)] = sums
        for (interval, start), rows in combined.items():
            for (dimension, key), sums in rows.items():
                cells[(interval, start, True, dimension, key, '', 0)] = sums
        return cells


def _sum_into(rows: dict, dimension_key: tuple[str, str], sums) -> None:
    cell = rows.get(dimension_key)
    if cell is None:
        rows[dimension_key] = ([*sums[0]], dict(sums[1]), dict(sums[2]))
        return
    cell[0][:] = map(operator.add, cell[0], sums[0])
    merge_into(cell[1], sums[1])
    merge_into(cell[2], sums[2])


def _is_empty(sums: list, accept: dict, resolve: dict) -> bool:
    return not any(sums[slot] for slot in _COUNT_SLOTS) and not any(accept.values()) and not any(resolve.values())


def _merge_histogram(stored: dict, delta: dict) -> dict:
    merged = dict(stored or {})
    for bucket, count in delta.items():
        merged[bucket] = merged.get(bucket, 0) + count
    return {bucket: count for bucket, count in merged.items() if count}


def _clean(sums: list) -> list:
    # Durations are exact to the microsecond; adding and taking them away leaves float noise below that.
    for slot in _FLOAT_SLOTS:
        sums[slot] = round(sums[slot], 6) if any(sums[s] for s in _COUNT_SLOTS) else 0.0
    return sums


def apply_cells(cells: Cells, *, as_of: dt.datetime) -> set[dt.date]:
    """Add the cells' differences to the stored day, week and month rows (rows that drop to nothing go);
    returns the days whose rows changed. Each table's rows are read per period and dimension, exactly the cells'
    rows, then the changed rows are written again."""
    cells = {k: v for k, v in cells.items() if any(v[0]) or any(v[1].values()) or any(v[2].values())}
    groups: dict[tuple, list[tuple]] = {}
    for key in cells:
        groups.setdefault((key[0], key[2], key[3]), []).append(key)
    stale: dict[type, list[int]] = {DailyRollup: [], PeriodRollup: []}
    # The rows to write, as the rollup builders hold their sums (engine.DailyCells and PeriodCells).
    fresh_days: dict[tuple, tuple] = {}
    fresh_periods: dict[tuple, tuple] = {}
    width = len(COUNTER_FIELDS)
    for (period, combined, dimension), keys in groups.items():
        model, date_field = (DailyRollup, 'day') if period == DAY else (PeriodRollup, 'start')
        stored = {}
        for index in range(0, len(keys), READ_BATCH):
            chunk = keys[index : index + READ_BATCH]
            for r in _stored_rows(model, date_field, period, combined, dimension, chunk):
                stored[(period, r[1], combined, dimension, r[2], r[3], r[4])] = r
        for key in keys:
            delta, accept, resolve = cells[key]
            row = stored.get(key)
            if row is None:
                sums, accept, resolve = list(delta), _merge_histogram({}, accept), _merge_histogram({}, resolve)
            else:
                stale[model].append(row[0])
                sums = [value + change for value, change in zip(row[5 : 5 + width], delta, strict=True)]
                accept, resolve = _merge_histogram(row[-2], accept), _merge_histogram(row[-1], resolve)
            _clean(sums)
            if _is_empty(sums, accept, resolve):
                continue
            if model is DailyRollup:
                fresh_days[key[1], *key[3:]] = (sums, accept, resolve)
            else:
                fresh_periods[key] = (sums, accept, resolve)
    for model in (DailyRollup, PeriodRollup):
        for index in range(0, len(stale[model]), 5000):
            model.objects.filter(pk__in=stale[model][index : index + 5000]).delete()
    insert_rows(DailyRollup, DAILY_COLUMNS, daily_rows(fresh_days, as_of))
    insert_rows(PeriodRollup, PERIOD_COLUMNS, period_rows(fresh_periods, as_of))
    return {key[1] for key in cells if key[0] == DAY}


def _stored_rows(model, date_field: str, period: str, combined: bool, dimension: str, keys: list[tuple]) -> list:
    """The stored rows of exactly these cells, as (pk, day, key, kind, priority, *counters, accept, resolve): the
    cells are joined as a VALUES list, so each is one index lookup (PostgreSQL and SQLite alike)."""
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ', '.join(f'r.{connection.ops.quote_name(n)}' for n in ('id', date_field, 'key', 'kind', 'priority'))
    counters = ', '.join(f'r.{connection.ops.quote_name(n)}' for n in (*COUNTER_FIELDS, 'accept_hist', 'resolve_hist'))
    values = ', '.join(['(%s, %s, %s, %s)'] * len(keys))
    params = [value for key in keys for value in (key[1], key[4], key[5], key[6])]
    sql = (
        f'SELECT {columns}, {counters} FROM {table} r JOIN (VALUES {values}) v '
        f'ON r.{connection.ops.quote_name(date_field)} = v.column1 AND r.key = v.column2 AND r.kind = v.column3 '
        'AND r.priority = v.column4 WHERE r.dimension = %s'
    )
    params.append(dimension)
    if model is PeriodRollup:
        sql += ' AND r.period = %s AND r.combined = %s'
        params += [period, combined]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    # The database hands dates and JSON back as text on SQLite.
    return [
        (
            row[0],
            row[1] if isinstance(row[1], dt.date) else dt.date.fromisoformat(row[1]),
            *row[2:-2],
            *(h if isinstance(h, dict) else json.loads(h or '{}') for h in row[-2:]),
        )
        for row in rows
    ]


CONTRIBUTION_COLUMNS = ('ticket_id', 'entries')


def contribution_rows(found: dict[int, list[list]]) -> Iterable[tuple[int, str]]:
    """Stored contributions as rows of values in `CONTRIBUTION_COLUMNS` order."""
    return ((ticket, encode(entries)) for ticket, entries in found.items())
