"""CMDB impact analysis on an estate of 100,000 CIs and 300,000 relationships (PostgreSQL).

The estate is layered like a real one: network segments behind routers and switches, servers and virtual
machines on those segments, databases and applications running on them, applications depending on
databases and on each other, services depending on applications, backups on storage. Routers uplink to
segments and applications call each other, so the graph has cycles. It is generated with a fixed seed,
loaded with COPY and kept between runs (rebuilt only when its size differs).

Timed: `cmdb.selectors.ci_impact` at depth 8, downstream and upstream, from a random sample of CIs, then from
the heavy cases: LANs and shared platform applications (large downstream), business services (large
upstream) and core routers, on which the whole estate depends.
"""

from __future__ import annotations

import io
import random
from collections.abc import Iterable

from django.db import connection
from django.utils import timezone

from bench import Result, measure
from cmdb.choices import CIClass, CIStatus, Environment, ImpactDirection
from cmdb.models import ConfigurationItem, RaciAssignment, Relationship, Service
from cmdb.selectors import ci_impact
from itsm.models import NumberSequence
from itsm.numbering import format_number

CI_COUNT = 100_000
RELATIONSHIP_COUNT = 300_000
DEPTH = 8
SAMPLE = 200
SEED = 20260
# Bump when the generator changes, so a database holding an older estate is rebuilt.
ESTATE = 'benchmark estate v4'

# How many CIs of each class the estate holds (sums to CI_COUNT).
CLASS_SIZES = [
    (CIClass.NETWORK_SEGMENT, 300),
    (CIClass.NETWORK_DEVICE, 1_700),
    (CIClass.STORAGE, 2_000),
    (CIClass.SERVER, 16_000),
    (CIClass.VIRTUAL_MACHINE, 30_000),
    (CIClass.DATABASE, 10_000),
    (CIClass.APPLICATION, 35_000),
    (CIClass.SERVICE, 1_000),
    (CIClass.DOCUMENT, 2_000),
    (CIClass.WORKSTATION, 2_000),
]
ATTRIBUTES = {
    CIClass.SERVER: '{"hostname": "srv.example.com"}',
    CIClass.VIRTUAL_MACHINE: '{"hostname": "vm.example.com"}',
    CIClass.WORKSTATION: '{"hostname": "pc.example.com"}',
    CIClass.DATABASE: '{"engine": "postgresql"}',
    CIClass.NETWORK_DEVICE: '{"device_type": "switch"}',
    CIClass.NETWORK_SEGMENT: '{"segment_type": "lan"}',
    CIClass.STORAGE: '{"storage_type": "san"}',
    CIClass.DOCUMENT: '{"document_type": "runbook", "url": "https://wiki.example.com/"}',
}


def _ids() -> dict[str, range]:
    ranges, start = {}, 1
    for ci_class, size in CLASS_SIZES:
        ranges[ci_class] = range(start, start + size)
        start += size
    return ranges


def _relationships(ids: dict[str, range], rng: random.Random) -> list[tuple[int, str, int]]:
    """(source, type, target) triples: each source depends on its target; no self-links, no duplicates."""
    seen: set[tuple[int, int, str]] = set()
    links: list[tuple[int, str, int]] = []

    def add(source: int, type_: str, target: int) -> None:
        if source != target and (source, target, type_) not in seen:
            seen.add((source, target, type_))
            links.append((source, type_, target))

    def each(sources, type_: str, targets, per: int = 1) -> None:
        for source in sources:
            for _ in range(per):
                add(source, type_, rng.choice(targets))

    # Network: WAN segments and core routers depend on each other (a meshed core, so cycles); distribution
    # routers hang off the core, backbone segments off distribution, access switches off a backbone,
    # access LANs off two switches, and every host off one LAN.
    segments, devices = ids[CIClass.NETWORK_SEGMENT], ids[CIClass.NETWORK_DEVICE]
    wan, backbone, lans = segments[:4], segments[4:20], segments[20:]
    core, distribution, access = devices[:10], devices[10:50], devices[50:]
    each(core, 'connected_to', wan, per=2)
    each(wan, 'connected_to', core, per=3)
    each(distribution, 'connected_to', core, per=2)
    each(backbone, 'connected_to', distribution, per=2)
    each(access, 'connected_to', backbone)
    each(lans, 'connected_to', access, per=2)
    servers, vms, storage = ids[CIClass.SERVER], ids[CIClass.VIRTUAL_MACHINE], ids[CIClass.STORAGE]
    for hosts in (servers, vms, storage, ids[CIClass.WORKSTATION]):
        each(hosts, 'connected_to', lans)
    # Compute and backups.
    each(vms, 'runs_on', servers)
    apps, dbs, services = ids[CIClass.APPLICATION], ids[CIClass.DATABASE], ids[CIClass.SERVICE]
    for software in (*dbs, *apps):
        add(software, 'runs_on', rng.choice(vms) if rng.random() < 0.75 else rng.choice(servers))
    each(servers, 'backed_up_by', storage)
    each(dbs, 'backed_up_by', storage)
    # Applications come in 350 business domains of 100 (30 front ends, 50 middle tier, 20 back ends) with
    # about 28 databases each; the first 500 back ends are shared platform components (identity, messaging).
    domains = [apps[i : i + 100] for i in range(0, len(apps), 100)]
    db_per_domain = len(dbs) // len(domains)
    platform = [app for domain in domains[:25] for app in domain[80:]]
    for index, domain in enumerate(domains):
        own_dbs = dbs[index * db_per_domain : (index + 1) * db_per_domain]
        front, middle, back = domain[:30], domain[30:80], domain[80:]
        each(domain, 'depends_on', own_dbs)
        each(rng.sample(domain, 43), 'depends_on', own_dbs)
        each(front, 'depends_on', middle, per=2)
        each(middle, 'depends_on', back)
        each(back[:5], 'depends_on', back)  # back ends calling each other: the odd cycle
    # Services use front ends and middle tiers of two domains and are documented; the 700 business
    # services also use two of the 300 technical ones. Desktops are members of the desktop services.
    technical, business = services[:300], services[300:]
    for service in services:
        for domain in rng.sample(domains, 2):
            each([service], 'depends_on', domain[:80], per=10)
    each(business, 'depends_on', technical, per=2)
    each(services, 'depends_on', ids[CIClass.DOCUMENT], per=2)
    each(ids[CIClass.WORKSTATION], 'member_of', technical[:10])
    # Half the servers are dual-homed: members of a second VLAN.
    each(rng.sample(servers, 8_000), 'member_of', lans)
    # The rest: applications using platform components, and a few calls across domains.
    while len(links) < RELATIONSHIP_COUNT:
        app = rng.choice(apps)
        if rng.random() < 0.9:
            add(app, 'depends_on', rng.choice(platform))
        else:
            add(app, 'depends_on', rng.choice(rng.choice(domains)[30:]))
    return links[:RELATIONSHIP_COUNT]


