"""Demo incidents and cases in every state, opened through the services so each has a real history."""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from itsm.audit import Actor
from itsm.choices import Channel, Impact, TicketKind, Urgency
from itsm.models import SupportGroup, User

from . import services
from .choices import PendingReason, ResolutionCode, TicketChannel, TicketState
from .models import Category, Ticket

IM, UR = Impact, Urgency
# (kind, short description, caller, channel, impact, urgency, category, subcategory, service name, group, target
#  state, hours ago)
TICKETS = [
    (
        'incident',
        'E-mail not syncing on laptop since this morning',
        'requester',
        'portal',
        IM.LOW,
        UR.NORMAL,
        'Email',
        'Mailbox',
        'Managed mail',
        'Service Desk',
        'new',
        1,
    ),
    (
        'incident',
        'VPN drops every few minutes when working from home',
        'requester2',
        'phone',
        IM.MEDIUM,
        UR.URGENT,
        'Network',
        'VPN',
        'VPN',
        'Service Desk',
        'assigned',
        3,
    ),
    (
        'incident',
        'Finance share not reachable from 3rd floor',
        'requester',
        'phone',
        IM.MEDIUM,
        UR.CRITICAL,
        'Network',
        'File share',
        'Distributed file systems',
        'Network Operations',
        'accepted',
        5,
    ),
    (
        'incident',
        'Printer on 2nd floor jams on every job',
        'requester2',
        'walk_in',
        IM.LOW,
        UR.NORMAL,
        'Hardware',
        'Printer',
        'Desktop PC',
        'Desktop Support',
        'pending',
        30,
    ),
    (
        'incident',
        'Antivirus flags payroll export as malware',
        'requester',
        'email',
        None,
        None,
        'Security',
        'Malware',
        'Virus protection',
        'Service Desk',
        'completed',
        50,
    ),
    (
        'incident',
        'Laptop does not boot after update',
        'requester2',
        'portal',
        IM.LOW,
        UR.URGENT,
        'Hardware',
        'Laptop',
        'Desktop PC',
        'Desktop Support',
        'closed',
        120,
    ),
    (
        'incident',
        'Nightly backup of ERP database failed',
        'monitoring',
        'monitoring',
        IM.HIGH,
        UR.CRITICAL,
        'Database',
        'Backup',
        'Backups',
        'Server and Storage',
        'accepted',
        2,
    ),
    (
        'incident',
        'WAN link to Lyon office down',
        'monitoring',
        'monitoring',
        IM.HIGH,
        UR.IMMEDIATE,
        'Network',
        'WAN',
        'WAN',
        'Network Operations',
        'assigned',
        0.5,
    ),
    (
        'incident',
        'Outlook asks for password repeatedly',
        'requester',
        'portal',
        IM.LOW,
        UR.NORMAL,
        'Email',
        'Mailbox',
        'E-mail services',
        None,
        'new',
        0.2,
    ),
    (
        'case',
        'Access to the sales dashboard for new hire',
        'requester2',
        'portal',
        IM.LOW,
        UR.NEGOTIATED,
        'Access',
        'Account',
        None,
        'Service Desk',
        'assigned',
        20,
    ),
    (
        'case',
        'How do I set up e-mail on my phone?',
        'requester',
        'email',
        None,
        None,
        'Email',
        'Mailbox',
        'Managed mail',
        None,
        'new',
        4,
    ),
    (
        'case',
        'Request a second monitor',
        'requester2',
        'portal',
        IM.NONE,
        UR.NEGOTIATED,
        'Hardware',
        'Desktop',
        'Desktop PC',
        'Desktop Support',
        'accepted',
        72,
    ),
    (
        'case',
        'Suggestion: dark mode for the intranet',
        'requester',
        'portal',
        IM.NONE,
        UR.NEGOTIATED,
        'Software',
        'Application',
        None,
        'Service Desk',
        'completed',
        96,
    ),
    (
        'case',
        'Restore a deleted folder from last week',
        'requester',
        'phone',
        IM.LOW,
        UR.NORMAL,
        'Database',
        'Backup',
        'Backups',
        'Server and Storage',
        'closed',
        200,
    ),
]

ACCEPTORS = {
    'Service Desk': 'agent',
    'Desktop Support': 'l2',
    'Network Operations': 'l2net',
    'Server and Storage': 'l2',
    'Platform Engineering': 'l3',
}


def _category(name: str | None, sub: str | None):
    if not name:
        return None, None
    parent = Category.objects.filter(name=name, parent=None).first()
    child = Category.objects.filter(name=sub, parent=parent).first() if parent and sub else None
    return parent, child


def _service(name: str | None):
    if not name:
        return None
    from cmdb.models import ConfigurationItem

    return ConfigurationItem.objects.filter(ci_class='service', name=name).first()


def _walk(ticket: Ticket, target: str, group_name: str | None, hours_ago: float) -> Ticket:
    """Drive the ticket through the services up to `target`, as the people involved would."""
    if target == TicketState.NEW or group_name is None:
        return ticket
    group = SupportGroup.objects.get(name=group_name)
    desk = Actor(user=User.objects.get(username='agent'), channel=Channel.UI)
    ticket = services.ticket_assign(ticket=ticket, actor=desk, group=group, notify=False)
    if target == TicketState.ASSIGNED:
        return ticket
    owner = Actor(user=User.objects.get(username=ACCEPTORS[group_name]), channel=Channel.UI)
    ticket = services.ticket_accept(ticket=ticket, actor=owner)
    services.ticket_comment(
        ticket=ticket, actor=owner, body='Thanks for reporting this, I am looking into it now.', internal=False
    )
    if target == TicketState.ACCEPTED:
        return ticket
    if target == TicketState.PENDING:
        until = timezone.now() + dt.timedelta(days=2)
        return services.ticket_pend(
            ticket=ticket, actor=owner, reason=PendingReason.PART, note='Replacement roller ordered.', until=until
        )
    services.ticket_comment(ticket=ticket, actor=owner, body='Checked logs; applying the fix.', internal=True)
    ticket = services.ticket_complete(
        ticket=ticket,
        actor=owner,
        resolution_code=ResolutionCode.SOLVED_PERMANENTLY,
        resolution_notes='Fixed and verified with the caller on the phone.',
    )
    if target == TicketState.CLOSED:
        caller = Actor(user=ticket.caller, channel=Channel.UI)
        ticket = services.ticket_confirm(ticket=ticket, actor=caller)
    return ticket


@transaction.atomic
def load(log=print) -> None:
    created = 0
    for kind, text, caller, channel, impact, urgency, cat, sub, service, group, state, hours in TICKETS:
        if Ticket.objects.filter(short_description=text).exists():
            continue
        caller_user = User.objects.get(username=caller)
        category, subcategory = _category(cat, sub)
        actor_user = caller_user if channel in (TicketChannel.PORTAL,) else User.objects.get(username='agent')
        ticket = services.ticket_create(
            actor=Actor(user=actor_user, channel=Channel.MONITORING if channel == 'monitoring' else Channel.UI),
            kind=TicketKind(kind),
            short_description=text,
            description=f'{text}.\n\nReported via {channel.replace("_", "-")}.',
            caller=caller_user,
            channel=channel,
            impact=impact,
            urgency=urgency,
            category=category,
            subcategory=subcategory,
            service=_service(service),
            notify=False,
        )
        Ticket.objects.filter(pk=ticket.pk).update(opened_at=timezone.now() - dt.timedelta(hours=hours))
        ticket.refresh_from_db()
        _walk(ticket, state, group, hours)
        created += 1
    log(f'incidents: {created} tickets created')
