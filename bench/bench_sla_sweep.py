"""The SLA sweep at 20,000, 50,000 and 200,000 running clocks, of which 1,000 are due, on top of the benchmark
data set (PostgreSQL).

For each size the synthetic generator adds a backlog of new tickets to the data set (`synthetic.dataset.add_backlog`:
tickets with their response and resolution clocks running); one UPDATE then places those clocks: half around the
clock and half on an office-hours calendar with German holidays, most of them with their next warning days
away, and cohorts of 1,000 reaching their 75 % warning a minute apart. So every timed sweep finds exactly 1,000
clocks due and announces 1,000 warnings (claim, timeline entry, counters, one queued notice per batch). A sweep
with nothing due shows the fixed cost. The backlog is removed again afterwards. The data set's own running
clocks are there too, none of them due at these times (their next checks lie after the day it was generated).

Notices are queued on an in-memory broker: the cost of queueing (one message per batch of 1,000 clocks) is counted,
sending the e-mails is not part of the sweep.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.contenttypes.models import ContentType
from django.db import connection

from bench import Result, dataset, measure
from incidents.models import Ticket
from itsm.celery import app
from sla.models import BusinessCalendar, ClockEvent, SlaClock
from synthetic.dataset import add_backlog

SIZES = (20_000, 50_000, 200_000)
DUE = 1_000
WARMUP = 3
TIMED = 10
STEP = dt.timedelta(minutes=1)
TARGET = 240  # business minutes; 75 % = 180 min, 90 % = 216 min
# A Tuesday, 11:00 in Berlin: cohorts fall in office hours, after the Easter holidays.
BASE = dt.datetime(2026, 4, 14, 9, 0, tzinfo=dt.UTC)


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


def _place(tickets: range, calendars: tuple[BusinessCalendar, BusinessCalendar]) -> None:
    """Clock n (in id order) of cohort k = n // DUE (k < WARMUP + TIMED) reaches its 75 % warning at BASE + k
    minutes, the others days later; their 90 % warnings lie beyond every timed sweep."""
    always, office = calendars
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {SlaClock._meta.db_table} AS clock SET
                    calendar_id = CASE WHEN v.n %% 4 < 2 THEN %(always)s ELSE %(office)s END,
                    target_minutes = %(target)s, warning_percents = '[75, 90]', pause_states = '["pending"]',
                    state = 'running', elapsed = interval '0', next_percent = 75, warned_at = NULL, breached_at = NULL,
                    started_at = v.check_at - interval '180 minutes',
                    run_started_at = v.check_at - interval '180 minutes',
                    due_at = v.check_at + interval '60 minutes', next_check_at = v.check_at
                FROM (SELECT id, n, CASE
                          WHEN n / %(due)s < %(cohorts)s
                          THEN %(base)s + (n / %(due)s) * interval '1 minute'
                               - (n %% %(due)s) * interval '1 millisecond'
                          ELSE %(base)s + interval '3 days' + n * interval '1 second' END AS check_at
                      FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM {SlaClock._meta.db_table}
                            WHERE content_type_id = %(ticket_type)s
                              AND object_id BETWEEN %(first)s AND %(last)s) numbered) v
                WHERE clock.id = v.id""",
            {
                'always': always.pk,
                'office': office.pk,
                'target': TARGET,
                'due': DUE,
                'cohorts': WARMUP + TIMED,
                'base': BASE,
                'ticket_type': ContentType.objects.get_for_model(Ticket).pk,
                'first': tickets.start,
                'last': tickets.stop - 1,
            },
        )
        for model in (SlaClock, ClockEvent):
            cursor.execute(f'VACUUM ANALYZE {model._meta.db_table}')


def _sweep(now: dt.datetime) -> int:
    from sla.services import sla_sweep

    return sla_sweep(now=now).clocks


def run() -> list[Result]:
    manifest = dataset.ensure()
    broker, eager = app.conf.broker_url, app.conf.task_always_eager
    app.conf.broker_url, app.conf.task_always_eager = 'memory://', False  # notices queued, not delivered
    calendars = _calendars()
    results: list[Result] = []
    try:
        for size in SIZES:
            tickets = add_backlog(size // 2, opened_at=BASE - dt.timedelta(days=1))
            clocks = SlaClock.objects.filter(
                content_type=ContentType.objects.get_for_model(Ticket),
                object_id__gte=tickets.start,
                object_id__lt=tickets.stop,
            )
            if clocks.count() != size:
                raise RuntimeError(f'{clocks.count()} clocks in the backlog, expected {size}')
            _place(tickets, calendars)
            for k in range(WARMUP):
                _sweep(BASE + k * STEP)
            calls = [lambda k=k: _sweep(BASE + k * STEP) for k in range(WARMUP, WARMUP + TIMED)]
            results.append(measure(f'sla_sweep: {DUE:,} due of {size:,} running clocks', calls, warmup=0))
            idle = [lambda: _sweep(BASE + (WARMUP + TIMED) * STEP)] * TIMED
            results.append(measure(f'sla_sweep: nothing due, {size:,} running clocks', idle, warmup=0))
            announced = ClockEvent.objects.filter(clock__in=clocks).count()
            if announced != DUE * (WARMUP + TIMED):
                raise RuntimeError(f'{announced} warnings announced, expected {DUE * (WARMUP + TIMED)}')
            dataset.remove_added(manifest)
    finally:
        dataset.remove_added(manifest)
        app.conf.broker_url, app.conf.task_always_eager = broker, eager
    return results
