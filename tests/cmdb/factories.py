"""Builders for CMDB test data. They call the services, so test data obeys the same rules as real data."""

from __future__ import annotations

import itertools
from typing import Any

from cmdb import services
from cmdb.choices import CIClass, RaciActivity, RaciRole
from cmdb.models import ConfigurationItem, RaciAssignment, Relationship, Service
from itsm.audit import Actor

SYSTEM = Actor.system()
_counter = itertools.count(1)

# The least each class needs to pass its attribute schema.
REQUIRED_ATTRIBUTES: dict[str, dict[str, Any]] = {
    CIClass.SERVER: {'hostname': 'host.example.com'},
    CIClass.VIRTUAL_MACHINE: {'hostname': 'vm.example.com'},
    CIClass.WORKSTATION: {'hostname': 'pc.example.com'},
    CIClass.DATABASE: {'engine': 'postgresql'},
    CIClass.NETWORK_DEVICE: {'device_type': 'router'},
    CIClass.NETWORK_SEGMENT: {'segment_type': 'lan'},
    CIClass.STORAGE: {'storage_type': 'san'},
    CIClass.DOCUMENT: {'document_type': 'runbook', 'url': 'https://wiki.example.com/runbook'},
}


def make_ci(ci_class: str = CIClass.APPLICATION, name: str | None = None, **fields: Any) -> ConfigurationItem:
    """A CI of `ci_class` with valid attributes (a service CI gets its details too)."""
    name = name or f'{ci_class.replace("_", " ").title()} {next(_counter)}'
    attributes = {**REQUIRED_ATTRIBUTES.get(ci_class, {}), **fields.pop('attributes', {})}
    return services.ci_create(actor=SYSTEM, name=name, ci_class=ci_class, attributes=attributes, **fields)


def make_service(name: str | None = None, **fields: Any) -> Service:
    return services.service_create(actor=SYSTEM, name=name or f'Service {next(_counter)}', **fields)


def link(source: ConfigurationItem, type_: str, target: ConfigurationItem, **fields: Any) -> Relationship:
    return services.relationship_create(source=source, type=type_, target=target, actor=SYSTEM, **fields)


def assign(
    service: Service,
    role: str = RaciRole.ACCOUNTABLE,
    *,
    activity: str = RaciActivity.INCIDENT_RESOLUTION,
    person=None,
    group=None,
) -> RaciAssignment:
    return services.raci_assign(
        service=service, activity=activity, role=role, person=person, support_group=group, actor=SYSTEM
    )
