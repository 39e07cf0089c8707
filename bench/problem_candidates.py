"""Backtest of the problem candidate scan (`problems.candidates`) on a real ServiceNow event log.

UCI's anonymised event log (24,918 incidents, 29 Feb 2016 to 16 Feb 2017) records a `problem_id` on some incidents;
the importer keeps it as `Ticket.problem_reference`. The backtest imports the log into a scratch database of its own
(once; later runs reuse it), then slides the scan across the log's period as the hourly job would have seen it: a
WINDOW_DAYS window ending every STEP_DAYS, from the first incident to past the last. Candidates accumulate their
incidents from scan to scan, as they do in production. Nothing is linked to a problem and no candidate is accepted
or dismissed, so every cluster the scan finds stays proposed.

It reports, for each method:

- recall: of the recorded problems with at least three incidents, the share whose incidents fall for the most part
  (more than half) inside one candidate;
- precision: of the incidents inside candidates, the share that carry a recorded problem (any problem).

Methods: the scan as shipped (same CI or service and classification, then similar short descriptions at the default
threshold), the scan with a stricter text threshold, and the naive baseline the issue names (incidents grouped by
CI and category only, with the same windows, minimum size and accumulation).

    make bench-problems                 # or: .venv/bin/python -m bench.problem_candidates
    BENCH_PROBLEMS_DATABASE_URL=…       # default: the benchmark database's URL with `_problems` appended
    BENCH_PG_TRGM=1 (or 0)              # install (remove) pg_trgm there: texts compared in PostgreSQL (in Python)
"""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bench import Result, Skipped
from bench.bench_import import DEFAULT_FILE

FORMAT = 'servicenow-event-log'
WINDOW_DAYS = 30
STEP_DAYS = 7
MIN_SIZE = 3
PROBLEM_MIN_INCIDENTS = 3
STRICT_THRESHOLD = 0.95


@dataclass(frozen=True)
class Figures:
    method: str
    candidates: int
    candidate_incidents: int
    with_problem: int
    problems: int  # recorded problems with at least PROBLEM_MIN_INCIDENTS incidents
    recalled: int
    seconds: float

    @property
    def precision(self) -> float:
        return self.with_problem / self.candidate_incidents if self.candidate_incidents else 0.0

    @property
    def recall(self) -> float:
        return self.recalled / self.problems if self.problems else 0.0


def evaluate(method: str, groups: list[set[int]], references: dict[int, str], seconds: float) -> Figures:
    """Recall and precision of `groups` (sets of incident ids) against the recorded problems (`references`:
    incident id → problem reference)."""
    problems: dict[str, set[int]] = defaultdict(set)
    for incident, reference in references.items():
        problems[reference].add(incident)
    counted = {reference: members for reference, members in problems.items() if len(members) >= PROBLEM_MIN_INCIDENTS}
    recalled = sum(
        1 for members in counted.values() if any(2 * len(members & group) > len(members) for group in groups)
    )
    inside = set().union(*groups) if groups else set()
    return Figures(
        method=method,
        candidates=len(groups),
        candidate_incidents=len(inside),
        with_problem=len(inside & set(references)),
        problems=len(counted),
        recalled=recalled,
        seconds=seconds,
    )


def _ends(start: dt.datetime, end: dt.datetime, step_days: int) -> Iterable[dt.datetime]:
    """The ends of the sliding windows: a step after the first incident, then every step past the last one."""
    moment = start + dt.timedelta(days=step_days)
    while moment < end + dt.timedelta(days=step_days):
        yield moment
        moment += dt.timedelta(days=step_days)


def _incidents():
    from incidents.models import Ticket
    from itsm.choices import TicketKind

    return Ticket.objects.filter(kind=TicketKind.INCIDENT)


