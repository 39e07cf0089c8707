"""Storage per ticket: the bytes a ticket costs in each table that grows with the tickets, and in each index.

    python -m bench storage                           # the benchmark data set (built when missing), after the table
    python -m bench.bench_storage [DATABASE_URL]      # any database, read-only: catalog queries and one count

For each table (the tickets, their history, SLA clocks, pauses, warnings and breaches, the report rollups): its rows,
the heap (`pg_relation_size`), TOAST (the out-of-line values and their index), its indexes (`pg_indexes_size`) and
the total (`pg_total_relation_size`), each divided by the number of tickets. Then every index of those tables with
its size per ticket, its scans since the statistics were last reset (`pg_stat_user_indexes.idx_scan`: 0 after a
benchmark run is a candidate for removal) and whether it is a leading-column prefix of another index of the table
(a duplicate, unless it enforces uniqueness).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

TICKETS = 'incidents_ticket'
# The tables that grow with the tickets; the report rollups are found by name (`reports_…rollup…`).
TABLES = (TICKETS, 'itsm_timelineentry', 'sla_slaclock', 'sla_clockpause', 'sla_clockevent')
ROLLUPS = r'reports\_%rollup%'


@dataclass(frozen=True)
class TableSize:
    table: str
    rows: int
    heap: int
    toast: int
    indexes: int
    total: int


@dataclass(frozen=True)
class IndexSize:
    table: str
    index: str
    size: int
    scans: int
    unique: bool
    columns: tuple[tuple[int, int], ...]
    predicate: str
    prefix_of: str = ''


def _tables(cursor) -> list[str]:
    cursor.execute(
        "SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace "
        'AND (relname = ANY(%s) OR relname LIKE %s) ORDER BY relname',
        [list(TABLES), ROLLUPS],
    )
    found = [name for (name,) in cursor.fetchall()]
    return [t for t in TABLES if t in found] + [t for t in found if t not in TABLES]


def table_sizes(cursor, tables: list[str]) -> list[TableSize]:
    cursor.execute(
        """
        SELECT c.relname, c.reltuples::bigint, pg_relation_size(c.oid),
               COALESCE(pg_total_relation_size(NULLIF(c.reltoastrelid, 0)), 0),
               pg_indexes_size(c.oid), pg_total_relation_size(c.oid)
        FROM pg_class c WHERE c.relname = ANY(%s) AND c.relnamespace = 'public'::regnamespace
        """,
        [tables],
    )
    found = {row[0]: row for row in cursor.fetchall()}
    sizes = []
    for table in tables:
        name, rows, heap, toast, indexes, total = found[table]
        if rows < 0:  # never analysed: count
            cursor.execute(f'SELECT COUNT(*) FROM "{table}"')
            rows = cursor.fetchone()[0]
        sizes.append(TableSize(name, rows, heap, toast, indexes, total))
    return sizes


def index_sizes(cursor, tables: list[str]) -> list[IndexSize]:
    cursor.execute(
        """
        SELECT t.relname, i.relname, pg_relation_size(i.oid), COALESCE(s.idx_scan, 0), x.indisunique,
               x.indkey::text || ' ' || x.indclass::text, COALESCE(pg_get_expr(x.indpred, x.indrelid), ''),
               x.indexprs IS NOT NULL
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_class t ON t.oid = x.indrelid
        LEFT JOIN pg_stat_user_indexes s ON s.indexrelid = x.indexrelid
        WHERE t.relname = ANY(%s) AND t.relnamespace = 'public'::regnamespace
        ORDER BY t.relname, pg_relation_size(i.oid) DESC
        """,
        [tables],
    )
    indexes = []
    for table, index, size, scans, unique, key, predicate, expressions in cursor.fetchall():
        # Columns as (column number, operator class): a LIKE index (`varchar_pattern_ops`) serves other lookups than
        # a plain one on the same column. An index on an expression is nobody's prefix and has none.
        numbers = [int(n) for n in key.split()]
        half = len(numbers) // 2
        columns = () if expressions else tuple(zip(numbers[:half], numbers[half:], strict=True))
        indexes.append(IndexSize(table, index, size, scans, unique, columns, predicate))
    return mark_prefixes(indexes)


def mark_prefixes(indexes: list[IndexSize]) -> list[IndexSize]:
    """Mark each index whose columns lead another index of the same table with the same predicate: the longer one
    serves the same lookups. A unique index is kept (it enforces something), and so is one of two equal indexes."""
    marked = []
    for index in indexes:
        wider = [
            other
            for other in indexes
            if other.index != index.index
            and other.table == index.table
            and other.predicate == index.predicate
            and index.columns
            and other.columns[: len(index.columns)] == index.columns
            and (len(other.columns) > len(index.columns) or other.index < index.index)
        ]
        if wider and not index.unique:
            index = IndexSize(**{**index.__dict__, 'prefix_of': wider[0].index})
        marked.append(index)
    return marked


def ticket_count(cursor) -> int:
    cursor.execute(f'SELECT COUNT(*) FROM {TICKETS}')
    return cursor.fetchone()[0]


def _kb(size: float) -> str:
    return f'{size / 1024:,.1f}' if size >= 1024 else f'{size / 1024:,.2f}'


def _lines(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def fmt(row):
        cells = enumerate(zip(row, widths, strict=True))
        return '  '.join(cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in cells)

    return [fmt(header), '  '.join('-' * w for w in widths), *(fmt(row).rstrip() for row in rows)]


def report_of(cursor) -> str:
    """The storage report of the database `cursor` reads (DB-API cursor: Django's or psycopg2's)."""
    tickets = ticket_count(cursor)
    if not tickets:
        return 'storage: no tickets'
    tables = _tables(cursor)
    sizes = table_sizes(cursor, tables)
    per = float(tickets)
    table_rows = [
        (
            s.table,
            '',
            f'{s.rows:,}',
            f'{s.rows / per:,.2f}',
            f'{s.heap / per:,.0f}',
            f'{s.toast / per:,.0f}',
            f'{s.indexes / per:,.0f}',
            f'{s.total / per:,.0f}',
            f'{s.total / 2**20:,.1f}',
        )
        for s in sizes
    ]
    totals = [sum(getattr(s, field) for s in sizes) for field in ('heap', 'toast', 'indexes', 'total')]
    table_rows.append(('all', '', '', '', *(f'{value / per:,.0f}' for value in totals), f'{totals[-1] / 2**20:,.1f}'))
    header = ('table', '', 'rows', 'rows/ticket', 'heap B/t', 'TOAST B/t', 'indexes B/t', 'total B/t', 'total MiB')
    index_rows = [
        (
            i.table,
            i.index,
            f'{i.size / per:,.1f}',
            f'{i.size / 2**20:,.1f}',
            f'{i.scans:,}',
            'unique' if i.unique else '',
            f'prefix of {i.prefix_of}' if i.prefix_of else ('never scanned' if not i.scans else ''),
        )
        for i in index_sizes(cursor, tables)
    ]
    lines = [f'storage per ticket: {tickets:,} tickets (B/t: bytes per ticket)', '']
    lines += _lines(header, table_rows)
    lines += ['']
    lines += _lines(('table', 'index', 'B/ticket', 'MiB', 'scans', 'unique', 'note'), index_rows)
    return '\n'.join(lines)


def report() -> str:
    """The storage report of the benchmark data set (the runner's database)."""
    from django.db import connection

    from bench import dataset

    dataset.ensure()
    with connection.cursor() as cursor:
        return report_of(cursor)


def main(argv: list[str]) -> int:
    import psycopg2

    from bench.__main__ import DEFAULT_URL

    url = argv[0] if argv else os.environ.get('BENCH_DATABASE_URL', DEFAULT_URL)
    conn = psycopg2.connect(url)
    conn.set_session(readonly=True)
    try:
        with conn.cursor() as cursor:
            print(report_of(cursor))
    finally:
        conn.close()
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
