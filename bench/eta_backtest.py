"""Backtest of the predicted resolution time (`predictions`) on the ServiceNow event log.

The log (24,918 incidents, 29 Feb 2016 to 16 Feb 2017) is imported once into a scratch database (`bench.eventlog`).
Its span of opening times is cut at 70 %: profiles are built from the incidents completed before the cut (as the
hourly rebuild would have seen them then), and every incident opened after the cut and completed is predicted at
checkpoints: at opening, and after 1 hour, 1 day and 1 week for those still open then. For each method it reports
the mean absolute error of the predicted resolution (hours) and the share of incidents resolved inside the 80 %
band (10 % to 90 %).

Methods:
- naive baseline: the overall median of the training durations, band = overall p10–p90;
- lookup: quantiles of the most specific similarity level with at least PREDICTION_MINIMUM_SAMPLES tickets
  (`predictions.estimate.choose`, with nothing elapsed);
- conditional: the same profiles, quantiles of the durations longer than the time already elapsed (the same as the
  lookup at opening).

    make bench-eta                      # or: .venv/bin/python -m bench.eta_backtest
    BENCH_EVENTLOG_DATABASE_URL=…       # default: the benchmark database's URL with `_eventlog` appended
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench import Result, Skipped

TRAIN_SHARE = 0.7
HOUR = 3600.0
CHECKPOINTS = (('at opening', 0.0), ('after 1 hour', HOUR), ('after 1 day', 24 * HOUR), ('after 1 week', 168 * HOUR))
METHODS = ('naive baseline', 'lookup', 'conditional')


@dataclass(frozen=True)
class Incident:
    values: dict
    opened_at: dt.datetime
    completed_at: dt.datetime

    @property
    def seconds(self) -> float:
        return max(0.0, (self.completed_at - self.opened_at).total_seconds())


@dataclass
class Score:
    """Errors and band hits of one method at one checkpoint."""

    errors: list[float] = field(default_factory=list)
    hits: int = 0

    def add(self, actual: float, expected: float, low: float, high: float) -> None:
        self.errors.append(abs(actual - expected) / HOUR)
        self.hits += low <= actual <= high

    @property
    def count(self) -> int:
        return len(self.errors)

    @property
    def mae(self) -> float:
        return sum(self.errors) / len(self.errors) if self.errors else 0.0

    @property
    def coverage(self) -> float:
        return self.hits / len(self.errors) if self.errors else 0.0


def split(
    incidents: Sequence[Incident], share: float = TRAIN_SHARE, *, by: str = 'time'
) -> tuple[list[Incident], list[Incident], dt.datetime]:
    """Training (completed before the cut) and test (opened after it) incidents, and the cut: at `share` of the
    span of opening times (`by='time'`), or at the opening of the incident `share` of the way in (`by='count'`)."""
    if by == 'count':
        cut = sorted(i.opened_at for i in incidents)[int(share * (len(incidents) - 1))]
    else:
        first = min(i.opened_at for i in incidents)
        last = max(i.opened_at for i in incidents)
        cut = first + (last - first) * share
    train = [i for i in incidents if i.completed_at < cut]
    test = [i for i in incidents if i.opened_at >= cut]
    return train, test, cut


def backtest(
    incidents: Sequence[Incident], *, minimum: int, checkpoints=CHECKPOINTS, by: str = 'time'
) -> dict[tuple[str, str], Score]:
    """Scores per (checkpoint, method) of the methods on `incidents` (completed ones), split at TRAIN_SHARE."""
    from predictions import estimate

    train, test, _ = split(incidents, by=by)
    ordered = sorted(train, key=lambda i: i.seconds)
    profiles = estimate.group((i.values, i.seconds) for i in ordered)
    overall = estimate.summarise([i.seconds for i in ordered])
    scores = {(label, method): Score() for label, _ in checkpoints for method in METHODS}
    for incident in test:
        actual = incident.seconds
        for label, elapsed in checkpoints:
            if elapsed and actual <= elapsed:
                continue  # resolved before this checkpoint: nothing left to predict
            scores[(label, 'naive baseline')].add(actual, overall.p50, overall.p10, overall.p90)
            lookup = estimate.choose(profiles, incident.values, minimum=minimum)
            if lookup is None:
                lookup = estimate.Estimate('all', 0, overall.p50, overall.p50, overall.p10, overall.p90)
            scores[(label, 'lookup')].add(actual, lookup.expected, lookup.low, lookup.high)
            later = estimate.choose(profiles, incident.values, minimum=minimum, elapsed=elapsed)
            if later is None:
                later = lookup
            scores[(label, 'conditional')].add(actual, later.expected, later.low, later.high)
    return scores


def table(scores: dict[tuple[str, str], Score], checkpoints=CHECKPOINTS) -> str:
    header = ('checkpoint', 'method', 'incidents', 'MAE h', '80 % band coverage')
    lines = [
        (label, method, f'{s.count:,}', f'{s.mae:.1f}', f'{s.coverage:.1%}')
        for label, _ in checkpoints
        for method in METHODS
        for s in [scores[(label, method)]]
    ]
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]

    def fmt(row):
        return '  '.join(
            cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )

    return '\n'.join([fmt(header), '  '.join('-' * w for w in widths), *(fmt(row) for row in lines)])


def load() -> list[Incident]:
    """The imported incidents that were completed, with their similarity values."""
    from incidents.models import Ticket
    from predictions.services import FIELDS

    rows = (
        Ticket.objects.filter(source_system='servicenow', completed_at__isnull=False)
        .order_by('opened_at')
        .values_list('opened_at', 'completed_at', *FIELDS.values())
    )
    return [
        Incident(dict(zip(FIELDS, values, strict=True)) | {'channel': values[-1] or ''}, opened, completed)
        for opened, completed, *values in rows.iterator(chunk_size=5000)
    ]


def rebuild_timing(repeat: int = 3) -> Iterable[str]:
    """The product's profile rebuild and prediction refresh on this database: seconds and queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from incidents.models import Ticket
    from predictions import services

    last = Ticket.objects.filter(completed_at__isnull=False).order_by('-completed_at').first()
    now = last.completed_at + dt.timedelta(minutes=1)
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            profiles = services.profiles_rebuild(now=now)
            seconds = time.perf_counter() - started
        yield f'profile rebuild: {profiles:,} profiles in {seconds:.2f} s, {len(captured)} queries'


