"""Writes of the CMDB. Every function is atomic, takes the acting `Actor` and writes the records' timelines.

Edits that touch a production CI pass the change control point (`cmdb.checks.ci_require_change`) first.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from itsm import audit
from itsm.audit import Actor
from itsm.choices import TimelineKind
from itsm.errors import NotAllowed
from itsm.models import SupportGroup, User

from .checks import ci_require_change
from .choices import CIClass, CIStatus, Criticality, Environment, RaciRole, ServiceKind, ServiceStatus
from .models import ConfigurationItem, RaciAssignment, Relationship, Service

__all__ = [
    'ci_create',
    'ci_delete',
    'ci_update',
    'raci_assign',
    'raci_remove',
    'raci_update',
    'relationship_create',
    'relationship_delete',
    'relationship_update',
    'service_create',
    'service_delete',
    'service_update',
]

CI_FIELDS = {f.name for f in ConfigurationItem._meta.concrete_fields if f.editable and f.name != 'id'}
# Service fields that are stored on the service's CI, by the name the service API and forms use.
SERVICE_CI_FIELDS = {
    'name': 'name',
    'description': 'description',
    'service_owner': 'owner',
    'support_group': 'support_group',
    'environment': 'environment',
    'ci_status': 'status',
    'location': 'location',
    'vendor': 'vendor',
    'version': 'version',
    'attributes': 'attributes',
}
SERVICE_DETAIL_FIELDS = {'kind', 'status', 'criticality', 'business_owner', 'public', 'public_name', 'announce_list'}


def _reference_note(reference: str) -> dict[str, Any]:
    return {'message': f'Under change {reference}.', 'data': {'change_reference': reference}} if reference else {}


def _unknown(fields: dict[str, Any], known: set[str]) -> None:
    unknown = sorted(set(fields) - known)
    if unknown:
        raise ValidationError({name: 'Unknown field.' for name in unknown})


# ------------------------------------------------------------------------------------ configuration items
@transaction.atomic
def ci_create(
    *, actor: Actor, name: str, ci_class: str, message: str = '', change_reference: str = '', **fields: Any
) -> ConfigurationItem:
    """Record a new CI; its attributes are validated against its class's schema. A service gets its details.

    A CI created in production needs an approved change when the control is on."""
    _unknown(fields, CI_FIELDS)
    ci = ConfigurationItem(name=name, ci_class=ci_class, **fields)
    ci.full_clean()
    note = _reference_note(ci_require_change(ci, change_reference, action='create'))
    ci.save()
    audit.record_created(
        ci,
        actor=actor,
        message=' '.join(filter(None, [message, note.get('message', '')])),
        public=False,
        data=note.get('data'),
    )
    if ci.is_service:
        details = Service(ci=ci)
        details.full_clean()
        details.save()
        audit.record_created(details, actor=actor, message=message, public=False)
    return ci


@transaction.atomic
def ci_update(
    *, ci: ConfigurationItem, actor: Actor, change_reference: str = '', message: str = '', **fields: Any
) -> ConfigurationItem:
    """Change a CI. A production CI (before or after the edit) needs an approved change when the control is on.

    A CI cannot become or stop being a service: services carry details and RACI a plain CI has not.
    """
    _unknown(fields, CI_FIELDS)
    new_class = fields.get('ci_class', ci.ci_class)
    if new_class != ci.ci_class and CIClass.SERVICE in (ci.ci_class, new_class):
        raise ValidationError({'ci_class': 'A CI cannot become or stop being a service; create a service instead.'})
    was_production = ci.in_production
    before = audit.snapshot(ci)
    for name, value in fields.items():
        setattr(ci, name, value)
    ci.full_clean()
    changes = audit.diff(ci, before, audit.snapshot(ci))
    if not changes:
        return ci
    reference = ci_require_change(ci, change_reference, in_production=was_production or ci.in_production)
    ci.save()
    note = _reference_note(reference)
    audit.record(
        ci,
        actor=actor,
        kind=TimelineKind.FIELD_CHANGE,
        changes=changes,
        message=' '.join(filter(None, [message, note.get('message', '')])),
        data=note.get('data'),
    )
    return ci


@transaction.atomic
def ci_delete(*, ci: ConfigurationItem, actor: Actor, change_reference: str = '') -> None:
    """Delete a CI with its relationships; each CI it was linked to keeps a note of the removed link."""
    reference = ci_require_change(ci, change_reference, action='delete')
    links = Relationship.objects.filter(Q(source=ci) | Q(target=ci)).select_related('source', 'target')
    for link in links:
        other = link.target if link.source_id == ci.pk else link.source
        audit.record(
            other,
            actor=actor,
            kind=TimelineKind.LINK,
            message=f'Relationship removed with deleted CI {ci}: {link}.',
            data={'removed': True, 'type': link.type},
        )
    audit.record(
        ci,
        actor=actor,
        kind=TimelineKind.DELETED,
        message=f'{ci} deleted',
        data={'values': audit.snapshot(ci), **_reference_note(reference).get('data', {})},
    )
    ci.delete()


# ---------------------------------------------------------------------------------------------- services
def _check_service_writer(service: Service, actor: Actor) -> None:
    """Service owners change their own services; CI writers (change managers, administrators) change any."""
    user = actor.user
    if user is None or user.has_perm('cmdb.change_configurationitem') or service.ci.owner_id == user.pk:
        return
    raise NotAllowed(f'Only its service owner, change managers and administrators may change the service {service}.')


def _split_service_fields(fields: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    _unknown(fields, set(SERVICE_CI_FIELDS) | SERVICE_DETAIL_FIELDS)
    ci_fields = {SERVICE_CI_FIELDS[k]: v for k, v in fields.items() if k in SERVICE_CI_FIELDS}
    details = {k: v for k, v in fields.items() if k in SERVICE_DETAIL_FIELDS}
    return ci_fields, details


@transaction.atomic
def service_create(
    *,
    actor: Actor,
    name: str,
    kind: str = ServiceKind.BUSINESS,
    status: str = ServiceStatus.OPERATIONAL,
    criticality: str = Criticality.MEDIUM,
    service_owner: User | None = None,
    business_owner: User | None = None,
    support_group: SupportGroup | None = None,
    environment: str = Environment.PRODUCTION,
    ci_status: str = CIStatus.IN_PRODUCTION,
    change_reference: str = '',
    **fields: Any,
) -> Service:
    """Create a service: a CI of class `service` and its details (kind, status, criticality, owners). A service
    created in production needs an approved change when the control is on."""
    ci_fields, extra_details = _split_service_fields(fields)
    ci = ConfigurationItem(
        name=name,
        ci_class=CIClass.SERVICE,
        owner=service_owner,
        support_group=support_group,
        environment=environment,
        status=ci_status,
        **ci_fields,
    )
    ci.full_clean()
    note = _reference_note(ci_require_change(ci, change_reference, action='create'))
    ci.save()
    details = Service(
        ci=ci, kind=kind, status=status, criticality=criticality, business_owner=business_owner, **extra_details
    )
    details.full_clean()
    details.save()
    audit.record_created(ci, actor=actor, public=False, message=note.get('message', ''), data=note.get('data'))
    audit.record_created(details, actor=actor, public=False)
    return details


@transaction.atomic
def service_update(*, service: Service, actor: Actor, change_reference: str = '', **fields: Any) -> Service:
    """Change a service's CI fields (name, owner, group, ...) and its details (status, criticality, ...)."""
    _check_service_writer(service, actor)
    ci_fields, details = _split_service_fields(fields)
    if ci_fields:
        ci_update(ci=service.ci, actor=actor, change_reference=change_reference, **ci_fields)
    before = audit.snapshot(service)
    for name, value in details.items():
        setattr(service, name, value)
    service.full_clean()
    service.save()
    audit.record_changes(service, before, actor=actor)
    return service


