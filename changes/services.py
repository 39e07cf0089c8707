"""Every write to changes and their implementation tasks: creation, edits and the lifecycle of domain §8.

Each function takes the acting `Actor`, runs in one transaction, records the timeline and announces itself through
`itsm.hooks`; every move of a state goes through `CHANGE_ACTIONS` or `TASK_ACTIONS`, so the `transitioned` hook
fires for each. The risk (`changes.risk`), the CAB route and authorisation (`changes.cab`) and the freezes
(`changes.calendar`) are asked here; other refusals of a schedule come through `register_schedule_check`.
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
from itsm.choices import TimelineKind
from itsm.errors import Conflict, NotAllowed
from itsm.models import SupportGroup, User
from itsm.workflow import lock

from .actions import CHANGE_ACTIONS, TASK_ACTIONS, is_change_manager, may_draft, works_change, works_task
from .choices import CabRoute, ChangeOutcome, ChangeState, ChangeType, TaskState
from .models import Change, ChangeModel, ChangeTask

# The environments a change can touch, the most exposed first: a change's environment is its most exposed CI's.
ENVIRONMENT_EXPOSURE = ('production', 'staging', 'test', 'development')
NEEDS_BACKOUT = (ChangeType.NORMAL, ChangeType.EMERGENCY)
# Outcomes after which the post-implementation review is required (as it is after every emergency change).
REVIEWED_OUTCOMES = (ChangeOutcome.FAILED, ChangeOutcome.BACKED_OUT)
OPEN_TASK_STATES = (TaskState.OPEN, TaskState.IN_PROGRESS)


def _text(value) -> str:
    return (value or '').strip()


def _require_drafter(actor: Actor) -> None:
    if actor.user is not None and not may_draft(actor.user):
        raise NotAllowed('Only engineers, service desk staff and change managers can raise changes.')


def environment_of(cis: Iterable) -> str:
    """The most exposed environment among `cis` (production if any is), '' without CIs."""
    found = {ci.environment for ci in cis}
    for environment in ENVIRONMENT_EXPOSURE:
        if environment in found:
            return environment
    return sorted(found)[0] if found else ''


def _validate_items(services: Iterable, cis: Iterable) -> None:
    not_services = [item.number for item in services if item.ci_class != 'service']
    if not_services:
        raise ValidationError({'services': f'Not services: {", ".join(not_services)}.'})


def _validate_window(start: dt.datetime | None, end: dt.datetime | None) -> None:
    if (start is None) != (end is None):
        missing = 'planned_end' if end is None else 'planned_start'
        raise ValidationError({missing: 'Give both the planned start and the planned end.'})
    if start is not None and end <= start:
        raise ValidationError({'planned_end': 'The planned end must be after the planned start.'})


def _validate_model(change_type: str, change_model: ChangeModel | None) -> None:
    if change_type == ChangeType.STANDARD:
        if change_model is None:
            raise ValidationError({'change_model': 'A standard change follows a model of the catalogue: choose one.'})
        if not change_model.active:
            raise ValidationError({'change_model': f'"{change_model}" is retired: choose an active change model.'})
    elif change_model is not None:
        raise ValidationError({'change_model': 'Only standard changes follow a change model.'})


def _validate_people(change: Change) -> None:
    outside = change.assignee_id and change.assignment_group_id
    if outside and not change.assignment_group.members.filter(pk=change.assignee_id).exists():
        raise ValidationError({'assignee': f'{change.assignee} is not a member of {change.assignment_group}.'})


def _create_tasks_from_model(change: Change, change_model: ChangeModel, *, actor: Actor) -> list[ChangeTask]:
    return [
        _new_task(
            change,
            actor=actor,
            title=task.title,
            description=task.description,
            assignment_group=task.assignment_group or change.assignment_group,
            position=task.position,
        )
        for task in change_model.tasks.select_related('assignment_group')
    ]


# ------------------------------------------------------------------------------------------------ create
@transaction.atomic
def change_create(
    *,
    actor: Actor,
    short_description: str,
    change_type: str,
    description: str = '',
    change_model: ChangeModel | None = None,
    requester: User | None = None,
    owner: User | None = None,
    assignment_group: SupportGroup | None = None,
    cis: Iterable = (),
    services: Iterable = (),
    planned_start: dt.datetime | None = None,
    planned_end: dt.datetime | None = None,
    justification: str = '',
    implementation_plan: str = '',
    backout_plan: str = '',
    test_plan: str = '',
    problems: Iterable = (),
    incidents: Iterable = (),
) -> Change:
    """Draft a request for change. A standard change copies its model's plans (where none are given), its group
    and its tasks; the environment comes from the CIs."""
    _require_drafter(actor)
    if not _text(short_description):
        raise ValidationError({'short_description': 'Say in a line what the change is.'})
    if change_type not in ChangeType.values:
        raise ValidationError({'change_type': f'"{change_type}" is not a change type.'})
    _validate_model(change_type, change_model)
    _validate_window(planned_start, planned_end)
    cis, services = list(cis or ()), list(services or ())
    _validate_items(services, cis)
    if change_model is not None:
        implementation_plan = implementation_plan or change_model.implementation_plan
        backout_plan = backout_plan or change_model.backout_plan
        test_plan = test_plan or change_model.test_plan
        assignment_group = assignment_group or change_model.assignment_group
    change = Change(
        short_description=_text(short_description),
        description=description or '',
        change_type=change_type,
        change_model=change_model,
        requester=requester or actor.user,
        owner=owner,
        assignment_group=assignment_group,
        environment=environment_of(cis),
        planned_start=planned_start,
        planned_end=planned_end,
        justification=justification or '',
        implementation_plan=implementation_plan or '',
        backout_plan=backout_plan or '',
        test_plan=test_plan or '',
        opened_by=actor.user,
        opened_at=timezone.now(),
    )
    change.full_clean(exclude=['number', 'requester', 'owner', 'assignment_group', 'assignee', 'opened_by'])
    change.save()
    change.cis.set(cis)
    change.services.set(services)
    change.problems.set(list(problems or ()))
    change.incidents.set(list(incidents or ()))
    audit.record_created(change, actor=actor, message='Change drafted', public=False)
    hooks.emit(hooks.CREATED, change, actor=actor, notify=True)
    if change_model is not None:
        _create_tasks_from_model(change, change_model, actor=actor)
    return change


# ------------------------------------------------------------------------------------------------- edits
EDITABLE_FIELDS = {
    'short_description',
    'description',
    'change_type',
    'change_model',
    'requester',
    'owner',
    'assignment_group',
    'assignee',
    'cis',
    'services',
    'planned_start',
    'planned_end',
    'justification',
    'implementation_plan',
    'backout_plan',
    'test_plan',
    'review_notes',
    'problems',
    'incidents',
}
MANY = ('cis', 'services', 'problems', 'incidents')
TEXT_FIELDS = {
    'short_description',
    'description',
    'justification',
    'implementation_plan',
    'backout_plan',
    'test_plan',
    'review_notes',
}
# Settled once the change is submitted: its type and model (withdraw it to draft to change them).
DRAFT_ONLY = {'change_type', 'change_model'}
# Planned times move through schedule and reschedule once the change is on the calendar.
SCHEDULED_BY_ACTION = {'planned_start', 'planned_end'}


@transaction.atomic
def change_update(*, change: Change, actor: Actor, **fields: Any) -> Change:
    """Edit the request: its descriptions, people, CIs and services, plans and links. The type and model change
    only in draft; once scheduled, the planned times move only by rescheduling."""
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError({name: 'This field cannot be changed here.' for name in sorted(unknown)})
    change = lock(change)
    if actor.user is not None and not works_change(change, actor.user):
        raise NotAllowed(f'Only the requester, the owner, the assigned group or a change manager can edit {change}.')
    if change.is_final:
        raise Conflict(f'{change.number} is {change.get_state_display().lower()}; it cannot change.', code='final')
    changed_type = {name for name in DRAFT_ONLY if name in fields and fields[name] != getattr(change, name)}
    if changed_type and change.state != ChangeState.DRAFT:
        raise Conflict(f'The type and model of {change.number} change only in draft.', code='not_draft')
    if change.state not in (
        ChangeState.DRAFT,
        ChangeState.SUBMITTED,
        ChangeState.ASSESSMENT,
        ChangeState.AUTHORIZATION,
    ):
        moved = {n for n in SCHEDULED_BY_ACTION if n in fields and fields[n] != getattr(change, n)}
        if moved:
            raise Conflict(f'{change.number} is on the calendar: reschedule it to move it.', code='scheduled')
    if 'short_description' in fields and not _text(fields['short_description']):
        raise ValidationError({'short_description': 'Say in a line what the change is.'})
    change_type = fields.get('change_type', change.change_type)
    change_model = fields.get('change_model', change.change_model)
    if changed_type:
        _validate_model(change_type, change_model)
    _validate_window(fields.get('planned_start', change.planned_start), fields.get('planned_end', change.planned_end))
    if 'services' in fields:
        _validate_items(fields['services'] or (), ())
    before = audit.snapshot(change)
    for name, value in fields.items():
        if name not in MANY:
            setattr(change, name, '' if value is None and name in TEXT_FIELDS else value)
    if 'cis' in fields:
        change.environment = environment_of(fields['cis'] or ())
    _validate_people(change)
    change.full_clean(exclude=['number', 'requester', 'owner', 'assignment_group', 'assignee', 'opened_by'])
    change.save()
    for name in MANY:
        if name in fields:
            getattr(change, name).set(list(fields[name] or ()))
    audit.record_changes(change, before, actor=actor)
    hooks.emit(hooks.CHANGED, change, actor=actor)
    return change


# -------------------------------------------------------------------------------------------- lifecycle
def submission_problems(change: Change) -> dict[str, str]:
    """What stops `change` from being submitted (field → why), {} when nothing does."""
    errors: dict[str, str] = {}
    if change.change_type in NEEDS_BACKOUT and not _text(change.backout_plan):
        errors['backout_plan'] = f'A {change.get_change_type_display().lower()} change needs a backout plan.'
    if change.change_type == ChangeType.STANDARD:
        if change.change_model_id is None:
            errors['change_model'] = 'A standard change follows a model of the catalogue: choose one.'
        elif not change.change_model.active:
            errors['change_model'] = f'"{change.change_model}" is retired: choose an active change model.'
    return errors


@transaction.atomic
def change_submit(*, change: Change, actor: Actor, note: str = '') -> Change:
    """Draft → Submitted. Normal and emergency changes need a backout plan; standard ones an active model."""
    change = lock(change)
    CHANGE_ACTIONS.check(change, 'submit', actor)
    errors = submission_problems(change)
    if errors:
        raise ValidationError(errors)
    CHANGE_ACTIONS.run(change, 'submit', actor=actor, message=_text(note), public=False)
    return change


@transaction.atomic
def change_withdraw(*, change: Change, actor: Actor, note: str = '') -> Change:
    """Submitted or Assessment → Draft: the request goes back to its author; the assessment is cleared."""
    change = lock(change)
    changes = {'risk_level': '', 'questionnaire_level': '', 'risk_reasons': [], 'risk_assessed_at': None}
    changes.update(cab_route='', cab=None)
    CHANGE_ACTIONS.run(change, 'withdraw', actor=actor, changes=changes, message=_text(note), public=False)
    return change


@transaction.atomic
def change_assess(*, change: Change, actor: Actor, note: str = '') -> Change:
    """Submitted → Assessment: the risk (questionnaire, then the live signals and the rules that raise it) and the
    route the CAB rules choose are worked out and stored. A route that skips the CAB is written on the timeline."""
    from .cab import route_for
    from .risk import assess_risk

    change = lock(change)
    CHANGE_ACTIONS.check(change, 'assess', actor)
    risk = assess_risk(change)
    route = route_for(change)
    changes = {
        'risk_level': risk.level,
        'questionnaire_level': risk.questionnaire_level or '',
        'risk_reasons': list(risk.reasons),
        'risk_assessed_at': timezone.now(),
        'cab_route': route.route,
        'cab': route.cab,
    }
    rule = getattr(route.rule, 'name', '') or 'no rule matched'
    lines = [_text(note)] if _text(note) else []
    if route.route == CabRoute.SKIP:
        lines.append(f'The CAB is skipped ({rule}): the change can be scheduled straight away.')
    else:
        lines.append(f'To be authorised by {route.cab or CabRoute(route.route).label} ({rule}).')
    data = {'risk_level': risk.level, 'cab_route': route.route, 'cab_rule': getattr(route.rule, 'pk', None)}
    CHANGE_ACTIONS.run(
        change, 'assess', actor=actor, changes=changes, message='\n'.join(lines), data=data, public=False
    )
    return change


@transaction.atomic
def change_request_authorization(*, change: Change, actor: Actor, note: str = '') -> Change:
    """Assessment → Authorization: the change goes before the CAB its route names (not for a route that skips it)."""
    change = lock(change)
    CHANGE_ACTIONS.check(change, 'request_authorization', actor)
    if change.cab_route == CabRoute.SKIP:
        raise Conflict(f'{change.number} skips the CAB: schedule it.', code='cab_skipped')
    if change.cab_id is None:
        raise Conflict(f'No CAB is set to authorise {change.number}: check the CAB rules.', code='no_cab')
    CHANGE_ACTIONS.run(change, 'request_authorization', actor=actor, message=_text(note), public=False)
    return change


# Schedule checks: functions `check(change, actor) -> Iterable[str]`, each saying why the change may not be put
# on the calendar at its (already applied, unsaved) planned times. Other parts of the app register theirs.
ScheduleCheck = Callable[[Change, Actor], Iterable[str]]
_schedule_checks: list[ScheduleCheck] = []


def register_schedule_check(check: ScheduleCheck) -> None:
    """Ask `check` before any change is scheduled or rescheduled; registering it twice has no effect."""
    if check not in _schedule_checks:
        _schedule_checks.append(check)


def unregister_schedule_check(check: ScheduleCheck) -> None:
    if check in _schedule_checks:
        _schedule_checks.remove(check)


def _check_calendar(change: Change, actor: Actor, freeze_override_reason: str) -> dict[str, Any]:
    """Refuse the change's planned window where a freeze or a registered check says no; the fields to store."""
    from .calendar import freezes_for

    _validate_window(change.planned_start, change.planned_end)
    if change.planned_start is None:
        raise ValidationError({'planned_start': 'Give the planned start and end to schedule the change.'})
    reason = _text(freeze_override_reason)
    stored: dict[str, Any] = {'freeze_override_reason': ''}
    if change.change_type == ChangeType.NORMAL:
        freezes = freezes_for(change)
        if freezes and not reason:
            names = ', '.join(str(freeze) for freeze in freezes)
            raise Conflict(
                f'{change.number} falls inside a freeze ({names}): a change manager may override it with a reason.',
                code='freeze',
                extra={'freezes': [freeze.pk for freeze in freezes]},
            )
        if freezes:
            if actor.user is not None and not is_change_manager(actor.user):
                raise NotAllowed('Only a change manager can override a freeze.')
            stored['freeze_override_reason'] = reason
    reasons = [r for check in _schedule_checks for r in check(change, actor) if r]
    if reasons:
        raise Conflict(
            f'{change.number} cannot be scheduled: {" ".join(reasons)}',
            code='schedule_refused',
            extra={'reasons': reasons},
        )
    return stored


