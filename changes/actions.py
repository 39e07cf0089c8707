"""What people can do to a change and to its implementation tasks, declared once: services, pages and the API read
this.

Change managers run the process: they assess, request authorisation, schedule and reschedule, reject, bypass the
testing gate and close (domain §8). The people who work a change (its requester, its owner, its assignee, the
members of its group) draft and submit it, record the tests, start and finish the implementation and may cancel it
before it starts. A task is worked by its assignee and the members of its group, the change's workers and change
managers. A system job (no person) may do all of it.
"""

from __future__ import annotations

from itsm.choices import Role
from itsm.errors import NotAllowed
from itsm.selectors import member_group_ids
from itsm.workflow import Action, ActionSet

from .choices import CHANGE_WORKFLOW, TASK_WORKFLOW, ChangeState, TaskState

MANAGER_ROLES = (Role.CHANGE_MANAGER, Role.ADMINISTRATOR)
# Who may draft and submit a change: engineers, the desk's agents, the managers of the processes that raise them.
DRAFTER_ROLES = (
    Role.SERVICE_DESK_AGENT,
    Role.L2_ENGINEER,
    Role.L3_ENGINEER,
    Role.INCIDENT_MANAGER,
    Role.PROBLEM_MANAGER,
    Role.CHANGE_MANAGER,
    Role.INTEGRATION,
    Role.ADMINISTRATOR,
)


def is_change_manager(user) -> bool:
    return bool(user and user.is_authenticated and user.has_role(*MANAGER_ROLES))


def may_draft(user) -> bool:
    return bool(user and user.is_authenticated and not user.is_requester_only and user.has_role(*DRAFTER_ROLES))


def works_change(change, user) -> bool:
    """The change's requester, owner or assignee, a member of its group, or any change manager."""
    if is_change_manager(user):
        return True
    if user is None or not user.is_authenticated or not may_draft(user):
        return False
    if user.pk in (change.requester_id, change.owner_id, change.assignee_id, change.opened_by_id):
        return True
    return change.assignment_group_id is not None and change.assignment_group_id in member_group_ids(user)


def works_task(task, user) -> bool:
    """The task's assignee, a member of its group, the people who work its change, or a change manager."""
    if is_change_manager(user):
        return True
    if user is None or not user.is_authenticated or user.is_requester_only:
        return False
    if task.assignee_id == user.pk:
        return True
    if task.assignment_group_id is not None and task.assignment_group_id in member_group_ids(user):
        return True
    return works_change(task.change, user)


def only(may, refusal: str):
    """A guard factory: `factory(what)` refuses anyone `may(record, user)` rejects with `refusal` (a system job
    passes)."""

    def factory(what: str):
        def guard(record, user):
            if user is not None and not may(record, user):
                return NotAllowed(refusal.format(what=what, number=record.number))
            return None

        return guard

    return factory


managers_only = only(lambda record, user: is_change_manager(user), 'Only a change manager can {what}.')
# The requester, the owner, the assignee, the group's members and change managers.
workers = only(
    works_change, 'Only the requester, the owner, the assigned group or a change manager can {what} {number}.'
)
task_workers = only(works_task, 'Only the assigned group, the change owner or a change manager can {what} {number}.')


S = ChangeState
# Where tests can be recorded and the gate bypassed: before the implementation starts (and during it, for tests).
BEFORE_START = (S.DRAFT, S.SUBMITTED, S.ASSESSMENT, S.AUTHORIZATION, S.SCHEDULED)
TESTABLE = (*BEFORE_START, S.IMPLEMENTATION)
# Where tasks can be added: until the implementation is done.
TASKS_OPEN = TESTABLE

SERVICES = 'changes.services'
FORMS = 'changes.forms'
SERIALIZERS = 'changes.api.serializers'
NOTE_FORM = 'itsm.forms.NoteForm'
NOTE_SERIALIZER = 'itsm.api.serializers.NoteSerializer'
REASON_FORM = 'itsm.forms.ReasonForm'
REASON_SERIALIZER = 'itsm.api.serializers.ReasonSerializer'