def main() -> int:
    """`python -m bench.eta_backtest`: the backtest on the event-log scratch database."""
    sys.path.insert(0, os.getcwd())
    from bench.eventlog import eventlog_database, imported

    try:
        eventlog_database()
    except Skipped as reason:
        print(reason, file=sys.stderr)
        return 1
    from django.conf import settings
    from django.test.utils import override_settings

    incidents = load()
    minimum = settings.PREDICTION_MINIMUM_SAMPLES
    print(
        f'{imported["incidents"]:,} incidents, {len(incidents):,} completed; levels need {minimum} tickets; '
        f'import {imported["seconds"]:.0f} s'
    )
    for by, what in (('time', 'of the span of opening times'), ('count', 'of the incidents, in opening order')):
        started = time.perf_counter()
        train, test, cut = split(incidents, by=by)
        scores = backtest(incidents, minimum=minimum, by=by)
        print(
            f'\ncut at {TRAIN_SHARE:.0%} {what}, {cut:%d %b %Y %H:%M} UTC: {len(train):,} incidents completed before '
            f'it train, {len(test):,} opened after it are predicted ({time.perf_counter() - started:.1f} s)'
        )
        print(table(scores))
    # The whole log in the window (it is older than any default window).
    with override_settings(PREDICTION_WINDOW_DAYS=36500):
        for line in rebuild_timing():
            print(line)
    return 0


def rebuild_results(*, repeat: int = 3) -> list[Result]:
    """The beat job's two steps timed on the benchmark data set (`bench.dataset`; every completed ticket of its
    year in the window): the profile rebuild and the refresh of every open ticket's prediction."""
    from django.test.utils import override_settings

    from bench import dataset, measure
    from incidents.choices import OPEN_STATES
    from incidents.models import Ticket
    from predictions import services

    dataset.ensure()
    completed = Ticket.objects.filter(completed_at__isnull=False).count()
    open_tickets = Ticket.objects.filter(state__in=OPEN_STATES).count()
    with override_settings(PREDICTION_WINDOW_DAYS=dataset.DAYS + 30):
        rebuild = measure(
            f'predictions: profile rebuild from {completed:,} completed tickets (rows: profiles)',
            [services.profiles_rebuild] * repeat,
            warmup=1,
        )
        refresh = measure(
            f'predictions: refresh of {open_tickets:,} open tickets (rows: predictions)',
            [services.predictions_refresh_all] * repeat,
            warmup=1,
        )
    return [rebuild, refresh]


def run() -> list[Result]:
    """For `python -m bench`: the backtest in a subprocess (its own database, table on stderr), then the beat job
    timed on the benchmark data set."""
    from bench.bench_import import DEFAULT_FILE

    results = []
    path = os.environ.get('BENCH_IMPORT_FILE', DEFAULT_FILE)
    if Path(path).exists():
        started = time.perf_counter()
        process = subprocess.run(
            [sys.executable, '-m', 'bench.eta_backtest'],
            cwd=Path(__file__).resolve().parent.parent,
            capture_output=True,
            text=True,
        )
        if process.returncode != 0:
            raise RuntimeError(f'the backtest exited with {process.returncode}:\n{process.stderr[-2000:]}')
        print(process.stdout, file=sys.stderr)
        ms = (time.perf_counter() - started) * 1000
        results.append(Result('ETA backtest on the event log: naive median, lookup, conditional', 0, ms, ms, 0))
    else:
        print(f'eta_backtest: the event log {path} is missing; only the rebuild is timed', file=sys.stderr)
    return [*results, *rebuild_results()]


if __name__ == '__main__':
    sys.exit(main())
