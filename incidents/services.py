"""Every write to incidents and cases: creation, the lifecycle of domain §4, escalation, notes and files.

Each function takes the acting `Actor`, runs in one transaction, records the timeline and queues its e-mail
notifications for after commit. Views, the API, Celery tasks and management commands all come through here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from itsm import audit, conversation, hooks
from itsm.audit import Actor
from itsm.choices import Attention, Channel, Impact, Role, TicketKind, TimelineKind, Urgency
from itsm.errors import ApplicationError, Conflict, NotAllowed
from itsm.models import SupportGroup, User
from itsm.numbering import next_number
from itsm.services import attention_changes, record_flag
from itsm.workflow import lock

from . import notifications
from .actions import TICKET_ACTIONS, staff_only
from .choices import TICKET_WORKFLOW, PendingReason, ResolutionCode, TicketChannel, TicketState
from .models import NUMBER_PREFIXES, Category, PriorityMatrixEntry, ResponseTemplate, Ticket
from .priority import compute_priority, impact_and_urgency

BACKFILL_ROLES = (Role.INTEGRATION, Role.ADMINISTRATOR)


def _require_staff(actor: Actor, what: str) -> None:
    """For writes that are not declared actions (edits, work notes): the same rule as the staff-only actions."""
    refusal = staff_only(what)(None, actor.user)
    if refusal is not None:
        raise refusal


# ------------------------------------------------------------------------------------------------ create
@transaction.atomic
def ticket_create(
    *,
    actor: Actor,
    kind: str = TicketKind.INCIDENT,
    short_description: str,
    caller: User,
    description: str = '',
    channel: str = TicketChannel.PORTAL,
    impact: str | None = None,
    urgency: str | None = None,
    category: Category | None = None,
    subcategory: Category | None = None,
    symptom: str = '',
    service=None,
    ci=None,
    parent: Ticket | None = None,
    assignment_group: SupportGroup | None = None,
    assignee: User | None = None,
    opened_at: dt.datetime | None = None,
    opened_by: User | None = None,
    eta: dt.datetime | None = None,
    notify: bool = True,
    route: bool = True,
) -> Ticket:
    """Open a ticket. Priority comes from the matrix; e-mail with no impact or urgency given is P4 (domain §3).

    Only integrations and administrators (or a system job) may backdate `opened_at` or name who opened the ticket
    (imports, monitoring backfill, demo data). Requesters reporting through the API get what the
    portal offers them, no more (`requester_refusals`). Without a group, the ticket is routed
    (`incidents.routing`): the first matching routing rule, else its service's support group; `route=False` leaves
    it in triage (demo data replaying where each ticket went).
    """
    backfill = actor.user is None or actor.user.has_role(*BACKFILL_ROLES)
    if opened_at is not None and not backfill:
        raise NotAllowed('Only integrations and administrators may set opened_at.', code='permission_denied')
    if opened_by is not None and not backfill:
        raise NotAllowed('Only integrations and administrators may set opened_by.', code='permission_denied')
    if opened_at is not None and opened_at > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError({'opened_at': 'A ticket cannot be opened in the future.'})
    if eta is not None and eta < (opened_at or timezone.now()):
        raise ValidationError({'eta': 'The ETA is when the caller may expect a resolution: it cannot lie in the past.'})
    # The API is where a requester states field values themselves (the portal's form offers only its choices).
    if actor.user is not None and actor.user.is_requester_only and actor.channel == Channel.API:
        given = {
            'channel': channel,
            'impact': impact,
            'urgency': urgency,
            'category': category,
            'subcategory': subcategory,
            'symptom': symptom,
            'ci': ci,
            'parent': parent,
            'assignment_group': assignment_group,
            'assignee': assignee,
            'eta': eta,
        }
        refusals = requester_refusals(given, arrived_by=channel_for_actor(actor))
        if refusals:
            raise ValidationError(refusals)
    impact, urgency = impact_and_urgency(channel, impact, urgency)
    ticket = Ticket(
        kind=kind,
        short_description=short_description,
        description=description,
        caller=caller,
        opened_by=opened_by or actor.user or caller,
        channel=channel,
        impact=impact,
        urgency=urgency,
        category=category,
        subcategory=subcategory,
        symptom=symptom,
        parent=parent,
        eta=eta,
        opened_at=opened_at or timezone.now(),
    )
    if ci is not None and service is None:
        from cmdb.models import ConfigurationItem
        from cmdb.selectors import suggested_service

        suggestion = suggested_service(ci)
        service = ConfigurationItem.objects.get(pk=suggestion.id) if suggestion else None
    ticket.service, ticket.ci = service, ci
    ticket.priority = compute_priority(ticket.impact, ticket.urgency)
    _validate_ticket(ticket)
    # Where the ticket goes is decided before it is written: a routed ticket is inserted assigned, with its SLA and
    # OLA clocks in one insert, and nobody could have seen it in between. Its timeline still says both: opened, then
    # assigned by whom and why.
    assigner, group, person, reason = actor, assignment_group, assignee, ''
    if group is None and route:  # a group named when opening wins over the routing
        from .routing import route_for

        found = route_for(ticket)
        if found is not None:  # the desk's rules route it, whoever opened it
            assigner, group, person, reason = Actor.system(), found.group, None, found.message
    move = None
    if group is not None:
        changes = _assignment_changes(ticket, actor=assigner, group=group, assignee=person)
        move = TICKET_ACTIONS.apply(ticket, 'assign', actor=assigner, changes=changes)
    ticket.save()
    audit.record_created(
        ticket,
        actor=actor,
        message=f'{ticket.get_kind_display()} opened via {ticket.get_channel_display()}',
        opened_as=move.before if move is not None else None,
    )
    hooks.emit(hooks.CREATED, ticket, actor=actor, notify=notify)
    if move is not None:
        TICKET_ACTIONS.workflow.record(move, actor=assigner, message=reason, public=False, notify=notify)
    return ticket


# What the portal lets a requester say about impact and urgency (incidents.forms words them): the same limits
# hold for requesters reporting any other way, so the priority they can reach is the portal's (P1 at most).
REQUESTER_IMPACTS = (Impact.LOW, Impact.MEDIUM, Impact.HIGH)
REQUESTER_URGENCIES = (Urgency.NEGOTIATED, Urgency.NORMAL, Urgency.URGENT, Urgency.CRITICAL)
# What the desk decides and the portal does not ask: classification, CI, parent, routing.
DESK_FIELDS = ('category', 'subcategory', 'symptom', 'ci', 'parent', 'assignment_group', 'assignee', 'eta')


def requester_refusals(given: dict[str, Any], *, arrived_by: str) -> dict[str, str]:
    """Why a requester may not open a ticket with these values ({} when they may): per field, what the portal
    would not have let them choose. `arrived_by` is the channel the request came through, the only one they may
    name."""
    refusals = {}
    if given.get('impact') and given['impact'] not in REQUESTER_IMPACTS:
        allowed = ', '.join(REQUESTER_IMPACTS)
        refusals['impact'] = f'Requesters choose an impact among {allowed}; the desk sets "{given["impact"]}".'
    if given.get('urgency') and given['urgency'] not in REQUESTER_URGENCIES:
        allowed = ', '.join(REQUESTER_URGENCIES)
        refusals['urgency'] = f'Requesters choose an urgency among {allowed}; the desk sets "{given["urgency"]}".'
    if given.get('channel') and given['channel'] != arrived_by:
        refusals['channel'] = f'Your request arrives through "{arrived_by}"; requesters cannot name another channel.'
    for name in DESK_FIELDS:
        if given.get(name) not in (None, ''):
            refusals[name] = f'The service desk sets the {name.replace("_", " ")}; requesters cannot.'
    return refusals


def _validate_ticket(ticket: Ticket) -> None:
    errors: dict[str, str] = {}
    if ticket.subcategory_id and ticket.category_id and ticket.subcategory.parent_id != ticket.category_id:
        errors['subcategory'] = f'"{ticket.subcategory.name}" is not a subcategory of "{ticket.category.name}".'
    if ticket.service_id and ticket.service.ci_class != 'service':
        errors['service'] = f'{ticket.service.number} is not a service.'
    if ticket.parent_id and ticket._state.adding:  # a parent closing later does not make its children invalid
        refusal = parent_refusal(ticket, ticket.parent)
        if refusal:
            errors['parent'] = refusal
    if errors:
        raise ValidationError(errors)
    # The only constraint a query would check is the imported-source one; a ticket from no source cannot break it.
    ticket.full_clean(
        exclude=['number', 'caller', 'opened_by', 'assignment_group', 'assignee', 'service', 'ci'],
        validate_constraints=bool(ticket.source_number),
    )


# ------------------------------------------------------------------------------------------------ edits
EDITABLE_FIELDS = {
    'short_description',
    'description',
    'channel',
    'impact',
    'urgency',
    'category',
    'subcategory',
    'symptom',
    'service',
    'ci',
    'eta',
    'caller',
}


@transaction.atomic
def ticket_update(*, ticket: Ticket, actor: Actor, **fields: Any) -> Ticket:
    """Edit descriptive fields. A new impact or urgency recomputes the priority unless it was overridden."""
    _require_staff(actor, 'edit tickets')
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError({name: 'This field cannot be changed here.' for name in sorted(unknown)})
    ticket = lock(ticket)
    if ticket.state == TicketState.CLOSED:
        raise Conflict(f'{ticket.number} is closed; open a new ticket that references it instead.', code='closed')
    eta = fields.get('eta')
    if eta is not None and eta != ticket.eta and eta < timezone.now():
        raise ValidationError({'eta': 'The ETA is when the caller may expect a resolution: it cannot lie in the past.'})
    before = audit.snapshot(ticket)
    for name, value in fields.items():
        setattr(ticket, name, value)
    if ({'impact', 'urgency'} & set(fields)) and not ticket.priority_override_reason:
        ticket.priority = compute_priority(ticket.impact, ticket.urgency)
    _validate_ticket(ticket)
    ticket.save()
    audit.record_changes(ticket, before, actor=actor, public=False)
    hooks.emit(hooks.CHANGED, ticket, actor=actor)
    return ticket


@transaction.atomic
def ticket_override_priority(*, ticket: Ticket, actor: Actor, priority: int, reason: str) -> Ticket:
    """Set a priority other than the matrix's; only with a reason, which the timeline keeps."""
    if not (reason or '').strip():
        raise ValidationError({'reason': 'A reason is required to override the priority.'})
    if priority not in range(5):
        raise ValidationError({'priority': 'Priority must be between 0 (P0) and 4 (P4).'})
    ticket = lock(ticket)
    TICKET_ACTIONS.check(ticket, 'priority', actor)
    before = audit.snapshot(ticket)
    ticket.priority = priority
    ticket.priority_override_reason = reason.strip()
    ticket.save(update_fields=['priority', 'priority_override_reason', 'updated_at'])
    audit.record_changes(ticket, before, actor=actor, message=f'Priority overridden: {reason.strip()}')
    hooks.emit(hooks.CHANGED, ticket, actor=actor)
    return ticket