@transaction.atomic
def service_delete(*, service: Service, actor: Actor, change_reference: str = '') -> None:
    """Delete a service: its CI, details, RACI matrix and relationships."""
    _check_service_writer(service, actor)
    audit.record(
        service,
        actor=actor,
        kind=TimelineKind.DELETED,
        message=f'Service {service} deleted',
        data={'values': audit.snapshot(service)},
    )
    ci_delete(ci=service.ci, actor=actor, change_reference=change_reference)


# ---------------------------------------------------------------------------------------------------- RACI
def _check_accountability(assignment: RaciAssignment, *, removing: bool = False) -> None:
    """Exactly one A per activity: no second A, and no R, C or I left without an A."""
    siblings = RaciAssignment.objects.filter(service=assignment.service, activity=assignment.activity).exclude(
        pk=assignment.pk
    )
    label = assignment.get_activity_display().lower()
    has_other_a = siblings.filter(role=RaciRole.ACCOUNTABLE).exists()
    if removing:
        if assignment.role == RaciRole.ACCOUNTABLE and siblings.exists():
            raise ValidationError(
                {
                    'role': f'{assignment.party} is accountable for {label}: give the A to someone else first '
                    '(exactly one A per activity) or remove the other assignments.'
                }
            )
        return
    if assignment.role == RaciRole.ACCOUNTABLE and has_other_a:
        holder = siblings.get(role=RaciRole.ACCOUNTABLE).party
        raise ValidationError(
            {
                'role': f'{holder} is already accountable for {label}: exactly one A per activity. '
                'Change that assignment instead.'
            }
        )
    if assignment.role != RaciRole.ACCOUNTABLE and not has_other_a:
        raise ValidationError(
            {'role': f'Nobody is accountable for {label} yet: assign the A first (exactly one A per activity).'}
        )


def _raci_link_note(assignment: RaciAssignment, actor: Actor, verb: str) -> None:
    audit.record(
        assignment.service,
        actor=actor,
        kind=TimelineKind.LINK,
        message=f'RACI {verb}: {assignment.role} for {assignment.get_activity_display().lower()} – {assignment.party}.',
        data={'activity': assignment.activity, 'role': assignment.role},
    )


