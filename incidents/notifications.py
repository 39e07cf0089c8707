"""Who hears about what on a ticket (domain §4/§5), through the notification kit (`itsm.notify`).

The lifecycle's hooks call `on_created`, `on_transitioned` and `on_commented`; each event's text is
`templates/incidents/email/<event>.txt`. The caller hears of progress (with a link to the portal), the group of
work handed to it, and its manager (and for P0/P1 the service owner) of a hierarchical escalation. Replies go the
other way too: the caller's comments reach whoever works the ticket (`customer_replied`: its assignee, or its
group while nobody has taken it), and a rejected resolution reaches the assignee and the group (`reopened`).
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
    CUSTOMER_REPLIED = 'customer_replied', 'Customer replied'
    REOPENED = 'reopened', 'Reopened by the caller'


CALLER_EVENTS = {Event.RECEIVED, Event.ACCEPTED, Event.PENDING, Event.COMPLETED, Event.CLOSED, Event.COMMENTED}

# The message each lifecycle step sends.
ON_TRANSITION = {
    'assign': Event.ASSIGNED,
    'escalate': Event.ASSIGNED,
    'accept': Event.ACCEPTED,
    'pend': Event.PENDING,
    'complete': Event.COMPLETED,
    'complete_with_parent': Event.COMPLETED,
    'confirm': Event.CLOSED,
    'auto_close': Event.CLOSED,
}


def audience_for(ticket, event: str) -> list[str]:
    if event in CALLER_EVENTS:
        return ['requester']
    if event == Event.ESCALATED:
        return ['manager', 'service_owner'] if ticket.priority <= 1 and ticket.service_id else ['manager']
    if event == Event.CUSTOMER_REPLIED:
        return ['assignee'] if ticket.assignee_id else ['group']
    if event == Event.REOPENED:
        return ['assignee', 'group']
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
    if owner is None or not owner.email or not owner.has_role(Role.SERVICE_OWNER):
        return []
    return [owner.email] if ticket.is_visible_to(owner) else []


def on_created(ticket, *, actor, notify: bool = True, **kwargs) -> None:
    if notify:
        ticket_event(ticket, Event.RECEIVED)


def on_transitioned(ticket, *, action: str, notify: bool = True, **kwargs) -> None:
    if notify and action in ON_TRANSITION:
        ticket_event(ticket, ON_TRANSITION[action])


def speaks_for_requester(ticket, user) -> bool:
    """Whether a comment by `user` is the requester's side of the conversation: the caller (unless they work the
    ticket themselves), or another party to it (who opened it) who does not work tickets. An agent who logged the
    ticket for a caller speaks for the desk."""
    if user is None:
        return False
    if user.pk == ticket.caller_id:
        return user.pk != ticket.assignee_id
    return ticket.is_party(user) and not ticket.may_work(user)


def on_commented(ticket, *, actor, entry, **kwargs) -> None:
    """Staff replies reach the caller (the caller's own words are not mailed back to them); the requester's reach
    the desk through `ticket_requester_replied`, whichever way they came (portal, API)."""
    user = actor.user
    if speaks_for_requester(ticket, user):
        from .services import ticket_requester_replied  # the services send this module's messages

        ticket_requester_replied(ticket=ticket, actor=actor, entry=entry)
    elif ticket.may_work(user) and user.pk != ticket.caller_id:
        ticket_event(ticket, Event.COMMENTED, extra={'comment': entry.message})