@transaction.atomic
def ticket_set_security(*, ticket: Ticket, actor: Actor, security_incident: bool, reason: str) -> Ticket:
    """Mark `ticket` as a security incident (or take the marking off), with a reason the history keeps. From then
    on only security groups, incident managers (and administrators), its caller and its assignee see it
    (`Ticket.restricted_field`); the work note says so to whoever reads the history."""
    reason = (reason or '').strip()
    if not reason:
        raise ValidationError({'reason': 'A reason is required to mark or unmark a security incident.'})
    ticket = lock(ticket)
    TICKET_ACTIONS.check(ticket, 'security', actor)
    if ticket.security_incident == bool(security_incident):
        now = 'already' if ticket.security_incident else 'not'
        raise Conflict(f'{ticket.number} is {now} a security incident.', code='security_unchanged')
    before = audit.snapshot(ticket)
    ticket.security_incident = bool(security_incident)
    ticket.save(update_fields=['security_incident', 'updated_at'])
    what = 'Marked as a security incident' if ticket.security_incident else 'Security marking removed'
    audit.record_changes(ticket, before, actor=actor, message=f'{what}: {reason}')
    hooks.emit(hooks.CHANGED, ticket, actor=actor)
    return ticket


def parent_refusal(ticket: Ticket, parent: Ticket) -> str:
    """Why `parent` cannot be `ticket`'s parent ('' when it can): a parent is an open incident, not the ticket."""
    if parent.pk is not None and parent.pk == ticket.pk:
        return 'A ticket cannot be its own parent.'
    if parent.kind != TicketKind.INCIDENT:
        return f'{parent.number} is a case: only an incident can be a parent.'
    if parent.state in TICKET_WORKFLOW.final_states:
        return f'{parent.number} is closed: link to an open incident.'
    return ''


