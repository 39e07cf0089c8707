"""Every write to major incidents (domain §6): declaration, the team, the stages, updates on a cadence, child
incidents, hand-off, resolution with its cascade, validation and closure.

Each function takes the acting `Actor`, runs in one transaction, records the timeline and announces itself through
`itsm.hooks`; every move of the stage goes through `MAJOR_INCIDENT_ACTIONS`, so pages, the API and the guards agree.
Refusals are `ValidationError` (400), `NotAllowed` (403) or `Conflict` (409), each saying what and why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from incidents.choices import ResolutionCode
from incidents.models import Ticket
from itsm import audit, hooks
from itsm.audit import Actor
from itsm.choices import Priority, Role, TicketKind, TimelineKind
from itsm.errors import Conflict, NotAllowed
from itsm.models import User
from itsm.roles import STAFF_ROLES
from itsm.workflow import lock

from . import cadence, notifications, recipients
from .actions import MAJOR_INCIDENT_ACTIONS, MANAGER_ROLES, communicates, leads, validation_role_of
from .choices import ACTIVE, CandidateStatus, ResponseMode, ServiceImpact, UpdateAudience, UpdateStatus
from .models import (
    MajorIncident,
    MajorIncidentCandidate,
    MajorIncidentChild,
    MajorIncidentUpdate,
    Recipient,
    UpdateTemplate,
    Validation,
)
from .recipients import recipient_add, recipient_remove

ACTIONS = MAJOR_INCIDENT_ACTIONS
DECLARER_ROLES = (*MANAGER_ROLES, Role.INTEGRATION)
TEAM_ROLES = ('incident_manager', 'tech_lead', 'communications_lead', 'service_owner', 'business_owner')
KEEP: Any = object()  # a team role not given keeps its holder; None clears it


# ------------------------------------------------------------------------------------------------- checks and links
def _require_declarer(actor: Actor) -> None:
    if actor.user is not None and not actor.user.has_role(*DECLARER_ROLES):
        raise NotAllowed('Only incident managers declare major incidents.')


def _check_services(services: list, cis: list) -> None:
    not_services = [item.number for item in services if item.ci_class != 'service']
    if not_services:
        raise ValidationError({'services': f'Not services: {", ".join(not_services)}.'})


def _check_staff(field: str, person: User | None, errors: dict[str, str]) -> None:
    if person is None:
        return
    if not person.is_active or not person.has_role(*STAFF_ROLES):
        errors[field] = f'{person} is not an active member of staff: a response role needs one.'
    elif field == 'incident_manager' and not person.has_role(*MANAGER_ROLES):
        errors[field] = f'{person} is not an incident manager: an incident manager runs the response.'


def _check_joinable(major: MajorIncident | None, incidents: list[Ticket]) -> None:
    """Refuse (naming it) a case, or an incident already part of another major incident; one query for all."""
    cases = [i.number for i in incidents if i.kind != TicketKind.INCIDENT]
    if cases:
        raise ValidationError(
            {'incidents': f'Only incidents join a major incident; these are cases: {", ".join(cases)}.'}
        )
    links = MajorIncidentChild.objects.filter(incident__in=incidents).select_related('major_incident', 'incident')
    for link in links.order_by('incident__number'):
        if major is not None and link.major_incident_id == major.pk:
            continue
        other = link.major_incident
        state = 'open' if other.is_open else other.get_state_display().lower()
        raise Conflict(
            f'{link.incident.number} is already part of {other.number} ({state}): unlink it there first.',
            code='already_linked',
            extra={'incident': link.incident.number, 'major_incident': other.number},
        )


def _link(major: MajorIncident, incidents: Iterable[Ticket], actor: Actor) -> list[MajorIncidentChild]:
    """Link incidents (refusing the whole call if any cannot join); those already linked here are skipped."""
    incidents = list({i.pk: i for i in incidents}.values())
    _check_joinable(major, incidents)
    linked = set(major.child_links.values_list('incident_id', flat=True))
    new = [i for i in incidents if i.pk not in linked]
    rows = [MajorIncidentChild(major_incident=major, incident=i, linked_by=actor.user) for i in new]
    rows = MajorIncidentChild.objects.bulk_create(rows)
    if new:
        numbers = ', '.join(i.number for i in new)
        audit.record(
            major,
            actor=actor,
            kind=TimelineKind.LINK,
            message=f'Child incidents linked: {numbers}',
            data={'children_linked': [i.number for i in new]},
        )
        for incident in new:
            audit.record(
                incident,
                actor=actor,
                kind=TimelineKind.LINK,
                message=f'Worked as part of major incident {major.number}',
                data={'major_incident': major.number},
            )
    return rows


def _team_text(major: MajorIncident, changes: dict[str, Any] | None = None) -> str:
    """Who holds what, in words (`changes` are holders about to be set)."""
    changes = changes or {}
    names = []
    for role in TEAM_ROLES:
        person = changes[role] if role in changes else getattr(major, role)
        if person is not None:
            names.append(f'{major._meta.get_field(role).verbose_name.capitalize()}: {person}')
    staff = ', '.join(str(person) for person in major.support_staff.all())
    if staff:
        names.append(f'Support staff: {staff}')
    return '; '.join(names) or 'nobody named yet'


def _team_changes(major: MajorIncident, given: dict[str, Any], support_staff) -> dict[str, Any]:
    """The role holders to set, checked: each one an active member of staff."""
    changes = {role: person for role, person in given.items() if person is not KEEP}
    errors: dict[str, str] = {}
    for role, person in changes.items():
        _check_staff(role, person, errors)
    for person in support_staff or ():
        _check_staff('support_staff', person, errors)
    if errors:
        raise ValidationError(errors)
    return changes


# ---------------------------------------------------------------------------------------------- declaring
@transaction.atomic
def major_declare(
    *,
    actor: Actor,
    short_description: str,
    description: str = '',
    priority: int | None = None,
    severity: int = 1,
    service_impact: str = ServiceImpact.MAJOR_OUTAGE,
    public_title: str = '',
    services: Iterable = (),
    cis: Iterable = (),
    source_incident: Ticket | None = None,
    candidate: MajorIncidentCandidate | None = None,
    incident_manager: User | None = None,
    outage_started_at: dt.datetime | None = None,
    opened_at: dt.datetime | None = None,
) -> MajorIncident:
    """Declare a major incident, from an incident, a candidate or directly.

    Left out, the priority comes from the source incident (P0 kept, else P1), the services and CIs from the source
    incident, the outage start from the first report (the source incident or the candidate's earliest incident),
    and the service and business owners from the first service naming them. The source incident and the
    candidate's incidents become children; the recipient list is built and told; the first update is due one
    interval after the declaration."""
    _require_declarer(actor)
    if not (short_description or '').strip():
        raise ValidationError({'short_description': 'Say in a line what is down.'})
    now = timezone.now()
    if (
        opened_at is not None
        and actor.user is not None
        and not actor.user.has_role(Role.INTEGRATION, Role.ADMINISTRATOR)
    ):
        raise NotAllowed('Only integrations and administrators may set opened_at.')
    if candidate is not None:
        candidate = MajorIncidentCandidate.objects.select_for_update().get(pk=candidate.pk)
        if candidate.status != CandidateStatus.PROPOSED:
            raise Conflict(
                f'This candidate is already {candidate.get_status_display().lower()}.', code='candidate_decided'
            )
    children: list[Ticket] = []
    if source_incident is not None:
        children.append(source_incident)
    if candidate is not None:
        children += list(candidate.incidents.order_by('opened_at'))
        if candidate.incident_id not in {c.pk for c in children}:
            children.append(candidate.incident)
    _check_joinable(None, children)

    services, cis = list(services or ()), list(cis or ())
    if not services and source_incident is not None and source_incident.service_id:
        services = [source_incident.service]
    if not cis and source_incident is not None and source_incident.ci_id:
        cis = [source_incident.ci]
    if not services and candidate is not None and candidate.service_id:
        services = [candidate.service]
    if not cis and candidate is not None and candidate.ci_id:
        cis = [candidate.ci]
    _check_services(services, cis)

    if priority is None:
        source_priority = source_incident.priority if source_incident is not None else Priority.P1
        priority = source_priority if source_priority <= Priority.P1 else Priority.P1
    if outage_started_at is None:
        reports = [c.opened_at for c in children]
        outage_started_at = min(reports) if reports else now
    elif outage_started_at > now:
        raise ValidationError({'outage_started_at': 'The outage cannot start in the future.'})

    from cmdb.models import Service

    owners = list(Service.objects.filter(pk__in=[s.pk for s in services]).select_related('ci__owner', 'business_owner'))
    owners.sort(key=lambda s: [x.pk for x in services].index(s.pk))
    service_owner = next((s.ci.owner for s in owners if s.ci.owner_id and s.ci.owner.is_active), None)
    business_owner = next(
        (s.business_owner for s in owners if s.business_owner_id and s.business_owner.is_active), None
    )
    if incident_manager is None and actor.user is not None and actor.user.has_role(*MANAGER_ROLES):
        incident_manager = actor.user
    errors: dict[str, str] = {}
    _check_staff('incident_manager', incident_manager, errors)
    if errors:
        raise ValidationError(errors)

    declared_at = now
    interval = cadence.default_interval(priority)
    major = MajorIncident(
        short_description=short_description.strip(),
        description=description or '',
        priority=priority,
        severity=severity,
        service_impact=service_impact,
        public_title=(public_title or '').strip(),
        source_incident=source_incident,
        incident_manager=incident_manager,
        service_owner=service_owner,
        business_owner=business_owner,
        outage_started_at=outage_started_at,
        declared_at=declared_at,
        opened_by=actor.user,
        opened_at=opened_at or now,
        update_interval_minutes=interval,
        next_update_due=declared_at + dt.timedelta(minutes=interval),
    )
    major.full_clean(exclude=['number', 'incident_manager', 'service_owner', 'business_owner', 'opened_by'])
    major.save()
    major.services.set(services)
    major.cis.set(cis)
    if candidate is not None:
        candidate.status = CandidateStatus.DECLARED
        candidate.major_incident = major
        candidate.decided_by = actor.user
        candidate.decided_at = now
        candidate.save(update_fields=['status', 'major_incident', 'decided_by', 'decided_at'])
    origin = (
        f' from {source_incident.number}'
        if source_incident is not None
        else (' from a candidate' if candidate is not None else '')
    )
    audit.record_created(major, actor=actor, message=f'Major incident declared{origin}', public=False)
    _link(major, children, actor)
    recipients.build_recipients(major, initiator=actor.user)
    hooks.emit(hooks.CREATED, major, actor=actor, notify=True)
    return major


# ---------------------------------------------------------------------------------------------------- edits
EDITABLE_FIELDS = {
    'short_description',
    'description',
    'public_title',
    'priority',
    'severity',
    'service_impact',
    'services',
    'cis',
    'outage_started_at',
    'update_interval_minutes',
}
MANY = ('services', 'cis')


@transaction.atomic
def major_update(*, major: MajorIncident, actor: Actor, **fields: Any) -> MajorIncident:
    """Edit what the major incident says (the team, the stages and the children have their own actions).

    A new priority brings its default interval when the interval was the old default. The interval is at least 5
    minutes, and longer than the priority's default only once the outage is long (never beyond a day). New services
    bring their owners, RACI people and announce lists to the recipient list."""
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError({name: 'This field cannot be changed here.' for name in sorted(unknown)})
    major = lock(major)
    user = actor.user
    cadence_only = set(fields) <= {'update_interval_minutes'}
    if user is not None and not (communicates(major, user) if cadence_only else leads(major, user)):
        raise NotAllowed(f'Only the incident manager or the tech lead of {major.number} can edit it.')
    if major.is_final:
        raise Conflict(f'{major.number} is {major.get_state_display().lower()}; it cannot change.', code='final')
    if 'short_description' in fields and not (fields['short_description'] or '').strip():
        raise ValidationError({'short_description': 'Say in a line what is down.'})
    if fields.get('outage_started_at') is not None and fields['outage_started_at'] > timezone.now():
        raise ValidationError({'outage_started_at': 'The outage cannot start in the future.'})
    if 'outage_started_at' in fields and fields['outage_started_at'] is None:
        raise ValidationError({'outage_started_at': 'Say when the outage started.'})
    if 'services' in fields:
        _check_services(list(fields['services'] or ()), [])
    before = audit.snapshot(major)
    old_services = {s.pk for s in major.services.all()}
    old_default = cadence.default_interval(major.priority)
    for name, value in fields.items():
        if name not in MANY:
            setattr(major, name, value)
    interval_was_default = major.update_interval_minutes == old_default
    if 'priority' in fields and 'update_interval_minutes' not in fields and interval_was_default:
        major.update_interval_minutes = cadence.default_interval(major.priority)
    if 'update_interval_minutes' in fields or 'priority' in fields:
        interval = major.update_interval_minutes
        if interval is None:
            raise ValidationError({'update_interval_minutes': 'Say how often updates are due.'})
        cadence.check_interval(major, interval)
        if major.next_update_due is not None:
            major.next_update_due = cadence.next_due(major, major.last_update_at or major.declared_at)
    major.full_clean(exclude=['number', 'incident_manager', 'service_owner', 'business_owner', 'opened_by'])
    major.save()
    for name in MANY:
        if name in fields:
            getattr(major, name).set(list(fields[name] or ()))
    if 'services' in fields:
        added = [s for s in fields['services'] or () if s.pk not in old_services]
        if added:
            recipients.add_service_people(major, added)
    audit.record_changes(major, before, actor=actor)
    hooks.emit(hooks.CHANGED, major, actor=actor)
    return major


# ------------------------------------------------------------------------------------------------- the team
def _team(
    major: MajorIncident,
    actor: Actor,
    action: str,
    roles: dict[str, Any],
    support_staff,
    note: str,
) -> MajorIncident:
    ACTIONS.check(major, action, actor)
    changes = _team_changes(major, roles, support_staff)
    if action == 'activate':
        changes.setdefault('incident_manager', major.incident_manager or actor.user)
        staff_before = sorted(str(person) for person in major.support_staff.all())
        if support_staff is not None:
            major.support_staff.set(list(support_staff))
        message = f'Response activated. Team: {_team_text(major, changes)}'
        if note.strip():
            message += f'. {note.strip()}'
        ACTIONS.run(major, action, actor=actor, changes=changes, message=message, public=False)
        # A transition sets single fields; the support staff (many-to-many) get an entry of their own.
        staff_after = sorted(str(person) for person in major.support_staff.all())
        if staff_after != staff_before:
            label = str(major._meta.get_field('support_staff').verbose_name).capitalize()
            audit.record(
                major,
                actor=actor,
                kind=TimelineKind.FIELD_CHANGE,
                message=f'{label}: {", ".join(staff_after) or "nobody"}',
                changes=[{'field': 'support_staff', 'label': label, 'before': staff_before, 'after': staff_after}],
            )
        return major
    if 'incident_manager' in changes and changes['incident_manager'] is None:
        raise ValidationError({'incident_manager': 'A major incident always has an incident manager.'})
    before = audit.snapshot(major)
    for role, person in changes.items():
        setattr(major, role, person)
    major.save()
    if support_staff is not None:
        major.support_staff.set(list(support_staff))
    message = f'Response team: {_team_text(major)}'
    if note.strip():
        message += f'. {note.strip()}'
    audit.record_changes(major, before, actor=actor, message=message)
    hooks.emit(hooks.CHANGED, major, actor=actor)
    return major


@transaction.atomic
def major_activate(
    *,
    major: MajorIncident,
    actor: Actor,
    incident_manager: User | None = KEEP,
    tech_lead: User | None = KEEP,
    communications_lead: User | None = KEEP,
    service_owner: User | None = KEEP,
    business_owner: User | None = KEEP,
    support_staff: Iterable[User] | None = None,
    note: str = '',
) -> MajorIncident:
    """Detection → Activation: the team is assembled (roles not given keep their holders; the incident manager
    defaults to whoever activates)."""
    major = lock(major)
    roles = {
        'incident_manager': incident_manager if incident_manager is not None else KEEP,
        'tech_lead': tech_lead,
        'communications_lead': communications_lead,
        'service_owner': service_owner,
        'business_owner': business_owner,
    }
    return _team(major, actor, 'activate', roles, support_staff, note or '')


@transaction.atomic
def major_set_team(
    *,
    major: MajorIncident,
    actor: Actor,
    incident_manager: User | None = KEEP,
    tech_lead: User | None = KEEP,
    communications_lead: User | None = KEEP,
    service_owner: User | None = KEEP,
    business_owner: User | None = KEEP,
    support_staff: Iterable[User] | None = None,
    note: str = '',
) -> MajorIncident:
    """Change who holds the response roles: a role given as None is cleared, one not given is kept (the incident
    manager is never cleared). `support_staff` replaces the support staff when given."""
    major = lock(major)
    roles = {
        'incident_manager': incident_manager,
        'tech_lead': tech_lead,
        'communications_lead': communications_lead,
        'service_owner': service_owner,
        'business_owner': business_owner,
    }
    return _team(major, actor, 'set_team', roles, support_staff, note or '')


# ----------------------------------------------------------------------------------------------- the stages
def _stage(major: MajorIncident, actor: Actor, action: str, note: str) -> MajorIncident:
    major = lock(major)
    ACTIONS.run(major, action, actor=actor, message=(note or '').strip(), public=False)
    return major


@transaction.atomic
def major_assess(*, major: MajorIncident, actor: Actor, note: str = '') -> MajorIncident:
    """Activation → Assessment: scope, affected services and CIs, stakeholders."""
    return _stage(major, actor, 'assess', note)


@transaction.atomic
def major_contain(*, major: MajorIncident, actor: Actor, note: str = '') -> MajorIncident:
    """Assessment → Containment."""
    return _stage(major, actor, 'contain', note)


@transaction.atomic
def major_start_resolution(*, major: MajorIncident, actor: Actor, note: str = '') -> MajorIncident:
    """Assessment or Containment → Resolution."""
    return _stage(major, actor, 'start_resolution', note)


@transaction.atomic
def major_resolve(*, major: MajorIncident, actor: Actor, resolution: str, note: str = '') -> MajorIncident:
    """Containment or Resolution → Review: the service is restored. No more updates are due, and every open child
    incident is completed with the resolution whatever its state, each in its own savepoint, its caller told by the
    incident's own completion message; one that cannot be is left as it was and named in the timeline with the
    reason, as an incident's children are (`major.children_not_completed`)."""
    major = lock(major)
    resolution = (resolution or '').strip()
    changes = {'resolution': resolution, 'restored_at': timezone.now(), 'next_update_due': None}
    ACTIONS.run(major, 'resolve', actor=actor, changes=changes, message=(note or '').strip(), public=False)
    major.children_completed, major.children_not_completed = _complete_children(major, actor)
    return major


def _complete_children(major: MajorIncident, actor: Actor) -> tuple[list[str], list[str]]:
    from incidents.choices import TICKET_WORKFLOW
    from incidents.services import complete_with_parent

    children = Ticket.objects.filter(
        major_incident_link__major_incident=major, state__in=TICKET_WORKFLOW.open_states
    ).order_by('pk')
    return complete_with_parent(
        major,
        children,
        actor=actor,
        resolution_code=ResolutionCode.SOLVED_PERMANENTLY,
        resolution_notes=f'Resolved with major incident {major.number}: {major.resolution}',
        done_label='Child incidents completed',
    )


@transaction.atomic
def major_validate(*, major: MajorIncident, actor: Actor, note: str = '') -> Validation:
    """The service owner or the business owner confirms the restored service works (one validation per role; a
    person holding both roles validates twice)."""
    major = lock(major)
    ACTIONS.check(major, 'validate', actor)
    role = validation_role_of(major, actor.user)
    if role is None:
        raise NotAllowed(f'Only the service owner or the business owner of {major.number} can validate it.')
    validation = Validation.objects.create(
        major_incident=major, role=role, validated_by=actor.user, note=(note or '').strip()[:500]
    )
    message = f'Service validated by the {validation.get_role_display().lower()}, {actor.user}'
    if validation.note:
        message += f': {validation.note}'
    audit.record(major, actor=actor, kind=TimelineKind.WORK_NOTE, message=message, data={'validation': role})
    hooks.emit(hooks.CHANGED, major, actor=actor)
    return validation


@transaction.atomic
def major_close(*, major: MajorIncident, actor: Actor, note: str = '') -> MajorIncident:
    """Review → Closed, once both owners validated and the review names the root cause (`actions.may_close`)."""
    major = lock(major)
    ACTIONS.run(
        major, 'close', actor=actor, changes={'closed_at': timezone.now()}, message=(note or '').strip(), public=False
    )
    return major


@transaction.atomic
def major_reopen(*, major: MajorIncident, actor: Actor, reason: str) -> MajorIncident:
    """Review → Resolution: the service is down again; updates are due on the cadence from now."""
    reason = (reason or '').strip()
    if not reason:
        raise ValidationError({'reason': 'A reason is required to reopen.'})
    major = lock(major)
    ACTIONS.check(major, 'reopen', actor)
    now = timezone.now()
    changes = {
        'restored_at': None,
        'next_update_due': now + dt.timedelta(minutes=major.update_interval_minutes),
    }
    ACTIONS.run(major, 'reopen', actor=actor, changes=changes, message=reason, data={'reason': reason}, public=False)
    return major


@transaction.atomic
def major_cancel(*, major: MajorIncident, actor: Actor, reason: str) -> MajorIncident:
    """Any active stage → Cancelled: not a major incident after all. Its children stay as they are."""
    reason = (reason or '').strip()
    if not reason:
        raise ValidationError({'reason': 'A reason is required to cancel.'})
    major = lock(major)
    changes = {'cancel_reason': reason[:300], 'closed_at': timezone.now(), 'next_update_due': None}
    ACTIONS.run(major, 'cancel', actor=actor, changes=changes, message=reason, data={'reason': reason}, public=False)
    return major


# ---------------------------------------------------------------------------------------------------- updates
class _Placeholders(dict):
    def __missing__(self, key):  # unknown placeholders stay visible instead of failing
        return '{' + key + '}'


def _moment(value: dt.datetime | None, empty: str) -> str:
    return audit.format_moment(value) if value is not None else empty


def render_template(template: UpdateTemplate, major: MajorIncident) -> tuple[str, str]:
    """The template's subject and body with the major incident's placeholders filled."""
    services = ', '.join(s.name for s in major.services.all()) or 'the affected services'
    values = _Placeholders(
        number=major.number,
        title=major.title,
        services=services,
        status=UpdateStatus(template.status).label if template.status else major.get_state_display(),
        impact=major.get_service_impact_display(),
        next_update=_moment(major.next_update_due, 'when there is news'),
        incident_manager=str(major.incident_manager or 'the incident manager'),
        handoff_owner=major.handoff_owner or 'the owning team',
        handoff_reference=major.handoff_reference or 'not given',
        handoff_estimate=_moment(major.handoff_estimate, 'not yet known'),
    )
    return template.subject.format_map(values), template.body.format_map(values)


# Internal updates are notes among the team: they do not satisfy the cadence, which is owed to the people outside.
CADENCE_AUDIENCES = (UpdateAudience.RECIPIENTS, UpdateAudience.PUBLIC)


@transaction.atomic
def major_post_update(
    *,
    major: MajorIncident,
    actor: Actor,
    audience: str,
    body: str = '',
    status: str = '',
    subject: str = '',
    template: UpdateTemplate | None = None,
) -> MajorIncidentUpdate:
    """Post an update: internal (the team's timeline), e-mailed to the recipient list, or public (the status page and
    its subscribers, through the update listeners). A template fills the subject, body and status left empty. An
    update to the recipients or the public satisfies the cadence: it records the update it was due as and whether it
    came on time, and the next one is due an interval later while the outage lasts."""
    major = lock(major)
    ACTIONS.check(major, 'post_update', actor)
    if audience not in UpdateAudience.values:
        raise ValidationError({'audience': 'Choose internal, the recipient list or public.'})
    subject, body, status = (subject or '').strip(), (body or '').strip(), (status or '').strip()
    if template is not None:
        template_subject, template_body = render_template(template, major)
        subject = subject or template_subject.strip()
        body = body or template_body.strip()
        status = status or template.status
    if not body:
        raise ValidationError({'body': 'Write what the update says.'})
    if status and status not in UpdateStatus.values:
        raise ValidationError({'status': f'"{status}" is not a status: use {", ".join(UpdateStatus.values)}.'})
    if audience == UpdateAudience.PUBLIC and not status:
        raise ValidationError({'status': 'A public update says where the response stands (investigating...).'})
    now = timezone.now()
    counts = audience in CADENCE_AUDIENCES
    due_at = major.next_update_due if counts else None
    update = MajorIncidentUpdate(
        major_incident=major,
        audience=audience,
        status=status or UpdateStatus.INVESTIGATING,
        subject=subject[:200],
        body=body,
        template=template,
        posted_by=actor.user,
        posted_at=now,
        due_at=due_at,
        on_time=due_at is None or now <= due_at,
    )
    if audience == UpdateAudience.RECIPIENTS:
        label = subject or 'Update'
        addresses = notifications.major_event(
            major,
            notifications.Event.UPDATE,
            label=label[:120],
            extra={'update_subject': subject, 'update_body': body, 'update_status': update.get_status_display()},
            actor=actor.user,
        )
        update.recipient_count = len(addresses)
    update.save()
    before = audit.snapshot(major)
    if counts:
        major.last_update_at = now
        major.next_update_due = cadence.next_due(major, now)
        major.save(update_fields=['last_update_at', 'next_update_due', 'updated_at'])
    lateness = '' if update.on_time else ' (late)'
    audit.record(
        major,
        actor=actor,
        kind=TimelineKind.WORK_NOTE,
        message=f'{update.get_audience_display()} update{lateness}: {subject + " – " if subject else ""}{body}',
        changes=audit.diff(major, before, audit.snapshot(major)),
        data={'update': update.pk, 'audience': audience, 'status': update.status, 'on_time': update.on_time},
    )
    for listener in notifications.update_listeners():
        listener(update)
    return update


# ----------------------------------------------------------------------------------------------- children
@transaction.atomic
def major_link_children(*, major: MajorIncident, actor: Actor, incidents: Iterable[Ticket]) -> list[MajorIncidentChild]:
    """Work incidents as part of the major incident, many in one call. Incidents already linked here are skipped;
    one that is a case or belongs to another major incident refuses the whole call, naming it."""
    major = lock(major)
    ACTIONS.check(major, 'link_children', actor)
    incidents = list(incidents or ())
    if not incidents:
        raise ValidationError({'incidents': 'Choose the incidents to link.'})
    rows = _link(major, incidents, actor)
    if rows:
        hooks.emit(hooks.CHANGED, major, actor=actor)
    return rows


@transaction.atomic
def major_unlink_child(*, major: MajorIncident, actor: Actor, incident: Ticket) -> None:
    """The incident is not part of this major incident after all: it is worked on its own again."""
    major = lock(major)
    ACTIONS.check(major, 'link_children', actor)
    link = MajorIncidentChild.objects.filter(major_incident=major, incident=incident).first()
    if link is None:
        raise Conflict(f'{incident.number} is not a child of {major.number}.', code='not_linked')
    link.delete()
    audit.record(
        major,
        actor=actor,
        kind=TimelineKind.LINK,
        message=f'Child incident unlinked: {incident.number}',
        data={'child_unlinked': incident.number},
    )
    audit.record(
        incident,
        actor=actor,
        kind=TimelineKind.LINK,
        message=f'No longer part of major incident {major.number}',
        data={'major_incident_unlinked': major.number},
    )
    hooks.emit(hooks.CHANGED, major, actor=actor)


# ------------------------------------------------------------------------------------------------- hand-off
@transaction.atomic
def major_hand_off(
    *,
    major: MajorIncident,
    actor: Actor,
    handoff_owner: str,
    handoff_reference: str = '',
    handoff_estimate: dt.datetime | None = None,
    note: str = '',
) -> MajorIncident:
    """Hand the fix to the owning team's system of record, with their reference and estimate; the recipient list
    is told who owns it now."""
    major = lock(major)
    ACTIONS.check(major, 'hand_off', actor)
    owner = (handoff_owner or '').strip()
    if not owner:
        raise ValidationError({'handoff_owner': 'Name the team that now owns the fix.'})
    if handoff_estimate is not None and handoff_estimate <= timezone.now():
        raise ValidationError({'handoff_estimate': 'The estimate must be in the future.'})
    before = audit.snapshot(major)
    major.mode = ResponseMode.HANDOFF
    major.handoff_owner = owner[:120]
    major.handoff_reference = (handoff_reference or '').strip()[:120]
    major.handoff_estimate = handoff_estimate
    major.handed_off_at = timezone.now()
    major.save()
    message = f'Handed off to {major.handoff_owner}'
    if major.handoff_reference:
        message += f' ({major.handoff_reference})'
    if (note or '').strip():
        message += f': {note.strip()}'
    audit.record_changes(major, before, actor=actor, message=message)
    notifications.major_event(
        major, notifications.Event.HANDED_OFF, extra={'note': (note or '').strip()}, actor=actor.user
    )
    hooks.emit(hooks.CHANGED, major, actor=actor)
    return major


__all__ = [
    'ACTIVE',
    'Recipient',
    'major_activate',
    'major_assess',
    'major_cancel',
    'major_close',
    'major_contain',
    'major_declare',
    'major_hand_off',
    'major_link_children',
    'major_post_update',
    'major_reopen',
    'major_resolve',
    'major_set_team',
    'major_start_resolution',
    'major_unlink_child',
    'major_update',
    'major_validate',
    'recipient_add',
    'recipient_remove',
    'render_template',
]
