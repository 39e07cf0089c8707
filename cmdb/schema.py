"""What the CMDB accepts, held as data: attributes per CI class and the class pairs each relationship type links.

Class-specific attributes live in one JSON column validated against `ATTRIBUTES`, rather than in a table per
class (see README.md): adding an attribute or a class is an edit here, not a migration, and every CI stays in
the one table that impact analysis walks.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from .choices import CIClass, RelationshipType

STRING, INTEGER, NUMBER, BOOLEAN, DATE, IP, CIDR, URL, CHOICE = (
    'string',
    'integer',
    'number',
    'boolean',
    'date',
    'ip',
    'cidr',
    'url',
    'choice',
)


@dataclass(frozen=True)
class Attribute:
    """One class-specific attribute: its type, whether it is required, allowed values and bounds."""

    name: str
    type: str = STRING
    required: bool = False
    choices: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    help: str = ''

    @property
    def label(self) -> str:
        return self.name.replace('_', ' ').capitalize()

    def as_dict(self) -> dict[str, Any]:
        data = {'name': self.name, 'type': self.type, 'required': self.required, 'help': self.help}
        if self.choices:
            data['choices'] = list(self.choices)
        if self.min is not None:
            data['min'] = self.min
        if self.max is not None:
            data['max'] = self.max
        return data


_HOST = (
    Attribute('hostname', required=True, help='Fully qualified host name.'),
    Attribute('ip_address', IP),
    Attribute('os', help='Operating system.'),
    Attribute('os_version'),
    Attribute('cpu_count', INTEGER, min=1, max=4096),
    Attribute('memory_gb', NUMBER, min=0),
)

ATTRIBUTES: dict[str, tuple[Attribute, ...]] = {
    CIClass.SERVER: (
        *_HOST,
        Attribute('serial_number'),
        Attribute('form_factor', CHOICE, choices=('rack', 'blade', 'tower', 'appliance')),
        Attribute('rack', help='Rack and unit, e.g. R12/U20.'),
        Attribute('warranty_until', DATE),
    ),
    CIClass.VIRTUAL_MACHINE: (
        *_HOST,
        Attribute('hypervisor', CHOICE, choices=('vmware', 'hyper-v', 'kvm', 'xen', 'cloud', 'other')),
    ),
    CIClass.WORKSTATION: (
        Attribute('hostname', required=True),
        Attribute('serial_number'),
        Attribute('os'),
        Attribute('assigned_to', help='Username of the person who uses it.'),
        Attribute('form_factor', CHOICE, choices=('desktop', 'laptop', 'thin_client')),
    ),
    CIClass.APPLICATION: (
        Attribute('url', URL),
        Attribute('license', CHOICE, choices=('commercial', 'open_source', 'in_house', 'saas')),
        Attribute('language', help='Main implementation language or platform.'),
        Attribute('user_count', INTEGER, min=0),
    ),
    CIClass.DATABASE: (
        Attribute(
            'engine',
            CHOICE,
            required=True,
            choices=('postgresql', 'mysql', 'mariadb', 'oracle', 'sql_server', 'sqlite', 'mongodb', 'redis', 'other'),
        ),
        Attribute('port', INTEGER, min=1, max=65535),
        Attribute('size_gb', NUMBER, min=0),
        Attribute('replicated', BOOLEAN),
    ),
    CIClass.NETWORK_DEVICE: (
        Attribute(
            'device_type',
            CHOICE,
            required=True,
            choices=('router', 'switch', 'firewall', 'load_balancer', 'access_point', 'vpn_gateway'),
        ),
        Attribute('management_ip', IP),
        Attribute('port_count', INTEGER, min=0, max=10000),
        Attribute('firmware'),
        Attribute('serial_number'),
    ),
    CIClass.NETWORK_SEGMENT: (
        Attribute('segment_type', CHOICE, required=True, choices=('lan', 'wan', 'vpn')),
        Attribute('cidr', CIDR, help='Address range, e.g. 10.3.0.0/16.'),
        Attribute('vlan_id', INTEGER, min=1, max=4094),
        Attribute('bandwidth_mbps', INTEGER, min=0),
        Attribute('carrier', help='Provider of a WAN or VPN link.'),
    ),
    CIClass.STORAGE: (
        Attribute('storage_type', CHOICE, required=True, choices=('san', 'nas', 'das', 'object', 'backup', 'tape')),
        Attribute('capacity_tb', NUMBER, min=0),
        Attribute('protocol', CHOICE, choices=('nfs', 'smb', 'iscsi', 'fc', 's3', 'other')),
        Attribute('raid_level'),
    ),
    CIClass.SERVICE: (
        Attribute('service_hours', CHOICE, choices=('24x7', 'business_hours', 'extended_hours')),
        Attribute('portal_url', URL, help='Where users reach the service.'),
    ),
    CIClass.DOCUMENT: (
        Attribute(
            'document_type',
            CHOICE,
            required=True,
            choices=('runbook', 'architecture', 'contract', 'manual', 'policy', 'diagram'),
        ),
        Attribute('url', URL, required=True),
        Attribute('review_by', DATE),
    ),
}


def attributes_for(ci_class: str) -> tuple[Attribute, ...]:
    return ATTRIBUTES.get(ci_class, ())


def schema_as_data() -> dict[str, list[dict[str, Any]]]:
    """Every class's attributes as JSON-ready data (served by the API for clients and forms)."""
    return {str(ci_class): [a.as_dict() for a in attributes_for(ci_class)] for ci_class in CIClass.values}