def _check_window(
    change: Change, actor: Actor, planned_start, planned_end, freeze_override_reason: str
) -> dict[str, Any]:
    """Check the calendar at the new planned times (the record keeps its stored ones until the action saves them, so
    the timeline sees the move); the fields to store."""
    stored_start, stored_end = change.planned_start, change.planned_end
    change.planned_start = planned_start or stored_start
    change.planned_end = planned_end or stored_end
    try:
        fields = _check_calendar(change, actor, freeze_override_reason)
        fields.update(planned_start=change.planned_start, planned_end=change.planned_end)
    finally:
        change.planned_start, change.planned_end = stored_start, stored_end
    return fields


@transaction.atomic
def change_schedule(
    *,
    change: Change,
    actor: Actor,
    planned_start: dt.datetime | None = None,
    planned_end: dt.datetime | None = None,
    freeze_override_reason: str = '',
) -> Change:
    """Assessment (when the route skips the CAB) or Authorization (once the CAB's policy is met) → Scheduled."""
    from .cab import authorization_met

    change = lock(change)
    CHANGE_ACTIONS.check(change, 'schedule', actor)
    if change.state == ChangeState.ASSESSMENT and change.cab_route != CabRoute.SKIP:
        raise Conflict(f'{change.number} needs the authorisation of its CAB first.', code='needs_authorization')
    changes: dict[str, Any] = {}
    if change.state == ChangeState.AUTHORIZATION:
        if not authorization_met(change):
            raise Conflict(
                f'{change.number} is not authorised yet: its CAB has not approved it.', code='not_authorized'
            )
        changes['authorized_at'] = change.authorized_at or timezone.now()
    changes.update(_check_window(change, actor, planned_start, planned_end, freeze_override_reason))
    message = f'Planned {_moment(changes["planned_start"])} – {_moment(changes["planned_end"])}'
    if changes['freeze_override_reason']:
        message += f'; freeze overridden: {changes["freeze_override_reason"]}'
    CHANGE_ACTIONS.run(change, 'schedule', actor=actor, changes=changes, message=message, public=False)
    return change


