"""Demo service levels: an office-hours calendar beside the built-in 24x7, default SLAs for incidents and cases
of every priority (P0/P1 around the clock, lower priorities in office hours), tighter ones for e-mail, OLAs for
the demo groups and two underpinning contracts. Idempotent: records are looked up by name and only created when
missing."""

from django.db import transaction

from itsm.audit import Actor
from itsm.models import SupportGroup

from . import services
from .models import BusinessCalendar, OperationalLevelAgreement, ServiceLevelAgreement, UnderpinningContract

OFFICE = 'Office hours (Berlin)'
WEEKDAYS = ('mon', 'tue', 'wed', 'thu', 'fri')

# (kind, priority, response minutes, resolution minutes, calendar)
SLAS = [
    ('incident', 0, 15, 4 * 60, '24x7'),
    ('incident', 1, 30, 8 * 60, '24x7'),
    ('incident', 2, 2 * 60, 16 * 60, OFFICE),
    ('incident', 3, 4 * 60, 30 * 60, OFFICE),
    ('incident', 4, 10 * 60, 100 * 60, OFFICE),
    ('case', 0, 30, 8 * 60, '24x7'),
    ('case', 1, 60, 24 * 60, '24x7'),
    ('case', 2, 4 * 60, 30 * 60, OFFICE),
    ('case', 3, 10 * 60, 50 * 60, OFFICE),
    ('case', 4, 20 * 60, 100 * 60, OFFICE),
]

# Services with targets of their own: (service name, kind, priority, response, resolution, calendar)
SERVICE_SLAS = [
    ('E-mail services', 'incident', 2, 60, 8 * 60, OFFICE),
    ('E-mail services', 'incident', 3, 2 * 60, 16 * 60, OFFICE),
]

# (group, priority or None for all, accept minutes, resolve minutes, calendar)
OLAS = [
    ('Service Desk', None, 15, 4 * 60, OFFICE),
    ('Desktop Support', None, 30, 8 * 60, OFFICE),
    ('Network Operations', None, 30, 8 * 60, OFFICE),
    ('Network Operations', 1, 15, 4 * 60, '24x7'),
    ('Server and Storage', None, 30, 8 * 60, OFFICE),
    ('Platform Engineering', None, 60, 16 * 60, OFFICE),
    ('Platform Engineering', 0, 15, 3 * 60, '24x7'),
    ('Platform Engineering', 1, 15, 6 * 60, '24x7'),
]

# (name, supplier, reference, response minutes, resolution minutes, calendar, e-mail)
CONTRACTS = [
    (
        'Server hardware maintenance',
        'Northwind Hardware Services',
        'NW-4471',
        4 * 60,
        24 * 60,
        OFFICE,
        'support@northwind.example',
    ),
    ('WAN carrier circuits', 'Contoso Networks', 'CN-2026-118', 30, 4 * 60, '24x7', 'noc@contoso.example'),
]


@transaction.atomic
def load(log=print) -> None:
    actor = Actor.system()
    created = 0
    calendars = {'24x7': BusinessCalendar.objects.builtin_24x7()}
    office = BusinessCalendar.objects.filter(name=OFFICE).first()
    if office is None:
        office = services.calendar_create(
            actor=actor,
            name=OFFICE,
            timezone='Europe/Berlin',
            hours={day: ['08:00-18:00'] for day in WEEKDAYS},
            holiday_country='DE',
            holiday_subdivision='BE',
            custom_holidays=[
                {'date': '2026-12-24', 'name': 'Christmas Eve'},
                {'date': '2026-12-31', 'name': "New Year's Eve"},
            ],
            description='Monday to Friday 08:00-18:00 Berlin time, without public holidays in Berlin.',
        )
        created += 1
    calendars[OFFICE] = office
    for kind, priority, response, resolution, calendar in SLAS:
        name = f'P{priority} {kind}s'
        if ServiceLevelAgreement.objects.filter(name=name).exists():
            continue
        services.sla_create(
            actor=actor,
            name=name,
            ticket_kind=kind,
            priority=priority,
            response_minutes=response,
            resolution_minutes=resolution,
            calendar=calendars[calendar],
        )
        created += 1
    from cmdb.models import ConfigurationItem

    for service_name, kind, priority, response, resolution, calendar in SERVICE_SLAS:
        service = ConfigurationItem.objects.services().filter(name=service_name).first()
        name = f'{service_name} P{priority} {kind}s'
        if service is None or ServiceLevelAgreement.objects.filter(name=name).exists():
            continue
        services.sla_create(
            actor=actor,
            name=name,
            ticket_kind=kind,
            priority=priority,
            service=service,
            response_minutes=response,
            resolution_minutes=resolution,
            calendar=calendars[calendar],
        )
        created += 1
    groups = {group.name: group for group in SupportGroup.objects.all()}
    for group_name, priority, accept, resolve, calendar in OLAS:
        group = groups.get(group_name)
        name = f'{group_name} ({f"P{priority}" if priority is not None else "all priorities"})'
        if group is None or OperationalLevelAgreement.objects.filter(name=name).exists():
            continue
        services.ola_create(
            actor=actor,
            name=name,
            support_group=group,
            priority=priority,
            accept_minutes=accept,
            resolve_minutes=resolve,
            calendar=calendars[calendar],
        )
        created += 1
    for name, supplier, reference, response, resolution, calendar, email in CONTRACTS:
        if UnderpinningContract.objects.filter(name=name, supplier=supplier).exists():
            continue
        services.contract_create(
            actor=actor,
            name=name,
            supplier=supplier,
            reference=reference,
            response_minutes=response,
            resolution_minutes=resolution,
            calendar=calendars[calendar],
            contact_email=email,
        )
        created += 1
    log(f'sla: {created} calendars, agreements and contracts created')
