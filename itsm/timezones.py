"""Every time shown in a person's time zone, in one format.

A person's zone is `User.time_zone` (an IANA name), or the desk's (`settings.TIME_ZONE`) when they left it empty.
`itsm.middleware.TimeZoneMiddleware` activates it for each request; e-mails are rendered in their recipient's zone
(`zones_of_addresses`). Pages, e-mails and charts format times with `format_datetime` / `format_date`, whose
patterns are `settings.DATETIME_DISPLAY_FORMAT` and `settings.DATE_DISPLAY_FORMAT` ("5 Dec 2026 14:05 CET").
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Iterable

from django.conf import settings
from django.utils import timezone, translation
from django.utils.dateformat import DateFormat, re_escaped, re_formatchars
from django.utils.dateformat import format as django_format
from django.utils.dates import MONTHS_3

__all__ = [
    'common_zones',
    'desk_zone',
    'format_date',
    'format_datetime',
    'format_relative',
    'zone_label',
    'zone_of',
    'zones_of_addresses',
]

# Offered first in the profile's zone picker; every other IANA name is accepted too.
COMMON_ZONES = (
    'UTC',
    'Europe/London',
    'Europe/Dublin',
    'Europe/Lisbon',
    'Europe/Paris',
    'Europe/Berlin',
    'Europe/Madrid',
    'Europe/Rome',
    'Europe/Amsterdam',
    'Europe/Brussels',
    'Europe/Zurich',
    'Europe/Vienna',
    'Europe/Stockholm',
    'Europe/Warsaw',
    'Europe/Prague',
    'Europe/Athens',
    'Europe/Helsinki',
    'Europe/Istanbul',
    'Europe/Kyiv',
    'Europe/Moscow',
    'Africa/Casablanca',
    'Africa/Lagos',
    'Africa/Cairo',
    'Africa/Johannesburg',
    'Africa/Nairobi',
    'Asia/Dubai',
    'Asia/Karachi',
    'Asia/Kolkata',
    'Asia/Dhaka',
    'Asia/Bangkok',
    'Asia/Singapore',
    'Asia/Shanghai',
    'Asia/Hong_Kong',
    'Asia/Tokyo',
    'Asia/Seoul',
    'Australia/Perth',
    'Australia/Sydney',
    'Pacific/Auckland',
    'America/St_Johns',
    'America/Halifax',
    'America/New_York',
    'America/Toronto',
    'America/Chicago',
    'America/Mexico_City',
    'America/Denver',
    'America/Phoenix',
    'America/Los_Angeles',
    'America/Anchorage',
    'Pacific/Honolulu',
    'America/Bogota',
    'America/Lima',
    'America/Santiago',
    'America/Sao_Paulo',
    'America/Argentina/Buenos_Aires',
)


@functools.cache
def all_zones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def common_zones() -> tuple[str, ...]:
    known = set(all_zones())
    return tuple(name for name in COMMON_ZONES if name in known)


@functools.cache
def _zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


def desk_zone() -> zoneinfo.ZoneInfo:
    return _zone(settings.TIME_ZONE)


def zone_named(name: str) -> zoneinfo.ZoneInfo:
    """The zone called `name`, or the desk's when `name` is empty or not a zone this system knows."""
    if name and name in all_zones():
        return _zone(name)
    return desk_zone()


def zone_of(user) -> zoneinfo.ZoneInfo:
    """A person's time zone; the desk's for nobody, anonymous visitors and people who chose none."""
    return zone_named(getattr(user, 'time_zone', '') or '')


def zone_label(zone: dt.tzinfo | None = None, *, at: dt.datetime | None = None) -> str:
    """'Europe/Paris (CET)': a zone's name and its abbreviation now (the active zone by default)."""
    zone = zone or timezone.get_current_timezone()
    name = getattr(zone, 'key', None) or str(zone)
    abbreviation = (at or timezone.now()).astimezone(zone).tzname() or ''
    return f'{name} ({abbreviation})' if abbreviation and abbreviation != name else name


def zones_of_addresses(addresses: Iterable[str]) -> list[tuple[zoneinfo.ZoneInfo, list[str]]]:
    """E-mail recipients grouped by the time zone of the person with each address (the desk's for a group's own
    address or an address nobody has), in a stable order; one query."""
    from .models import User

    addresses = sorted(set(addresses))
    chosen: dict[str, str] = {}
    rows = User.objects.filter(email__in=addresses, is_active=True).exclude(time_zone='')
    for email, name in rows.values_list('email', 'time_zone').order_by('email', 'pk'):
        chosen.setdefault(email, name)
    groups: dict[str, list[str]] = {}
    for address in addresses:
        zone = zone_named(chosen.get(address, ''))
        groups.setdefault(zone.key, []).append(address)
    return [(_zone(key), members) for key, members in groups.items()]