@transaction.atomic
def change_reschedule(
    *,
    change: Change,
    actor: Actor,
    planned_start: dt.datetime | None = None,
    planned_end: dt.datetime | None = None,
    freeze_override_reason: str = '',
) -> Change:
    """Scheduled → Scheduled at new planned times (the freezes and the other checks are asked again)."""
    change = lock(change)
    CHANGE_ACTIONS.check(change, 'reschedule', actor)
    if planned_start is None and planned_end is None:
        raise ValidationError({'planned_start': 'Give the new planned start and end.'})
    changes = _check_window(change, actor, planned_start, planned_end, freeze_override_reason)
    message = f'Moved to {_moment(changes["planned_start"])} – {_moment(changes["planned_end"])}'
    CHANGE_ACTIONS.run(change, 'reschedule', actor=actor, changes=changes, message=message, public=False)
    return change


def _moment(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime('%Y-%m-%d %H:%M')


@transaction.atomic
def change_reject(*, change: Change, actor: Actor, reason: str) -> Change:
    """Assessment or Authorization → Rejected, with the reason."""
    if not _text(reason):
        raise ValidationError({'reason': 'A reason is required to reject.'})
    change = lock(change)
    changes = {'rejection_reason': _text(reason), 'closed_at': timezone.now()}
    CHANGE_ACTIONS.run(change, 'reject', actor=actor, changes=changes, message=_text(reason))
    return change


@transaction.atomic
def change_record_tests(*, change: Change, actor: Actor, test_results: str, tests_passed: bool) -> Change:
    """Record what was tested and whether it passed (the testing gate reads `tests_passed`)."""
    change = lock(change)
    CHANGE_ACTIONS.check(change, 'record_tests', actor)
    if not _text(test_results):
        raise ValidationError({'test_results': 'Say what was tested and what came out.'})
    if tests_passed is None:
        raise ValidationError({'tests_passed': 'Say whether the tests passed.'})
    before = audit.snapshot(change)
    change.test_results = _text(test_results)
    change.tests_passed = bool(tests_passed)
    change.save(update_fields=['test_results', 'tests_passed', 'updated_at'])
    verdict = 'passed' if change.tests_passed else 'failed'
    audit.record_changes(change, before, actor=actor, message=f'Tests recorded: {verdict}')
    hooks.emit(hooks.CHANGED, change, actor=actor)
    return change


@transaction.atomic
def change_bypass_test_gate(*, change: Change, actor: Actor, reason: str) -> Change:
    """A change manager lets the change start without passing tests, for extenuating circumstances (recorded)."""
    change = lock(change)
    CHANGE_ACTIONS.check(change, 'bypass_test_gate', actor)
    if not _text(reason):
        raise ValidationError({'reason': 'Say why the change may start without passing tests.'})
    before = audit.snapshot(change)
    change.test_gate_bypass_reason = _text(reason)[:300]
    change.save(update_fields=['test_gate_bypass_reason', 'updated_at'])
    audit.record_changes(
        change, before, actor=actor, message=f'Testing gate bypassed: {change.test_gate_bypass_reason}'
    )
    hooks.emit(hooks.CHANGED, change, actor=actor)
    return change


def test_gate_refusal(change: Change) -> str:
    """Why the testing gate keeps `change` from starting ('' when it does not): a change to production starts only
    with passing tests recorded, unless a change manager bypassed the gate."""
    if change.environment != 'production' or change.tests_passed is True or change.test_gate_bypass_reason:
        return ''
    if change.tests_passed is False:
        return f'The tests of {change.number} failed: production changes start only after passing tests.'
    return f'No passing tests are recorded for {change.number}: production changes start only after passing tests.'


test_gate_refusal.__test__ = False  # not a test for pytest, despite the name


@transaction.atomic
def change_start(*, change: Change, actor: Actor, note: str = '') -> Change:
    """Scheduled → Implementation, through the testing gate."""
    change = lock(change)
    CHANGE_ACTIONS.check(change, 'start', actor)
    refusal = test_gate_refusal(change)
    if refusal:
        raise Conflict(refusal, code='test_gate')
    changes = {'actual_start': timezone.now()}
    CHANGE_ACTIONS.run(change, 'start', actor=actor, changes=changes, message=_text(note), public=False)
    return change


def open_tasks(change: Change):
    return change.tasks.filter(state__in=OPEN_TASK_STATES)


@transaction.atomic
def change_complete(*, change: Change, actor: Actor, note: str = '') -> Change:
    """Implementation → Review, once every implementation task is done or cancelled."""
    change = lock(change)
    CHANGE_ACTIONS.check(change, 'complete', actor)
    still_open = list(open_tasks(change).values_list('number', flat=True))
    if still_open:
        raise Conflict(
            f'{change.number} has open tasks: {", ".join(still_open)}. Finish or cancel them first.',
            code='open_tasks',
            extra={'tasks': still_open},
        )
    changes = {'actual_end': timezone.now()}
    CHANGE_ACTIONS.run(change, 'complete', actor=actor, changes=changes, message=_text(note), public=False)
    return change


def needs_review_notes(change: Change, outcome: str) -> bool:
    return change.change_type == ChangeType.EMERGENCY or outcome in REVIEWED_OUTCOMES


@transaction.atomic
def change_close(*, change: Change, actor: Actor, outcome: str, review_notes: str = '') -> Change:
    """Review → Closed with the outcome; failed, backed-out and emergency changes need the post-implementation
    review notes."""
    change = lock(change)
    CHANGE_ACTIONS.check(change, 'close', actor)
    if outcome not in ChangeOutcome.values:
        raise ValidationError({'outcome': 'Choose the outcome of the change.'})
    notes = _text(review_notes) or change.review_notes
    if needs_review_notes(change, outcome) and not notes:
        why = 'an emergency change' if change.change_type == ChangeType.EMERGENCY else 'a change that failed'
        raise ValidationError({'review_notes': f'Write the post-implementation review: this is {why}.'})
    changes = {'outcome': outcome, 'review_notes': notes, 'closed_at': timezone.now()}
    message = f'Outcome: {ChangeOutcome(outcome).label}'
    CHANGE_ACTIONS.run(change, 'close', actor=actor, changes=changes, message=message, public=False)
    return change


@transaction.atomic
def change_cancel(*, change: Change, actor: Actor, reason: str) -> Change:
    """Any state before the implementation → Cancelled, with the reason; its open tasks are cancelled with it."""
    if not _text(reason):
        raise ValidationError({'reason': 'A reason is required to cancel.'})
    change = lock(change)
    changes = {'cancel_reason': _text(reason)[:300], 'closed_at': timezone.now()}
    CHANGE_ACTIONS.run(change, 'cancel', actor=actor, changes=changes, message=_text(reason))
    for task in open_tasks(change).select_for_update():
        TASK_ACTIONS.workflow.run(
            task, 'cancel', actor=actor, changes={'closed_at': timezone.now()}, message=f'{change.number} is cancelled'
        )
    return change


# ----------------------------------------------------------------------------------------------- tasks
def _new_task(
    change: Change,
    *,
    actor: Actor,
    title: str,
    description: str = '',
    assignment_group: SupportGroup | None = None,
    assignee: User | None = None,
    position: int | None = None,
) -> ChangeTask:
    if not _text(title):
        raise ValidationError({'title': 'Say in a line what the task is.'})
    if position is None:
        last = change.tasks.order_by('-position').values_list('position', flat=True).first()
        position = (last or 0) + 10
    task = ChangeTask(
        change=change,
        short_description=_text(title),
        description=description or '',
        assignment_group=assignment_group,
        assignee=assignee,
        position=position,
        opened_by=actor.user,
        opened_at=timezone.now(),
    )
    _validate_people(task)
    task.save()
    audit.record_created(task, actor=actor, message=f'Task of {change.number}', public=False)
    hooks.emit(hooks.CREATED, task, actor=actor, notify=True)
    return task


@transaction.atomic
def change_add_task(
    *,
    change: Change,
    actor: Actor,
    title: str,
    description: str = '',
    assignment_group: SupportGroup | None = None,
    assignee: User | None = None,
    position: int | None = None,
) -> Change:
    """Add an implementation task to the change (after the others unless `position` says where)."""
    change = lock(change)
    CHANGE_ACTIONS.check(change, 'add_task', actor)
    task = _new_task(
        change,
        actor=actor,
        title=title,
        description=description,
        assignment_group=assignment_group,
        assignee=assignee,
        position=position,
    )
    audit.record(
        change, actor=actor, kind=TimelineKind.LINK, message=f'Task {task.number} added: {task.short_description}'
    )
    return change


@transaction.atomic
def task_create(
    *,
    actor: Actor,
    change: Change,
    title: str,
    description: str = '',
    assignment_group: SupportGroup | None = None,
    assignee: User | None = None,
    position: int | None = None,
) -> ChangeTask:
    """The task list's "new task": `change_add_task`, answering the task."""
    change_add_task(
        change=change,
        actor=actor,
        title=title,
        description=description,
        assignment_group=assignment_group,
        assignee=assignee,
        position=position,
    )
    return change.tasks.order_by('-pk').first()


TASK_FIELDS = {'short_description', 'description', 'assignment_group', 'assignee', 'position'}


@transaction.atomic
def task_update(*, changetask: ChangeTask, actor: Actor, **fields: Any) -> ChangeTask:
    """Edit a task's description, group, person or place in the order (not once it is done or cancelled)."""
    unknown = set(fields) - TASK_FIELDS
    if unknown:
        raise ValidationError({name: 'This field cannot be changed here.' for name in sorted(unknown)})
    task = lock(changetask)
    if actor.user is not None and not works_task(task, actor.user):
        raise NotAllowed(f'Only the assigned group, the change owner or a change manager can edit {task.number}.')
    if task.is_final:
        raise Conflict(f'{task.number} is {task.get_state_display().lower()}; it cannot change.', code='final')
    if 'short_description' in fields and not _text(fields['short_description']):
        raise ValidationError({'short_description': 'Say in a line what the task is.'})
    before = audit.snapshot(task)
    for name, value in fields.items():
        setattr(task, name, '' if value is None and name in ('short_description', 'description') else value)
    if task.position is None:
        task.position = 10
    _validate_people(task)
    task.save()
    audit.record_changes(task, before, actor=actor)
    hooks.emit(hooks.CHANGED, task, actor=actor)
    return task


def _require_implementation(task: ChangeTask, what: str) -> None:
    if task.change.state != ChangeState.IMPLEMENTATION:
        raise Conflict(
            f'{task.number} can be {what} only while {task.change.number} is in implementation '
            f'(it is {task.change.get_state_display().lower()}).',
            code='change_not_in_implementation',
        )


@transaction.atomic
def task_begin(*, changetask: ChangeTask, actor: Actor, note: str = '') -> ChangeTask:
    """Open → In progress while the change is in implementation; the task is assigned to whoever begins it unless
    someone already holds it."""
    task = lock(changetask)
    TASK_ACTIONS.check(task, 'begin', actor)
    _require_implementation(task, 'begun')
    changes: dict[str, Any] = {'started_at': timezone.now()}
    if task.assignee_id is None and actor.user is not None:
        changes['assignee'] = actor.user
    TASK_ACTIONS.run(task, 'begin', actor=actor, changes=changes, message=_text(note), public=False)
    return task


@transaction.atomic
def task_finish(*, changetask: ChangeTask, actor: Actor, note: str = '') -> ChangeTask:
    """Open or In progress → Done while the change is in implementation."""
    task = lock(changetask)
    TASK_ACTIONS.check(task, 'finish', actor)
    _require_implementation(task, 'done')
    now = timezone.now()
    changes = {'done_at': now, 'closed_at': now, 'started_at': task.started_at or now}
    TASK_ACTIONS.run(task, 'finish', actor=actor, changes=changes, message=_text(note), public=False)
    return task


@transaction.atomic
def task_cancel(*, changetask: ChangeTask, actor: Actor, reason: str) -> ChangeTask:
    """Open or In progress → Cancelled, with the reason."""
    if not _text(reason):
        raise ValidationError({'reason': 'A reason is required to cancel.'})
    task = lock(changetask)
    TASK_ACTIONS.run(task, 'cancel', actor=actor, changes={'closed_at': timezone.now()}, message=_text(reason))
    return task


__all__ = [
    'change_add_task',
    'change_assess',
    'change_bypass_test_gate',
    'change_cancel',
    'change_close',
    'change_complete',
    'change_create',
    'change_record_tests',
    'change_reject',
    'change_request_authorization',
    'change_reschedule',
    'change_schedule',
    'change_start',
    'change_submit',
    'change_update',
    'change_withdraw',
    'environment_of',
    'register_schedule_check',
    'submission_problems',
    'task_begin',
    'task_cancel',
    'task_create',
    'task_finish',
    'task_update',
    'test_gate_refusal',
    'unregister_schedule_check',
]