def _copy(table: str, columns: list[str], rows: Iterable[tuple]) -> None:
    buffer = io.StringIO()
    for row in rows:
        buffer.write('\t'.join('\\N' if v is None else str(v) for v in row) + '\n')
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.copy_expert(f'COPY {table} ({", ".join(columns)}) FROM STDIN', buffer)


def build() -> None:
    """Replace the CMDB tables' contents with the generated estate (fast: COPY, then VACUUM ANALYZE)."""
    rng = random.Random(SEED)
    ids = _ids()
    now = timezone.now().isoformat()
    tables = [m._meta.db_table for m in (RaciAssignment, Relationship, Service, ConfigurationItem)]
    with connection.cursor() as cursor:
        cursor.execute(f'TRUNCATE {", ".join(tables)} RESTART IDENTITY CASCADE')
    first = ConfigurationItem.number_start
    _copy(
        ConfigurationItem._meta.db_table,
        [
            'id',
            'created_at',
            'updated_at',
            'number',
            'name',
            'ci_class',
            'status',
            'environment',
            'location',
            'vendor',
            'version',
            'description',
            'attributes',
        ],  # fmt: skip
        (
            (
                pk,
                now,
                now,
                format_number('CI', first + pk - 1),
                f'{ci_class}-{pk}',
                ci_class,
                CIStatus.IN_PRODUCTION,
                Environment.PRODUCTION,
                '',
                '',
                '',
                ESTATE,
                ATTRIBUTES.get(ci_class, '{}'),
            )  # fmt: skip
            for ci_class, pks in ids.items()
            for pk in pks
        ),
    )
    _copy(
        Service._meta.db_table,
        ['ci_id', 'created_at', 'updated_at', 'kind', 'status', 'criticality'],
        ((pk, now, now, 'business', 'operational', 'medium') for pk in ids[CIClass.SERVICE]),
    )
    _copy(
        Relationship._meta.db_table,
        ['created_at', 'updated_at', 'source_id', 'type', 'target_id', 'description'],
        ((now, now, source, type_, target, '') for source, type_, target in _relationships(ids, rng)),
    )
    with connection.cursor() as cursor:
        table = ConfigurationItem._meta.db_table
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
        for name in tables:
            # VACUUM sets the visibility map, so the walk's index-only scans stay index-only (as autovacuum
            # would do on a live database).
            cursor.execute(f'VACUUM ANALYZE {name}')
    NumberSequence.objects.update_or_create(prefix='CI', defaults={'last': first + CI_COUNT - 1})


def _timed(label: str, cis: list[ConfigurationItem], direction: str, *, paths: bool = True) -> Result:
    calls = [lambda ci=ci: len(ci_impact(ci, direction=direction, depth=DEPTH, paths=paths)) for ci in cis]
    return measure(f'ci_impact depth {DEPTH} {direction}: {label}{"" if paths else ", no paths"}', calls)


def run() -> list[Result]:
    built = ConfigurationItem.objects.filter(pk=1, description=ESTATE).exists()
    counts = (ConfigurationItem.objects.count(), Relationship.objects.count())
    if not built or counts != (CI_COUNT, RELATIONSHIP_COUNT):
        build()
    rng = random.Random(SEED + 1)
    ids = _ids()
    sample = list(ConfigurationItem.objects.filter(pk__in=rng.sample(range(1, CI_COUNT + 1), SAMPLE)))
    lans = list(ConfigurationItem.objects.filter(pk__in=rng.sample(ids[CIClass.NETWORK_SEGMENT][20:], 20)))
    platform = [pk for start in range(0, 2_500, 100) for pk in ids[CIClass.APPLICATION][start + 80 : start + 100]]
    platform = list(ConfigurationItem.objects.filter(pk__in=rng.sample(platform, 20)))
    business = list(ConfigurationItem.objects.filter(pk__in=rng.sample(ids[CIClass.SERVICE][300:], 20)))
    core = list(ConfigurationItem.objects.filter(pk__in=ids[CIClass.NETWORK_DEVICE][:5]))
    down, up = ImpactDirection.DOWNSTREAM, ImpactDirection.UPSTREAM
    return [
        _timed(f'{SAMPLE} random CIs', sample, down),
        _timed(f'{SAMPLE} random CIs', sample, up),
        _timed('20 access LANs (~180 hosts each)', lans, down),
        _timed('20 access LANs (~180 hosts each)', lans, down, paths=False),
        _timed('20 shared platform applications', platform, down),
        _timed('20 business services', business, up),
        _timed('5 core routers (the whole estate)', core, down),
    ]