def _localised(value: dt.datetime) -> dt.datetime:
    return timezone.localtime(value) if timezone.is_aware(value) else value


def format_datetime(value: dt.datetime | None, zone: dt.tzinfo | None = None) -> str:
    """'5 Dec 2026 14:05 CET': `value` in `zone` (the active zone by default), with the zone's abbreviation."""
    if value is None:
        return ''
    if not isinstance(value, dt.datetime):
        return format_date(value)
    moment = timezone.localtime(value, zone) if timezone.is_aware(value) else value
    return _format_moment(moment, settings.DATETIME_DISPLAY_FORMAT).strip()


@functools.lru_cache(maxsize=32)
def _compiled(pattern: str) -> tuple[tuple[bool, str], ...]:
    """A Django date format split once into (is a format character, text) pieces, as `DateFormat.format` splits it
    on every call: a page formats a few hundred times."""
    pieces = []
    for index, piece in enumerate(re_formatchars.split(pattern)):
        if index % 2:
            pieces.append((True, piece))
        elif piece:
            pieces.append((False, re_escaped.sub(r'\1', piece)))
    return tuple(pieces)


@functools.lru_cache(maxsize=256)
def _month_abbreviation(month: int, language: str | None) -> str:
    """Django's `M` ('Dec') in `language`: looked up once per language, not on every time drawn."""
    return str(MONTHS_3[month].title())


# Format characters a table row draws many times, computed directly: `DateFormat` is built only for the others.
_DIRECT = {
    'd': lambda moment: f'{moment.day:02d}',
    'j': lambda moment: str(moment.day),
    'm': lambda moment: f'{moment.month:02d}',
    'n': lambda moment: str(moment.month),
    'M': lambda moment: _month_abbreviation(moment.month, translation.get_language()),
    'y': lambda moment: f'{moment.year % 100:02d}',
    'Y': lambda moment: f'{moment.year:04d}',
    'G': lambda moment: str(moment.hour),
    'H': lambda moment: f'{moment.hour:02d}',
    'i': lambda moment: f'{moment.minute:02d}',
    's': lambda moment: f'{moment.second:02d}',
    # Spelled out from the moment itself, so the hour repeated when clocks go back keeps its abbreviation
    # (02:30 CEST, then 02:30 CET), which Django's `T` leaves out.
    'T': lambda moment: (moment.tzname() or '') if timezone.is_aware(moment) else '',
}


def _format_moment(moment: dt.datetime, pattern: str) -> str:
    """`moment` in Django's date format `pattern`, as `DateFormat.format` writes it but for `T` (above)."""
    formatter = None
    out = []
    for is_format, piece in _compiled(pattern):
        if not is_format:
            out.append(piece)
        elif piece in _DIRECT:
            out.append(_DIRECT[piece](moment))
        else:
            formatter = formatter or DateFormat(moment)
            out.append(str(getattr(formatter, piece)()))
    return ''.join(out)


def format_date(value: dt.date | dt.datetime | None) -> str:
    """'5 Dec 2026' (a datetime is first moved into the active zone)."""
    if value is None:
        return ''
    if isinstance(value, dt.datetime):
        value = _localised(value)
    return django_format(value, settings.DATE_DISPLAY_FORMAT)


def _count(number: int, unit: str) -> str:
    return f'{number} {unit}' if number == 1 or unit in ('min', 'h') else f'{number} {unit}s'


def format_relative(value: dt.datetime, now: dt.datetime | None = None) -> str:
    """'just now', '12 min ago', '3 h ago', '2 days ago', 'in 3 h'; a date past four weeks."""
    now = now or timezone.now()
    seconds = (now - value).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 60:
        return 'just now'
    if seconds < 3600:
        text = _count(int(seconds // 60), 'min')
    elif seconds < 86400:
        text = _count(int(seconds // 3600), 'h')
    elif seconds < 28 * 86400:
        text = _count(int(seconds // 86400), 'day')
    else:
        return format_date(value)
    return f'in {text}' if future else f'{text} ago'