@transaction.atomic
def ticket_link_parent(*, ticket: Ticket, actor: Actor, parent: Ticket | None) -> Ticket:
    """Make `ticket` a child of `parent` (a master or major incident), or unlink it with None."""
    TICKET_ACTIONS.check(ticket, 'parent', actor)
    if parent is not None:
        refusal = parent_refusal(ticket, parent)
        if refusal:
            raise ValidationError({'parent': refusal})
        # Walk the stored chain of parents (not the caller's copies, which may be stale) to refuse cycles.
        ancestor_id = parent.pk
        while ancestor_id is not None:
            next_id = Ticket.objects.filter(pk=ancestor_id).values_list('parent_id', flat=True).first()
            if next_id == ticket.pk:
                raise ValidationError({'parent': f'{parent.number} is already below {ticket.number}.'})
            ancestor_id = next_id
    ticket = lock(ticket)
    before = audit.snapshot(ticket)
    ticket.parent = parent
    ticket.save(update_fields=['parent', 'updated_at'])
    audit.record_changes(ticket, before, actor=actor)
    return ticket


@transaction.atomic
def ticket_convert(*, ticket: Ticket, actor: Actor, to_kind: str) -> Ticket:
    """Turn a case into an incident or back. The row, its history and its links stay; the number follows the
    kind, and the previous number keeps finding the ticket."""
    ticket = lock(ticket)
    TICKET_ACTIONS.check(ticket, 'convert', actor)
    if ticket.kind == to_kind:
        raise Conflict(f'{ticket.number} is already a {ticket.get_kind_display().lower()}.', code='same_kind')
    before = {'kind': ticket.kind, 'number': ticket.number, 'alternate_number': ticket.alternate_number}
    new_prefix = NUMBER_PREFIXES[TicketKind(to_kind)]
    new_number = ticket.alternate_number or next_number(new_prefix, start=Ticket.number_start)
    ticket.kind, ticket.number, ticket.alternate_number = to_kind, new_number, before['number']
    ticket.save(update_fields=['kind', 'number', 'alternate_number', 'updated_at'])
    changes = [
        {'field': name, 'label': name.replace('_', ' '), 'before': value, 'after': getattr(ticket, name)}
        for name, value in before.items()
    ]
    message = f'Converted from {before["number"]} to {new_number}'
    audit.record(ticket, actor=actor, kind=TimelineKind.FIELD_CHANGE, message=message, changes=changes, public=True)
    hooks.emit(hooks.CHANGED, ticket, actor=actor)
    return ticket