def scan_groups(
    *, window_days: int, step_days: int, min_size: int, threshold: float | None
) -> tuple[list[set[int]], int]:
    """Run the scan over the sliding windows from scratch; the candidates' incident sets and the number of scans."""
    from problems.candidates import scan_candidates
    from problems.models import ProblemCandidate

    ProblemCandidate.objects.all().delete()
    span = _incidents().order_by('opened_at').values_list('opened_at', flat=True)
    first, last = span.first(), _incidents().order_by('-opened_at').values_list('opened_at', flat=True).first()
    if first is None:
        return [], 0
    scans = 0
    for end in _ends(first, last, step_days):
        scan_candidates(now=end, window_days=window_days, min_size=min_size, threshold=threshold)
        scans += 1
    groups: dict[int, set[int]] = defaultdict(set)
    through = ProblemCandidate.incidents.through.objects.values_list('problemcandidate_id', 'ticket_id')
    for candidate, incident in through:
        groups[candidate].add(incident)
    return list(groups.values()), scans


BASELINES = {
    # The naive baseline of the issue: incidents with a CI, by CI and category.
    'baseline: same CI and category': ('ci_id', 'category_id'),
    # For comparison: the classification alone, without a CI or service.
    'reference: same category, subcategory and symptom': ('category_id', 'subcategory_id', 'symptom'),
}


def baseline_groups(*, fields: tuple[str, ...], window_days: int, step_days: int, min_size: int) -> list[set[int]]:
    """Per window, incidents grouped by `fields` (those with any of them empty left out); a group of at least
    `min_size` becomes (or adds to) the candidate of its key, as the scan's candidates accumulate."""
    queryset = _incidents()
    for name in fields:
        queryset = queryset.exclude(**{name.removesuffix('_id'): None} if name.endswith('_id') else {name: ''})
    rows = [
        (pk, tuple(key), opened_at)
        for pk, opened_at, *key in queryset.order_by('opened_at').values_list('id', 'opened_at', *fields)
    ]
    all_opened = _incidents().order_by('opened_at').values_list('opened_at', flat=True)
    first = all_opened.first()
    last = _incidents().order_by('-opened_at').values_list('opened_at', flat=True).first()
    if first is None:
        return []
    window = dt.timedelta(days=window_days)
    candidates: dict[tuple, set[int]] = defaultdict(set)
    for end in _ends(first, last, step_days):
        grouped: dict[tuple, set[int]] = defaultdict(set)
        for pk, key, opened_at in rows:
            if end - window <= opened_at < end:
                grouped[key].add(pk)
        for key, members in grouped.items():
            if len(members) >= min_size:
                candidates[key] |= members
    return list(candidates.values())


def ensure_imported(path: str) -> tuple[int, float]:
    """Import the log unless this database already holds its incidents: (incidents, seconds spent importing)."""
    from django.core.management import call_command

    count = _incidents().filter(source_system='servicenow').count()
    if count:
        return count, 0.0
    started = time.perf_counter()
    call_command('import_incidents', path, format_name=FORMAT, no_progress=True, no_rollup=True, stdout=io.StringIO())
    return _incidents().filter(source_system='servicenow').count(), time.perf_counter() - started


def backtest(
    *,
    path: str = DEFAULT_FILE,
    window_days: int = WINDOW_DAYS,
    step_days: int = STEP_DAYS,
    min_size: int = MIN_SIZE,
) -> tuple[list[Figures], dict]:
    """Import (when needed), then measure each method on the database Django is connected to."""
    from django.conf import settings

    incidents, import_seconds = ensure_imported(path)
    references = dict(_incidents().exclude(problem_reference='').values_list('id', 'problem_reference'))
    figures = []
    default = settings.PROBLEM_CANDIDATE_SIMILARITY
    for label, threshold in (
        (f'scan: CI or service + classification, then similar text ≥ {default:g}', default),
        (f'scan: CI or service + classification, then similar text ≥ {STRICT_THRESHOLD:g}', STRICT_THRESHOLD),
    ):
        started = time.perf_counter()
        groups, scans = scan_groups(
            window_days=window_days, step_days=step_days, min_size=min_size, threshold=threshold
        )
        figures.append(evaluate(label, groups, references, time.perf_counter() - started))
    for label, fields in BASELINES.items():
        started = time.perf_counter()
        groups = baseline_groups(fields=fields, window_days=window_days, step_days=step_days, min_size=min_size)
        figures.append(evaluate(label, groups, references, time.perf_counter() - started))
    context = {
        'incidents': incidents,
        'import_seconds': import_seconds,
        'with_problem': len(references),
        'scans': scans,
        'window_days': window_days,
        'step_days': step_days,
        'min_size': min_size,
    }
    return figures, context


