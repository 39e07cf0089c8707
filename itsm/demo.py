"""Demo data of the shared core: people in every role and support groups on each tier.

Loaded by `manage.py load_demo_data` (run by `make run`); idempotent: records are looked up by natural key
and only created when missing.
"""

from django.db import transaction

from . import services
from .audit import Actor
from .choices import Role, Tier
from .models import SupportGroup, User

DEMO_PASSWORD = 'pitcrew-demo'

# (username, first name, last name, roles, department)
PEOPLE = [
    ('admin', 'Avery', 'Admin', [Role.ADMINISTRATOR], 'IT'),
    ('agent', 'Sam', 'Desk', [Role.SERVICE_DESK_AGENT], 'IT service desk'),
    ('agent2', 'Priya', 'Nair', [Role.SERVICE_DESK_AGENT], 'IT service desk'),
    ('l2', 'Lena', 'Fischer', [Role.L2_ENGINEER], 'IT operations'),
    ('l2net', 'Omar', 'Haddad', [Role.L2_ENGINEER], 'IT operations'),
    ('l3', 'Kenji', 'Sato', [Role.L3_ENGINEER], 'Platform engineering'),
    ('incident.manager', 'Grace', 'Okafor', [Role.INCIDENT_MANAGER, Role.SERVICE_DESK_AGENT], 'IT operations'),
    ('problem.manager', 'Marta', 'Silva', [Role.PROBLEM_MANAGER, Role.L2_ENGINEER], 'IT operations'),
    ('change.manager', 'Tom', 'Becker', [Role.CHANGE_MANAGER, Role.CAB_MEMBER], 'IT governance'),
    ('cab', 'Ines', 'Moreau', [Role.CAB_MEMBER], 'IT governance'),
    ('service.owner', 'Victor', 'Lindqvist', [Role.SERVICE_OWNER], 'IT services'),
    ('business.owner', 'Hannah', 'Adler', [Role.BUSINESS_OWNER], 'Finance'),
    ('knowledge', 'Yusuf', 'Demir', [Role.KNOWLEDGE_MANAGER, Role.SERVICE_DESK_AGENT], 'IT service desk'),
    ('comms.lead', 'Noor', 'Rahman', [Role.SERVICE_DESK_AGENT], 'IT communications'),
    ('manager', 'Claire', 'Dubois', [Role.MANAGER], 'IT management'),
    ('requester', 'Robin', 'Meyer', [Role.REQUESTER], 'Sales'),
    ('requester2', 'Ana', 'Costa', [Role.REQUESTER], 'Human resources'),
    ('monitoring', 'Monitoring', 'Bot', [Role.INTEGRATION], 'IT operations'),
]

# (name, tier, manager, members, escalates to)
GROUPS = [
    (
        'Service Desk',
        Tier.L1,
        'incident.manager',
        ['agent', 'agent2', 'incident.manager', 'knowledge'],
        'Desktop Support',
    ),
    ('Desktop Support', Tier.L2, 'incident.manager', ['l2'], 'Platform Engineering'),
    ('Network Operations', Tier.L2, 'incident.manager', ['l2net'], 'Platform Engineering'),
    ('Server and Storage', Tier.L2, 'problem.manager', ['l2', 'problem.manager'], 'Platform Engineering'),
    ('Platform Engineering', Tier.L3, 'manager', ['l3'], None),
    ('Database Administration', Tier.L3, 'manager', ['l3'], None),
]

DEMO_LOGINS = [
    ('admin', DEMO_PASSWORD, 'administrator'),
    ('agent', DEMO_PASSWORD, 'service desk agent (L1, Service Desk)'),
    ('l2', DEMO_PASSWORD, 'L2 engineer (Desktop Support, Server and Storage)'),
    ('l3', DEMO_PASSWORD, 'L3 engineer (Platform Engineering)'),
    ('incident.manager', DEMO_PASSWORD, 'incident manager'),
    ('comms.lead', DEMO_PASSWORD, 'communications lead of major incidents (service desk agent)'),
    ('change.manager', DEMO_PASSWORD, 'change manager and CAB member'),
    ('manager', DEMO_PASSWORD, 'manager (dashboards)'),
    ('requester', DEMO_PASSWORD, 'requester (self-service portal)'),
]


@transaction.atomic
def load(log=print) -> None:
    actor = Actor.system()
    created = 0
    for username, first, last, roles, department in PEOPLE:
        if User.objects.filter(username=username).exists():
            continue
        user = services.user_create(
            username=username,
            email=f'{username}@pitcrew.example',
            first_name=first,
            last_name=last,
            roles=roles,
            department=department,
            is_staff=Role.ADMINISTRATOR in roles,
            is_superuser=Role.ADMINISTRATOR in roles,
            actor=actor,
        )
        # Demo passwords are published in the README, so they skip the password policy on purpose.
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=['password'])
        created += 1
    users = {u.username: u for u in User.objects.all()}
    for name, tier, manager, members, _ in GROUPS:
        if not SupportGroup.objects.filter(name=name).exists():
            services.support_group_create(
                name=name,
                tier=tier,
                manager=users[manager],
                members=[users[m] for m in members],
                email=f'{name.lower().replace(" ", "-")}@pitcrew.example',
                actor=actor,
            )
            created += 1
    groups = {g.name: g for g in SupportGroup.objects.all()}
    for name, *_, escalates_to in GROUPS:
        group = groups[name]
        if escalates_to and group.escalation_group_id is None:
            services.support_group_update(group=group, escalation_group=groups[escalates_to], actor=actor)
    log(f'core: {created} people and groups created')