# -------------------------------------------------------------------------------------------- lifecycle
@transaction.atomic
def ticket_assign(
    *,
    ticket: Ticket,
    actor: Actor,
    group: SupportGroup,
    assignee: User | None = None,
    reason: str = '',
    notify: bool = True,
) -> Ticket:
    """New → Assigned, or Assigned → Assigned to another group (counted as a reassignment)."""
    return _assign(lock(ticket), actor=actor, group=group, assignee=assignee, reason=reason, notify=notify)


def _assign(
    ticket: Ticket, *, actor: Actor, group: SupportGroup, assignee: User | None, reason: str, notify: bool
) -> Ticket:
    """Assign `ticket`, locked by the caller (a new ticket is assigned before its insert, in `ticket_create`)."""
    changes = _assignment_changes(ticket, actor=actor, group=group, assignee=assignee)
    TICKET_ACTIONS.run(ticket, 'assign', actor=actor, changes=changes, message=reason, public=False, notify=notify)
    return ticket


def _assignment_changes(ticket: Ticket, *, actor: Actor, group: SupportGroup, assignee: User | None) -> dict[str, Any]:
    """What assigning `ticket` to `group` (and `assignee`) sets. The actor's right to assign is checked first, so
    a refused actor hears that (403) before anything about the group's members (400)."""
    TICKET_ACTIONS.check(ticket, 'assign', actor)
    if assignee is not None and not group.members.filter(pk=assignee.pk).exists():
        raise ValidationError({'assignee': f'{assignee} is not a member of {group}.'})
    if ticket.state == TicketState.ASSIGNED and ticket.assignment_group_id == group.pk and assignee is None:
        raise Conflict(f'{ticket.number} is already assigned to {group}.', code='no_change')
    changes: dict[str, Any] = {'assignment_group': group, 'assignee': assignee}
    if ticket.state == TicketState.ASSIGNED and ticket.assignment_group_id not in (None, group.pk):
        changes['reassignment_count'] = ticket.reassignment_count + 1
    if ticket.assigned_at is None:
        changes['assigned_at'] = timezone.now()
    return changes