CHANGE_ACTIONS = ActionSet(
    CHANGE_WORKFLOW,
    namespace='changes',
    actions=[
        Action(
            'submit',
            'Submit',
            f'{SERVICES}.change_submit',
            transition='submit',
            guard=workers('submit'),
            form=NOTE_FORM,
            serializer=NOTE_SERIALIZER,
            icon='send',
            done='{record.number} is submitted for assessment.',
            primary=True,
            description='Send the request to the change manager. Normal and emergency changes need a backout plan.',
        ),
        Action(
            'withdraw',
            'Back to draft',
            f'{SERVICES}.change_withdraw',
            transition='withdraw',
            guard=workers('withdraw'),
            form=NOTE_FORM,
            serializer=NOTE_SERIALIZER,
            icon='arrow-back-up',
            done='{record.number} is a draft again.',
            in_menu=True,
        ),
        Action(
            'assess',
            'Assess',
            f'{SERVICES}.change_assess',
            transition='assess',
            guard=managers_only('assess changes'),
            form=NOTE_FORM,
            serializer=NOTE_SERIALIZER,
            icon='clipboard-check',
            done='{record.number} is assessed: risk {record.risk_level}, route {record.cab_route}.',
            primary=True,
            description='Work out the risk (questionnaire and live signals) and who authorises the change.',
        ),
        Action(
            'request_authorization',
            'Request authorisation',
            f'{SERVICES}.change_request_authorization',
            transition='request_authorization',
            guard=managers_only('request authorisation'),
            form=NOTE_FORM,
            serializer=NOTE_SERIALIZER,
            icon='users-group',
            done='{record.number} awaits the authorisation of {record.cab}.',
            primary=True,
            description='Put the change before the CAB the rules chose.',
        ),
        Action(
            'schedule',
            'Schedule',
            f'{SERVICES}.change_schedule',
            transition='schedule',
            guard=managers_only('schedule changes'),
            form=f'{FORMS}.ScheduleForm',
            serializer=f'{SERIALIZERS}.ScheduleSerializer',
            icon='calendar-event',
            done='{record.number} is scheduled.',
            primary=True,
            description='Put the authorised change on the calendar (a freeze needs an override reason).',
        ),
        Action(
            'reschedule',
            'Reschedule',
            f'{SERVICES}.change_reschedule',
            transition='reschedule',
            guard=managers_only('reschedule changes'),
            form=f'{FORMS}.ScheduleForm',
            serializer=f'{SERIALIZERS}.ScheduleSerializer',
            icon='calendar-time',
            done='{record.number} is rescheduled.',
            in_menu=True,
        ),
        Action(
            'reject',
            'Reject',
            f'{SERVICES}.change_reject',
            transition='reject',
            guard=managers_only('reject changes'),
            form=REASON_FORM,
            serializer=REASON_SERIALIZER,
            icon='thumb-down',
            done='{record.number} is rejected.',
            in_menu=True,
        ),
        Action(
            'record_tests',
            'Record tests',
            f'{SERVICES}.change_record_tests',
            guard=workers('record the tests of'),
            states=TESTABLE,
            form=f'{FORMS}.TestsForm',
            serializer=f'{SERIALIZERS}.TestsSerializer',
            icon='test-pipe',
            done='The test results of {record.number} are recorded.',
            description='What was tested and whether it passed: production changes start only after passing tests.',
        ),
        Action(
            'bypass_test_gate',
            'Bypass the testing gate',
            f'{SERVICES}.change_bypass_test_gate',
            guard=managers_only('bypass the testing gate'),
            states=BEFORE_START,
            form=REASON_FORM,
            serializer=REASON_SERIALIZER,
            icon='shield-off',
            done='The testing gate of {record.number} is bypassed.',
            in_menu=True,
            description='Extenuating circumstances: the change may start without passing tests (the reason is kept).',
        ),
        Action(
            'start',
            'Start implementation',
            f'{SERVICES}.change_start',
            transition='start',
            guard=workers('start'),
            form=NOTE_FORM,
            serializer=NOTE_SERIALIZER,
            icon='player-play',
            done='The implementation of {record.number} has started.',
            primary=True,
            description='Production changes need passing tests or a bypass of the testing gate.',
        ),
        Action(
            'add_task',
            'Add task',
            f'{SERVICES}.change_add_task',
            guard=workers('add tasks to'),
            states=TASKS_OPEN,
            form=f'{FORMS}.TaskForm',
            serializer=f'{SERIALIZERS}.TaskInputSerializer',
            icon='list-check',
            done='The task is added to {record.number}.',
            in_menu=True,
        ),
        Action(
            'complete',
            'Implementation done',
            f'{SERVICES}.change_complete',
            transition='complete',
            guard=workers('complete'),
            form=NOTE_FORM,
            serializer=NOTE_SERIALIZER,
            icon='flag',
            done='{record.number} is implemented and awaits its review.',
            primary=True,
            description='Every implementation task must be done or cancelled first.',
        ),
        Action(
            'close',
            'Close',
            f'{SERVICES}.change_close',
            transition='close',
            guard=managers_only('close changes'),
            form=f'{FORMS}.CloseForm',
            serializer=f'{SERIALIZERS}.CloseSerializer',
            icon='lock',
            done='{record.number} is closed.',
            primary=True,
            description='Record the outcome; failed and emergency changes need the post-implementation review.',
        ),
        Action(
            'cancel',
            'Cancel',
            f'{SERVICES}.change_cancel',
            transition='cancel',
            guard=workers('cancel'),
            form=REASON_FORM,
            serializer=REASON_SERIALIZER,
            icon='ban',
            done='{record.number} is cancelled.',
            in_menu=True,
        ),
    ],
)

T = TaskState
TASK_ACTIONS = ActionSet(
    TASK_WORKFLOW,
    namespace='changes',
    actions=[
        Action(
            'begin',
            'Begin',
            f'{SERVICES}.task_begin',
            transition='begin',
            guard=task_workers('begin'),
            form=NOTE_FORM,
            serializer=NOTE_SERIALIZER,
            icon='player-play',
            done='{record.number} is in progress.',
            primary=True,
            description='Take the task on (it is assigned to you unless someone holds it).',
        ),
        Action(
            'finish',
            'Done',
            f'{SERVICES}.task_finish',
            transition='finish',
            guard=task_workers('finish'),
            form=NOTE_FORM,
            serializer=NOTE_SERIALIZER,
            icon='check',
            done='{record.number} is done.',
            primary=True,
        ),
        Action(
            'cancel',
            'Cancel',
            f'{SERVICES}.task_cancel',
            transition='cancel',
            guard=task_workers('cancel'),
            form=REASON_FORM,
            serializer=REASON_SERIALIZER,
            icon='ban',
            done='{record.number} is cancelled.',
            in_menu=True,
        ),
    ],
)
