"""Demo data of the CMDB: a small estate (network, servers, virtual machines, storage, applications, databases,
desktops, documents), the service catalogue with its support services, how they depend on each other, and a
RACI matrix per service.

Idempotent: CIs are looked up by (class, name), relationships by their ends and type, and a service's RACI
matrix is only filled when it has none. Needs the core demo people and groups (loaded first).
"""

from __future__ import annotations

from django.db import transaction

from itsm.audit import Actor
from itsm.models import SupportGroup, User

from . import checks, services
from .choices import CIClass, CIStatus, Criticality, RaciActivity, RaciRole, ServiceKind, ServiceStatus
from .models import ConfigurationItem, Relationship, Service

SRV, VM, PC = CIClass.SERVER, CIClass.VIRTUAL_MACHINE, CIClass.WORKSTATION
APP, DB, NET, SEG = CIClass.APPLICATION, CIClass.DATABASE, CIClass.NETWORK_DEVICE, CIClass.NETWORK_SEGMENT
STO, DOC = CIClass.STORAGE, CIClass.DOCUMENT

# (class, name, support group, fields)
CIS = [
    (
        SEG,
        'WAN Frankfurt–Munich',
        'Network Operations',
        {'attributes': {'segment_type': 'wan', 'carrier': 'Telekom', 'bandwidth_mbps': 1000}, 'location': 'Frankfurt'},
    ),
    (
        SEG,
        'LAN 1 – Headquarters',
        'Network Operations',
        {'attributes': {'segment_type': 'lan', 'cidr': '10.10.0.0/16', 'vlan_id': 10}, 'location': 'Frankfurt HQ'},
    ),
    (
        SEG,
        'LAN 2 – Data centre',
        'Network Operations',
        {'attributes': {'segment_type': 'lan', 'cidr': '10.20.0.0/16', 'vlan_id': 20}, 'location': 'Frankfurt DC1'},
    ),
    (
        SEG,
        'LAN 3 – Munich branch',
        'Network Operations',
        {'attributes': {'segment_type': 'lan', 'cidr': '10.30.0.0/16', 'vlan_id': 30}, 'location': 'Munich'},
    ),
    (SEG, 'Remote access VPN', 'Network Operations', {'attributes': {'segment_type': 'vpn', 'cidr': '10.99.0.0/16'}}),
    (
        NET,
        'rtr-fra-01',
        'Network Operations',
        {
            'attributes': {'device_type': 'router', 'management_ip': '10.0.0.1', 'firmware': 'IOS-XE 17.9'},
            'vendor': 'Cisco',
            'location': 'Frankfurt DC1',
        },
    ),
    (
        NET,
        'rtr-muc-01',
        'Network Operations',
        {'attributes': {'device_type': 'router', 'management_ip': '10.0.0.2'}, 'vendor': 'Cisco', 'location': 'Munich'},
    ),
    (
        NET,
        'fw-fra-01',
        'Network Operations',
        {
            'attributes': {'device_type': 'firewall', 'management_ip': '10.0.0.3'},
            'vendor': 'Fortinet',
            'location': 'Frankfurt DC1',
        },
    ),
    (
        NET,
        'sw-hq-core-01',
        'Network Operations',
        {'attributes': {'device_type': 'switch', 'port_count': 48}, 'vendor': 'Aruba', 'location': 'Frankfurt HQ'},
    ),
    (
        NET,
        'vpn-gw-01',
        'Network Operations',
        {'attributes': {'device_type': 'vpn_gateway', 'management_ip': '10.0.0.9'}, 'vendor': 'Fortinet'},
    ),
    (
        STO,
        'san-fra-01',
        'Server and Storage',
        {
            'attributes': {'storage_type': 'san', 'capacity_tb': 120, 'protocol': 'fc'},
            'vendor': 'NetApp',
            'location': 'Frankfurt DC1',
        },
    ),
    (
        STO,
        'nas-backup-01',
        'Server and Storage',
        {
            'attributes': {'storage_type': 'backup', 'capacity_tb': 300, 'protocol': 'smb'},
            'vendor': 'Synology',
            'location': 'Munich',
        },
    ),
    (
        SRV,
        'esx-fra-01',
        'Server and Storage',
        {
            'attributes': {
                'hostname': 'esx-fra-01.pitcrew.example',
                'cpu_count': 64,
                'memory_gb': 768,
                'form_factor': 'rack',
                'rack': 'R04/U12',
            },
            'vendor': 'Dell',
            'location': 'Frankfurt DC1',
        },
    ),
    (
        SRV,
        'esx-fra-02',
        'Server and Storage',
        {
            'attributes': {
                'hostname': 'esx-fra-02.pitcrew.example',
                'cpu_count': 64,
                'memory_gb': 768,
                'form_factor': 'rack',
                'rack': 'R04/U14',
            },
            'vendor': 'Dell',
            'location': 'Frankfurt DC1',
            'status': CIStatus.MAINTENANCE,
        },
    ),
    (
        SRV,
        'srv-file-01',
        'Server and Storage',
        {
            'attributes': {'hostname': 'srv-file-01.pitcrew.example', 'os': 'Windows Server', 'os_version': '2022'},
            'location': 'Frankfurt DC1',
        },
    ),
    (
        SRV,
        'srv-dc-01',
        'Platform Engineering',
        {
            'attributes': {'hostname': 'srv-dc-01.pitcrew.example', 'os': 'Windows Server', 'os_version': '2022'},
            'location': 'Frankfurt DC1',
        },
    ),
    (
        SRV,
        'srv-backup-01',
        'Server and Storage',
        {'attributes': {'hostname': 'srv-backup-01.pitcrew.example', 'os': 'Windows Server'}, 'location': 'Munich'},
    ),
    (
        VM,
        'vm-mail-01',
        'Platform Engineering',
        {'attributes': {'hostname': 'vm-mail-01.pitcrew.example', 'hypervisor': 'vmware', 'memory_gb': 64}},
    ),
    (
        VM,
        'vm-web-01',
        'Platform Engineering',
        {'attributes': {'hostname': 'vm-web-01.pitcrew.example', 'hypervisor': 'vmware', 'os': 'Debian 12'}},
    ),
    (
        VM,
        'vm-db-01',
        'Database Administration',
        {'attributes': {'hostname': 'vm-db-01.pitcrew.example', 'hypervisor': 'vmware', 'memory_gb': 128}},
    ),
    (
        VM,
        'vm-av-01',
        'Desktop Support',
        {'attributes': {'hostname': 'vm-av-01.pitcrew.example', 'hypervisor': 'vmware'}},
    ),
    (VM, 'vm-dfs-01', 'Server and Storage', {'attributes': {'hostname': 'vm-dfs-01.pitcrew.example'}}),
    (VM, 'vm-dfs-02', 'Server and Storage', {'attributes': {'hostname': 'vm-dfs-02.pitcrew.example'}}),
    (VM, 'vm-mon-01', 'Platform Engineering', {'attributes': {'hostname': 'vm-mon-01.pitcrew.example'}}),
    (
        APP,
        'Microsoft Exchange',
        'Platform Engineering',
        {'attributes': {'license': 'commercial', 'user_count': 850}, 'vendor': 'Microsoft', 'version': '2019 CU14'},
    ),
    (
        APP,
        'Webmail (OWA)',
        'Platform Engineering',
        {'attributes': {'url': 'https://mail.pitcrew.example/owa', 'license': 'commercial'}, 'vendor': 'Microsoft'},
    ),
    (APP, 'Active Directory', 'Platform Engineering', {'attributes': {'license': 'commercial'}, 'vendor': 'Microsoft'}),
    (
        APP,
        'Endpoint protection console',
        'Desktop Support',
        {'attributes': {'license': 'commercial', 'user_count': 900}, 'vendor': 'ESET', 'version': '11.1'},
    ),
    (
        APP,
        'Veeam Backup & Replication',
        'Server and Storage',
        {'attributes': {'license': 'commercial'}, 'vendor': 'Veeam', 'version': '12.2'},
    ),
    (APP, 'DFS namespace', 'Server and Storage', {'attributes': {'license': 'commercial'}, 'vendor': 'Microsoft'}),
    (
        APP,
        'Zabbix monitoring',
        'Platform Engineering',
        {'attributes': {'url': 'https://monitoring.pitcrew.example', 'license': 'open_source'}, 'version': '7.0'},
    ),
    (
        APP,
        'Pitcrew service desk',
        'Platform Engineering',
        {'attributes': {'url': 'https://servicedesk.pitcrew.example', 'license': 'open_source', 'language': 'Python'}},
    ),
    (
        APP,
        'Intranet portal',
        'Platform Engineering',
        {'attributes': {'url': 'https://intranet.pitcrew.example', 'license': 'in_house', 'user_count': 900}},
    ),
    (
        DB,
        'servicedesk-db',
        'Database Administration',
        {'attributes': {'engine': 'postgresql', 'port': 5432, 'size_gb': 40, 'replicated': True}, 'version': '16'},
    ),
    (
        DB,
        'intranet-db',
        'Database Administration',
        {'attributes': {'engine': 'postgresql', 'port': 5432, 'size_gb': 12}, 'version': '16'},
    ),
    (
        DB,
        'backup-catalog-db',
        'Database Administration',
        {'attributes': {'engine': 'sql_server', 'port': 1433, 'size_gb': 8}, 'version': '2022'},
    ),
    (
        PC,
        'pc-hq-0001',
        'Desktop Support',
        {'attributes': {'hostname': 'pc-hq-0001', 'form_factor': 'laptop', 'assigned_to': 'requester'}},
    ),
    (
        PC,
        'pc-hq-0002',
        'Desktop Support',
        {'attributes': {'hostname': 'pc-hq-0002', 'form_factor': 'laptop', 'assigned_to': 'requester2'}},
    ),
    (PC, 'pc-muc-0001', 'Desktop Support', {'attributes': {'hostname': 'pc-muc-0001', 'form_factor': 'desktop'}}),
    (
        DOC,
        'Mail platform runbook',
        'Platform Engineering',
        {'attributes': {'document_type': 'runbook', 'url': 'https://wiki.pitcrew.example/mail/runbook'}},
    ),
    (
        DOC,
        'Backup policy',
        'Server and Storage',
        {'attributes': {'document_type': 'policy', 'url': 'https://wiki.pitcrew.example/backup/policy'}},
    ),
    (
        DOC,
        'Network diagram',
        'Network Operations',
        {'attributes': {'document_type': 'diagram', 'url': 'https://wiki.pitcrew.example/network/diagram'}},
    ),
]

