"""The SLA sweep at 20,000, 50,000 and 200,000 running clocks, of which 1,000 are due (PostgreSQL).

Each size is loaded with COPY: tickets with two clocks each (response and resolution), half around the clock and
half on an office-hours calendar with German holidays, most of them with their next warning days away. Cohorts
of 1,000 clocks reach their 75 % warning a minute apart, so every timed sweep finds exactly 1,000 clocks due
and announces 1,000 warnings (claim, timeline entry, counters, one queued notice per batch). A sweep with
nothing due shows the fixed cost. The rows are removed again afterwards, leaving the other benchmarks' data
as it was.

Notices are queued on an in-memory broker: the cost of queueing (one message per 500 clocks) is counted,
sending the e-mails is not part of the sweep.

PostgreSQL 15, 2 vCPUs, default configuration. 18 queries whatever the table size: two batches of seven (BEGIN,
due clocks, claim, read-back, timeline entries, counters, COMMIT), an empty third read and the unsent-notice
check.

| operation | rows | median ms | p95 ms | queries |
|---|---:|---:|---:|---:|
| 1,000 due of 20,000 running clocks | 1,000 | 283 | 333 | 18 |
| 1,000 due of 50,000 running clocks | 1,000 | 284 | 303 | 18 |
| 1,000 due of 200,000 running clocks | 1,000 | 303 | 327 | 18 |
| nothing due, 200,000 running clocks | 0 | 4 | 4 | 4 |
"""

from __future__ import annotations

import datetime as dt
import io
import json

from django.db import connection, models

from bench import Result, measure
from incidents.models import Ticket
from itsm.audit import Actor
from itsm.celery import app
from itsm.choices import Role
from itsm.models import TimelineEntry, User
from itsm.services import user_create
from sla.models import BusinessCalendar, ClockEvent, ClockPause, SlaClock

SIZES = (20_000, 50_000, 200_000)
DUE = 1_000
WARMUP = 3
TIMED = 10
STEP = dt.timedelta(minutes=1)
PREFIX = 'SLB'
# A Tuesday, 11:00 in Berlin: cohorts fall in office hours, after the Easter holidays.
BASE = dt.datetime(2026, 4, 14, 9, 0, tzinfo=dt.UTC)


def _copy(table: str, columns: list[str], rows) -> None:
    buffer = io.StringIO()
    for row in rows:
        buffer.write('\t'.join('\\N' if v is None else str(v) for v in row) + '\n')
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(f'COPY {table} ({", ".join(columns)}) FROM STDIN', buffer)


def _clean() -> None:
    """Remove this benchmark's tickets and everything hanging off them."""
    tickets = f"SELECT id FROM {Ticket._meta.db_table} WHERE number LIKE '{PREFIX}%%'"
    clocks = f'SELECT id FROM {SlaClock._meta.db_table} WHERE ticket_id IN ({tickets})'
    with connection.cursor() as cursor:
        cursor.execute(f'DELETE FROM {ClockEvent._meta.db_table} WHERE clock_id IN ({clocks})')
        cursor.execute(f'DELETE FROM {ClockPause._meta.db_table} WHERE clock_id IN ({clocks})')
        cursor.execute(f'DELETE FROM {SlaClock._meta.db_table} WHERE ticket_id IN ({tickets})')
        cursor.execute(
            f'DELETE FROM {TimelineEntry._meta.db_table} WHERE kind LIKE %s AND object_id IN ({tickets})', ['sla_%']
        )
        cursor.execute(f"DELETE FROM {Ticket._meta.db_table} WHERE number LIKE '{PREFIX}%%'")


def _calendars() -> tuple[BusinessCalendar, BusinessCalendar]:
    office, _ = BusinessCalendar.objects.get_or_create(
        name='Benchmark office hours',
        defaults={
            'timezone': 'Europe/Berlin',
            'hours': {day: ['08:00-18:00'] for day in ('mon', 'tue', 'wed', 'thu', 'fri')},
            'holiday_country': 'DE',
        },
    )
    return BusinessCalendar.objects.builtin_24x7(), office


