"""Demo incidents and cases in every state, opened through the services so each has a real history."""

import csv
import datetime as dt
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from itsm.audit import Actor
from itsm.choices import Channel, TicketKind
from itsm.models import SupportGroup, User

from . import routing, services
from .choices import PendingReason, ResolutionCode, TicketChannel, TicketState
from .models import Category, RoutingRule, Ticket

# One row per ticket: who reports what through which channel, where it goes and how far its life has got.
TICKETS_FILE = Path(__file__).resolve().parent / 'data' / 'demo_tickets.csv'

# The channel each report arrived through, as the timeline names it.
CHANNELS = {'monitoring': Channel.MONITORING, 'email': Channel.EMAIL}

# Where new tickets go (incidents.routing): tried by position, the first whose conditions all match wins.
# (position, name, conditions, group)
ROUTING_RULES = [
    (10, 'Monitoring alerts of the WAN', {'channel': 'monitoring', 'service': 'WAN'}, 'Network Operations'),
    (20, 'Backup failures', {'service': 'Backups'}, 'Server and Storage'),
    (30, 'Network category', {'category': 'Network'}, 'Network Operations'),
    (40, 'Hardware category', {'category': 'Hardware'}, 'Desktop Support'),
    (50, 'Other monitoring alerts', {'channel': 'monitoring'}, 'Server and Storage'),
    (1000, 'Everything else to the service desk', {}, 'Service Desk'),
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
    with TICKETS_FILE.open(newline='') as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        text, channel, group = row['short_description'], row['channel'], row['group'] or None
        if Ticket.objects.filter(short_description=text).exists():
            continue
        caller_user = User.objects.get(username=row['caller'])
        category, subcategory = _category(row['category'] or None, row['subcategory'] or None)
        opener = caller_user if channel in (TicketChannel.PORTAL,) else User.objects.get(username='agent')
        hours = float(row['hours_ago'])
        # Opened `hours_ago` through the service (a system job may backdate), so its SLA clocks start then; the
        # file says where each ticket went, so the routing rules are not asked.
        ticket = services.ticket_create(
            actor=Actor.system(channel=CHANNELS.get(channel, Channel.UI)),
            kind=TicketKind(row['kind']),
            short_description=text,
            description=f'{text}.\n\nReported via {channel.replace("_", "-")}.',
            caller=caller_user,
            channel=channel,
            impact=row['impact'],
            urgency=row['urgency'],
            category=category,
            subcategory=subcategory,
            service=_service(row['service'] or None),
            opened_at=timezone.now() - dt.timedelta(hours=hours),
            opened_by=opener,
            notify=False,
            route=False,
        )
        _walk(ticket, row['state'], group, hours)
        created += 1
    rules = _routing_rules()
    security = _security_incident()
    log(f'incidents: {created + security} tickets and {rules} routing rules created')


# A security group, its analyst and one security incident: only they, incident managers, administrators and the
# caller see it (the agents of the other groups do not find it anywhere).
SECURITY_GROUP = 'Security Operations'
SECURITY_ANALYST = ('security', 'Ruth', 'Abebe', 'Information security')
SECURITY_INCIDENT = 'Phishing e-mail opened: credentials entered on a fake sign-in page'


def _security_incident() -> int:
    """The security group (with its analyst) and its one security incident, each once."""
    from itsm import services as core
    from itsm.choices import Role, Tier
    from itsm.demo import DEMO_PASSWORD

    system = Actor.system()
    username, first, last, department = SECURITY_ANALYST
    analyst = User.objects.filter(username=username).first()
    if analyst is None:
        analyst = core.user_create(
            username=username,
            email=f'{username}@pitcrew.example',
            first_name=first,
            last_name=last,
            roles=[Role.L3_ENGINEER],
            department=department,
            actor=system,
        )
        analyst.set_password(DEMO_PASSWORD)  # published in the README, like every demo password
        analyst.save(update_fields=['password'])
    group = SupportGroup.objects.filter(name=SECURITY_GROUP).first()
    if group is None:
        group = core.support_group_create(
            name=SECURITY_GROUP,
            tier=Tier.L3,
            manager=User.objects.get(username='incident.manager'),
            members=[analyst],
            email='security-operations@pitcrew.example',
            security=True,
            description='Security incidents: phishing, compromised accounts, malware, data exposure.',
            actor=system,
        )
    if Ticket.objects.filter(short_description=SECURITY_INCIDENT).exists():
        return 0
    caller = User.objects.get(username='requester2')
    manager = Actor(user=User.objects.get(username='incident.manager'), channel=Channel.UI)
    ticket = services.ticket_create(
        actor=Actor.system(channel=Channel.UI),
        kind=TicketKind.INCIDENT,
        short_description=SECURITY_INCIDENT,
        description='Clicked a link in an e-mail "from payroll" and typed my password on the page it opened.',
        caller=caller,
        channel=TicketChannel.PHONE,
        impact='medium',
        urgency='urgent',
        opened_at=timezone.now() - dt.timedelta(hours=3),
        opened_by=User.objects.get(username='agent'),
        notify=False,
        route=False,
    )
    ticket = services.ticket_set_security(
        ticket=ticket, actor=manager, security_incident=True, reason='Credential phishing: handled by security.'
    )
    ticket = services.ticket_assign(ticket=ticket, actor=manager, group=group, notify=False)
    analyst_actor = Actor(user=analyst, channel=Channel.UI)
    ticket = services.ticket_accept(ticket=ticket, actor=analyst_actor)
    services.ticket_comment(
        ticket=ticket,
        actor=analyst_actor,
        body='Password reset and sessions revoked; checking the mailbox rules.',
        internal=True,
    )
    return 1


def _routing_rules() -> int:
    """The demo desk's routing rules, after its tickets (the file says where those went); by name, once."""
    created = 0
    for position, name, conditions, group_name in ROUTING_RULES:
        group = SupportGroup.objects.filter(name=group_name).first()
        if group is None or RoutingRule.objects.filter(name=name).exists():
            continue
        values = dict(conditions)
        if 'service' in values:
            values['service'] = _service(values['service'])
            if values['service'] is None:
                continue
        if 'category' in values:
            values['category'], _ = _category(values['category'], None)
            if values['category'] is None:
                continue
        routing.rule_create(actor=Actor.system(), position=position, name=name, assignment_group=group, **values)
        created += 1
    return created