def table(figures: list[Figures]) -> str:
    header = (
        'method',
        'candidates',
        'incidents in them',
        'with a problem',
        'precision',
        'problems found',
        'recall',
        's',
    )
    lines = [
        (
            f.method,
            f'{f.candidates:,}',
            f'{f.candidate_incidents:,}',
            f'{f.with_problem:,}',
            f'{f.precision:.1%}',
            f'{f.recalled} of {f.problems}',
            f'{f.recall:.0%}',
            f'{f.seconds:.1f}',
        )
        for f in figures
    ]
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]

    def fmt(row):
        return '  '.join(
            cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )

    return '\n'.join([fmt(header), '  '.join('-' * w for w in widths), *(fmt(row) for row in lines)])


def _url() -> str:
    from bench.__main__ import DEFAULT_URL

    base = os.environ.get('BENCH_DATABASE_URL', DEFAULT_URL)
    return os.environ.get('BENCH_PROBLEMS_DATABASE_URL', base.rstrip('/') + '_problems')


def main() -> int:
    """`python -m bench.problem_candidates`: the backtest on its own scratch PostgreSQL database."""
    sys.path.insert(0, os.getcwd())
    from bench import scratch_database
    from bench.__main__ import _configure

    _configure()
    url = scratch_database(_url())
    os.environ['DATABASE_URL'] = url
    import django
    from django.core.management import call_command

    django.setup()
    call_command('migrate', verbosity=0)
    from django.db import connection

    with connection.cursor() as cursor:
        # BENCH_PG_TRGM=1 compares the texts in the database (pg_trgm), =0 in Python; unset leaves the database as is.
        if os.environ.get('BENCH_PG_TRGM') == '1':
            cursor.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        elif os.environ.get('BENCH_PG_TRGM') == '0':
            cursor.execute('DROP EXTENSION IF EXISTS pg_trgm')
    path = os.environ.get('BENCH_IMPORT_FILE', DEFAULT_FILE)
    if not Path(path).exists():
        print(f'the event log {path} is missing (BENCH_IMPORT_FILE names another)', file=sys.stderr)
        return 1
    started = time.perf_counter()
    figures, context = backtest(path=path)
    from problems.candidates import pg_trgm_installed

    print(
        f'text similarity {"in PostgreSQL (pg_trgm)" if pg_trgm_installed() else "in Python"}; '
        f'{context["incidents"]:,} incidents ({context["with_problem"]:,} with a recorded problem), '
        f'{context["scans"]} scans of {context["window_days"]} days every {context["step_days"]} days, '
        f'candidates from {context["min_size"]} incidents; import {context["import_seconds"]:.0f} s, '
        f'in all {time.perf_counter() - started:.0f} s'
    )
    print(table(figures))
    return 0


def run() -> list[Result]:
    """For `python -m bench`: the backtest in a subprocess (its own database), its table on stderr."""
    path = os.environ.get('BENCH_IMPORT_FILE', DEFAULT_FILE)
    if not Path(path).exists():
        raise Skipped(f'the event log {path} is missing (BENCH_IMPORT_FILE names another)')
    started = time.perf_counter()
    process = subprocess.run(
        [sys.executable, '-m', 'bench.problem_candidates'],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
    )
    if process.returncode != 0:
        raise RuntimeError(f'the backtest exited with {process.returncode}:\n{process.stderr[-2000:]}')
    print(process.stdout, file=sys.stderr)
    ms = (time.perf_counter() - started) * 1000
    return [
        Result('problem candidates backtest: the scan at two thresholds and two baselines over the log', 0, ms, ms, 0)
    ]


if __name__ == '__main__':
    sys.exit(main())
