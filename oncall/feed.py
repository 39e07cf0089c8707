"""A schedule's shifts as an RFC 5545 calendar: one VEVENT per shift, times in UTC, lines folded at 75 octets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.utils import timezone

from itsm.models import User

from .rotation import Shift

FEED_DAYS = 42


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime('%Y%m%dT%H%M%SZ')


def _text(value: str) -> str:
    return (
        value.replace('\\', '\\\\').replace(';', '\\;').replace(',', '\\,').replace('\r\n', '\\n').replace('\n', '\\n')
    )


def fold(line: str) -> str:
    """Lines longer than 75 octets continue on lines starting with a space (RFC 5545 §3.1)."""
    data = line.encode()
    if len(data) <= 75:
        return line
    parts, current = [], b''
    for char in line:
        encoded = char.encode()
        if len(current) + len(encoded) > (75 if not parts else 74):
            parts.append(current.decode())
            current = b''
        current += encoded
    parts.append(current.decode())
    return '\r\n '.join(parts)


def ical(schedule, shifts: Iterable[Shift]) -> str:
    shifts = list(shifts)
    people = {u.pk: u for u in User.objects.filter(pk__in={s.person for s in shifts})}
    now = _stamp(timezone.now())
    host = settings.SITE_URL.split('://', 1)[-1].split('/')[0] or 'pitcrew'
    lines = [
        'BEGIN:VCALENDAR',
        'VERSION:2.0',
        'PRODID:-//Pitcrew//On-call//EN',
        'CALSCALE:GREGORIAN',
        'METHOD:PUBLISH',
        f'X-WR-CALNAME:{_text(f"On call: {schedule.group} – {schedule.name}")}',
    ]
    for shift in shifts:
        person = people.get(shift.person)
        name = (person.get_full_name() or person.username) if person else f'#{shift.person}'
        lines += [
            'BEGIN:VEVENT',
            f'UID:oncall-{schedule.pk}-{int(shift.start.timestamp())}-{shift.person}@{host}',
            f'DTSTAMP:{now}',
            f'DTSTART:{_stamp(shift.start)}',
            f'DTEND:{_stamp(shift.end)}',
            f'SUMMARY:{_text(f"On call: {name} ({schedule.group})")}',
            f'DESCRIPTION:{_text(schedule.name + ", " + (shift.source or "rotation"))}',
            'TRANSP:TRANSPARENT',
            'END:VEVENT',
        ]
    lines.append('END:VCALENDAR')
    return '\r\n'.join(fold(line) for line in lines) + '\r\n'
