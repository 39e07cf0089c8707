"""Who hears about what on a ticket (domain §4/§5), through the notification kit (`itsm.notify`).

The lifecycle's hooks call `on_created`, `on_transitioned` and `on_commented`; each event's text is
`templates/incidents/email/<event>.txt`. The caller hears of progress (with a link to the portal), the group of
work handed to it, and its manager (and for P0/P1 the service owner) of a hierarchical escalation.
"""

from __future__ import annotations

from django.db import models

from itsm import notify
from itsm.choices import Role


class Event(models.TextChoices):
    RECEIVED = 'received', 'We received your request'
    ACCEPTED = 'accepted', 'Your request is being worked on'
    PENDING = 'pending', 'Your request is on hold'
    COMPLETED = 'completed', 'Resolved: please confirm'
    CLOSED = 'closed', 'Closed'
    COMMENTED = 'commented', 'New reply'
    ASSIGNED = 'assigned', 'Assigned to your group'
    ESCALATED = 'escalated', 'Escalated to management'


CALLER_EVENTS = {Event.RECEIVED, Event.ACCEPTED, Event.PENDING, Event.COMPLETED, Event.CLOSED, Event.COMMENTED}

# The message each lifecycle step sends.
ON_TRANSITION = {
    'assign': Event.ASSIGNED,
    'escalate': Event.ASSIGNED,
    'accept': Event.ACCEPTED,
    'pend': Event.PENDING,
    'complete': Event.COMPLETED,
    'confirm': Event.CLOSED,
    'auto_close': Event.CLOSED,
}


def audience_for(ticket, event: str) -> list[str]:
    if event in CALLER_EVENTS:
        return ['requester']
    if event == Event.ESCALATED:
        return ['manager', 'service_owner'] if ticket.priority <= 1 and ticket.service_id else ['manager']
    return ['group']


def ticket_event(ticket, event: str, *, extra: dict | None = None) -> list[str]:
    """Queue the message for `event` once the surrounding transaction commits."""
    return notify.notify(
        ticket,
        str(event),
        audience_for(ticket, event),
        label=Event(event).label,
        extra=extra,
        public=event in CALLER_EVENTS,
    )


def service_owner(ticket, **extra) -> list[str]:
    """The owner recorded on the ticket's service, when they hold the service owner role."""
    details = getattr(ticket.service, 'service_details', None) if ticket.service_id else None
    owner = getattr(details, 'service_owner', None)
    return [owner.email] if owner is not None and owner.email and owner.has_role(Role.SERVICE_OWNER) else []


def on_created(ticket, *, actor, notify: bool = True, **kwargs) -> None:
    if notify:
        ticket_event(ticket, Event.RECEIVED)


def on_transitioned(ticket, *, action: str, notify: bool = True, **kwargs) -> None:
    if notify and action in ON_TRANSITION:
        ticket_event(ticket, ON_TRANSITION[action])


def on_commented(ticket, *, actor, entry, **kwargs) -> None:
    """Staff replies reach the caller; the caller's own words are not mailed back to them."""
    if ticket.may_work(actor.user) and not ticket.is_party(actor.user):
        ticket_event(ticket, Event.COMMENTED, extra={'comment': entry.message})
