"""What happened, as the JSON a subscriber receives: the `itsm.hooks` subscribers of this app.

Every process record's `created`, `transitioned` and `commented` hooks (public comments only: work notes never leave
the desk) and the SLA engine's `clock_crossed` hook become events. Each builds its payload inside the service's
transaction, stores one delivery per interested subscription and queues the sending once the transaction commits.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from itsm import notify

from .choices import EventType

PAYLOAD_VERSION = 1


def record_kind(record) -> str:
    """incident, case, problem, change…: what the SLA engine and the subscriptions' kind filter call it."""
    return str(getattr(record, 'sla_kind', '') or record._meta.model_name)


def _api_url(record) -> str:
    for basename in dict.fromkeys((record_kind(record), record._meta.model_name)):
        try:
            return notify.site_url(reverse(f'api:{basename}-detail', args=[record.number]))
        except NoReverseMatch:
            continue
    return ''


def record_data(record) -> dict[str, Any]:
    priority = getattr(record, 'priority', None)
    state_field = record._meta.get_field(record.workflow.field) if record.workflow else None
    state = getattr(record, state_field.name) if state_field else getattr(record, 'state', '')
    return {
        'kind': record_kind(record),
        'number': record.number,
        'title': record.short_description,
        'state': state,
        'state_label': str(dict(state_field.flatchoices).get(state, state)) if state_field else state,
        'priority': priority,
        'priority_label': f'P{priority}' if isinstance(priority, int) else None,
        'assignment_group': str(record.assignment_group) if record.assignment_group_id else None,
        'assignee': record.assignee.username if record.assignee_id else None,
        'url': notify.site_url(record.get_absolute_url()),
        'api_url': _api_url(record),
    }


def payload(event_type: str, record, *, actor, event_id: uuid.UUID, **details: Any) -> dict[str, Any]:
    """The body of one event: `id`, `type`, `created_at`, `actor`, `channel`, `record` and the event's details."""
    user = getattr(actor, 'user', None)
    return {
        'id': str(event_id),
        'type': event_type,
        'version': PAYLOAD_VERSION,
        'created_at': timezone.now().isoformat(),
        'actor': user.username if user is not None else None,
        'channel': getattr(actor, 'channel', None),
        'record': record_data(record) if record is not None else None,
        **details,
    }


def on_created(record, *, actor, **kwargs) -> list:
    from .services import enqueue_event

    return enqueue_event(record, EventType.RECORD_CREATED, actor=actor)


def on_transitioned(record, *, actor, action: str, source: str, target: str, **kwargs) -> list:
    from .services import enqueue_event

    transition = record.workflow.transitions.get(action) if hasattr(record.workflow, 'transitions') else None
    details = {
        'transition': {
            'name': action,
            'label': str(getattr(transition, 'label', '') or action),
            'source': source,
            'target': target,
        }
    }
    return enqueue_event(record, EventType.RECORD_TRANSITIONED, actor=actor, details=details)


def on_commented(record, *, actor, entry, **kwargs) -> list:
    from .services import enqueue_event

    if not entry.public:
        return []  # the hook is for public comments; a work note must never leave the desk
    details = {
        'comment': {
            'id': entry.pk,
            'body': entry.message,
            'author': entry.actor.username if entry.actor_id else None,
            'at': entry.at.isoformat(),
        }
    }
    return enqueue_event(record, EventType.RECORD_COMMENTED, actor=actor, details=details)


def on_clock_crossed(record, *, actor, clock, announcement, **kwargs) -> list:
    from .services import enqueue_event

    breach = announcement.kind == 'breach'
    details = {
        'sla': {
            'clock': clock.kind,
            'name': clock.name,
            'percent': announcement.percent,
            'target_minutes': clock.target_minutes,
            'crossed_at': announcement.crossed_at.isoformat(),
            'due_at': clock.due_at.isoformat() if clock.due_at else None,
        }
    }
    event_type = EventType.SLA_BREACHED if breach else EventType.SLA_WARNING
    return enqueue_event(record, event_type, actor=actor, details=details, batch=kwargs.get('batch'))
