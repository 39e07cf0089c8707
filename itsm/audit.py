"""The timeline: who did what to a record, when and through which channel.

Services write it explicitly (never signals), so changes made by Celery tasks and management commands are
recorded exactly like those made in the browser or the API.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.template.defaultfilters import date as date_filter
from django.utils import timezone

from .choices import Channel, TimelineKind
from .models import TimelineEntry

# Bookkeeping fields that change on every save and say nothing to a reader of the history.
UNAUDITED_FIELDS = {'id', 'created_at', 'updated_at', 'password', 'last_login', 'number'}


@dataclass(frozen=True)
class Actor:
    """The person (or nobody, for system jobs) acting, and the channel the action came through."""

    user: Any = None
    channel: str = Channel.UI
    extra: dict = field(default_factory=dict, compare=False)

    @classmethod
    def from_request(cls, request, channel: str | None = None) -> Actor:
        if channel is None:
            channel = Channel.API if request.path.startswith('/api/') else Channel.UI
        user = request.user if getattr(request.user, 'is_authenticated', False) else None
        return cls(user=user, channel=channel)

    @classmethod
    def system(cls, channel: str = Channel.SYSTEM) -> Actor:
        return cls(user=None, channel=channel)

    def __str__(self) -> str:
        return str(self.user) if self.user else 'System'


def audited_fields(model: type[models.Model]) -> list[models.Field]:
    """Fields whose before/after values the timeline records: concrete fields and many-to-many fields, except
    those a model names in `unaudited_fields` (secrets such as a signing key or a token's hash)."""
    opts = model._meta
    left_out = UNAUDITED_FIELDS | set(getattr(model, 'unaudited_fields', ()))
    # Non-editable fields (state, counters, milestones) are set by services and matter most in a history.
    concrete = [f for f in opts.concrete_fields if f.name not in left_out and not f.primary_key]
    return concrete + [f for f in opts.many_to_many if f.name not in left_out]


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, list | tuple | set):
        return [_plain(item) for item in value]
    if hasattr(value, 'name') and hasattr(value, 'url'):  # a stored file
        return value.name or None
    return value


def snapshot(obj: models.Model) -> dict[str, Any]:
    """The audited values of `obj` as JSON-ready data (related records by their display text)."""
    values: dict[str, Any] = {}
    for f in audited_fields(type(obj)):
        if f.many_to_many:
            values[f.name] = sorted(str(item) for item in getattr(obj, f.name).all()) if obj.pk else []
        elif f.is_relation:
            related_id = getattr(obj, f.attname)
            values[f.name] = str(getattr(obj, f.name)) if related_id is not None else None
        else:
            values[f.name] = _plain(getattr(obj, f.attname))
    return values