@transaction.atomic
def raci_assign(
    *,
    service: Service,
    activity: str,
    role: str,
    actor: Actor,
    person: User | None = None,
    support_group: SupportGroup | None = None,
    notes: str = '',
) -> RaciAssignment:
    """Give a person or a group role R, A, C or I for one activity of a service (the A comes first)."""
    _check_service_writer(service, actor)
    assignment = RaciAssignment(
        service=service, activity=activity, role=role, person=person, support_group=support_group, notes=notes
    )
    _check_accountability(assignment)  # before the constraints, whose message cannot name the holder
    assignment.full_clean()
    assignment.save()
    audit.record_created(assignment, actor=actor, public=False)
    _raci_link_note(assignment, actor, 'assigned')
    return assignment


@transaction.atomic
def raci_update(*, assignment: RaciAssignment, actor: Actor, **fields: Any) -> RaciAssignment:
    """Change an assignment (its person or group, role, notes) keeping exactly one A per activity. Moving it to
    another service needs the right to change both services."""
    _unknown(fields, {'service', 'activity', 'role', 'person', 'support_group', 'notes'})
    original = RaciAssignment.objects.select_related('service__ci').get(pk=assignment.pk)
    _check_service_writer(original.service, actor)
    target = fields.get('service')
    if target is not None and target.pk != original.service_id:
        _check_service_writer(target, actor)
    before = audit.snapshot(assignment)
    for name, value in fields.items():
        setattr(assignment, name, value)
    if (original.service_id, original.activity, original.role) != (
        assignment.service_id,
        assignment.activity,
        assignment.role,
    ):
        _check_accountability(original, removing=True)
        _check_accountability(assignment)
    assignment.full_clean()
    assignment.save()
    audit.record_changes(assignment, before, actor=actor)
    return assignment


@transaction.atomic
def raci_remove(*, assignment: RaciAssignment, actor: Actor) -> None:
    """Remove an assignment; the A goes last (or is handed over with `raci_update`)."""
    assignment = RaciAssignment.objects.select_related('service__ci').get(pk=assignment.pk)  # as stored
    _check_service_writer(assignment.service, actor)
    _check_accountability(assignment, removing=True)
    _raci_link_note(assignment, actor, 'removed')
    audit.record(
        assignment,
        actor=actor,
        kind=TimelineKind.DELETED,
        message=f'{assignment} removed',
        data={'values': audit.snapshot(assignment)},
    )
    assignment.delete()


# ------------------------------------------------------------------------------------------- relationships
def _link_notes(link: Relationship, actor: Actor, verb: str, reference: str) -> None:
    text = f'{link.source} {link.get_type_display()} {link.target}'
    data = {'relationship': link.pk, 'type': link.type, **({'change_reference': reference} if reference else {})}
    for ci in (link.source, link.target):
        audit.record(ci, actor=actor, kind=TimelineKind.LINK, message=f'Relationship {verb}: {text}.', data=data)


def _guard_link(source: ConfigurationItem, target: ConfigurationItem, change_reference: str) -> str:
    reference = ci_require_change(source, change_reference, action='relate')
    return ci_require_change(target, change_reference, action='relate') or reference


@transaction.atomic
def relationship_create(
    *,
    source: ConfigurationItem,
    type: str,  # noqa: A002 - the domain's word for it
    target: ConfigurationItem,
    actor: Actor,
    description: str = '',
    change_reference: str = '',
) -> Relationship:
    """Link `source` to `target` (the source depends on the target). Self-links, duplicates and class pairs the
    type does not allow are refused with the reason."""
    link = Relationship(source=source, type=type, target=target, description=description)
    link.full_clean()
    reference = _guard_link(source, target, change_reference)
    link.save()
    audit.record_created(link, actor=actor, public=False, **_reference_note(reference))
    _link_notes(link, actor, 'added', reference)
    return link


@transaction.atomic
def relationship_update(
    *, relationship: Relationship, actor: Actor, change_reference: str = '', **fields: Any
) -> Relationship:
    """Change a relationship's type, ends or description, with the same checks as creating one."""
    _unknown(fields, {'source', 'type', 'target', 'description'})
    old_ends = (relationship.source, relationship.target)
    before = audit.snapshot(relationship)
    for name, value in fields.items():
        setattr(relationship, name, value)
    relationship.full_clean()
    if not audit.diff(relationship, before, audit.snapshot(relationship)):
        return relationship
    reference = _guard_link(*old_ends, change_reference)
    reference = _guard_link(relationship.source, relationship.target, change_reference) or reference
    relationship.save()
    audit.record_changes(relationship, before, actor=actor, message=_reference_note(reference).get('message', ''))
    _link_notes(relationship, actor, 'changed', reference)
    return relationship


@transaction.atomic
def relationship_delete(*, relationship: Relationship, actor: Actor, change_reference: str = '') -> None:
    """Remove a relationship; both CIs' timelines keep a note of it."""
    reference = _guard_link(relationship.source, relationship.target, change_reference)
    _link_notes(relationship, actor, 'removed', reference)
    audit.record(
        relationship,
        actor=actor,
        kind=TimelineKind.DELETED,
        message=f'{relationship} removed',
        data={'values': audit.snapshot(relationship)},
    )
    relationship.delete()
