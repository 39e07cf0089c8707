"""Who hears about an SLA warning or breach, and the sending of those e-mails, each exactly once.

Warnings go to the assignee and the group that holds the clock; a breach is also escalated to that group's
manager and, for a P0/P1 resolution breach, to the owner of the affected service (domain §5, §10). The sweep
claims the announcement; this module sends it after commit, under a row lock and only while `notified_at`
is empty, so a task delivered twice or queued again by a later sweep sends nothing more.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from itsm import notify

from .choices import ClockKind, EventKind
from .models import ClockEvent, format_minutes

__all__ = ['recipients_for', 'send_clock_events']


def recipients_for(event: ClockEvent) -> dict[str, list[str]]:
    """Addresses by role: `assignee`, `group`, and for a breach `manager` and (P0/P1 resolution) `service_owner`."""
    clock = event.clock
    record = clock.record
    group = clock.support_group if clock.kind in (ClockKind.OLA_ACCEPT, ClockKind.OLA_RESOLVE) else None
    group = group or record.assignment_group
    breach = event.kind == EventKind.BREACH
    found = notify.resolve(record, ['assignee', 'group', *(['manager'] if breach else [])], group=group)
    owner = getattr(getattr(record, 'service', None), 'owner', None)
    priority = record.sla_priority
    if breach and clock.kind == ClockKind.RESOLUTION and priority is not None and priority <= 1 and owner:
        found.update({'service_owner': [owner.email]} if owner.email else {})
    return found


def _flatten(by_role: dict[str, list[str]]) -> list[str]:
    return sorted({address for addresses in by_role.values() for address in addresses})


def _subject(event: ClockEvent) -> str:
    clock, ticket = event.clock, event.clock.record
    what = 'SLA breached' if event.kind == EventKind.BREACH else f'SLA warning ({event.percent} %)'
    return f'[{ticket.number}] {what}: {clock.name}: {ticket.short_description}'[:200]


def _send(event: ClockEvent, recipients: list[str], by_role: dict[str, list[str]]) -> None:
    clock, record = event.clock, event.clock.record
    escalated = 'manager' in by_role or 'service_owner' in by_role
    notify.deliver(
        record,
        f'sla_{event.kind}',
        recipients,
        label='SLA breached' if event.kind == EventKind.BREACH else 'SLA warning',
        subject=_subject(event),
        summary=f'{_subject(event)} (to the {", ".join(sorted(by_role))})',
        template=f'sla/email/{"breach" if event.kind == EventKind.BREACH else "warning"}.txt',
        context={
            'clock': clock,
            'ticket': record,
            'event': event,
            'target': format_minutes(clock.target_minutes),
            'due_at': timezone.localtime(clock.due_at) if clock.due_at else None,
            'escalated': escalated,
        },
        data={'roles': by_role, 'clock_event': event.pk, 'escalated': 'manager' in by_role},
        key=f'sla-event-{event.pk}',  # one announcement, one Message-ID, however often a dead worker retries it
    )


def send_clock_events(*, event_ids: list[int]) -> int:
    """Send the e-mails of claimed announcements not sent yet; returns how many went out."""
    sent = 0
    for event_id in event_ids:
        with transaction.atomic():
            event = (
                ClockEvent.objects.select_for_update(of=('self',))
                .select_related('clock__calendar', 'clock__support_group__manager')
                .filter(pk=event_id, notified_at__isnull=True, superseded=False)
                .first()
            )
            if event is None:
                continue
            by_role = recipients_for(event)
            recipients = _flatten(by_role)
            if recipients:
                _send(event, recipients, by_role)
                sent += 1
            event.notified_at = timezone.now()
            event.recipients = recipients
            event.save(update_fields=['notified_at', 'recipients'])
    return sent