# (name, kind, status, criticality, support group, description)
SERVICES = [
    (
        'Desktop PC',
        ServiceKind.BUSINESS,
        ServiceStatus.OPERATIONAL,
        Criticality.MEDIUM,
        'Desktop Support',
        'Managed desktops and laptops with the standard software image.',
    ),
    (
        'Virus protection',
        ServiceKind.TECHNICAL,
        ServiceStatus.OPERATIONAL,
        Criticality.HIGH,
        'Desktop Support',
        'Endpoint protection on every desktop and server, managed centrally.',
    ),
    (
        'Managed mail',
        ServiceKind.TECHNICAL,
        ServiceStatus.OPERATIONAL,
        Criticality.CRITICAL,
        'Platform Engineering',
        'The mail platform: mailboxes, transport, spam and malware filtering.',
    ),
    (
        'E-mail services',
        ServiceKind.BUSINESS,
        ServiceStatus.OPERATIONAL,
        Criticality.HIGH,
        'Platform Engineering',
        'E-mail, calendars and webmail for every employee.',
    ),
    (
        'Backups',
        ServiceKind.BUSINESS,
        ServiceStatus.OPERATIONAL,
        Criticality.HIGH,
        'Server and Storage',
        'Nightly backups of servers and databases, kept 30 days, restores on request.',
    ),
    (
        'Server systems',
        ServiceKind.TECHNICAL,
        ServiceStatus.DEGRADED,
        Criticality.HIGH,
        'Server and Storage',
        'Virtualisation hosts, file and directory servers, SAN storage.',
    ),
    (
        'LAN',
        ServiceKind.TECHNICAL,
        ServiceStatus.OPERATIONAL,
        Criticality.CRITICAL,
        'Network Operations',
        'Office and data-centre local networks.',
    ),
    (
        'WAN',
        ServiceKind.TECHNICAL,
        ServiceStatus.OPERATIONAL,
        Criticality.HIGH,
        'Network Operations',
        'Links between the Frankfurt and Munich sites.',
    ),
    (
        'VPN',
        ServiceKind.BUSINESS,
        ServiceStatus.PARTIAL_OUTAGE,
        Criticality.MEDIUM,
        'Network Operations',
        'Remote access for employees working away from the office.',
    ),
    (
        'Distributed file systems',
        ServiceKind.BUSINESS,
        ServiceStatus.OPERATIONAL,
        Criticality.MEDIUM,
        'Server and Storage',
        'Shared drives and home folders, replicated between two file servers.',
    ),
    (
        'Incident management',
        ServiceKind.BUSINESS,
        ServiceStatus.OPERATIONAL,
        Criticality.HIGH,
        'Service Desk',
        'The service desk: restoring service after incidents, answering requests.',
    ),
    (
        'Problem management',
        ServiceKind.BUSINESS,
        ServiceStatus.OPERATIONAL,
        Criticality.MEDIUM,
        'Platform Engineering',
        'Finding and removing the root causes of incidents.',
    ),
    (
        'Service monitoring',
        ServiceKind.TECHNICAL,
        ServiceStatus.OPERATIONAL,
        Criticality.HIGH,
        'Platform Engineering',
        'Monitoring of services and infrastructure, raising events and incidents.',
    ),
    (
        'Application maintenance',
        ServiceKind.BUSINESS,
        ServiceStatus.OPERATIONAL,
        Criticality.MEDIUM,
        'Platform Engineering',
        'Patching, upgrades and small changes to business applications.',
    ),
    (
        'Service management',
        ServiceKind.BUSINESS,
        ServiceStatus.OPERATIONAL,
        Criticality.MEDIUM,
        'Service Desk',
        'Service catalogue, service levels and reporting.',
    ),
]