@transaction.atomic
def ticket_accept(*, ticket: Ticket, actor: Actor) -> Ticket:
    """Assigned → Accepted: a member of the assigned group takes ownership. When several accept at once, the
    row lock makes the first win; the others get a 409 because the ticket is no longer Assigned."""
    user = actor.user
    ticket = lock(ticket)
    changes = {'assignee': user, 'accepted_at': ticket.accepted_at or timezone.now()}
    TICKET_ACTIONS.run(ticket, 'accept', actor=actor, changes=changes, message=f'Accepted by {user}')
    return ticket


@transaction.atomic
def ticket_accept_next(*, actor: Actor) -> Ticket | None:
    """Accept the highest-priority, oldest unowned ticket of the actor's groups. A ticket another agent is taking
    at this moment is skipped (SELECT … FOR UPDATE SKIP LOCKED), so two agents never collide."""
    from .selectors import next_ticket_for

    ticket = next_ticket_for(actor.user)
    if ticket is None:
        return None
    return ticket_accept(ticket=ticket, actor=actor)


def desk_group_for(user: User) -> SupportGroup | None:
    """The group a service desk agent takes a new, unassigned ticket into: their first active group, lowest tier
    first (the desk is L1)."""
    return SupportGroup.objects.filter(members=user, active=True).order_by('tier', 'name').first()


@transaction.atomic
def ticket_take(*, ticket: Ticket, actor: Actor) -> Ticket:
    """Take a ticket nobody has accepted: assign it to the actor (a New ticket without a group goes to the agent's
    desk group) and accept it, in one transaction. Both transitions are recorded and announced like the separate
    actions, so the SLA response target is met at the acceptance. When several take at once, the row lock makes
    the first win; the others get a 409 because the ticket is no longer New or Assigned."""
    user = actor.user
    ticket = lock(ticket)
    TICKET_ACTIONS.check(ticket, 'take', actor)
    now = timezone.now()
    if ticket.state in TICKET_WORKFLOW.triage_states:
        group = ticket.assignment_group or desk_group_for(user)
        if group is None:
            raise NotAllowed(f'You belong to no active support group to take {ticket.number} into.')
        changes = {'assignment_group': group, 'assignee': user, 'assigned_at': ticket.assigned_at or now}
        # The taker is the assignee: nobody else needs to hear about the assignment.
        TICKET_ACTIONS.workflow.run(
            ticket, 'assign', actor=actor, changes=changes, message=f'Taken by {user}', public=False, notify=False
        )
    changes = {'assignee': user, 'accepted_at': ticket.accepted_at or now}
    TICKET_ACTIONS.workflow.run(ticket, 'accept', actor=actor, changes=changes, message=f'Accepted by {user}')
    return ticket


@transaction.atomic
def ticket_pend(
    *, ticket: Ticket, actor: Actor, reason: str, note: str = '', until: dt.datetime | None = None
) -> Ticket:
    """Accepted → Pending: waiting on the customer, a vendor, a part, a change; a reason is required."""
    ticket = lock(ticket)
    if until is not None and until <= timezone.now():
        raise ValidationError({'until': 'The expected date must be in the future.'})
    changes = {'pending_reason': reason or '', 'pending_note': note, 'pending_until': until}
    TICKET_ACTIONS.run(ticket, 'pend', actor=actor, changes=changes, message=note)
    return ticket


@transaction.atomic
def ticket_resume(*, ticket: Ticket, actor: Actor, note: str = '') -> Ticket:
    """Pending → Accepted."""
    ticket = lock(ticket)
    changes = {'pending_reason': '', 'pending_note': '', 'pending_until': None}
    TICKET_ACTIONS.run(ticket, 'resume', actor=actor, changes=changes, message=note)
    return ticket


