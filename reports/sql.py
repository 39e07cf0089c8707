"""SQL the measures need beyond Django's built-ins, for PostgreSQL and SQLite alike.

- `Seconds(end, start)`: a duration in seconds (float), exact to the microsecond on both databases.
- `PercentileCont`: PostgreSQL's ordered-set aggregate `percentile_cont(f) WITHIN GROUP (ORDER BY x)`.
- `percentiles_by_window`: the same continuous percentiles from window functions (ROW_NUMBER and COUNT over
  each group), for databases without ordered-set aggregates (SQLite). Both interpolate linearly between the
  two closest ranks, so they return the same values.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connections
from django.db.models import Aggregate, FloatField, Func, QuerySet

__all__ = ['PercentileCont', 'Seconds', 'percentiles_by_window', 'supports_percentile_cont']


class Seconds(Func):
    """`end - start` in seconds."""

    arg_joiner = ' - '
    template = 'CAST(EXTRACT(EPOCH FROM (%(expressions)s)) AS double precision)'
    output_field = FloatField()

    def __init__(self, end, start, **extra):
        super().__init__(end, start, **extra)

    def as_sqlite(self, compiler, connection, **extra_context):
        # Django's own SQLite function for datetime subtraction: whole microseconds.
        return super().as_sql(
            compiler,
            connection,
            template='(django_timestamp_diff(%(expressions)s) / 1000000.0)',
            arg_joiner=', ',
            **extra_context,
        )


class PercentileCont(Aggregate):
    """The continuous percentile `fraction` (0.5 is the median) of an expression, on PostgreSQL."""

    function = 'percentile_cont'
    template = '%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)'
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        if not 0 <= fraction <= 1:
            raise ValueError('A percentile fraction lies between 0 and 1.')
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


def supports_percentile_cont(using: str = 'default') -> bool:
    return connections[using].vendor == 'postgresql'


def _floor_int(sql: str, vendor: str) -> str:
    # SQLite's CAST truncates (the values are never negative); PostgreSQL's CAST would round.
    return f'CAST({sql} AS INTEGER)' if vendor == 'sqlite' else f'CAST(FLOOR({sql}) AS INTEGER)'


def percentiles_by_window(
    queryset: QuerySet, *, keys: Sequence[str], value: str, fractions: Sequence[float], using: str = 'default'
) -> dict[tuple, list[float | None]]:
    """Continuous percentiles of `value` per distinct `keys`, computed in SQL with window functions.

    `queryset` must select `keys` and `value` (as `.values(*keys, value)` annotations). Returns
    {key tuple: [one value per fraction]}; groups without rows are absent.
    """
    vendor = connections[using].vendor
    inner_sql, params = queryset.values(*keys, value).query.sql_with_params()
    quote = connections[using].ops.quote_name
    key_cols = [quote(k) for k in keys]
    v = quote(value)
    partition = f'PARTITION BY {", ".join(key_cols)} ' if key_cols else ''
    picks = []
    for index, fraction in enumerate(fractions):
        position = f'({float(fraction)!r} * (r.n - 1))'
        low_rank = _floor_int(position, vendor)
        picks.append(
            f'MAX(CASE WHEN r.i = {low_rank} THEN r.{v} END) AS lo{index}, '
            f'MAX(CASE WHEN r.i = {low_rank} + 1 THEN r.{v} END) AS hi{index}, '
            f'MAX({position} - {low_rank}) AS fr{index}'
        )
    outer_keys = ', '.join(f'r.{k}' for k in key_cols)
    sql = (
        f'SELECT {outer_keys + ", " if outer_keys else ""}{", ".join(picks)} FROM ('
        f'SELECT {", ".join(f"d.{k}" for k in key_cols) + ", " if key_cols else ""}d.{v}, '
        f'ROW_NUMBER() OVER ({partition}ORDER BY d.{v}) - 1 AS i, COUNT(*) OVER ({partition.strip()}) AS n '
        f'FROM ({inner_sql}) d WHERE d.{v} IS NOT NULL) r' + (f' GROUP BY {outer_keys}' if outer_keys else '')
    )
    result: dict[tuple, list[float | None]] = {}
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            key, rest = tuple(row[: len(keys)]), row[len(keys) :]
            values = []
            for index in range(len(fractions)):
                low, high, frac = rest[3 * index : 3 * index + 3]
                if low is None:
                    values.append(None)
                    continue
                high = low if high is None else high
                values.append(float(low) + float(frac or 0) * (float(high) - float(low)))
            if any(v is not None for v in values):
                result[key] = values
    return result