# ---------------------------------------------------------------------------------------- validation
_url = URLValidator(schemes=['http', 'https'])


def _check(attribute: Attribute, value: Any) -> tuple[Any, str]:
    """(normalised value, '') when `value` fits `attribute`, else (value, why not)."""
    kind = attribute.type
    if kind in (STRING, URL, CHOICE, IP, CIDR, DATE) and not isinstance(value, str):
        return value, f'must be text, got {type(value).__name__}'
    if kind == STRING:
        return (value.strip(), '') if len(value) <= 500 else (value, 'must be at most 500 characters')
    if kind == CHOICE:
        if value not in attribute.choices:
            return value, f'"{value}" is not one of: {", ".join(attribute.choices)}'
        return value, ''
    if kind == URL:
        try:
            _url(value)
        except ValidationError:
            return value, f'"{value}" is not an http(s) URL'
        return value, ''
    if kind == IP:
        try:
            return str(ipaddress.ip_address(value.strip())), ''
        except ValueError:
            return value, f'"{value}" is not an IP address'
    if kind == CIDR:
        try:
            return str(ipaddress.ip_network(value.strip(), strict=False)), ''
        except ValueError:
            return value, f'"{value}" is not an address range like 10.0.0.0/24'
    if kind == DATE:
        try:
            return dt.date.fromisoformat(value.strip()).isoformat(), ''
        except ValueError:
            return value, f'"{value}" is not a date (YYYY-MM-DD)'
    if kind == BOOLEAN:
        return (value, '') if isinstance(value, bool) else (value, 'must be true or false')
    if kind in (INTEGER, NUMBER):
        numeric = (int,) if kind == INTEGER else (int, float)
        if isinstance(value, bool) or not isinstance(value, numeric):
            return value, 'must be a whole number' if kind == INTEGER else 'must be a number'
        if attribute.min is not None and value < attribute.min:
            return value, f'must be at least {attribute.min:g}'
        if attribute.max is not None and value > attribute.max:
            return value, f'must be at most {attribute.max:g}'
        return value, ''
    raise ValueError(f'Unknown attribute type {kind!r}')  # a mistake in ATTRIBUTES, not in the data


def validate_attributes(ci_class: str, attributes: Any) -> dict[str, Any]:
    """The normalised attributes of a CI of `ci_class`, or ValidationError({'attributes': [...]}).

    Each message starts with the attribute's name, so API clients and import reports point at the culprit.
    """
    if attributes in (None, ''):
        attributes = {}
    if not isinstance(attributes, dict):
        raise ValidationError({'attributes': 'Attributes must be an object of name: value pairs.'})
    schema = {a.name: a for a in attributes_for(ci_class)}
    errors, cleaned = [], {}
    for name, value in attributes.items():
        attribute = schema.get(name)
        if attribute is None:
            known = ', '.join(schema) or 'none'
            errors.append(f'{name}: not an attribute of class {ci_class} (known: {known}).')
            continue
        if value is None or value == '':
            continue
        value, problem = _check(attribute, value)
        if problem:
            errors.append(f'{name}: {problem}.')
        else:
            cleaned[name] = value
    for attribute in schema.values():
        if attribute.required and attributes.get(attribute.name) in (None, ''):
            errors.append(f'{attribute.name}: required for class {ci_class}.')
    if errors:
        raise ValidationError({'attributes': errors})
    return cleaned


