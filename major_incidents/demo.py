"""Demo major incidents and status page, worked through the services so each has a real history.

Marks five demo services public (with a status-page name and an announce list), runs one major incident of last
month to closure (validated, reviewed, with action items and a problem for the root cause) and leaves one P1
running on a public service with its child incidents, a team and three updates. Idempotent: a major incident is
looked up by its short description. Any flood candidate comes from the demo tickets themselves, never forced.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from itsm.audit import Actor
from itsm.choices import Channel, Priority
from itsm.models import SupportGroup, User

from . import cadence, services
from . import review as reviews
from .choices import MajorIncidentState, ServiceImpact, UpdateAudience, UpdateStatus
from .models import ActionItem, MajorIncident, MajorIncidentUpdate, PostIncidentReview

# (service, name on the status page, announce list)
PUBLIC_SERVICES = [
    ('E-mail services', 'E-mail', 'it-announce@pitcrew.example'),
    ('VPN', 'Remote access (VPN)', 'it-announce@pitcrew.example, remote-workers@pitcrew.example'),
    ('Desktop PC', 'Workplace PCs', ''),
    ('Distributed file systems', 'Shared drives', 'it-announce@pitcrew.example'),
    ('Incident management', 'IT service desk', ''),
]

CLOSED = {
    'short_description': 'VPN gateway refused every connection after a certificate expired',
    'public_title': 'Remote access unavailable',
    'service': 'VPN',
    'days_ago': 34,
    'hours_down': 3,
    'incidents': ['VPN will not connect from home', 'VPN client says the certificate is not trusted'],
    'resolution': 'Renewed the gateway certificate and restarted the VPN cluster.',
    'review': {
        'summary': 'Nobody outside the office could reach internal systems for three hours on a Monday morning.',
        'root_cause': 'The gateway certificate expired; its renewal reminder went to a mailbox nobody reads.',
        'what_went_well': 'The flood of calls was spotted within minutes and the team assembled quickly.',
        'what_went_badly': 'The second update to the recipient list was 25 minutes late.',
        'process_rating': 4,
        'process_notes': 'Roles were clear; the communications lead was named only after the first update.',
    },
    'actions': [
        ('Monitor certificate expiry on every gateway, alerting 30 days ahead', 'l2net', True),
        ('Move certificate reminders to the Network Operations group mailbox', 'l2net', False),
    ],
}

ACTIVE = {
    'short_description': 'Students and staff cannot send or receive e-mail',
    'public_title': 'E-mail delivery failing',
    'service': 'E-mail services',
    'minutes_ago': 50,
    'incidents': [
        'Outlook says it cannot reach the server',
        'E-mails to students bounce since this morning',
        'Webmail shows "service unavailable"',
    ],
    'updates': [
        (
            UpdateAudience.PUBLIC,
            UpdateStatus.INVESTIGATING,
            'We are investigating failed e-mail delivery. Webmail and desktop mail are affected.',
        ),
        (
            UpdateAudience.RECIPIENTS,
            UpdateStatus.IDENTIFIED,
            'The mail relay cluster lost quorum after a storage failover; the platform team is rebuilding it.',
        ),
        (
            UpdateAudience.PUBLIC,
            UpdateStatus.IDENTIFIED,
            'We have found the cause and are restoring the mail relays. Mail sent meanwhile will be delivered.',
        ),
    ],
}


def _publish_services() -> int:
    from cmdb.models import Service
    from cmdb.services import service_update

    system = Actor.system()  # status-page fields are service details: no change record needed
    changed = 0
    for name, public_name, announce in PUBLIC_SERVICES:
        service = Service.objects.filter(ci__name=name).select_related('ci').first()
        if service is None or service.public:
            continue
        service_update(service=service, actor=system, public=True, public_name=public_name, announce_list=announce)
        changed += 1
    return changed


def _incident(text: str, service, caller: User, *, accept: bool) -> object:
    from incidents import services as ticket_services
    from incidents.models import Ticket

    existing = Ticket.objects.filter(short_description=text).first()
    if existing is not None:
        return existing
    ticket = ticket_services.ticket_create(
        actor=Actor(user=caller, channel=Channel.UI),
        caller=caller,
        short_description=text,
        service=service,
        impact='high',
        urgency='urgent',
    )
    if not accept:
        return ticket
    group = ticket.assignment_group or service.support_group or SupportGroup.objects.first()
    agent = group.members.filter(is_active=True).first()
    desk = Actor(user=agent, channel=Channel.UI)
    if ticket.assignment_group_id is None:
        ticket = ticket_services.ticket_assign(ticket=ticket, actor=desk, group=group)
    return ticket_services.ticket_accept(ticket=ticket, actor=desk)


def _service_ci(name: str):
    from cmdb.models import ConfigurationItem

    return ConfigurationItem.objects.filter(ci_class='service', name=name).first()


def _closed_major(people: dict[str, User]) -> MajorIncident | None:
    spec = CLOSED
    service = _service_ci(spec['service'])
    if service is None:
        return None
    manager = Actor(user=people['incident.manager'], channel=Channel.UI)
    caller = people['requester']
    incidents = [_incident(text, service, caller, accept=True) for text in spec['incidents']]
    major = services.major_declare(
        actor=manager,
        short_description=spec['short_description'],
        public_title=spec['public_title'],
        services=[service],
        source_incident=incidents[0],
        priority=Priority.P1,
    )
    services.major_link_children(major=major, actor=manager, incidents=incidents[1:])
    services.major_activate(
        major=major,
        actor=manager,
        tech_lead=people['l2net'],
        communications_lead=people['comms.lead'],
        note='Bridge call open.',
    )
    services.major_assess(major=major, actor=manager, note='Every remote user affected.')
    services.major_post_update(
        major=major,
        actor=Actor(user=people['comms.lead'], channel=Channel.UI),
        audience=UpdateAudience.PUBLIC,
        status=UpdateStatus.INVESTIGATING,
        body='Remote access is unavailable. We are investigating.',
    )
    services.major_start_resolution(major=major, actor=manager, note='Certificate renewal under way.')
    services.major_resolve(major=major, actor=manager, resolution=spec['resolution'])
    for owner in ('service.owner', 'business.owner'):
        services.major_validate(
            major=major, actor=Actor(user=people[owner], channel=Channel.UI), note='Connected from home.'
        )
    review = reviews.review_start(major=major, actor=manager)
    review = reviews.review_update(review=review, actor=manager, **spec['review'])
    for description, owner, done in spec['actions']:
        item = reviews.action_item_add(
            review=review,
            actor=manager,
            description=description,
            owner=people[owner],
            due_date=reviews.today() + dt.timedelta(days=7),
        )
        if done:
            reviews.action_item_done(item=item, actor=manager, note='Alerts in place.')
    reviews.review_open_problem(review=review, actor=manager)
    services.major_close(major=major, actor=manager, note='Validated and reviewed.')
    _move_to_last_month(major, spec)
    return major


def _move_to_last_month(major: MajorIncident, spec: dict) -> None:
    """The services stamp everything now; the demo's closed major incident happened last month, so its measured
    moments (and its review's outage and the open action item's due date) move back together, keeping their order."""
    shift = dt.timedelta(days=spec['days_ago'])
    started = timezone.now() - shift - dt.timedelta(hours=spec['hours_down'])
    MajorIncident.objects.filter(pk=major.pk).update(
        outage_started_at=started,
        declared_at=started + dt.timedelta(minutes=25),
        opened_at=started + dt.timedelta(minutes=25),
        restored_at=started + dt.timedelta(hours=spec['hours_down']),
        closed_at=started + dt.timedelta(hours=spec['hours_down'], days=2),
    )
    PostIncidentReview.objects.filter(major_incident=major).update(
        outage_started_at=started, outage_ended_at=started + dt.timedelta(hours=spec['hours_down'])
    )
    for update in MajorIncidentUpdate.objects.filter(major_incident=major):
        MajorIncidentUpdate.objects.filter(pk=update.pk).update(posted_at=update.posted_at - shift)
    # One action is still open and its due date has passed: the overdue list and the dashboard show it.
    ActionItem.objects.filter(review__major_incident=major, done_at__isnull=True).update(
        due_date=reviews.today() - dt.timedelta(days=5)
    )


def _active_major(people: dict[str, User]) -> MajorIncident | None:
    spec = ACTIVE
    service = _service_ci(spec['service'])
    if service is None:
        return None
    manager = Actor(user=people['incident.manager'], channel=Channel.UI)
    comms = Actor(user=people['comms.lead'], channel=Channel.UI)
    callers = [people['requester'], people.get('requester2', people['requester'])]
    incidents = [
        _incident(text, service, callers[n % len(callers)], accept=False) for n, text in enumerate(spec['incidents'])
    ]
    major = services.major_declare(
        actor=manager,
        short_description=spec['short_description'],
        public_title=spec['public_title'],
        services=[service],
        priority=Priority.P1,
        service_impact=ServiceImpact.MAJOR_OUTAGE,
        outage_started_at=timezone.now() - dt.timedelta(minutes=spec['minutes_ago']),
    )
    services.major_link_children(major=major, actor=manager, incidents=incidents)
    services.major_activate(
        major=major,
        actor=manager,
        tech_lead=people['l3'],
        communications_lead=people['comms.lead'],
        support_staff=[people['l2'], people['agent']],
        note='Bridge call open; the platform team is on it.',
    )
    services.major_assess(major=major, actor=manager, note='All mail delivery is affected, inbound and outbound.')
    first, *later = spec['updates']
    services.major_post_update(major=major, actor=comms, audience=first[0], status=first[1], body=first[2])
    # The next update slipped past its time: the cadence job reminded the communications lead, who then posted.
    MajorIncident.objects.filter(pk=major.pk).update(next_update_due=timezone.now() - dt.timedelta(minutes=5))
    cadence.send_overdue_reminders()
    for audience, status, body in later:
        services.major_post_update(major=major, actor=comms, audience=audience, status=status, body=body)
    return major


@transaction.atomic
def load(log=print) -> None:
    people = {u.username: u for u in User.objects.all()}
    needed = ('incident.manager', 'comms.lead', 'l2net', 'l3', 'l2', 'agent', 'requester')
    if any(name not in people for name in needed):
        log('major incidents: the demo people are missing; load the core demo data first')
        return
    published = _publish_services()
    created = 0
    if not MajorIncident.objects.filter(short_description=CLOSED['short_description']).exists():
        created += _closed_major(people) is not None
    if not MajorIncident.objects.filter(short_description=ACTIVE['short_description']).exists():
        created += _active_major(people) is not None
    running = MajorIncident.objects.filter(state__in=[s for s in MajorIncidentState if s != 'closed']).count()
    log(f'major incidents: {published} services made public, {created} major incidents created ({running} not closed)')