@transaction.atomic
def ticket_escalate(
    *, ticket: Ticket, actor: Actor, reason: str, group: SupportGroup | None = None, hierarchical: bool = False
) -> Ticket:
    """Functional escalation: hand the ticket to `group`, or to the next tier of its current group. Counts a
    reassignment and leaves the ticket Assigned for the new group to accept. `hierarchical` informs the group's
    manager instead (`ticket_escalate_hierarchical`)."""
    if hierarchical:
        return ticket_escalate_hierarchical(ticket=ticket, actor=actor, reason=reason)
    if not (reason or '').strip():
        raise ValidationError({'reason': 'A reason is required to escalate.'})
    ticket = lock(ticket)
    TICKET_ACTIONS.check(ticket, 'escalate', actor)
    target = group or (ticket.assignment_group.escalation_group if ticket.assignment_group else None)
    if target is None:
        raise ValidationError({'group': f'{ticket.assignment_group} has no next tier: choose a group.'})
    if target.pk == ticket.assignment_group_id:
        raise ValidationError({'group': f'{ticket.number} is already with {target}.'})
    changes = {'assignment_group': target, 'assignee': None, 'reassignment_count': ticket.reassignment_count + 1}
    TICKET_ACTIONS.workflow.run(
        ticket,
        'escalate',
        actor=actor,
        changes=changes,
        message=reason.strip(),
        data={'reason': reason.strip()},
        public=False,
    )
    return ticket


@transaction.atomic
def ticket_escalate_hierarchical(*, ticket: Ticket, actor: Actor, reason: str) -> Ticket:
    """Hierarchical escalation: tell the group's manager (and for P0/P1 the service owner) that targets are at
    risk or impact is high. The ticket stays where it is."""
    if not (reason or '').strip():
        raise ValidationError({'reason': 'A reason is required to escalate.'})
    TICKET_ACTIONS.check(ticket, 'escalate_management', actor)
    audit.record(
        ticket,
        actor=actor,
        kind=TimelineKind.WORK_NOTE,
        message=f'Escalated to management: {reason.strip()}',
        data={'escalation': 'hierarchical', 'manager': ticket.assignment_group.manager.username},
    )
    notifications.ticket_event(ticket, notifications.Event.ESCALATED, extra={'reason': reason.strip()})
    return ticket


@transaction.atomic
def ticket_complete(*, ticket: Ticket, actor: Actor, resolution_code: str, resolution_notes: str) -> Ticket:
    """Accepted → Completed: service restored or a fix in place; resolution code and notes are required.

    A parent completes its open children with its resolution, whatever their state (`complete_with_parent`): each
    child is completed whole, its caller told as for any completion, or left as it was and named in the parent's
    timeline with the reason (`ticket.children_not_completed` lists them for the page or the API)."""
    ticket = lock(ticket)
    if resolution_code == ResolutionCode.KNOWN_ERROR and not ticket.known_error_uses.exists():
        # Known errors are applied by the problems app (`KnownErrorUse`, reached through its reverse relation).
        raise ValidationError(
            {'resolution_code': 'Apply a known error to this ticket first: "Known error" needs its workaround given.'}
        )
    notes = (resolution_notes or '').strip()
    changes = {'resolution_code': resolution_code or '', 'resolution_notes': notes, 'completed_at': timezone.now()}
    TICKET_ACTIONS.run(ticket, 'complete', actor=actor, changes=changes, message=notes)
    ticket.children_completed, ticket.children_not_completed = _complete_children(ticket, actor=actor)
    return ticket


def _complete_children(parent: Ticket, *, actor: Actor) -> tuple[list[str], list[str]]:
    """Complete the open children of a completed parent; returns (numbers completed, "number: reason" refused)."""
    children = Ticket.objects.filter(parent=parent, state__in=TICKET_WORKFLOW.open_states).order_by('pk')
    return complete_with_parent(
        parent,
        children,
        actor=actor,
        resolution_code=parent.resolution_code,
        resolution_notes=parent.resolution_notes,
        done_label='Completed with this ticket',
    )


