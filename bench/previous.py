"""The figures of an earlier run, read from the tables in `bench/README.md`, matched to this run's rows.

A figures table is a Markdown table whose header starts `| operation | rows | median ms | p95 ms | queries |`. Labels
often carry numbers that depend on the data set or the run ("6,941 open of 1,000,000", "17 incidents/s"), so a row
is matched by its exact label first, then by its label with every number replaced (`label_key`); several rows with
the same key (the sweep at 20,000, 50,000 and 200,000 clocks) pair up in the order they appear. When the README holds
several figures tables (one per data set size), the one sharing the most exact labels with this run is used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

README = Path(__file__).resolve().parent / 'README.md'
HEADER = ('operation', 'rows', 'median ms', 'p95 ms', 'queries')
NUMBER = re.compile(r'\d[\d,]*(?:\.\d+)?')


@dataclass(frozen=True)
class Figure:
    """One row of a figures table: the operation's label, its median and p95 in ms, and its query count."""

    operation: str
    median_ms: float | None
    p95_ms: float | None
    queries: int | None


def label_key(label: str) -> str:
    """The label with its numbers replaced by `#` and its spaces collapsed: stable across sizes and runs."""
    return ' '.join(NUMBER.sub('#', label).split())


def _number(cell: str) -> float | None:
    text = cell.replace(',', '').replace('*', '').strip()
    try:
        return float(text)
    except ValueError:
        return None


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip('|').split('|')]


def parse_tables(text: str) -> list[list[Figure]]:
    """Every figures table in a Markdown text, each as its rows in order."""
    tables: list[list[Figure]] = []
    current: list[Figure] | None = None
    for line in text.splitlines():
        if not line.lstrip().startswith('|'):
            current = None
            continue
        cells = _cells(line)
        if tuple(cell.lower() for cell in cells[: len(HEADER)]) == HEADER:
            current = []
            tables.append(current)
        elif current is not None and not all(set(cell) <= set('-: ') for cell in cells):
            cells += [''] * (len(HEADER) - len(cells))
            queries = _number(cells[4])
            current.append(
                Figure(
                    operation=cells[0].replace('\\|', '|'),
                    median_ms=_number(cells[2]),
                    p95_ms=_number(cells[3]),
                    queries=None if queries is None else int(queries),
                )
            )
    return [table for table in tables if table]


def read(path: str | Path | None = None) -> list[list[Figure]]:
    """The figures tables of `path` (by default `bench/README.md`); none when the file is missing."""
    try:
        return parse_tables(Path(path or README).read_text(encoding='utf-8'))
    except FileNotFoundError:
        return []


def match(operations: list[str], tables: list[list[Figure]]) -> list[Figure | None]:
    """For each operation of this run, its row in the best matching table, or None when it is new."""
    if not tables:
        return [None] * len(operations)
    labels = set(operations)
    table = max(tables, key=lambda rows: sum(1 for row in rows if row.operation in labels))
    unused = list(table)
    matched: list[Figure | None] = [None] * len(operations)
    for index, operation in enumerate(operations):
        row = next((row for row in unused if row.operation == operation), None)
        if row is not None:
            matched[index] = row
            unused.remove(row)
    for index, operation in enumerate(operations):
        if matched[index] is None:
            key = label_key(operation)
            row = next((row for row in unused if label_key(row.operation) == key), None)
            if row is not None:
                matched[index] = row
                unused.remove(row)
    return matched


def change(now: float, before: float | None) -> str:
    """The relative change from `before` to `now` as `+12 %` or `−3 %`; `new` without a previous figure."""
    if before is None:
        return 'new'
    if before == 0:
        return '±0 %' if now == 0 else 'was 0'
    percent = round((now - before) / before * 100)
    if percent == 0:
        return '±0 %'
    return f'+{percent} %' if percent > 0 else f'−{-percent} %'
