"""Every write to problems and their category priorities: creation, edits and the lifecycle of domain §7.

Each function takes the acting `Actor`, runs in one transaction, records the timeline and announces itself through
`itsm.hooks`; every move of the state goes through `PROBLEM_ACTIONS`, so the `transitioned` hook fires for each.
Views, the API, Celery tasks and other apps (incidents, known errors, candidates) all come through here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from itsm import audit, hooks
from itsm.audit import Actor
from itsm.choices import Impact, Role, TimelineKind, Urgency
from itsm.errors import Conflict, NotAllowed
from itsm.models import SupportGroup, User
from itsm.workflow import lock

from .actions import MANAGER_ROLES, PROBLEM_ACTIONS, is_problem_manager, works_problem
from .choices import ProblemState
from .models import CategoryPriority, Problem

# Who may raise a problem: the desk's agents and engineers, incident and problem managers, integrations.
RAISER_ROLES = (
    Role.SERVICE_DESK_AGENT,
    Role.L2_ENGINEER,
    Role.L3_ENGINEER,
    Role.INCIDENT_MANAGER,
    Role.PROBLEM_MANAGER,
    Role.INTEGRATION,
    Role.ADMINISTRATOR,
)
BACKFILL_ROLES = (Role.INTEGRATION, Role.ADMINISTRATOR)


def _require_raiser(actor: Actor) -> None:
    user = actor.user
    if user is not None and not user.has_role(*RAISER_ROLES):
        raise NotAllowed('Only service desk staff and problem managers can raise problems.')


def _require_analyst(problem: Problem, actor: Actor, what: str) -> None:
    if actor.user is not None and not works_problem(problem, actor.user):
        raise NotAllowed(f'Only the owner, the assigned group or a problem manager can {what} {problem.number}.')


# --------------------------------------------------------------------------------------------- priority
def category_of(category, subcategory):
    """The top-level category that drives the priority (a subcategory given alone names its parent)."""
    if category is not None:
        return category
    return subcategory.parent if subcategory is not None else None


def priority_for(category) -> tuple[str, str, int]:
    """Impact, urgency and priority of a problem of `category`: its `CategoryPriority` row through the priority
    matrix, else medium impact and normal urgency."""
    from incidents.priority import compute_priority

    row = CategoryPriority.objects.filter(category=category).first() if category is not None else None
    impact, urgency = (row.impact, row.urgency) if row else (Impact.MEDIUM, Urgency.NORMAL)
    return impact, urgency, compute_priority(impact, urgency)


def _apply_priority(problem: Problem) -> None:
    problem.impact, problem.urgency, problem.priority = priority_for(category_of(problem.category, problem.subcategory))


def _validate(problem: Problem) -> None:
    errors: dict[str, str] = {}
    if problem.category_id and problem.category.parent_id is not None:
        errors['category'] = f'"{problem.category.name}" is a subcategory: choose a top-level category.'
    if problem.subcategory_id:
        if problem.subcategory.parent_id is None:
            errors['subcategory'] = f'"{problem.subcategory.name}" is a top-level category, not a subcategory.'
        elif problem.category_id and problem.subcategory.parent_id != problem.category_id:
            errors['subcategory'] = f'"{problem.subcategory.name}" is not a subcategory of "{problem.category.name}".'
    if problem.owner_id and not problem.owner.has_role(*MANAGER_ROLES):
        errors['owner'] = f'{problem.owner} is not a problem manager: a problem manager owns a problem.'
    outside = problem.assignee_id and problem.assignment_group_id
    if outside and not problem.assignment_group.members.filter(pk=problem.assignee_id).exists():
        errors['assignee'] = f'{problem.assignee} is not a member of {problem.assignment_group}.'
    if errors:
        raise ValidationError(errors)


def _validate_items(services: Iterable, cis: Iterable) -> None:
    not_services = [item.number for item in services if item.ci_class != 'service']
    if not_services:
        raise ValidationError({'services': f'Not services: {", ".join(not_services)}.'})


# ------------------------------------------------------------------------------------------------ create
@transaction.atomic
def problem_create(
    *,
    actor: Actor,
    short_description: str,
    description: str = '',
    category=None,
    subcategory=None,
    owner: User | None = None,
    assignment_group: SupportGroup | None = None,
    services: Iterable = (),
    cis: Iterable = (),
    symptoms: str = '',
    workaround: str = '',
    opened_at: dt.datetime | None = None,
) -> Problem:
    """Log a problem. Its priority comes from its category (`CategoryPriority`) through the priority matrix.

    Only integrations and administrators (or a system job) may backdate `opened_at` (imports, demo data)."""
    _require_raiser(actor)
    if not (short_description or '').strip():
        raise ValidationError({'short_description': 'Say in a line what the problem is.'})
    if opened_at is not None:
        if actor.user is not None and not actor.user.has_role(*BACKFILL_ROLES):
            raise NotAllowed('Only integrations and administrators may set opened_at.')
        if opened_at > timezone.now() + dt.timedelta(minutes=5):
            raise ValidationError({'opened_at': 'A problem cannot be opened in the future.'})
    services, cis = list(services or ()), list(cis or ())
    _validate_items(services, cis)
    problem = Problem(
        short_description=short_description.strip(),
        description=description,
        category=category,
        subcategory=subcategory,
        owner=owner,
        assignment_group=assignment_group,
        symptoms=symptoms,
        workaround=workaround,
        opened_by=actor.user,
        opened_at=opened_at or timezone.now(),
    )
    _apply_priority(problem)
    _validate(problem)
    problem.full_clean(exclude=['number', 'owner', 'assignment_group', 'assignee', 'opened_by', 'category'])
    problem.save()
    problem.services.set(services)
    problem.cis.set(cis)
    audit.record_created(problem, actor=actor, message='Problem logged', public=False)
    hooks.emit(hooks.CREATED, problem, actor=actor, notify=True)
    return problem


# ------------------------------------------------------------------------------------------------- edits
EDITABLE_FIELDS = {
    'short_description',
    'description',
    'category',
    'subcategory',
    'owner',
    'assignment_group',
    'assignee',
    'services',
    'cis',
    'vendor',
    'vendor_reference',
    'symptoms',
    'workaround',
}
MANY = ('services', 'cis')


@transaction.atomic
def problem_update(*, problem: Problem, actor: Actor, **fields: Any) -> Problem:
    """Edit descriptive fields (the analysis has its own action). A new category recomputes the priority; only a
    problem manager changes the owner."""
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError({name: 'This field cannot be changed here.' for name in sorted(unknown)})
    problem = lock(problem)
    _require_analyst(problem, actor, 'edit')
    if problem.is_final:
        raise Conflict(f'{problem.number} is {problem.get_state_display().lower()}; it cannot change.', code='final')
    new_owner = 'owner' in fields and fields['owner'] != problem.owner
    if new_owner and actor.user is not None and not is_problem_manager(actor.user):
        raise NotAllowed('Only a problem manager can change the owner of a problem.')
    if 'short_description' in fields and not (fields['short_description'] or '').strip():
        raise ValidationError({'short_description': 'Say in a line what the problem is.'})
    if 'services' in fields:
        _validate_items(fields['services'], ())
    before = audit.snapshot(problem)
    for name, value in fields.items():
        if name not in MANY:
            setattr(problem, name, value)
    if {'category', 'subcategory'} & set(fields):
        _apply_priority(problem)
    _validate(problem)
    problem.save()
    for name in MANY:
        if name in fields:
            getattr(problem, name).set(list(fields[name] or ()))
    audit.record_changes(problem, before, actor=actor)
    hooks.emit(hooks.CHANGED, problem, actor=actor)
    return problem


# -------------------------------------------------------------------------------------------- lifecycle
@transaction.atomic
def problem_assess(
    *,
    problem: Problem,
    actor: Actor,
    owner: User | None = None,
    assignment_group: SupportGroup | None = None,
    note: str = '',
) -> Problem:
    """New → Assessed: a problem manager accepts the problem and names its owner (and the analysing group)."""
    problem = lock(problem)
    PROBLEM_ACTIONS.check(problem, 'assess', actor)
    owner = owner or problem.owner
    if owner is not None and not owner.has_role(*MANAGER_ROLES):
        raise ValidationError({'owner': f'{owner} is not a problem manager: a problem manager owns a problem.'})
    changes: dict[str, Any] = {'owner': owner}
    if assignment_group is not None:
        changes['assignment_group'] = assignment_group
    PROBLEM_ACTIONS.run(problem, 'assess', actor=actor, changes=changes, message=note.strip(), public=False)
    return problem


@transaction.atomic
def problem_analyse(*, problem: Problem, actor: Actor, note: str = '') -> Problem:
    """Assessed → Root-cause analysis."""
    problem = lock(problem)
    PROBLEM_ACTIONS.run(problem, 'analyse', actor=actor, message=note.strip(), public=False)
    return problem


ANALYSIS_FIELDS = ('symptoms', 'root_cause', 'root_cause_category', 'contributing_factors', 'analysis_method')


@transaction.atomic
def problem_record_analysis(
    *,
    problem: Problem,
    actor: Actor,
    symptoms: str | None = None,
    root_cause: str | None = None,
    root_cause_category: str | None = None,
    contributing_factors: str | None = None,
    analysis_method: str | None = None,
    workaround: str | None = None,
) -> Problem:
    """Record what the analysis found: fields given as None are left as they are. The first root cause recorded
    sets `root_cause_found_at` (mean time to root cause is measured from it)."""
    problem = lock(problem)
    PROBLEM_ACTIONS.check(problem, 'record_analysis', actor)
    given = {
        'symptoms': symptoms,
        'root_cause': root_cause,
        'root_cause_category': root_cause_category,
        'contributing_factors': contributing_factors,
        'analysis_method': analysis_method,
        'workaround': workaround,
    }
    given = {name: (value or '').strip() for name, value in given.items() if value is not None}
    if problem.root_cause and given.get('root_cause') == '':
        raise ValidationError({'root_cause': 'A root cause once found is corrected, not erased.'})
    before = audit.snapshot(problem)
    for name, value in given.items():
        setattr(problem, name, value)
    if problem.root_cause and problem.root_cause_found_at is None:
        problem.root_cause_found_at = timezone.now()
    problem.full_clean(exclude=['number', 'owner', 'assignment_group', 'assignee', 'opened_by', 'category'])
    problem.save()
    entry = audit.record_changes(problem, before, actor=actor, message='Analysis recorded')
    if entry is None:
        raise ValidationError({'root_cause': 'Nothing to record: the analysis says this already.'})
    hooks.emit(hooks.CHANGED, problem, actor=actor)
    return problem


@transaction.atomic
def problem_start_fix(*, problem: Problem, actor: Actor, note: str = '') -> Problem:
    """Root-cause analysis → Fix in progress (a root cause is required)."""
    problem = lock(problem)
    PROBLEM_ACTIONS.run(problem, 'start_fix', actor=actor, message=note.strip(), public=False)
    return problem


@transaction.atomic
def problem_resolve(*, problem: Problem, actor: Actor, resolution: str, change_reference: str = '') -> Problem:
    """Root-cause analysis or Fix in progress → Resolved: the permanent fix is in place. A root cause and the
    resolution are required; `change_reference` names the change that deploys the fix, if one was needed."""
    problem = lock(problem)
    PROBLEM_ACTIONS.check(problem, 'resolve', actor)
    changes = {
        'resolution': (resolution or '').strip(),
        'change_reference': (change_reference or '').strip(),
        'resolved_at': timezone.now(),
        'awaiting_vendor_since': None,
    }
    PROBLEM_ACTIONS.run(problem, 'resolve', actor=actor, changes=changes, public=False)
    return problem


# Close blockers: functions `blocker(problem) -> Iterable[str]`, each saying why the problem cannot close yet.
# The changes app registers one (every linked change closed or cancelled, domain §7) in its AppConfig.ready.
CloseBlocker = Callable[[Problem], Iterable[str]]
_close_blockers: list[CloseBlocker] = []


def register_close_blocker(blocker: CloseBlocker) -> None:
    """Ask `blocker` before any problem closes; registering the same function twice has no effect."""
    if blocker not in _close_blockers:
        _close_blockers.append(blocker)


def unregister_close_blocker(blocker: CloseBlocker) -> None:
    if blocker in _close_blockers:
        _close_blockers.remove(blocker)


def close_blockers(problem: Problem) -> list[str]:
    """Why `problem` cannot close yet, from every registered blocker ([] when it can)."""
    return [reason for blocker in _close_blockers for reason in blocker(problem) if reason]


@transaction.atomic
def problem_close(*, problem: Problem, actor: Actor, note: str = '') -> Problem:
    """Resolved → Closed, once nothing registered blocks it (every linked change closed or cancelled)."""
    problem = lock(problem)
    PROBLEM_ACTIONS.check(problem, 'close', actor)
    reasons = close_blockers(problem)
    if reasons:
        raise Conflict(
            f'{problem.number} cannot close yet: {" ".join(reasons)}', code='close_blocked', extra={'reasons': reasons}
        )
    changes = {'closed_at': timezone.now()}
    PROBLEM_ACTIONS.run(problem, 'close', actor=actor, changes=changes, message=note.strip(), public=False)
    return problem


@transaction.atomic
def problem_reopen(*, problem: Problem, actor: Actor, reason: str) -> Problem:
    """Resolved → Fix in progress: the fix did not hold."""
    if not (reason or '').strip():
        raise ValidationError({'reason': 'A reason is required to reopen.'})
    problem = lock(problem)
    changes = {'resolved_at': None}
    PROBLEM_ACTIONS.run(
        problem, 'reopen', actor=actor, changes=changes, message=reason.strip(), data={'reason': reason.strip()}
    )
    return problem


@transaction.atomic
def problem_cancel(*, problem: Problem, actor: Actor, reason: str) -> Problem:
    """Any open state → Cancelled, with the reason (not a problem after all, a duplicate...)."""
    if not (reason or '').strip():
        raise ValidationError({'reason': 'A reason is required to cancel.'})
    problem = lock(problem)
    changes = {'cancel_reason': (reason or '').strip(), 'closed_at': timezone.now(), 'awaiting_vendor_since': None}
    PROBLEM_ACTIONS.run(problem, 'cancel', actor=actor, changes=changes, message=changes['cancel_reason'])
    return problem


@transaction.atomic
def problem_await_vendor(
    *, problem: Problem, actor: Actor, vendor: str = '', vendor_reference: str = '', note: str = ''
) -> Problem:
    """The problem waits on the supplier from now (`awaiting_vendor_since`), named with their case number."""
    problem = lock(problem)
    PROBLEM_ACTIONS.check(problem, 'await_vendor', actor)
    vendor = (vendor or '').strip() or problem.vendor
    if not vendor:
        raise ValidationError({'vendor': 'Name the supplier the problem waits on.'})
    before = audit.snapshot(problem)
    problem.vendor = vendor
    if (vendor_reference or '').strip():
        problem.vendor_reference = vendor_reference.strip()
    problem.awaiting_vendor_since = timezone.now()
    problem.save(update_fields=['vendor', 'vendor_reference', 'awaiting_vendor_since', 'updated_at'])
    message = f'Waiting on {vendor}' + (f': {note.strip()}' if (note or '').strip() else '')
    audit.record_changes(problem, before, actor=actor, message=message)
    hooks.emit(hooks.CHANGED, problem, actor=actor)
    return problem


@transaction.atomic
def problem_vendor_responded(*, problem: Problem, actor: Actor, note: str = '') -> Problem:
    """The supplier answered: the wait ends (how long it lasted stays in the history)."""
    problem = lock(problem)
    PROBLEM_ACTIONS.check(problem, 'vendor_responded', actor)
    before = audit.snapshot(problem)
    waited = timezone.now() - problem.awaiting_vendor_since
    problem.awaiting_vendor_since = None
    problem.save(update_fields=['awaiting_vendor_since', 'updated_at'])
    hours = waited.total_seconds() / 3600
    message = f'{problem.vendor or "The supplier"} responded after {hours:.1f} h'
    if (note or '').strip():
        message += f': {note.strip()}'
    audit.record_changes(problem, before, actor=actor, message=message)
    hooks.emit(hooks.CHANGED, problem, actor=actor)
    return problem


# ------------------------------------------------------------------------------------ category priorities
def _require_admin(actor: Actor) -> None:
    if actor.user is not None and not actor.user.has_role(Role.ADMINISTRATOR):
        raise NotAllowed('Only administrators edit the problem priorities of categories.')


def reprioritise_open_problems(category, *, actor: Actor) -> int:
    """Give every open problem of `category` the priority its row now gives; returns how many changed."""
    impact, urgency, priority = priority_for(category)
    changed = 0
    problems = Problem.objects.open().filter(category=category).select_for_update()
    problems = problems.exclude(impact=impact, urgency=urgency, priority=priority)
    for problem in problems:
        before = audit.snapshot(problem)
        problem.impact, problem.urgency, problem.priority = impact, urgency, priority
        problem.save(update_fields=['impact', 'urgency', 'priority', 'updated_at'])
        audit.record_changes(problem, before, actor=actor, message=f'The priority of {category} changed')
        hooks.emit(hooks.CHANGED, problem, actor=actor)
        changed += 1
    return changed


def _check_category(category) -> None:
    if category is not None and category.parent_id is not None:
        raise ValidationError({'category': f'"{category.name}" is a subcategory: choose a top-level category.'})


@transaction.atomic
def category_priority_create(*, actor: Actor, category, impact: str, urgency: str) -> CategoryPriority:
    """A category's problem impact and urgency; open problems of the category take the new priority."""
    _require_admin(actor)
    _check_category(category)
    if CategoryPriority.objects.filter(category=category).exists():
        raise Conflict(f'{category} already has a problem priority: edit it.', code='exists')
    row = CategoryPriority(category=category, impact=impact, urgency=urgency)
    row.full_clean()
    row.save()
    audit.record_created(row, actor=actor, public=False)
    reprioritise_open_problems(category, actor=actor)
    return row


