"""A layered CMDB estate of any size (100 CIs and up) with about three relationships per CI.

At 100,000 CIs: 300 network segments (a meshed WAN core, backbones, 280 access LANs), 1,700 network devices
(core and distribution routers, access switches), 2,000 storage systems, 16,000 servers, 30,000 virtual
machines, 10,000 databases, 35,000 applications in 350 business domains (front ends → middle tier → back ends →
databases, the first 500 back ends shared platform components), 1,000 services (300 technical, 700 business),
2,000 documents and 2,000 workstations; other sizes scale every layer. Routers uplink to segments and back ends
call each other, so the graph has cycles, as real ones do.

`Layout(cis)` is deterministic: it tells where each role's CIs lie (offsets from the first CI id), so a
benchmark can pick core routers or access LANs of a generated estate without storing anything.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from cmdb.choices import CIClass, CIStatus, Criticality, Environment
from cmdb.models import ConfigurationItem, Relationship, Service

from .writer import Table

BASE = 100_000
MIN_CIS = 100
MARKER = 'Synthetic estate'

# role, class, size at BASE CIs, least count, name prefix, support group key
ROLES = [
    ('wan', CIClass.NETWORK_SEGMENT, 4, 1, 'wan', 'network'),
    ('backbone', CIClass.NETWORK_SEGMENT, 16, 1, 'backbone', 'network'),
    ('lan', CIClass.NETWORK_SEGMENT, 280, 2, 'lan', 'network'),
    ('core', CIClass.NETWORK_DEVICE, 10, 1, 'core-rtr', 'network_l3'),
    ('distribution', CIClass.NETWORK_DEVICE, 40, 1, 'dist-rtr', 'network'),
    ('access', CIClass.NETWORK_DEVICE, 1_650, 2, 'acc-sw', 'network'),
    ('storage', CIClass.STORAGE, 2_000, 2, 'stor', 'storage'),
    ('server', CIClass.SERVER, 16_000, 4, 'srv', 'linux'),
    ('vm', CIClass.VIRTUAL_MACHINE, 30_000, 4, 'vm', 'windows'),
    ('database', CIClass.DATABASE, 10_000, 3, 'db', 'dba'),
    ('application', CIClass.APPLICATION, 35_000, 10, 'app', 'web'),
    ('technical_service', CIClass.SERVICE, 300, 3, None, None),
    ('business_service', CIClass.SERVICE, 700, 3, None, None),
    ('document', CIClass.DOCUMENT, 2_000, 2, 'doc', 'infra'),
    ('workstation', CIClass.WORKSTATION, 2_000, 2, 'ws', 'euc'),
]
TECHNICAL_SERVICES = (
    'Network access',
    'Remote access VPN',
    'Compute platform',
    'Storage platform',
    'Backup',
    'Database hosting',
    'Identity',
    'Messaging',
    'Monitoring',
    'Container platform',
    'DNS and DHCP',
    'Endpoint management',
    'Managed print',
    'Telephony',
    'E-mail',
)
BUSINESS_SERVICES = (
    'Payroll',
    'Order management',
    'Customer portal',
    'Web shop',
    'Invoicing',
    'CRM',
    'Warehouse',
    'Production planning',
    'HR self-service',
    'Expense claims',
    'Travel booking',
    'Intranet',
    'Reporting',
    'Procurement',
    'Contract management',
    'Service portal',
    'Fleet management',
    'Time tracking',
    'E-learning',
    'Document management',
)
# Which group supports a service, by the kind of service (technical services by name, business by number).
TECHNICAL_HOMES = (
    'network',
    'network',
    'linux',
    'storage',
    'storage',
    'dba',
    'identity',
    'windows',
    'linux',
    'linux',
    'network',
    'euc',
    'euc',
    'euc',
    'windows',
)
BUSINESS_HOMES = (
    'erp',
    'erp',
    'web',
    'web',
    'erp',
    'web',
    'erp',
    'erp',
    'identity',
    'erp',
    'web',
    'web',
    'dba',
    'erp',
    'erp',
    'web',
    'erp',
    'erp',
    'web',
    'web',
)
SITES = ('Frankfurt DC1', 'Frankfurt DC2', 'Munich', 'Hamburg', 'Lyon', 'Chicago DC', 'Toronto')
ENGINES = ('postgresql', 'postgresql', 'oracle', 'sql_server', 'mysql', 'mongodb', 'redis')
PORTS = {'postgresql': 5432, 'oracle': 1521, 'sql_server': 1433, 'mysql': 3306, 'mongodb': 27017, 'redis': 6379}
CRITICALITIES = (
    (Criticality.CRITICAL, 0.1),
    (Criticality.HIGH, 0.25),
    (Criticality.MEDIUM, 0.45),
    (Criticality.LOW, 0.2),
)

CI_TABLE = Table(
    ConfigurationItem,
    [
        'id',
        'created_at',
        'updated_at',
        'number',
        'name',
        'ci_class',
        'status',
        'environment',
        'support_group_id',
        'location',
        'vendor',
        'version',
        'description',
        'attributes',
    ],
)
SERVICE_TABLE = Table(Service, ['ci_id', 'created_at', 'updated_at', 'kind', 'status', 'criticality'])
RELATIONSHIP_TABLE = Table(
    Relationship, ['id', 'created_at', 'updated_at', 'source_id', 'type', 'target_id', 'description']
)
TABLES = (CI_TABLE, SERVICE_TABLE, RELATIONSHIP_TABLE)


@dataclass(frozen=True)
class Layout:
    """Where each role's CIs lie, as ranges of offsets (0-based) from the estate's first CI."""

    cis: int
    roles: dict[str, range]

    @classmethod
    def of(cls, cis: int) -> Layout:
        if cis < MIN_CIS:
            raise ValueError(f'An estate has at least {MIN_CIS} CIs.')
        sizes = {role: max(least, round(size * cis / BASE)) for role, _c, size, least, *_ in ROLES}
        sizes['vm'] += cis - sum(sizes.values())  # the largest layer absorbs the rounding
        roles, start = {}, 0
        for role, *_ in ROLES:
            roles[role] = range(start, start + sizes[role])
            start += sizes[role]
        return cls(cis, roles)

    def ids(self, role: str, first_id: int) -> range:
        offsets = self.roles[role]
        return range(first_id + offsets.start, first_id + offsets.stop)

    def domains(self) -> list[range]:
        """Business domains of about 100 applications: 30 % front ends, 50 % middle tier, 20 % back ends."""
        apps = self.roles['application']
        count = max(1, round(len(apps) / 100))
        size, extra = divmod(len(apps), count)
        domains, start = [], apps.start
        for index in range(count):
            end = start + size + (1 if index < extra else 0)
            domains.append(range(start, end))
            start = end
        return domains

    @staticmethod
    def tiers(domain: range) -> tuple[range, range, range]:
        front = max(1, round(len(domain) * 0.3))
        middle = max(1, round(len(domain) * 0.5))
        return domain[:front], domain[front : front + middle], domain[front + middle :]

    def platform(self) -> list[int]:
        """The back ends of the first domains (500 at 100,000 CIs): identity, messaging, shared libraries."""
        domains = self.domains()
        count = max(1, round(len(domains) * 25 / 350))
        return [app for domain in domains[:count] for app in self.tiers(domain)[2]]


@dataclass
class Estate:
    """A generated estate: its layout, first CI id, and what tickets need (services, their groups and CIs)."""

    layout: Layout
    first_id: int
    services: list[int] = field(default_factory=list)
    service_names: dict[int, str] = field(default_factory=dict)
    service_homes: dict[int, str] = field(default_factory=dict)
    service_cis: dict[int, list[int]] = field(default_factory=dict)
    ci_names: dict[int, str] = field(default_factory=dict)
    relationships: int = 0


def load(cis: int, first_id: int, groups: dict[int, str]) -> Estate:
    """The services of an estate already in the database (`groups`: support group id → key), for new tickets."""
    layout = Layout.of(cis)
    estate = Estate(layout=layout, first_id=first_id)
    services = ConfigurationItem.objects.filter(ci_class=CIClass.SERVICE, description=MARKER).order_by('pk')
    for pk, name, group in services.values_list('pk', 'name', 'support_group_id'):
        estate.services.append(pk)
        estate.service_names[pk] = name
        estate.service_homes[pk] = groups.get(group, 'euc')
    return estate


def relationships(layout: Layout, rng: random.Random) -> list[tuple[int, str, int]]:
    """(source offset, type, target offset) triples, about three per CI: each source depends on its target."""
    r = layout.roles
    target = 3 * layout.cis
    seen: set[tuple[int, int, str]] = set()
    links: list[tuple[int, str, int]] = []

    def add(source: int, type_: str, to: int) -> None:
        if source != to and (source, to, type_) not in seen:
            seen.add((source, to, type_))
            links.append((source, type_, to))

    def each(sources: Sequence[int], type_: str, targets: Sequence[int], per: int = 1) -> None:
        for source in sources:
            for _ in range(per):
                add(source, type_, rng.choice(targets))

    # Network: WAN segments and core routers depend on each other (a meshed core, so cycles); distribution
    # routers hang off the core, backbones off distribution, access switches off a backbone, access LANs off two
    # switches, and every host off one LAN.
    each(r['core'], 'connected_to', r['wan'], per=2)
    each(r['wan'], 'connected_to', r['core'], per=3)
    each(r['distribution'], 'connected_to', r['core'], per=2)
    each(r['backbone'], 'connected_to', r['distribution'], per=2)
    each(r['access'], 'connected_to', r['backbone'])
    each(r['lan'], 'connected_to', r['access'], per=2)
    for hosts in ('server', 'vm', 'storage', 'workstation'):
        each(r[hosts], 'connected_to', r['lan'])
    # Compute and backups.
    each(r['vm'], 'runs_on', r['server'])
    for software in (*r['database'], *r['application']):
        add(software, 'runs_on', rng.choice(r['vm']) if rng.random() < 0.75 else rng.choice(r['server']))
    each(r['server'], 'backed_up_by', r['storage'])
    each(r['database'], 'backed_up_by', r['storage'])
    # Domains: every application uses one of the domain's databases, some a second; front ends call the middle
    # tier, which calls the back ends; a few back ends call each other (the odd cycle).
    domains = layout.domains()
    dbs = r['database']
    platform = layout.platform()
    for index, domain in enumerate(domains):
        own = dbs[index * len(dbs) // len(domains) : (index + 1) * len(dbs) // len(domains)] or dbs
        front, middle, back = layout.tiers(domain)
        each(domain, 'depends_on', own)
        each(rng.sample(domain, round(len(domain) * 0.43)), 'depends_on', own)
        each(front, 'depends_on', middle or domain, per=2)
        each(middle, 'depends_on', back or domain)
        each(back[:5], 'depends_on', back or domain)
    # Services use front ends and middle tiers of two domains and are documented; business services also use
    # two technical ones. Desktops are members of the desktop services.
    technical, business = r['technical_service'], r['business_service']
    for service in (*technical, *business):
        for domain in rng.sample(domains, min(2, len(domains))):
            front, middle, _back = layout.tiers(domain)
            each([service], 'depends_on', [*front, *middle], per=10)
    each(business, 'depends_on', technical, per=2)
    each([*technical, *business], 'depends_on', r['document'], per=2)
    each(r['workstation'], 'member_of', technical[:10])
    # Half the servers are dual-homed: members of a second VLAN.
    each(rng.sample(r['server'], len(r['server']) // 2), 'member_of', r['lan'])
    # The rest: applications using platform components, and a few calls across domains.
    apps = r['application']
    attempts = 0
    while len(links) < target and attempts < 20 * target:
        attempts += 1
        app = rng.choice(apps)
        if rng.random() < 0.9:
            add(app, 'depends_on', rng.choice(platform))
        else:
            add(app, 'depends_on', rng.choice(layout.tiers(rng.choice(domains))[1] or apps))
    return links[:target]


def _attributes(role: str, ci_class: str, name: str, index: int, rng: random.Random) -> str:
    if ci_class in (CIClass.SERVER, CIClass.VIRTUAL_MACHINE):
        os_name = 'Linux' if rng.random() < 0.6 else 'Windows Server'
        extra = '"form_factor": "rack"' if ci_class == CIClass.SERVER else '"hypervisor": "vmware"'
        cpus, memory = rng.choice((2, 4, 8, 16, 32)), rng.choice((8, 16, 32, 64, 128))
        return (
            f'{{"hostname": "{name}.corp.example", "os": "{os_name}", "cpu_count": {cpus}, '
            f'"memory_gb": {memory}, {extra}}}'
        )
    if ci_class == CIClass.WORKSTATION:
        form = 'laptop' if rng.random() < 0.7 else 'desktop'
        return f'{{"hostname": "{name}.corp.example", "os": "Windows 11", "form_factor": "{form}"}}'
    if ci_class == CIClass.DATABASE:
        engine = rng.choice(ENGINES)
        return f'{{"engine": "{engine}", "port": {PORTS[engine]}, "size_gb": {rng.randint(1, 4000)}}}'
    if ci_class == CIClass.NETWORK_DEVICE:
        return f'{{"device_type": "{"switch" if role == "access" else "router"}", "port_count": 48}}'
    if ci_class == CIClass.NETWORK_SEGMENT:
        kind = 'wan' if role == 'wan' else 'lan'
        cidr = f'10.{index // 256 % 256}.{index % 256}.0/24'
        return f'{{"segment_type": "{kind}", "cidr": "{cidr}", "vlan_id": {index % 4000 + 1}}}'
    if ci_class == CIClass.STORAGE:
        kind = rng.choice(('san', 'nas', 'backup'))
        return f'{{"storage_type": "{kind}", "capacity_tb": {rng.choice((20, 50, 120, 300))}}}'
    if ci_class == CIClass.APPLICATION:
        language = rng.choice(('Java', 'Python', 'C#', 'Go', 'TypeScript'))
        return f'{{"license": "in_house", "language": "{language}"}}'
    if ci_class == CIClass.SERVICE:
        return '{"service_hours": "24x7"}' if role == 'technical_service' else '{"service_hours": "business_hours"}'
    if ci_class == CIClass.DOCUMENT:
        return f'{{"document_type": "runbook", "url": "https://wiki.corp.example/runbooks/{index}"}}'
    return '{}'


def _service_name(role: str, position: int) -> tuple[str, str]:
    """(name, home group key) of the position-th service of a role."""
    names, homes = (
        (TECHNICAL_SERVICES, TECHNICAL_HOMES) if role == 'technical_service' else (BUSINESS_SERVICES, BUSINESS_HOMES)
    )
    base = names[position % len(names)]
    cycle = position // len(names)
    return (f'{base} {cycle + 1:03d}' if len(names) <= position or cycle else base), homes[position % len(names)]


def generate(
    layout: Layout,
    *,
    write: Callable[[Table, tuple], None],
    first_id: int,
    first_number: int,
    first_relationship_id: int,
    groups: dict[str, int],
    now: int,
    rng: random.Random,
    progress=None,
) -> Estate:
    """Write the estate's CIs, service details and relationships through `write`; returns what tickets need."""
    from itsm.numbering import format_number

    estate = Estate(layout=layout, first_id=first_id)
    for role, ci_class, _size, _least, prefix, group_key in ROLES:
        for position, offset in enumerate(layout.roles[role]):
            pk = first_id + offset
            created = now - rng.randrange(400 * 86400, 1500 * 86400)
            if ci_class == CIClass.SERVICE:
                name, home = _service_name(role, position)
                estate.services.append(pk)
                estate.service_names[pk] = name
                estate.service_homes[pk] = home
                group = groups[home]
            else:
                name = f'{prefix}-{offset + 1:06d}'
                group = groups[group_key]
            estate.ci_names[pk] = name
            status = CIStatus.IN_PRODUCTION if rng.random() < 0.97 else CIStatus.MAINTENANCE
            write(
                CI_TABLE,
                (
                    pk,
                    created,
                    created + rng.randrange(0, 300 * 86400),
                    format_number('CI', first_number + offset),
                    name,
                    ci_class,
                    status,
                    Environment.PRODUCTION,
                    group,
                    rng.choice(SITES),
                    '',
                    '',
                    MARKER,
                    _attributes(role, ci_class, name, offset, rng),
                ),
            )
            if ci_class == CIClass.SERVICE:
                kind = 'technical' if role == 'technical_service' else 'business'
                criticality = rng.choices(*zip(*CRITICALITIES, strict=True))[0]
                write(SERVICE_TABLE, (pk, created, created, kind, 'operational', criticality))
            if progress:
                progress.advance()
    services = set(estate.services)
    apps = set(layout.ids('application', first_id))
    for index, (source, type_, to) in enumerate(relationships(layout, rng)):
        source_id, target_id = first_id + source, first_id + to
        created = now - rng.randrange(30 * 86400, 400 * 86400)
        write(RELATIONSHIP_TABLE, (first_relationship_id + index, created, created, source_id, type_, target_id, ''))
        estate.relationships += 1
        if source_id in services and target_id in apps:
            estate.service_cis.setdefault(source_id, []).append(target_id)
        if progress:
            progress.advance()
    return estate
