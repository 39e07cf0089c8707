"""Who hears about an SLA warning or breach, and the sending of those e-mails, each exactly once.

Warnings go to the assignee and the group that holds the clock; a breach is also escalated to that group's
manager and, for a P0/P1 resolution breach, to the owner of the affected service (domain §5, §10). The sweep
claims the announcement; this module sends it after commit, under a row lock and only while `notified_at`
is empty, so a task delivered twice or queued again by a later sweep sends nothing more.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from itsm import audit
from itsm.audit import Actor
from itsm.choices import TimelineKind

from .choices import ClockKind, EventKind
from .models import ClockEvent, format_minutes

__all__ = ['recipients_for', 'send_clock_events']


def _group_addresses(group) -> list[str]:
    if group is None:
        return []
    if group.email:
        return [group.email]
    return [email for email in group.members.filter(is_active=True).values_list('email', flat=True) if email]


def recipients_for(event: ClockEvent) -> dict[str, list[str]]:
    """Addresses by role: `assignee`, `group`, and for a breach `manager` and (P0/P1 resolution) `service_owner`."""
    clock = event.clock
    ticket = clock.ticket
    group = clock.support_group if clock.kind in (ClockKind.OLA_ACCEPT, ClockKind.OLA_RESOLVE) else None
    group = group or ticket.assignment_group
    found: dict[str, list[str]] = {
        'assignee': [ticket.assignee.email] if ticket.assignee and ticket.assignee.email else [],
        'group': _group_addresses(group),
    }
    if event.kind == EventKind.BREACH:
        manager = group.manager if group is not None else None
        found['manager'] = [manager.email] if manager and manager.email and manager.is_active else []
        owner = ticket.service.owner if ticket.service_id else None
        if clock.kind == ClockKind.RESOLUTION and ticket.priority <= 1 and owner and owner.email:
            found['service_owner'] = [owner.email]
    return {role: addresses for role, addresses in found.items() if addresses}


def _flatten(by_role: dict[str, list[str]]) -> list[str]:
    return sorted({address for addresses in by_role.values() for address in addresses})


def _subject(event: ClockEvent) -> str:
    clock, ticket = event.clock, event.clock.ticket
    what = 'SLA breached' if event.kind == EventKind.BREACH else f'SLA warning ({event.percent} %)'
    return f'[{ticket.number}] {what}: {clock.name}: {ticket.short_description}'[:200]


def _send(event: ClockEvent, recipients: list[str], by_role: dict[str, list[str]]) -> None:
    clock, ticket = event.clock, event.clock.ticket
    context = {
        'event': event,
        'clock': clock,
        'ticket': ticket,
        'target': format_minutes(clock.target_minutes),
        'due_at': timezone.localtime(clock.due_at) if clock.due_at else None,
        'escalated': 'manager' in by_role or 'service_owner' in by_role,
        'url': f'{settings.SITE_URL}{ticket.get_absolute_url()}',
    }
    template = 'breach' if event.kind == EventKind.BREACH else 'warning'
    body = render_to_string(f'sla/email/{template}.txt', context)
    EmailMultiAlternatives(subject=_subject(event), body=body, to=recipients).send()


def send_clock_events(*, event_ids: list[int]) -> int:
    """Send the e-mails of claimed announcements not sent yet; returns how many went out."""
    sent = 0
    for event_id in event_ids:
        with transaction.atomic():
            event = (
                ClockEvent.objects.select_for_update(of=('self',))
                .select_related(
                    'clock__calendar',
                    'clock__support_group__manager',
                    'clock__ticket__assignee',
                    'clock__ticket__assignment_group__manager',
                    'clock__ticket__service__owner',
                )
                .filter(pk=event_id, notified_at__isnull=True, superseded=False)
                .first()
            )
            if event is None:
                continue
            by_role = recipients_for(event)
            recipients = _flatten(by_role)
            if recipients:
                _send(event, recipients, by_role)
                roles = ', '.join(sorted(by_role))
                audit.record(
                    event.clock.ticket,
                    actor=Actor.system(),
                    kind=TimelineKind.NOTIFICATION,
                    message=f'{_subject(event)} (to the {roles})',
                    data={
                        'event': f'sla_{event.kind}',
                        'recipients': recipients,
                        'roles': by_role,
                        'clock_event': event.pk,
                        'escalated': 'manager' in by_role,
                    },
                )
                sent += 1
            event.notified_at = timezone.now()
            event.recipients = recipients
            event.save(update_fields=['notified_at', 'recipients'])
    return sent