def diff(obj: models.Model, before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    labels = {f.name: str(f.verbose_name) for f in audited_fields(type(obj))}
    return [
        {'field': name, 'label': labels.get(name, name), 'before': before.get(name), 'after': value}
        for name, value in after.items()
        if before.get(name) != value
    ]


def record(
    obj: models.Model,
    *,
    actor: Actor,
    kind: str,
    message: str = '',
    changes: list[dict[str, Any]] | None = None,
    data: dict[str, Any] | None = None,
    public: bool = False,
    at: dt.datetime | None = None,
) -> TimelineEntry:
    """Append one entry to `obj`'s timeline."""
    return TimelineEntry.objects.create(
        content_type=ContentType.objects.get_for_model(obj),
        object_id=obj.pk,
        kind=kind,
        actor=actor.user,
        channel=actor.channel,
        at=at or timezone.now(),
        message=message,
        changes=changes or [],
        data=data or {},
        public=public,
    )


def record_created(
    obj: models.Model,
    *,
    actor: Actor,
    message: str = '',
    public: bool = True,
    opened_as: dict[str, Any] | None = None,
    **kwargs,
):
    """The entry that opens `obj`'s timeline, listing the values it was opened with: `opened_as` (a snapshot)
    when a move made before the insert (`Workflow.apply`) has its own entry, else what `obj` holds."""
    changes = [
        {'field': c['field'], 'label': c['label'], 'before': None, 'after': c['after']}
        for c in diff(obj, {}, snapshot(obj) if opened_as is None else opened_as)
        if c['after'] not in (None, '', [], {})
    ]
    return record(
        obj, actor=actor, kind=TimelineKind.CREATED, message=message, changes=changes, public=public, **kwargs
    )


def record_changes(
    obj: models.Model, before: dict[str, Any], *, actor: Actor, message: str = '', public: bool = False
) -> TimelineEntry | None:
    """Record a field-change entry for what differs from `before`; nothing when nothing changed."""
    changes = diff(obj, before, snapshot(obj))
    if not changes:
        return None
    return record(obj, actor=actor, kind=TimelineKind.FIELD_CHANGE, message=message, changes=changes, public=public)


# -------------------------------------------------------------------------------------------- values in words
EMPTY_WORDS = 'empty'
WEEKDAYS = {
    'mon': 'Monday',
    'tue': 'Tuesday',
    'wed': 'Wednesday',
    'thu': 'Thursday',
    'fri': 'Friday',
    'sat': 'Saturday',
    'sun': 'Sunday',
}
ISO_DATE = re.compile(r'^\d{4}-\d{2}-\d{2}$')
ISO_DATETIME = re.compile(r'^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}')
TIME_RANGE = re.compile(r'^(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})$')


def format_moment(value: dt.date | dt.datetime) -> str:
    """The one place histories format a date ('1 Jan 2027') or a time ('1 Jan 2027 14:05 CET', in the active
    time zone), with the desk's display formats."""
    if isinstance(value, dt.datetime):
        moment = timezone.localtime(value) if timezone.is_aware(value) else value
        return date_filter(moment, getattr(settings, 'DATETIME_DISPLAY_FORMAT', 'j M Y H:i T')).strip()
    return date_filter(value, getattr(settings, 'DATE_DISPLAY_FORMAT', 'j M Y'))


def _moment_of(text: str) -> dt.date | dt.datetime | None:
    try:
        if ISO_DATE.match(text):
            return dt.date.fromisoformat(text)
        if ISO_DATETIME.match(text):
            return dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return None


def _weekly_hours(hours: dict, moment: Callable) -> str:
    """{'mon': ['08:00-18:00'], 'tue': [...]} as 'Monday–Friday 08:00–18:00; Saturday 09:00–12:00' (days with
    the same hours in a row run together; a day listed without hours is closed)."""
    runs: list[tuple[list[str], str]] = []
    for key, day in WEEKDAYS.items():
        if key not in hours:
            continue
        ranges = hours[key]
        text = in_words(ranges, moment=moment) if ranges not in (None, '', []) else 'closed'
        previous = runs[-1] if runs else None
        if previous and previous[1] == text and _next_day(previous[0][-1]) == day:
            previous[0].append(day)
        else:
            runs.append(([day], text))
    return '; '.join(f'{days[0] if len(days) == 1 else f"{days[0]}–{days[-1]}"} {text}' for days, text in runs)


def _next_day(day: str) -> str:
    names = list(WEEKDAYS.values())
    return names[(names.index(day) + 1) % len(names)]


def _label(key: Any) -> str:
    text = str(key).replace('_', ' ')
    return text[:1].upper() + text[1:]


def in_words(value: Any, *, moment: Callable[[Any], str] = format_moment) -> str:
    """A before/after value of the timeline as a reader says it, never as a Python repr.

    Nothing is "empty", booleans "yes"/"no", dates and times are formatted by `moment` (`format_moment`), time
    ranges read "08:00–18:00", a week of working hours "Monday–Friday 08:00–18:00", a dated entry (a holiday)
    "1 Jan 2027 (New Year's Day)", other mappings "Key: value; Key: value", lists "a, b, c".
    """
    if value is None or value == '' or value == [] or value == {}:
        return EMPTY_WORDS
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    if isinstance(value, dt.date | dt.datetime):
        return moment(value)
    if isinstance(value, str):
        text = value.strip()
        when = _moment_of(text)
        if when is not None:
            return moment(when)
        hours = TIME_RANGE.match(text)
        if hours:
            return f'{hours.group(1)}–{hours.group(2)}'
        return value
    if isinstance(value, dict):
        if value and set(value) <= set(WEEKDAYS):
            return _weekly_hours(value, moment)
        if 'date' in value:
            rest = {k: v for k, v in value.items() if k != 'date'}
            text = in_words(value['date'], moment=moment)
            name = rest.pop('name', '')
            if name:
                text = f'{text} ({in_words(name, moment=moment)})'
            if rest:
                text = f'{text}, {in_words(rest, moment=moment)}'
            return text
        return '; '.join(f'{_label(k)}: {in_words(v, moment=moment)}' for k, v in value.items())
    if isinstance(value, list | tuple | set):
        items = [in_words(item, moment=moment) for item in value]
        separator = '; ' if any(isinstance(item, dict | list) for item in value) else ', '
        return separator.join(items)
    return str(value)
