"""Who hears about what on a ticket (domain §4/§5), rendered from templates and sent by Celery after commit."""

from __future__ import annotations

from django.conf import settings
from django.db import models, transaction

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


# The message each lifecycle step sends (the caller hears of progress, a group of work handed to it).
ON_TRANSITION = {
    'assign': Event.ASSIGNED,
    'escalate': Event.ASSIGNED,
    'accept': Event.ACCEPTED,
    'pend': Event.PENDING,
    'complete': Event.COMPLETED,
    'confirm': Event.CLOSED,
    'auto_close': Event.CLOSED,
}


def on_created(ticket, *, actor, notify: bool = True, **kwargs) -> None:
    if notify:
        ticket_event(ticket, Event.RECEIVED)


def on_transitioned(ticket, *, action: str, notify: bool = True, **kwargs) -> None:
    if notify and action in ON_TRANSITION:
        ticket_event(ticket, ON_TRANSITION[action])


def on_commented(ticket, *, actor, entry, **kwargs) -> None:
    """Staff replies reach the caller; the caller's own words are not mailed back to them."""
    from .actions import is_worker

    if is_worker(actor.user) and not ticket.is_party(actor.user):
        ticket_event(ticket, Event.COMMENTED, extra={'comment': entry.message})


def recipients_for(ticket, event: str) -> list[str]:
    """E-mail addresses for one event: the caller, the assigned group, or the group's manager."""
    if event in CALLER_EVENTS:
        return [ticket.caller.email] if ticket.caller.email else []
    group = ticket.assignment_group
    if group is None:
        return []
    if event == Event.ASSIGNED:
        if group.email:
            return [group.email]
        return sorted(email for email in group.members.filter(is_active=True).values_list('email', flat=True) if email)
    if event == Event.ESCALATED:
        addresses = [group.manager.email] if group.manager and group.manager.email else []
        if ticket.priority <= 1 and ticket.service_id:
            addresses += _service_owner_emails(ticket.service)
        return sorted(set(addresses))
    return []


def _service_owner_emails(service) -> list[str]:
    details = getattr(service, 'service_details', None)
    owner = getattr(details, 'service_owner', None)
    return [owner.email] if owner is not None and owner.email and owner.has_role(Role.SERVICE_OWNER) else []


def ticket_event(ticket, event: str, *, extra: dict | None = None) -> None:
    """Queue the e-mail for `event` once the surrounding transaction commits (never for uncommitted data)."""
    recipients = recipients_for(ticket, event)
    if not recipients:
        return
    from .tasks import send_ticket_notification_task

    ticket_id, payload = ticket.pk, dict(extra or {})
    transaction.on_commit(lambda: send_ticket_notification_task.delay(ticket_id, str(event), recipients, payload))


def subject_for(ticket, event: str) -> str:
    return f'[{ticket.number}] {Event(event).label}: {ticket.short_description}'[:200]


def site_url(path: str) -> str:
    return f'{settings.SITE_URL}{path}'
