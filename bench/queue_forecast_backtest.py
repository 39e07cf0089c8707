"""Backtest of the predictive SLA warning (`sla.forecast`) beside the fixed-percentage warning, on synthetic data.

`python -m bench.queue_forecast_backtest` (`make bench-forecast`) generates (or reuses) a synthetic desk with
`generate_data` in its own scratch PostgreSQL database (BENCH_FORECAST_DATABASE_URL, by default
pitcrew_bench_forecast; BENCH_FORECAST_INCIDENTS tickets over BENCH_FORECAST_DAYS days), reads every ticket's
resolution clock (start, stop, due, breach, pauses), its first fixed-percentage warning (the sweep's `ClockEvent`),
when it was accepted and which group completed it, then replays time in steps of 15 minutes. At each step, per
group, the queue forecast runs through the same functions as the beat task (`position_order`, `throughput`,
`expected_hours`, `judge`) on the tickets open at that moment, and flags, clears and re-flags as the task does.

Figures, per method, over the clocks that started after the first throughput window and ended before the end of the
data: breaches, the share of breaches warned at least 30 minutes before the breach (recall with lead time), warned
clocks, and the share of those that did not breach (false alarms). The fixed warning is counted at the first step at
or after its crossing, like the forecast's.

Simplifications, stated in bench/README.md: the synthetic desk runs every agreement round the clock (plain hours),
a clock's due time is its final one (known ahead of pauses to come), and a ticket sits in the queue of the group
that finally held it.
"""

from __future__ import annotations

import bisect
import datetime as dt
import os
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field

STEP = dt.timedelta(minutes=15)
LEAD = dt.timedelta(minutes=30)
INCIDENTS = int(os.environ.get('BENCH_FORECAST_INCIDENTS', '30000'))
DAYS = int(os.environ.get('BENCH_FORECAST_DAYS', '90'))
CIS = 1000
SEED = 2026


@dataclass
class ClockHistory:
    """One resolution clock as the backtest replays it."""

    pk: int
    group: int
    priority: int
    opened_at: dt.datetime
    started_at: dt.datetime
    stopped_at: dt.datetime | None
    due_at: dt.datetime
    breached_at: dt.datetime | None
    pauses: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)
    accepted_at: dt.datetime | None = None
    fixed_warned_at: dt.datetime | None = None

    def open_at(self, moment: dt.datetime) -> bool:
        return self.started_at <= moment and (self.stopped_at is None or moment < self.stopped_at)

    def paused_at(self, moment: dt.datetime) -> bool:
        return any(a <= moment < b for a, b in self.pauses)


@dataclass
class Figures:
    method: str
    breaches: int
    warned_ahead: int
    warned: int
    false_alarms: int
    median_lead_hours: float | None

    @property
    def recall(self) -> float:
        return self.warned_ahead / self.breaches if self.breaches else 0.0

    @property
    def false_alarm_share(self) -> float:
        return self.false_alarms / self.warned if self.warned else 0.0


