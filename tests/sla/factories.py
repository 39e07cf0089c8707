"""Builders for service level tests, and a controllable clock (every `timezone.now()` reads it)."""

from __future__ import annotations

import contextlib
import datetime as dt
from unittest import mock
from zoneinfo import ZoneInfo

from itsm.audit import Actor
from sla import services
from sla.models import BusinessCalendar, OperationalLevelAgreement, ServiceLevelAgreement

SYSTEM = Actor.system()
BERLIN = ZoneInfo('Europe/Berlin')
WEEKDAYS = ('mon', 'tue', 'wed', 'thu', 'fri')


def berlin(*args) -> dt.datetime:
    """A Berlin wall-clock time: berlin(2026, 3, 2, 9) is Monday 2 March 2026, 09:00."""
    return dt.datetime(*args, tzinfo=BERLIN)


def make_calendar(name: str = 'Office', **fields) -> BusinessCalendar:
    """Monday to Friday 08:00-18:00 in Berlin with German public holidays, unless told otherwise."""
    fields.setdefault('timezone', 'Europe/Berlin')
    fields.setdefault('hours', {day: ['08:00-18:00'] for day in WEEKDAYS})
    fields.setdefault('holiday_country', 'DE')
    return services.calendar_create(actor=SYSTEM, name=name, **fields)


def always() -> BusinessCalendar:
    return BusinessCalendar.objects.builtin_24x7()


def make_sla(*, kind: str = 'incident', priority: int = 3, response: int = 60, resolution: int = 480, **fields):
    fields.setdefault('calendar', always())
    fields.setdefault('name', f'P{priority} {kind}s{" " + str(fields["service"]) if fields.get("service") else ""}')
    return services.sla_create(
        actor=SYSTEM,
        ticket_kind=kind,
        priority=priority,
        response_minutes=response,
        resolution_minutes=resolution,
        **fields,
    )


def make_ola(group, *, priority: int | None = None, accept: int = 30, resolve: int = 240, **fields):
    fields.setdefault('calendar', always())
    fields.setdefault('name', f'{group.name} OLA{f" P{priority}" if priority is not None else ""}')
    return services.ola_create(
        actor=SYSTEM, support_group=group, priority=priority, accept_minutes=accept, resolve_minutes=resolve, **fields
    )


def all_priorities(*, response: int = 60, resolution: int = 480, kind: str = 'incident', **fields):
    return [make_sla(kind=kind, priority=p, response=response, resolution=resolution, **fields) for p in range(5)]


class Clock:
    """What `timezone.now()` answers inside `frozen()`: set or advance it explicitly."""

    def __init__(self, start: dt.datetime):
        self.now = start.astimezone(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, moment: dt.datetime) -> dt.datetime:
        self.now = moment.astimezone(dt.UTC)
        return self.now

    def advance(self, **delta) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


@contextlib.contextmanager
def frozen(start: dt.datetime):
    clock = Clock(start)
    with mock.patch('django.utils.timezone.now', clock):
        yield clock


__all__ = [
    'BERLIN',
    'SYSTEM',
    'Clock',
    'OperationalLevelAgreement',
    'ServiceLevelAgreement',
    'all_priorities',
    'always',
    'berlin',
    'frozen',
    'make_calendar',
    'make_ola',
    'make_sla',
]
