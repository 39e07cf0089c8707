"""The desk behind the generated tickets: support groups with agents, callers, categories and the agreements.

Small tables, written through the ORM (`bulk_create`) on every database. People and groups carry markers (user
names starting with `syn.`, e-mail addresses at `synthetic.example`) so a reset finds them again; categories and
agreements are shared reference data: existing ones are reused and a reset leaves them.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field

from django.contrib.auth.models import Group

from incidents.models import Category
from itsm import snapshots
from itsm.choices import Role, Tier
from itsm.models import SupportGroup, User
from sla.models import BusinessCalendar, OperationalLevelAgreement, ServiceLevelAgreement

USER_PREFIX = 'syn.'
EMAIL_DOMAIN = 'synthetic.example'

# key, name, tier, escalates to, OLA (accept minutes, resolve minutes) or None
GROUPS = [
    ('desk_eu', 'Service Desk Europe', Tier.L1, 'euc', None),
    ('desk_am', 'Service Desk Americas', Tier.L1, 'euc', (30, 480)),
    ('euc', 'End User Computing', Tier.L2, 'infra', None),
    ('network', 'Network Engineering', Tier.L2, 'network_l3', (120, 4320)),
    ('network_l3', 'Network Architecture', Tier.L3, None, None),
    ('windows', 'Windows Server Team', Tier.L2, 'infra', None),
    ('linux', 'Linux Server Team', Tier.L2, 'infra', (120, 4320)),
    ('storage', 'Storage and Backup', Tier.L2, 'infra', None),
    ('infra', 'Infrastructure Architecture', Tier.L3, None, None),
    ('dba', 'Database Administration Team', Tier.L2, 'dba_l3', (120, 4320)),
    ('dba_l3', 'Database Engineering', Tier.L3, None, None),
    ('erp', 'ERP Applications', Tier.L2, 'appdev', None),
    ('web', 'Web and Portal Applications', Tier.L2, 'appdev', None),
    ('appdev', 'Application Development', Tier.L3, None, None),
    ('identity', 'Identity and Access', Tier.L2, 'security', (120, 2880)),
    ('security', 'Security Operations', Tier.L3, None, None),
]
DESKS = ('desk_eu', 'desk_am')
ROLE_OF_TIER = {Tier.L1: Role.SERVICE_DESK_AGENT, Tier.L2: Role.L2_ENGINEER, Tier.L3: Role.L3_ENGINEER}

# Top-level categories, their subcategories, and the groups whose services they describe.
CATEGORIES = [
    ('Hardware', ['Laptop', 'Desktop', 'Printer', 'Monitor', 'Mobile device'], ('euc',)),
    ('Software', ['Office suite', 'Business application', 'Installation', 'Licence'], ('erp', 'web', 'appdev')),
    ('Network', ['VPN', 'Wi-Fi', 'LAN', 'WAN', 'Firewall'], ('network', 'network_l3')),
    ('Email', ['Mailbox', 'Calendar', 'Distribution list', 'Spam'], ('euc', 'windows')),
    ('Access', ['Account', 'Password reset', 'Permissions', 'MFA'], ('identity',)),
    ('Database', ['Performance', 'Backup', 'Replication'], ('dba', 'dba_l3')),
    ('Server', ['Outage', 'Performance', 'Disk space', 'Patching'], ('windows', 'linux', 'infra')),
    ('Storage', ['File share', 'Quota', 'Restore'], ('storage',)),
    ('Security', ['Malware', 'Phishing', 'Vulnerability'], ('security', 'identity')),
    ('Telephony', ['Desk phone', 'Softphone', 'Conference room'], ('euc',)),
]

# Default SLA targets in minutes per priority: (response, resolution), for incidents and cases.
SLA_TARGETS = {
    'incident': {0: (15, 240), 1: (30, 720), 2: (60, 2160), 3: (240, 4320), 4: (480, 10080)},
    'case': {0: (30, 480), 1: (60, 1440), 2: (240, 4320), 3: (480, 7200), 4: (1440, 14400)},
}

FIRST_NAMES = (
    'Anna',
    'Ben',
    'Clara',
    'David',
    'Elif',
    'Felix',
    'Greta',
    'Hugo',
    'Ines',
    'Jonas',
    'Karin',
    'Leon',
    'Maria',
    'Noah',
    'Olga',
    'Paul',
    'Quinn',
    'Rosa',
    'Sven',
    'Tara',
    'Umar',
    'Vera',
    'Wim',
    'Xenia',
    'Yann',
    'Zoe',
    'Aiko',
    'Bruno',
    'Chloe',
    'Dario',
    'Emma',
    'Farid',
    'Gina',
    'Hamid',
    'Ida',
    'Jakob',
    'Lina',
    'Malik',
    'Nora',
    'Oskar',
)
LAST_NAMES = (
    'Berg',
    'Costa',
    'Dubois',
    'Eriksen',
    'Fischer',
    'Garcia',
    'Hansen',
    'Ivanova',
    'Jansen',
    'Kowalski',
    'Lund',
    'Moreau',
    'Novak',
    'Okafor',
    'Petrov',
    'Quist',
    'Rossi',
    'Schmidt',
    'Tanaka',
    'Urban',
    'Virtanen',
    'Weber',
    'Yilmaz',
    'Zimmermann',
    'Almeida',
    'Brandt',
    'Conti',
    'Dahl',
    'Ekström',
    'Fontaine',
)
DEPARTMENTS = (
    'Sales',
    'Finance',
    'Human resources',
    'Logistics',
    'Production',
    'Marketing',
    'Legal',
    'Research',
    'Customer service',
    'Procurement',
)
LOCATIONS = (
    'Frankfurt HQ',
    'Munich',
    'Hamburg',
    'Lyon',
    'Milan',
    'Madrid',
    'Warsaw',
    'Chicago',
    'Toronto',
    'São Paulo',
)


def _name(index: int) -> tuple[str, str]:
    first = FIRST_NAMES[index % len(FIRST_NAMES)]
    last = LAST_NAMES[(index // len(FIRST_NAMES) + index) % len(LAST_NAMES)]
    return first, last


def _ascii(text: str) -> str:
    """For user names and e-mail addresses: Ekström → ekstrom."""
    return unicodedata.normalize('NFKD', text).encode('ascii', 'ignore').decode().lower()


@dataclass
class Agreement:
    """What a clock takes from its agreement."""

    id: int
    name: str
    calendar: BusinessCalendar
    targets: dict[str, int]  # clock kind → minutes
    warning_percents: list[int]
    pause_states: list[str]


@dataclass
class Team:
    key: str
    id: int
    name: str
    tier: str
    members: list[int]
    escalation: str | None
    ola: Agreement | None = None


@dataclass
class Desk:
    """The reference data tickets are drawn from (ids and display names, no model instances in the hot path)."""

    teams: dict[str, Team]
    callers: list[int]
    manager: int
    integration: int
    names: dict[int, str]  # user id → display name
    categories: dict[str, tuple[int, list[int]]]  # top name → (id, subcategory ids)
    category_names: dict[int, str]
    slas: dict[tuple[str, int], Agreement]
    created_users: int = 0
    extra: dict = field(default_factory=dict)


def _role_groups() -> dict[str, Group]:
    return {slug: Group.objects.get_or_create(name=slug)[0] for slug in Role.values}


def _people(incidents: int, rng: random.Random) -> tuple[dict[str, list[User]], list[User], User, User, int]:
    """Agents per group, callers, a manager and a monitoring integration, all created in bulk."""
    agents_per_group = min(12, max(3, incidents // 8000))
    callers = min(20_000, max(20, incidents // 50))
    people: list[tuple[User, list[str]]] = []
    index = 0

    def person(kind: str, roles: list[str], **fields) -> User:
        nonlocal index
        first, last = _name(index)
        index += 1
        handle = f'{_ascii(first)}.{_ascii(last)}.{index}'
        user = User(
            username=f'{USER_PREFIX}{kind}.{handle}',
            email=f'{handle}@{EMAIL_DOMAIN}',
            first_name=first,
            last_name=last,
            password='!',
            **fields,
        )
        people.append((user, roles))
        return user

    agents: dict[str, list[User]] = {}
    for key, _group_name, tier, _escalation, _ola in GROUPS:
        agents[key] = [
            person('agent', [ROLE_OF_TIER[tier], *([Role.MANAGER] if n == 0 else [])], department='IT')
            for n in range(agents_per_group)
        ]
    manager = person('manager', [Role.MANAGER, Role.INCIDENT_MANAGER], department='IT management')
    integration = User(
        username=f'{USER_PREFIX}monitoring',
        email=f'monitoring@{EMAIL_DOMAIN}',
        first_name='Monitoring',
        last_name='Bot',
        password='!',
        department='IT operations',
    )
    people.append((integration, [Role.INTEGRATION]))
    caller_users = [
        person(
            'user',
            [Role.REQUESTER],
            department=rng.choice(DEPARTMENTS),
            location=rng.choice(LOCATIONS),
            vip=rng.random() < 0.01,
        )
        for _ in range(callers)
    ]
    User.objects.bulk_create([user for user, _ in people], batch_size=2000)
    saved = {u.username: u for u in User.objects.filter(username__startswith=USER_PREFIX)}
    roles = _role_groups()
    through = User.groups.through
    through.objects.bulk_create(
        [through(user_id=saved[user.username].pk, group_id=roles[role].pk) for user, slugs in people for role in slugs],
        batch_size=5000,
    )
    agents = {key: [saved[u.username] for u in members] for key, members in agents.items()}
    return (
        agents,
        [saved[u.username] for u in caller_users],
        saved[manager.username],
        saved[integration.username],
        len(people),
    )


def _categories() -> tuple[dict[str, tuple[int, list[int]]], dict[int, str]]:
    tops: dict[str, tuple[int, list[int]]] = {}
    names: dict[int, str] = {}
    for name, subs, _groups in CATEGORIES:
        top = Category.objects.filter(name=name, parent=None).first() or Category.objects.create(name=name)
        children = []
        for sub in subs:
            child = Category.objects.filter(name=sub, parent=top).first() or Category.objects.create(
                name=sub, parent=top
            )
            children.append(child.pk)
            names[child.pk] = sub
        tops[name] = (top.pk, children)
        names[top.pk] = name
    return tops, names


def _agreement(obj, targets: dict[str, int]) -> Agreement:
    return Agreement(
        id=obj.pk,
        name=obj.name if isinstance(obj, ServiceLevelAgreement) else obj.support_group.name,
        calendar=obj.calendar,
        targets=targets,
        warning_percents=sorted(obj.warning_percents),
        pause_states=list(obj.pause_states),
    )


def _slas(calendar: BusinessCalendar) -> dict[tuple[str, int], Agreement]:
    """The default SLA of each ticket kind and priority: the active one when there is one, else a new one."""
    slas = {}
    for kind, per_priority in SLA_TARGETS.items():
        for priority, (response, resolution) in per_priority.items():
            sla = (
                ServiceLevelAgreement.objects.select_related('calendar')
                .filter(active=True, ticket_kind=kind, priority=priority, service__isnull=True)
                .first()
            )
            if sla is None:
                sla = ServiceLevelAgreement.objects.create(
                    name=f'Standard P{priority} {kind}s',
                    ticket_kind=kind,
                    priority=priority,
                    calendar=calendar,
                    response_minutes=response,
                    resolution_minutes=resolution,
                )
            slas[kind, priority] = _agreement(
                sla, {'response': sla.response_minutes, 'resolution': sla.resolution_minutes}
            )
    return slas


def load() -> Desk:
    """The desk of the synthetic data set already in the database (to add tickets to it)."""
    keys = {name: key for key, name, *_ in GROUPS}
    groups = SupportGroup.objects.filter(email__endswith=f'@{EMAIL_DOMAIN}').prefetch_related('members')
    olas = {
        ola.support_group_id: ola
        for ola in OperationalLevelAgreement.objects.select_related('calendar', 'support_group').filter(
            active=True, priority__isnull=True, support_group__in=groups
        )
    }
    teams = {}
    for group in groups:
        key = keys[group.name]
        escalation = dict((k, e) for k, _n, _t, e, _o in GROUPS)[key]
        team = Team(key, group.pk, group.name, group.tier, sorted(m.pk for m in group.members.all()), escalation)
        ola = olas.get(group.pk)
        if ola is not None:
            team.ola = _agreement(ola, {'ola_accept': ola.accept_minutes, 'ola_resolve': ola.resolve_minutes})
        teams[key] = team
    people = User.objects.filter(username__startswith=USER_PREFIX).order_by('pk')
    names = {u.pk: u.get_full_name() or u.username for u in people.only('pk', 'username', 'first_name', 'last_name')}
    tops, category_names = _categories()
    return Desk(
        teams=teams,
        callers=list(people.filter(username__startswith=f'{USER_PREFIX}user.').values_list('pk', flat=True)),
        manager=people.filter(username__startswith=f'{USER_PREFIX}manager.').values_list('pk', flat=True)[0],
        integration=people.get(username=f'{USER_PREFIX}monitoring').pk,
        names=names,
        categories=tops,
        category_names=category_names,
        slas=_slas(BusinessCalendar.objects.builtin_24x7()),
    )


def build(incidents: int, rng: random.Random) -> Desk:
    """Create the people, groups, categories and agreements (in the caller's transaction)."""
    calendar = BusinessCalendar.objects.builtin_24x7()
    agents, callers, manager, integration, created = _people(incidents, rng)
    groups = {}
    for key, name, tier, _escalation, _ola in GROUPS:
        members = agents[key]
        groups[key] = SupportGroup(
            name=name,
            tier=tier,
            email=f'{key.replace("_", "-")}@{EMAIL_DOMAIN}',
            manager=members[0],
            description=f'{name} ({dict(Tier.choices)[tier]}).',
        )
    SupportGroup.objects.bulk_create(groups.values())
    snapshots.touch(snapshots.DESK_RULES)  # bulk_create saves no row one by one: the groups' version moves here
    saved = {g.name: g for g in SupportGroup.objects.filter(email__endswith=f'@{EMAIL_DOMAIN}')}
    through = SupportGroup.members.through
    through.objects.bulk_create(
        [through(supportgroup_id=saved[groups[key].name].pk, user_id=u.pk) for key in agents for u in agents[key]]
    )
    teams: dict[str, Team] = {}
    for key, name, tier, escalation, ola in GROUPS:
        group = saved[name]
        if escalation:
            group.escalation_group = saved[dict((k, n) for k, n, *_ in GROUPS)[escalation]]
            group.save(update_fields=['escalation_group'])
        team = Team(key, group.pk, name, tier, [u.pk for u in agents[key]], escalation)
        if ola:
            accept, resolve = ola
            record = OperationalLevelAgreement.objects.create(
                name=f'OLA {name}',
                support_group=group,
                calendar=calendar,
                accept_minutes=accept,
                resolve_minutes=resolve,
            )
            team.ola = _agreement(record, {'ola_accept': accept, 'ola_resolve': resolve})
        teams[key] = team
    tops, category_names = _categories()
    everyone = [*(u for members in agents.values() for u in members), *callers, manager, integration]
    return Desk(
        teams=teams,
        callers=[u.pk for u in callers],
        manager=manager.pk,
        integration=integration.pk,
        names={u.pk: u.get_full_name() or u.username for u in everyone},
        categories=tops,
        category_names=category_names,
        slas=_slas(calendar),
        created_users=created,
    )