# (source, type, target) by name; the source depends on the target.
LINKS = [
    # Network: "application A is installed on server K, which is connected to LAN 3 via router X".
    ('LAN 1 – Headquarters', 'connected_to', 'sw-hq-core-01'),
    ('sw-hq-core-01', 'connected_to', 'LAN 2 – Data centre'),
    ('LAN 2 – Data centre', 'connected_to', 'fw-fra-01'),
    ('LAN 2 – Data centre', 'connected_to', 'rtr-fra-01'),
    ('LAN 3 – Munich branch', 'connected_to', 'rtr-muc-01'),
    ('rtr-fra-01', 'connected_to', 'WAN Frankfurt–Munich'),
    ('rtr-muc-01', 'connected_to', 'WAN Frankfurt–Munich'),
    ('Remote access VPN', 'connected_to', 'vpn-gw-01'),
    ('vpn-gw-01', 'connected_to', 'LAN 2 – Data centre'),
    # Hosts on networks, storage and backups.
    ('esx-fra-01', 'connected_to', 'LAN 2 – Data centre'),
    ('esx-fra-02', 'connected_to', 'LAN 2 – Data centre'),
    ('esx-fra-01', 'depends_on', 'san-fra-01'),
    ('esx-fra-02', 'depends_on', 'san-fra-01'),
    ('san-fra-01', 'connected_to', 'LAN 2 – Data centre'),
    ('srv-file-01', 'connected_to', 'LAN 2 – Data centre'),
    ('srv-dc-01', 'connected_to', 'LAN 2 – Data centre'),
    ('srv-backup-01', 'connected_to', 'LAN 3 – Munich branch'),
    ('nas-backup-01', 'connected_to', 'LAN 3 – Munich branch'),
    ('esx-fra-01', 'backed_up_by', 'nas-backup-01'),
    ('esx-fra-02', 'backed_up_by', 'nas-backup-01'),
    ('srv-file-01', 'backed_up_by', 'nas-backup-01'),
    ('srv-dc-01', 'backed_up_by', 'nas-backup-01'),
    ('pc-hq-0001', 'connected_to', 'LAN 1 – Headquarters'),
    ('pc-hq-0002', 'connected_to', 'LAN 1 – Headquarters'),
    ('pc-muc-0001', 'connected_to', 'LAN 3 – Munich branch'),
    # Virtual machines on the hosts.
    ('vm-mail-01', 'runs_on', 'esx-fra-01'),
    ('vm-web-01', 'runs_on', 'esx-fra-01'),
    ('vm-db-01', 'runs_on', 'esx-fra-02'),
    ('vm-av-01', 'runs_on', 'esx-fra-02'),
    ('vm-dfs-01', 'runs_on', 'esx-fra-01'),
    ('vm-dfs-02', 'runs_on', 'esx-fra-02'),
    ('vm-mon-01', 'runs_on', 'esx-fra-01'),
    # Software.
    ('Microsoft Exchange', 'installed_on', 'vm-mail-01'),
    ('Microsoft Exchange', 'depends_on', 'Active Directory'),
    ('Webmail (OWA)', 'depends_on', 'Microsoft Exchange'),
    ('Active Directory', 'installed_on', 'srv-dc-01'),
    ('Endpoint protection console', 'installed_on', 'vm-av-01'),
    ('Veeam Backup & Replication', 'installed_on', 'srv-backup-01'),
    ('Veeam Backup & Replication', 'depends_on', 'backup-catalog-db'),
    ('Veeam Backup & Replication', 'depends_on', 'nas-backup-01'),
    ('DFS namespace', 'installed_on', 'vm-dfs-01'),
    ('DFS namespace', 'installed_on', 'vm-dfs-02'),
    ('DFS namespace', 'depends_on', 'srv-file-01'),
    ('DFS namespace', 'depends_on', 'Active Directory'),
    ('Zabbix monitoring', 'installed_on', 'vm-mon-01'),
    ('Pitcrew service desk', 'installed_on', 'vm-web-01'),
    ('Pitcrew service desk', 'depends_on', 'servicedesk-db'),
    ('Intranet portal', 'installed_on', 'vm-web-01'),
    ('Intranet portal', 'depends_on', 'intranet-db'),
    ('servicedesk-db', 'runs_on', 'vm-db-01'),
    ('intranet-db', 'runs_on', 'vm-db-01'),
    ('backup-catalog-db', 'installed_on', 'srv-backup-01'),
    ('servicedesk-db', 'backed_up_by', 'Backups'),
    ('intranet-db', 'backed_up_by', 'Backups'),
    # Services and what they are made of.
    ('Desktop PC', 'depends_on', 'pc-hq-0001'),
    ('Desktop PC', 'depends_on', 'pc-hq-0002'),
    ('Desktop PC', 'depends_on', 'pc-muc-0001'),
    ('Desktop PC', 'depends_on', 'Virus protection'),
    ('Desktop PC', 'depends_on', 'LAN'),
    ('Virus protection', 'depends_on', 'Endpoint protection console'),
    ('Managed mail', 'depends_on', 'Microsoft Exchange'),
    ('Managed mail', 'depends_on', 'Mail platform runbook'),
    ('Managed mail', 'depends_on', 'Server systems'),
    ('E-mail services', 'depends_on', 'Managed mail'),
    ('E-mail services', 'depends_on', 'Webmail (OWA)'),
    ('E-mail services', 'depends_on', 'VPN'),
    ('Backups', 'depends_on', 'Veeam Backup & Replication'),
    ('Backups', 'depends_on', 'Backup policy'),
    ('Backups', 'depends_on', 'WAN'),
    ('Server systems', 'depends_on', 'esx-fra-01'),
    ('Server systems', 'depends_on', 'esx-fra-02'),
    ('Server systems', 'depends_on', 'san-fra-01'),
    ('Server systems', 'depends_on', 'srv-dc-01'),
    ('LAN', 'depends_on', 'LAN 1 – Headquarters'),
    ('LAN', 'depends_on', 'LAN 2 – Data centre'),
    ('LAN', 'depends_on', 'LAN 3 – Munich branch'),
    ('LAN', 'depends_on', 'Network diagram'),
    ('WAN', 'depends_on', 'WAN Frankfurt–Munich'),
    ('VPN', 'depends_on', 'Remote access VPN'),
    ('Distributed file systems', 'depends_on', 'DFS namespace'),
    ('Distributed file systems', 'depends_on', 'Backups'),
    ('Incident management', 'depends_on', 'Pitcrew service desk'),
    ('Incident management', 'depends_on', 'E-mail services'),
    ('Problem management', 'depends_on', 'Pitcrew service desk'),
    ('Service management', 'depends_on', 'Pitcrew service desk'),
    ('Service management', 'depends_on', 'Intranet portal'),
    ('Service monitoring', 'depends_on', 'Zabbix monitoring'),
    ('Application maintenance', 'depends_on', 'Pitcrew service desk'),
]