def _ticket_rows(count: int, caller: User, opened: dt.datetime):
    """Rows for every concrete column of the ticket table, defaults where the benchmark does not care."""
    explicit = {
        'kind': 'incident', 'short_description': 'SLA sweep benchmark', 'state': 'accepted', 'caller_id': caller.pk,
        'channel': 'portal', 'impact': 'low', 'urgency': 'normal', 'priority': 3, 'opened_at': opened,
        'created_at': opened, 'updated_at': opened,
    }  # fmt: skip
    fields = [f for f in Ticket._meta.concrete_fields if not f.primary_key]
    columns = [f.column for f in fields]
    base = []
    for f in fields:
        if f.attname in explicit:
            base.append(explicit[f.attname])
        elif f.null:
            base.append(None)
        else:
            value = f.get_default()
            base.append('' if value is None else value)
    number = columns.index('number')

    def rows():
        for n in range(count):
            row = list(base)
            row[number] = f'{PREFIX}{n:09d}'
            yield row

    return columns, rows()


def _build(size: int, caller: User, calendars: tuple[BusinessCalendar, BusinessCalendar]) -> None:
    """`size` running clocks; cohort k (k < WARMUP + TIMED) of DUE clocks reaches its 75 % warning at BASE + k
    minutes, the others days later. Their 90 % warnings lie beyond every timed sweep."""
    _clean()
    tickets = size // 2
    columns, rows = _ticket_rows(tickets, caller, BASE - dt.timedelta(days=1))
    _copy(Ticket._meta.db_table, columns, rows)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {Ticket._meta.db_table} WHERE number LIKE '{PREFIX}%%' ORDER BY number")
        ids = [row[0] for row in cursor.fetchall()]
    always, office = calendars
    cohorts = WARMUP + TIMED
    warnings = json.dumps([75, 90])
    pauses = json.dumps(['pending'])
    target = 240  # business minutes; 75 % = 180 min, 90 % = 216 min

    def clock_rows():
        for index in range(size):
            ticket_id = ids[index // 2]
            kind = 'response' if index % 2 == 0 else 'resolution'
            calendar = always if index % 4 < 2 else office
            cohort, position = divmod(index, DUE)
            if cohort < cohorts:
                check = BASE + cohort * STEP - dt.timedelta(milliseconds=position)
            else:
                check = BASE + dt.timedelta(days=3, seconds=index)
            started = check - dt.timedelta(minutes=target * 3 // 4)  # in office hours too: 08:00-09:00 UTC
            due = started + dt.timedelta(minutes=target)
            yield (
                BASE, BASE, ticket_id, kind, f'{kind.title()} · benchmark', calendar.pk, target, warnings, pauses,
                'running', started, '0', started, due, check, 75, '',
            )  # fmt: skip

    _copy(
        SlaClock._meta.db_table,
        ['created_at', 'updated_at', 'ticket_id', 'kind', 'name', 'calendar_id', 'target_minutes', 'warning_percents',
         'pause_states', 'state', 'started_at', 'elapsed', 'run_started_at', 'due_at', 'next_check_at',
         'next_percent', 'stop_reason'],
        clock_rows(),
    )  # fmt: skip
    with connection.cursor() as cursor:
        for model in (Ticket, SlaClock, ClockEvent, TimelineEntry):
            cursor.execute(f'VACUUM ANALYZE {model._meta.db_table}')


def _sweep(now: dt.datetime) -> int:
    from sla.services import sla_sweep

    return sla_sweep(now=now).clocks


def _count(model: type[models.Model]) -> int:
    return model.objects.filter(ticket__number__startswith=PREFIX).count()


def run() -> list[Result]:
    broker, eager = app.conf.broker_url, app.conf.task_always_eager
    app.conf.broker_url, app.conf.task_always_eager = 'memory://', False  # notices queued, not delivered
    caller = User.objects.filter(username='bench.sla.caller').first() or user_create(
        username='bench.sla.caller', roles=[Role.REQUESTER], actor=Actor.system()
    )
    calendars = _calendars()
    results: list[Result] = []
    try:
        for size in SIZES:
            _build(size, caller, calendars)
            assert _count(SlaClock) == size
            for k in range(WARMUP):
                _sweep(BASE + k * STEP)
            calls = [lambda k=k: _sweep(BASE + k * STEP) for k in range(WARMUP, WARMUP + TIMED)]
            results.append(measure(f'sla_sweep: {DUE:,} due of {size:,} running clocks', calls, warmup=0))
            idle = [lambda: _sweep(BASE + (WARMUP + TIMED) * STEP)] * TIMED
            results.append(measure(f'sla_sweep: nothing due, {size:,} running clocks', idle, warmup=0))
            announced = ClockEvent.objects.filter(clock__ticket__number__startswith=PREFIX).count()
            if announced != DUE * (WARMUP + TIMED):
                raise RuntimeError(f'{announced} warnings announced, expected {DUE * (WARMUP + TIMED)}')
    finally:
        _clean()
        app.conf.broker_url, app.conf.task_always_eager = broker, eager
    return results