@transaction.atomic
def category_priority_update(*, row: CategoryPriority, actor: Actor, **fields: Any) -> CategoryPriority:
    """Change a category's impact or urgency (or move the row to another category); open problems follow."""
    _require_admin(actor)
    unknown = set(fields) - {'category', 'impact', 'urgency'}
    if unknown:
        raise ValidationError({name: 'This field cannot be changed here.' for name in sorted(unknown)})
    row = lock(row)
    previous = row.category
    if 'category' in fields:
        _check_category(fields['category'])
    before = audit.snapshot(row)
    for name, value in fields.items():
        setattr(row, name, value)
    row.full_clean()
    row.save()
    audit.record_changes(row, before, actor=actor)
    reprioritise_open_problems(row.category, actor=actor)
    if previous.pk != row.category_id:
        reprioritise_open_problems(previous, actor=actor)
    return row


@transaction.atomic
def category_priority_delete(*, row: CategoryPriority, actor: Actor) -> None:
    """Remove a category's row: its open problems fall back to medium impact and normal urgency."""
    _require_admin(actor)
    category = row.category
    audit.record(row, actor=actor, kind=TimelineKind.DELETED, message=f'Deleted {row}', public=False)
    row.delete()
    reprioritise_open_problems(category, actor=actor)


__all__ = [
    'ProblemState',
    'category_priority_create',
    'category_priority_delete',
    'category_priority_update',
    'close_blockers',
    'priority_for',
    'problem_analyse',
    'problem_assess',
    'problem_await_vendor',
    'problem_cancel',
    'problem_close',
    'problem_create',
    'problem_record_analysis',
    'problem_reopen',
    'problem_resolve',
    'problem_start_fix',
    'problem_update',
    'problem_vendor_responded',
    'register_close_blocker',
    'reprioritise_open_problems',
    'unregister_close_blocker',
]
