"""Benchmarks: `python -m bench` runs every `bench/bench_*.py` module's `run()` and prints one table.

A module's `run()` returns a list of `Result`s. Benchmarks run against a scratch PostgreSQL database (see
README.md), never against the database in DATABASE_URL.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlparse

from django.db import connection
from django.test.utils import CaptureQueriesContext

__all__ = ['Result', 'Skipped', 'measure', 'scratch_database']


class Skipped(Exception):
    """A benchmark that cannot run here says why (the runner prints it instead of a traceback)."""


@dataclass(frozen=True)
class Result:
    """One line of the table: an operation, the rows it returned (median), its timings and its query count."""

    operation: str
    rows: int
    median_ms: float
    p95_ms: float
    queries: int


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def measure(operation: str, calls: list[Callable[[], int]], *, warmup: int = 3) -> Result:
    """Time each call once (after `warmup` untimed calls); each call returns how many rows it produced.

    The query count is the largest any call made, so a count that grows with the input shows up.
    """
    for call in calls[:warmup]:
        call()
    timings, rows, queries = [], [], 0
    for call in calls:
        connection.queries_log.clear()  # the log is bounded: a full one would hide this call's queries
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            rows.append(call())
            timings.append((time.perf_counter() - start) * 1000)
        queries = max(queries, len(captured.captured_queries))
    return Result(
        operation=operation,
        rows=int(statistics.median(rows)),
        median_ms=statistics.median(timings),
        p95_ms=_p95(timings),
        queries=queries,
    )


def scratch_database(url: str, *, fresh: bool = False) -> str:
    """Create the PostgreSQL database `url` names when it is missing (drop it first when `fresh`); returns `url`.

    Only for the benchmarks' own scratch databases (pitcrew_bench*).
    """
    import psycopg2
    from psycopg2 import sql

    parts = urlparse(url)
    name = parts.path.lstrip('/')
    conn = psycopg2.connect(
        dbname='postgres',
        user=parts.username or 'postgres',
        password=parts.password or None,
        host=parts.hostname or '127.0.0.1',
        port=parts.port or 5432,
    )
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            if fresh:
                cursor.execute(sql.SQL('DROP DATABASE IF EXISTS {} WITH (FORCE)').format(sql.Identifier(name)))
            cursor.execute('SELECT 1 FROM pg_database WHERE datname = %s', [name])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL('CREATE DATABASE {}').format(sql.Identifier(name)))
    finally:
        conn.close()
    return url