# Per activity: (role, 'person:<username>' or 'group:<name>'); '@group' is the service's own support group.
RACI = {
    RaciActivity.INCIDENT_RESOLUTION: [
        (RaciRole.ACCOUNTABLE, 'person:service.owner'),
        (RaciRole.RESPONSIBLE, '@group'),
        (RaciRole.CONSULTED, 'person:l3'),
        (RaciRole.INFORMED, 'group:Service Desk'),
    ],
    RaciActivity.CHANGE_APPROVAL: [
        (RaciRole.ACCOUNTABLE, 'person:change.manager'),
        (RaciRole.RESPONSIBLE, 'person:service.owner'),
        (RaciRole.CONSULTED, 'person:cab'),
        (RaciRole.INFORMED, 'person:business.owner'),
    ],
    RaciActivity.COMMUNICATIONS: [
        (RaciRole.ACCOUNTABLE, 'person:incident.manager'),
        (RaciRole.RESPONSIBLE, 'group:Service Desk'),
        (RaciRole.INFORMED, 'person:business.owner'),
    ],
}


def _party(spec: str, own_group: SupportGroup | None, people: dict, groups: dict) -> dict:
    if spec == '@group':
        return {'support_group': own_group}
    kind, name = spec.split(':', 1)
    return {'person': people[name]} if kind == 'person' else {'support_group': groups[name]}


