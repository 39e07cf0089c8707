"""The timeline: who did what to a record, when and through which channel.

Services write it explicitly (never signals), so changes made by Celery tasks and management commands are
recorded exactly like those made in the browser or the API.
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
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
    """Fields whose before/after values the timeline records: concrete fields and many-to-many fields."""
    opts = model._meta
    # Non-editable fields (state, counters, milestones) are set by services and matter most in a history.
    concrete = [f for f in opts.concrete_fields if f.name not in UNAUDITED_FIELDS and not f.primary_key]
    return concrete + [f for f in opts.many_to_many if f.name not in UNAUDITED_FIELDS]


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


def record_created(obj: models.Model, *, actor: Actor, message: str = '', public: bool = True, **kwargs):
    changes = [
        {'field': c['field'], 'label': c['label'], 'before': None, 'after': c['after']}
        for c in diff(obj, {}, snapshot(obj))
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
