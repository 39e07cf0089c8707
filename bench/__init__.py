"""Benchmarks: `python -m bench` runs every `bench/bench_*.py` module's `run()` and prints one table.

A module's `run()` returns a list of `Result`s. Benchmarks run against a scratch PostgreSQL database (see
README.md), never against the database in DATABASE_URL.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from django.test.utils import CaptureQueriesContext

__all__ = ['Result', 'measure']


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