def complete_with_parent(
    parent, children, *, actor: Actor, resolution_code: str, resolution_notes: str, done_label: str
) -> tuple[list[str], list[str]]:
    """Complete `children` (open tickets) with the resolution of `parent` (a ticket, or a major incident), whatever
    state each is in. Each child is completed whole in its own savepoint, its caller told as for any completion; one
    that cannot be is left as it was. The parent's timeline names both; returns (numbers completed, "number (state):
    reason" refused)."""
    done, refused = [], []
    notes = (resolution_notes or '').strip()
    for child in children:
        state = child.get_state_display()  # as it stays if its completion is rolled back
        try:
            with transaction.atomic():  # a child that cannot be completed is left whole, not half-done
                child = lock(child)
                changes = {
                    'resolution_code': resolution_code,
                    'resolution_notes': notes,
                    'completed_at': timezone.now(),
                }
                if child.state == TicketState.PENDING:
                    changes.update(pending_reason='', pending_note='', pending_until=None)
                TICKET_ACTIONS.workflow.run(
                    child,
                    'complete_with_parent',
                    actor=actor,
                    changes=changes,
                    message=f'Completed with parent {parent.number}: {notes}',
                )
                _complete_children(child, actor=actor)  # and its own children, in turn
        except (ValidationError, ApplicationError) as error:
            reason = error.detail if isinstance(error, ApplicationError) else ' '.join(error.messages)
            refused.append(f'{child.number} ({state}): {reason}')
        else:
            done.append(child.number)
    if done or refused:
        lines = [f'{done_label}: {", ".join(done)}.'] if done else []
        if refused:
            lines.append(f'Not completed, left as they were: {"; ".join(refused)}')
        audit.record(
            parent,
            actor=actor,
            kind=TimelineKind.WORK_NOTE,
            message=' '.join(lines),
            data={'children_completed': done, 'children_not_completed': refused},
        )
    return done, refused


@transaction.atomic
def ticket_confirm(*, ticket: Ticket, actor: Actor) -> Ticket:
    """Completed → Closed with the caller's consent (the caller, or an agent on the caller's behalf)."""
    ticket = lock(ticket)
    TICKET_ACTIONS.run(
        ticket, 'confirm', actor=actor, changes={'closed_at': timezone.now()}, message='Resolution confirmed'
    )
    return ticket


@transaction.atomic
def ticket_reject(*, ticket: Ticket, actor: Actor, reason: str) -> Ticket:
    """Completed → Accepted: the caller rejects the resolution (a reopen); a reason is required."""
    if not (reason or '').strip():
        raise ValidationError({'reason': 'A reason is required to reject the resolution.'})
    ticket = lock(ticket)
    changes = {
        'reopen_count': ticket.reopen_count + 1,
        'completed_at': None,
        'resolution_code': '',
        'resolution_notes': '',
        # The queues mark it "Reopened" until someone working it opens it; the assignee and the group are told.
        **attention_changes(ticket, Attention.REOPENED),
    }
    TICKET_ACTIONS.run(
        ticket,
        'reject',
        actor=actor,
        changes=changes,
        message=f'Resolution rejected: {reason.strip()}',
        data={'reason': reason.strip()},
    )
    notifications.ticket_event(ticket, notifications.Event.REOPENED, extra={'reason': reason.strip()})
    return ticket


def ticket_close_stale(*, now: dt.datetime | None = None, days: int | None = None) -> int:
    """Close tickets Completed for more than `days` (INCIDENT_AUTO_CLOSE_DAYS) without the caller's answer.

    Idempotent: each ticket is locked and checked again, so overlapping runs close it once. Returns the count.
    """
    days = settings.INCIDENT_AUTO_CLOSE_DAYS if days is None else days
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    ids = list(
        Ticket.objects.filter(state=TicketState.COMPLETED, completed_at__lte=cutoff).values_list('pk', flat=True)
    )
    closed = 0
    actor = Actor.system()
    for pk in ids:
        with transaction.atomic():
            ticket = Ticket.objects.select_for_update().get(pk=pk)
            if ticket.state != TicketState.COMPLETED or ticket.completed_at > cutoff:
                continue
            TICKET_ACTIONS.workflow.run(
                ticket,
                'auto_close',
                actor=actor,
                changes={'closed_at': now or timezone.now()},
                message=f'Closed automatically after {days} days without an answer from the caller.',
            )
            closed += 1
    return closed


# ------------------------------------------------------------------------------------- notes and files
@transaction.atomic
def ticket_comment(*, ticket: Ticket, actor: Actor, body: str, internal: bool = False):
    """Add a customer-visible comment, or an internal work note (see `itsm.conversation.comment`)."""
    return conversation.comment(ticket, actor=actor, body=body, internal=internal)


