"""What people can do to a problem, declared once: the services, the pages and the API all read this.

Problem managers own problems: they assess them (naming the owner), resolve, close, cancel and reopen them. The
analysis (recording the root cause and the workaround, starting the fix, waiting on the supplier) is worked by the
owner, the assignee and the members of the assigned group as well. A system job (no person) may do all of it.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from itsm.choices import Role
from itsm.errors import Conflict, NotAllowed
from itsm.selectors import member_group_ids
from itsm.workflow import Action, ActionSet

from .choices import PROBLEM_WORKFLOW, ProblemState

MANAGER_ROLES = (Role.PROBLEM_MANAGER, Role.ADMINISTRATOR)


def is_problem_manager(user) -> bool:
    return bool(user and user.is_authenticated and user.has_role(*MANAGER_ROLES))


def works_problem(problem, user) -> bool:
    """The problem's owner, its assignee, a member of its assigned group, or any problem manager."""
    if is_problem_manager(user):
        return True
    if user is None or not user.is_authenticated or user.is_requester_only:
        return False
    if user.pk in (problem.owner_id, problem.assignee_id):
        return True
    return problem.assignment_group_id is not None and problem.assignment_group_id in member_group_ids(user)


def managers_only(what: str):
    def guard(problem, user):
        if user is not None and not is_problem_manager(user):
            return NotAllowed(f'Only a problem manager can {what}.')
        return None

    return guard


def analysts(what: str):
    """The owner, the assignee, the assigned group's members and problem managers."""

    def guard(problem, user):
        if user is not None and not works_problem(problem, user):
            return NotAllowed(f'Only the owner, the assigned group or a problem manager can {what} {problem.number}.')
        return None

    return guard


def with_root_cause(guard, what: str):
    """`guard`, then: the problem's root cause must be recorded (so the page offers the action only once it is)."""

    def check(problem, user):
        refusal = guard(problem, user)
        if refusal is None and not problem.root_cause:
            return ValidationError({'root_cause': f'Record the root cause before you {what}.'})
        return refusal

    return check


def may_await_vendor(problem, user):
    refusal = analysts('put on supplier wait')(problem, user)
    if refusal is None and problem.awaiting_vendor_since is not None:
        return Conflict(f'{problem.number} is already waiting on the supplier.', code='already_waiting')
    return refusal


def may_end_vendor_wait(problem, user):
    refusal = analysts('end the supplier wait of')(problem, user)
    if refusal is None and problem.awaiting_vendor_since is None:
        return Conflict(f'{problem.number} is not waiting on the supplier.', code='not_waiting')
    return refusal


S = ProblemState
OPEN = PROBLEM_WORKFLOW.open_states
# Where the analysis can be recorded: once assessed, until the problem is resolved (reopen to change it again).
ANALYSING = (S.ASSESSED, S.ROOT_CAUSE_ANALYSIS, S.FIX_IN_PROGRESS)

SERVICES = 'problems.services'
FORMS = 'problems.forms'
SERIALIZERS = 'problems.api.serializers'

PROBLEM_ACTIONS = ActionSet(
    PROBLEM_WORKFLOW,
    namespace='problems',
    actions=[
        Action(
            'assess',
            'Assess',
            f'{SERVICES}.problem_assess',
            transition='assess',
            guard=managers_only('assess problems'),
            form=f'{FORMS}.AssessForm',
            serializer=f'{SERIALIZERS}.AssessSerializer',
            arguments={'group': 'assignment_group'},
            icon='clipboard-check',
            done='{record.number} is assessed; {record.owner} owns it.',
            primary=True,
            description='Accept the problem for analysis: name its owner and, optionally, the group that analyses it.',
        ),
        Action(
            'analyse',
            'Start root-cause analysis',
            f'{SERVICES}.problem_analyse',
            transition='analyse',
            guard=analysts('start the analysis of'),
            form='itsm.forms.NoteForm',
            serializer='itsm.api.serializers.NoteSerializer',
            icon='microscope',
            done='Root-cause analysis of {record.number} has started.',
            primary=True,
        ),
        Action(
            'record_analysis',
            'Record analysis',
            f'{SERVICES}.problem_record_analysis',
            guard=analysts('record the analysis of'),
            states=ANALYSING,
            form=f'{FORMS}.AnalysisForm',
            serializer=f'{SERIALIZERS}.AnalysisSerializer',
            icon='notes',
            done='The analysis of {record.number} is recorded.',
            description='Symptoms, root cause and its category, contributing factors, the method used, the workaround.',
        ),
        Action(
            'start_fix',
            'Start the fix',
            f'{SERVICES}.problem_start_fix',
            transition='start_fix',
            guard=with_root_cause(analysts('start the fix of'), 'start the fix'),
            form='itsm.forms.NoteForm',
            serializer='itsm.api.serializers.NoteSerializer',
            icon='tool',
            done='The fix of {record.number} is in progress.',
            primary=True,
            description='The root cause is known: the permanent fix is being built.',
        ),
        Action(
            'resolve',
            'Resolve',
            f'{SERVICES}.problem_resolve',
            transition='resolve',
            guard=with_root_cause(managers_only('resolve problems'), 'resolve the problem'),
            form=f'{FORMS}.ResolveForm',
            serializer=f'{SERIALIZERS}.ResolveSerializer',
            icon='circle-check',
            done='{record.number} is resolved.',
            primary=True,
            description='The permanent fix is in place (a root cause is required).',
        ),
        Action(
            'close',
            'Close',
            f'{SERVICES}.problem_close',
            transition='close',
            guard=managers_only('close problems'),
            form='itsm.forms.NoteForm',
            serializer='itsm.api.serializers.NoteSerializer',
            icon='lock',
            done='{record.number} is closed.',
            primary=True,
            description='The fix is confirmed. Every linked change must be closed or cancelled first.',
        ),
        Action(
            'reopen',
            'Reopen',
            f'{SERVICES}.problem_reopen',
            transition='reopen',
            guard=managers_only('reopen problems'),
            form='itsm.forms.ReasonForm',
            serializer='itsm.api.serializers.ReasonSerializer',
            icon='arrow-back-up',
            done='{record.number} is reopened: the fix is in progress again.',
            in_menu=True,
            description='The fix did not hold.',
        ),
        Action(
            'await_vendor',
            'Wait on supplier',
            f'{SERVICES}.problem_await_vendor',
            guard=may_await_vendor,
            states=OPEN,
            form=f'{FORMS}.VendorWaitForm',
            serializer=f'{SERIALIZERS}.VendorWaitSerializer',
            icon='truck-delivery',
            done='{record.number} is waiting on {record.vendor}.',
            in_menu=True,
            description='The supplier is working on it: name them and their case number.',
        ),
        Action(
            'vendor_responded',
            'Supplier responded',
            f'{SERVICES}.problem_vendor_responded',
            guard=may_end_vendor_wait,
            states=OPEN,
            form='itsm.forms.NoteForm',
            serializer='itsm.api.serializers.NoteSerializer',
            icon='truck-return',
            done='{record.number} no longer waits on the supplier.',
            primary=True,
        ),
        Action(
            'cancel',
            'Cancel',
            f'{SERVICES}.problem_cancel',
            transition='cancel',
            guard=managers_only('cancel problems'),
            form='itsm.forms.ReasonForm',
            serializer='itsm.api.serializers.ReasonSerializer',
            icon='ban',
            done='{record.number} is cancelled.',
            in_menu=True,
            description='Not a problem after all, or a duplicate: say why.',
        ),
    ],
)