@transaction.atomic
def load(log=print) -> None:
    actor = Actor.system()
    people = {u.username: u for u in User.objects.all()}
    groups = {g.name: g for g in SupportGroup.objects.all()}
    counts = {'CIs': 0, 'services': 0, 'relationships': 0, 'RACI assignments': 0}
    # The demo estate is the CMDB's first load: there is no change to record it under yet.
    with checks.suspended('demo data'):
        existing = {(ci.ci_class, ci.name) for ci in ConfigurationItem.objects.only('ci_class', 'name')}
        for ci_class, name, group, defaults in CIS:
            if (ci_class, name) in existing:
                continue
            fields = dict(defaults)
            services.ci_create(
                actor=actor,
                name=name,
                ci_class=ci_class,
                support_group=groups.get(group),
                status=fields.pop('status', CIStatus.IN_PRODUCTION),
                **fields,
            )
            counts['CIs'] += 1
        for name, kind, status, criticality, group, description in SERVICES:
            if (CIClass.SERVICE, name) in existing:
                continue
            services.service_create(
                actor=actor,
                name=name,
                kind=kind,
                status=status,
                criticality=criticality,
                service_owner=people.get('service.owner'),
                business_owner=people.get('business.owner') if kind == ServiceKind.BUSINESS else None,
                support_group=groups.get(group),
                description=description,
            )
            counts['services'] += 1
        by_name = {ci.name: ci for ci in ConfigurationItem.objects.all()}
        linked = set(Relationship.objects.values_list('source__name', 'type', 'target__name'))
        for source, type_, target in LINKS:
            if (source, type_, target) not in linked:
                services.relationship_create(source=by_name[source], type=type_, target=by_name[target], actor=actor)
                counts['relationships'] += 1
        for service in Service.objects.select_related('ci__support_group').filter(raci__isnull=True):
            for activity, cells in RACI.items():
                for role, spec in cells:
                    party = _party(spec, service.ci.support_group, people, groups)
                    if not any(party.values()):
                        continue
                    services.raci_assign(service=service, activity=activity, role=role, actor=actor, **party)
                    counts['RACI assignments'] += 1
    log('cmdb: ' + ', '.join(f'{n} {label}' for label, n in counts.items()) + ' created')