@transaction.atomic
def ticket_requester_replied(*, ticket: Ticket, actor: Actor, entry=None) -> Ticket:
    """The requester answered (a public comment by the caller's side, `notifications.speaks_for_requester`; the
    `commented` hook calls this whichever way it came). A ticket waiting on the customer resumes through
    `ticket_resume`, so its clocks run again; the assignee, or the group while nobody has taken it, is told; and
    the queues mark it "customer replied" until someone working it opens it. A closed ticket is left as it is."""
    ticket = lock(ticket)
    if ticket.is_final:
        return ticket
    if ticket.state == TicketState.PENDING and ticket.pending_reason == PendingReason.CUSTOMER:
        # Resumed by the desk's rule on the caller's answer; the caller may not resume tickets themselves.
        resumer = Actor.system(channel=actor.channel)
        ticket = ticket_resume(ticket=ticket, actor=resumer, note='The caller replied: back with the desk.')
    record_flag(ticket, Attention.CUSTOMER_REPLIED)
    notifications.ticket_event(
        ticket, notifications.Event.CUSTOMER_REPLIED, extra={'comment': entry.message if entry is not None else ''}
    )
    return ticket


def ticket_attach(*, ticket: Ticket, actor: Actor, upload, public: bool = True):
    """Store a file on a ticket, within the size limit and the allowed types."""
    return conversation.attach(ticket, actor=actor, upload=upload, public=public)


# `{name}` and nothing else: templates are written by people, so they never go through `str.format` (whose
# `{0}`, `{number[9]}`, `{number:>5000000}` or a lone brace fail or run away); anything else stays as typed.
PLACEHOLDER = re.compile(r'\{([a-z_]+)\}')


def render_template_text(template: ResponseTemplate | str, *, ticket: Ticket, agent: User | None) -> str:
    """Fill a communication template's placeholders ({caller_name}, {number}, {agent_name}, …) for a ticket."""
    text = template.text if isinstance(template, ResponseTemplate) else template
    values = dict(
        caller_name=ticket.caller.get_full_name() or ticket.caller.username,
        caller_first_name=ticket.caller.first_name or ticket.caller.username,
        number=ticket.number,
        short_description=ticket.short_description,
        agent_name=(agent.get_full_name() or agent.username) if agent else 'the service desk',
        group=str(ticket.assignment_group or 'the service desk'),
        state=ticket.get_state_display(),
        eta=timezone.localtime(ticket.eta).strftime('%Y-%m-%d %H:%M') if ticket.eta else 'not yet known',
    )
    return PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), text)


# ----------------------------------------------------------------------------------------- reference data
@transaction.atomic
def priority_matrix_set(*, actor: Actor, cells: Iterable[tuple[str, str, int]]) -> None:
    """Store matrix cells (impact, urgency, priority); the new priorities apply to tickets opened from now on."""
    for impact, urgency, priority in cells:
        if impact not in Impact.values or urgency not in Urgency.values or priority not in range(5):
            raise ValidationError({'matrix': f'Invalid cell: {impact} × {urgency} → {priority}.'})
        entry, created = PriorityMatrixEntry.objects.get_or_create(
            impact=impact, urgency=urgency, defaults={'priority': priority}
        )
        if created:
            audit.record_created(entry, actor=actor, public=False)
        elif entry.priority != priority:
            before = audit.snapshot(entry)
            entry.priority = priority
            entry.save(update_fields=['priority'])
            audit.record_changes(entry, before, actor=actor)


def channel_for_actor(actor: Actor) -> str:
    """The ticket channel implied by how a request arrived: API clients, monitoring and e-mail are channels of
    their own (the same names); pages are the portal."""
    arrived = (Channel.API, Channel.MONITORING, Channel.EMAIL)
    return TicketChannel(actor.channel) if actor.channel in arrived else TicketChannel.PORTAL


@transaction.atomic
def ticket_complete_unworked(*, ticket: Ticket, actor: Actor, resolution_code: str, resolution_notes: str) -> Ticket:
    """Complete a ticket nobody has taken yet (New or Assigned without an assignee, or reopened without one), for a
    source that reports the problem gone by itself (monitoring). A ticket someone owns is completed by them."""
    ticket = lock(ticket)
    unowned_states = (TicketState.NEW, TicketState.ASSIGNED, TicketState.ACCEPTED)
    if ticket.assignee_id is not None or ticket.state not in unowned_states:
        raise Conflict(f'{ticket.number} is being worked: its owner completes it.', code='being_worked')
    notes = (resolution_notes or '').strip()
    changes = {'resolution_code': resolution_code, 'resolution_notes': notes, 'completed_at': timezone.now()}
    # Unowned tickets leave their open state the way a parent's resolution takes them (the workflow's own move).
    name = 'complete' if ticket.state == TicketState.ACCEPTED else 'complete_with_parent'
    TICKET_ACTIONS.workflow.run(ticket, name, actor=actor, changes=changes, message=notes)
    return ticket