def coerce_attributes(ci_class: str, raw: dict[str, Any]) -> dict[str, Any]:
    """Turn text values (CSV cells, form inputs) into the types the schema expects; blanks are dropped.

    Values that cannot be converted are passed through unchanged so `validate_attributes` names them.
    """
    schema = {a.name: a for a in attributes_for(ci_class)}
    result: dict[str, Any] = {}
    for name, value in raw.items():
        if isinstance(value, str):
            value = value.strip()
            if value == '':
                continue
            kind = schema[name].type if name in schema else STRING
            value = _from_text(kind, value)
        result[name] = value
    return result


def _from_text(kind: str, value: str) -> Any:
    try:
        if kind == INTEGER:
            return int(value)
        if kind == NUMBER:
            number = float(value)
            return int(number) if number.is_integer() and '.' not in value else number
    except ValueError:
        return value
    if kind == BOOLEAN:
        lowered = value.lower()
        if lowered in {'true', 'yes', '1', 'y'}:
            return True
        if lowered in {'false', 'no', '0', 'n'}:
            return False
    return value


# ------------------------------------------------------------------------------------- relationships
@dataclass(frozen=True)
class RelationshipRule:
    """The classes a relationship type may link, from source (the dependent) to target."""

    sources: frozenset[str]
    targets: frozenset[str]


_ALL = frozenset(CIClass.values)
_HOSTS = frozenset({CIClass.SERVER, CIClass.VIRTUAL_MACHINE})
_SOFTWARE = frozenset({CIClass.APPLICATION, CIClass.DATABASE})
_NETWORKED = frozenset(
    {CIClass.SERVER, CIClass.VIRTUAL_MACHINE, CIClass.WORKSTATION, CIClass.NETWORK_DEVICE, CIClass.STORAGE}
)
_NETWORK = frozenset({CIClass.NETWORK_DEVICE, CIClass.NETWORK_SEGMENT})

RELATIONSHIP_RULES: dict[str, RelationshipRule] = {
    # Anything but a document can depend on anything; documents describe, they do not depend.
    RelationshipType.DEPENDS_ON: RelationshipRule(_ALL - {CIClass.DOCUMENT}, _ALL),
    RelationshipType.RUNS_ON: RelationshipRule(_SOFTWARE | {CIClass.VIRTUAL_MACHINE}, _HOSTS | {CIClass.STORAGE}),
    RelationshipType.INSTALLED_ON: RelationshipRule(_SOFTWARE, _HOSTS | {CIClass.WORKSTATION}),
    RelationshipType.CONNECTED_TO: RelationshipRule(_NETWORKED | {CIClass.NETWORK_SEGMENT}, _NETWORK),
    RelationshipType.MEMBER_OF: RelationshipRule(
        _NETWORKED | _SOFTWARE, frozenset({CIClass.NETWORK_SEGMENT, CIClass.SERVICE})
    ),
    RelationshipType.BACKED_UP_BY: RelationshipRule(
        _HOSTS | _SOFTWARE | {CIClass.WORKSTATION, CIClass.STORAGE}, frozenset({CIClass.STORAGE, CIClass.SERVICE})
    ),
}


# "A <source> cannot <verb> a <target>": the refusal reads as a sentence.
_VERBS = {
    RelationshipType.DEPENDS_ON: 'depend on',
    RelationshipType.RUNS_ON: 'run on',
    RelationshipType.INSTALLED_ON: 'be installed on',
    RelationshipType.CONNECTED_TO: 'be connected to',
    RelationshipType.MEMBER_OF: 'be a member of',
    RelationshipType.BACKED_UP_BY: 'be backed up by',
}


def _class_name(ci_class: str) -> str:
    return str(dict(CIClass.choices).get(ci_class, ci_class)).lower()


def _a(noun: str) -> str:
    return f'{"an" if noun[:1] in "aeiou" else "a"} {noun}'


def _one_of(classes: frozenset[str]) -> str:
    names = sorted(_class_name(c) for c in classes)
    return _a(names[0]) if len(names) == 1 else _a(f'{", ".join(names[:-1])} or {names[-1]}')


def relationship_refusal(source_class: str, type_: str, target_class: str) -> str:
    """Why a `type_` link from a `source_class` CI to a `target_class` CI is not allowed ('' when it is)."""
    rule = RELATIONSHIP_RULES.get(type_)
    if rule is None:
        return f'"{type_}" is not a relationship type.'
    if source_class in rule.sources and target_class in rule.targets:
        return ''
    label = RelationshipType(type_).label
    return (
        f'{_a(_class_name(source_class)).capitalize()} cannot {_VERBS[type_]} {_a(_class_name(target_class))}: '
        f'"{label}" links {_one_of(rule.sources)} to {_one_of(rule.targets)}.'
    )