def _ceil(moment: dt.datetime, origin: dt.datetime, step: dt.timedelta) -> dt.datetime:
    steps = -(-(moment - origin) // step)
    return origin + max(steps, 0) * step


def replay(
    clocks: list[ClockHistory],
    completions: dict[int, list[dt.datetime]],
    *,
    start: dt.datetime,
    end: dt.datetime,
    step: dt.timedelta = STEP,
    window_hours: float = 40,
    min_rate: float = 0.1,
    margin: dt.timedelta = dt.timedelta(minutes=30),
) -> dict[int, dt.datetime]:
    """The queue forecast's first warning per clock id, replaying [start, end) in `step`s (round the clock)."""
    from sla.forecast import QueueEntry, expected_hours, judge, position_order, throughput

    completions = {g: sorted(times) for g, times in completions.items()}
    window = dt.timedelta(hours=window_hours)
    ordered = sorted(clocks, key=lambda c: c.started_at)
    first: dict[int, dt.datetime] = {}
    flagged: set[int] = set()
    active: list[ClockHistory] = []
    index, moment = 0, start
    while moment < end:
        while index < len(ordered) and ordered[index].started_at <= moment:
            active.append(ordered[index])
            index += 1
        active = [c for c in active if c.stopped_at is None or moment < c.stopped_at]
        by_group: dict[int, list[ClockHistory]] = defaultdict(list)
        for clock in active:
            by_group[clock.group].append(clock)
        for group, members in by_group.items():
            done = completions.get(group, [])
            count = bisect.bisect_right(done, moment) - bisect.bisect_right(done, moment - window)
            rate = throughput(count, window_hours, floor=min_rate)
            running = {c.pk: not c.paused_at(moment) for c in members}
            entries = [
                QueueEntry(
                    pk=c.pk,
                    due_at=c.due_at if running[c.pk] else None,
                    priority=c.priority,
                    opened_at=c.opened_at,
                    worked=c.accepted_at is not None and c.accepted_at <= moment and running[c.pk],
                )
                for c in members
            ]
            by_pk = {c.pk: c for c in members}
            for position, entry in enumerate(position_order(entries)):
                clock = by_pk[entry.pk]
                over = clock.breached_at is not None and clock.breached_at <= moment
                if not running[entry.pk] or over or clock.due_at <= moment:
                    flagged.discard(entry.pk)
                    continue
                expected = moment + dt.timedelta(hours=expected_hours(position, rate, worked=entry.worked))
                verdict = judge(expected, clock.due_at, margin=margin)
                if verdict.warn and entry.pk not in flagged:
                    flagged.add(entry.pk)
                    first.setdefault(entry.pk, moment)
                elif verdict.clear:
                    flagged.discard(entry.pk)
        moment += step
    return first


def evaluate(
    method: str, clocks: list[ClockHistory], warned: dict[int, dt.datetime], *, lead: dt.timedelta = LEAD
) -> Figures:
    """Recall with lead time and false alarms of one method's first warnings over `clocks` (the evaluated set)."""
    breaches = [c for c in clocks if c.breached_at is not None]
    ahead = [c for c in breaches if c.pk in warned and warned[c.pk] <= c.breached_at - lead]
    leads = sorted((c.breached_at - warned[c.pk]).total_seconds() / 3600 for c in breaches if c.pk in warned)
    flagged = [c for c in clocks if c.pk in warned]
    return Figures(
        method=method,
        breaches=len(breaches),
        warned_ahead=len(ahead),
        warned=len(flagged),
        false_alarms=sum(1 for c in flagged if c.breached_at is None),
        median_lead_hours=leads[len(leads) // 2] if leads else None,
    )


def fixed_warnings(clocks: list[ClockHistory], *, start: dt.datetime, step: dt.timedelta = STEP):
    """The fixed-percentage rule's first warning per clock, at the first step at or after its crossing."""
    return {
        c.pk: _ceil(c.fixed_warned_at, start, step)
        for c in clocks
        if c.fixed_warned_at is not None and (c.breached_at is None or c.fixed_warned_at < c.breached_at)
    }


def backtest(
    clocks: list[ClockHistory],
    completions: dict[int, list[dt.datetime]],
    *,
    start: dt.datetime,
    end: dt.datetime,
    window_hours: float = 40,
    min_rate: float = 0.1,
) -> list[Figures]:
    """Both methods over the clocks that started at or after `start` + the window and ended before `end`."""
    begin = start + dt.timedelta(hours=window_hours)
    judged = [c for c in clocks if c.started_at >= begin and (c.stopped_at or c.breached_at or end) < end]
    queue = replay(clocks, completions, start=begin, end=end, window_hours=window_hours, min_rate=min_rate)
    fixed = fixed_warnings(clocks, start=begin)
    either = {pk: min(t for t in (queue.get(pk), fixed.get(pk)) if t) for pk in set(queue) | set(fixed)}
    first_percent = 'fixed percentage (first threshold, 75 %)'
    return [
        evaluate(first_percent, judged, fixed),
        evaluate(f'queue forecast ({window_hours:g} h window, floor {min_rate:g}/h)', judged, queue),
        evaluate('either', judged, either),
    ]


def load(*, as_of: dt.datetime | None = None) -> tuple[list[ClockHistory], dict[int, list[dt.datetime]]]:
    """Every ticket's resolution clock from the database Django is connected to (a few queries)."""
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Min

    from incidents.models import Ticket
    from sla.choices import ClockKind, EventKind
    from sla.models import BusinessCalendar, ClockEvent, ClockPause, SlaClock

    ticket_type = ContentType.objects.get_for_model(Ticket)
    always = BusinessCalendar.objects.builtin_24x7().pk
    tickets = {
        pk: (group, priority, opened)
        for pk, group, priority, opened in Ticket.objects.filter(assignment_group__isnull=False).values_list(
            'pk', 'assignment_group_id', 'priority', 'opened_at'
        )
    }
    accepted = dict(
        SlaClock.objects.filter(content_type=ticket_type, kind=ClockKind.RESPONSE, stopped_at__isnull=False)
        .values_list('object_id')
        .annotate(first=Min('stopped_at'))
        .values_list('object_id', 'first')
    )
    rows = SlaClock.objects.filter(content_type=ticket_type, kind=ClockKind.RESOLUTION, calendar_id=always)
    rows = rows.exclude(sla__active=False)  # imported verdicts ("as recorded") have no target to forecast against
    warned = dict(
        ClockEvent.objects.filter(clock__in=rows, kind=EventKind.WARNING)
        .values('clock_id')
        .annotate(first=Min('crossed_at'))
        .values_list('clock_id', 'first')
    )
    pauses: dict[int, list] = defaultdict(list)
    for clock_id, begin, finish in ClockPause.objects.filter(clock__in=rows).values_list(
        'clock_id', 'started_at', 'ended_at'
    ):
        pauses[clock_id].append((begin, finish or as_of or dt.datetime.max.replace(tzinfo=dt.UTC)))
    clocks = []
    for pk, object_id, started, stopped, due, breached in rows.values_list(
        'pk', 'object_id', 'started_at', 'stopped_at', 'due_at', 'breached_at'
    ):
        if object_id not in tickets or (due is None and breached is None):
            continue
        group, priority, opened = tickets[object_id]
        clocks.append(
            ClockHistory(
                pk=pk,
                group=group,
                priority=priority,
                opened_at=opened,
                started_at=started,
                stopped_at=stopped,
                due_at=breached or due,
                breached_at=breached,
                pauses=pauses.get(pk, []),
                accepted_at=accepted.get(object_id),
                fixed_warned_at=warned.get(pk),
            )
        )
    completions: dict[int, list[dt.datetime]] = defaultdict(list)
    for group, completed in Ticket.objects.filter(
        completed_at__isnull=False, assignment_group__isnull=False
    ).values_list('assignment_group_id', 'completed_at'):
        completions[group].append(completed)
    return clocks, dict(completions)


def table(figures: list[Figures]) -> str:
    header = ('method', 'breaches', 'warned ≥ 30 min ahead', 'recall', 'warned clocks', 'false alarms', 'lead h')
    lines = [
        (
            f.method,
            f'{f.breaches:,}',
            f'{f.warned_ahead:,}',
            f'{f.recall:.0%}',
            f'{f.warned:,}',
            f'{f.false_alarms:,} ({f.false_alarm_share:.0%})',
            '–' if f.median_lead_hours is None else f'{f.median_lead_hours:.1f}',
        )
        for f in figures
    ]
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]
    return '\n'.join(
        '  '.join(
            cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in [header, *lines]
    )


def main() -> int:
    sys.path.insert(0, os.getcwd())
    from bench import scratch_database
    from bench.__main__ import DEFAULT_URL, _configure

    _configure()
    base = os.environ.get('BENCH_DATABASE_URL', DEFAULT_URL)
    url = scratch_database(os.environ.get('BENCH_FORECAST_DATABASE_URL', base.rstrip('/') + '_forecast'))
    os.environ['DATABASE_URL'] = url
    import django
    from django.conf import settings
    from django.core.management import call_command

    django.setup()
    call_command('migrate', verbosity=0)
    from synthetic.dataset import current, generate

    started = time.perf_counter()
    manifest = current()
    if manifest is None or not manifest.matches(incidents=INCIDENTS, cis=CIS, seed=SEED, days=DAYS):
        manifest = generate(incidents=INCIDENTS, cis=CIS, seed=SEED, days=DAYS, reset=True, progress=False)
    as_of = dt.datetime.fromisoformat(manifest.as_of)
    generated = time.perf_counter() - started
    clocks, completions = load(as_of=as_of)
    begin = min(c.started_at for c in clocks)
    started = time.perf_counter()
    figures = backtest(
        clocks,
        completions,
        start=begin,
        end=as_of,
        window_hours=settings.SLA_FORECAST_WINDOW_HOURS,
        min_rate=settings.SLA_FORECAST_MIN_RATE,
    )
    print(
        f'{manifest.describe()}: {len(clocks):,} resolution clocks, replayed every {STEP.seconds // 60} min '
        f'from {begin:%Y-%m-%d} to {as_of:%Y-%m-%d}; '
        f'data {generated:.0f} s, replay {time.perf_counter() - started:.0f} s'
    )
    print(table(figures))
    print(measure_task(as_of))
    return 0


def measure_task(now: dt.datetime) -> str:
    """Time the beat task itself on the data set's open tickets at the end of the data (notices queued on an in-memory
    broker): a first run that warns, then runs with nothing new; the flags are lifted again afterwards."""
    import statistics

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from itsm.celery import app
    from sla.forecast import queue_forecast
    from sla.models import SlaClock

    broker, eager = app.conf.broker_url, app.conf.task_always_eager
    app.conf.broker_url, app.conf.task_always_eager = 'memory://', False
    try:
        lines = []
        timings, queries = [], []
        for run in range(6):
            with CaptureQueriesContext(connection) as captured:
                begin = time.perf_counter()
                result = queue_forecast(now=now)
                timings.append((time.perf_counter() - begin) * 1000)
            queries.append(len(captured))
            if run == 0:
                lines.append(f'beat task, first run: {timings[0]:.0f} ms, {queries[0]} queries ({result})')
        lines.append(
            f'beat task, later runs: median {statistics.median(timings[1:]):.0f} ms, {max(queries[1:])} queries '
            f'({result})'
        )
    finally:
        app.conf.broker_url, app.conf.task_always_eager = broker, eager
        SlaClock.objects.filter(forecast_warned_at__isnull=False).update(
            forecast_warned_at=None, forecast_at=None, forecast_ahead=None, forecast_rate=None
        )
    return '\n'.join(lines)


if __name__ == '__main__':
    sys.exit(main())
