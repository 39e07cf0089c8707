"""What people can do to an incident or a case, declared once: the service, the pages and the API all read this.

Each guard answers "may this person do it now?" with None or the error to raise; the workflow answers "does the
state allow it?". Services call `TICKET_ACTIONS.check` / `.run`, pages show `TICKET_ACTIONS.available`, and the
API exposes one `POST /<records>/{number}/<action>/` per action with the declared serializer.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from itsm.choices import Role, TicketKind
from itsm.errors import Conflict, NotAllowed
from itsm.selectors import in_security_group, member_group_ids
from itsm.workflow import Action, ActionSet

from .choices import TICKET_WORKFLOW

# Who may act on a ticket as staff (anyone else only as its caller).
WORKER_ROLES = (Role.SERVICE_DESK_AGENT, Role.L2_ENGINEER, Role.L3_ENGINEER, Role.INCIDENT_MANAGER, Role.ADMINISTRATOR)


def is_worker(user) -> bool:
    """Service desk staff: the people who may act on tickets as agents."""
    return bool(user and user.is_authenticated and user.has_role(*WORKER_ROLES))


def staff_only(what: str):
    """A guard for work only service desk staff (or a system job) may do."""

    def guard(ticket, user):
        if user is not None and not is_worker(user):
            return NotAllowed(f'Only service desk staff can {what}.')
        return None

    return guard


def caller_or_staff(what: str, *, system: bool = True):
    """A guard for what the caller may do as well as staff (confirming or rejecting a resolution)."""

    def guard(ticket, user):
        if user is None:
            return None if system else NotAllowed(f'Only the caller or an agent can {what} {ticket.number}.')
        if ticket.is_party(user) or is_worker(user):
            return None
        return NotAllowed(f'Only the caller or an agent can {what} {ticket.number}.')

    return guard


def may_accept(ticket, user):
    """A member of the assigned group takes the ticket, unless it is assigned to someone else."""
    if user is None or ticket.assignment_group_id not in member_group_ids(user):
        return NotAllowed(f'Only a member of {ticket.assignment_group} can accept {ticket.number}.')
    if ticket.assignee_id not in (None, user.pk):
        return Conflict(f'{ticket.number} is assigned to {ticket.assignee}.', code='assigned_to_other')
    return None


def may_take(ticket, user):
    """Take (assign to oneself and accept) a ticket nobody has accepted: one in one of my groups, or, for service
    desk agents (first contact, domain §5), a new ticket no group holds yet, which goes to the agent's desk group."""
    refusal = staff_only('take tickets')(ticket, user)
    if refusal is not None:
        return refusal
    if user is None:
        return NotAllowed(f'Only a person can take {ticket.number}.')
    if ticket.assignment_group_id is None:
        if not user.has_role(Role.SERVICE_DESK_AGENT):
            return NotAllowed(f'Only service desk agents can take {ticket.number}: no group holds it yet.')
        if not member_group_ids(user):
            return NotAllowed(f'You belong to no support group to take {ticket.number} into.')
        return None
    if ticket.assignment_group_id not in member_group_ids(user):
        return NotAllowed(f'Only a member of {ticket.assignment_group} can take {ticket.number}.')
    if ticket.assignee_id not in (None, user.pk):
        return Conflict(f'{ticket.number} is assigned to {ticket.assignee}.', code='assigned_to_other')
    return None


def may_escalate_to_management(ticket, user):
    refusal = staff_only('escalate tickets')(ticket, user)
    if refusal is None and (ticket.assignment_group is None or ticket.assignment_group.manager_id is None):
        return ValidationError({'group': f'{ticket.number} has no group manager to escalate to.'})
    return refusal


def may_mark_security(ticket, user):
    """Incident managers, administrators and members of a security group mark a ticket as a security incident
    (and take the marking off); a system job may too."""
    if user is None or user.has_role(Role.INCIDENT_MANAGER, Role.ADMINISTRATOR) or in_security_group(user):
        return None
    return NotAllowed(
        'Only incident managers, administrators and members of a security group can mark or unmark '
        f'{ticket.number} as a security incident.'
    )


def _security_label(ticket) -> str:
    return 'Remove security marking' if ticket.security_incident else 'Mark as security incident'


def _security_done(ticket) -> str:
    if ticket.security_incident:
        return f'{ticket.number} is a security incident: only security groups, incident managers and its people see it.'
    return f'{ticket.number} is no longer a security incident.'


def _parent_done(ticket) -> str:
    if ticket.parent_id:
        return f'{ticket.number} is now a child of {ticket.parent.number}.'
    return f'{ticket.number} no longer has a parent.'


def _convert_label(ticket) -> str:
    return 'Convert to case' if ticket.kind == TicketKind.INCIDENT else 'Convert to incident'


# Tickets nobody has accepted yet: what "Take" applies to.
NOT_ACCEPTED = (*TICKET_WORKFLOW.triage_states, *TICKET_WORKFLOW.awaiting_acceptance_states)

# A new ticket has no group yet, so no group manager to tell.
WITH_GROUP = tuple(s for s in TICKET_WORKFLOW.open_states if s not in TICKET_WORKFLOW.triage_states)

SERVICES = 'incidents.services'
FORMS = 'incidents.forms'
SERIALIZERS = 'incidents.api.serializers'

TICKET_ACTIONS = ActionSet(
    TICKET_WORKFLOW,
    namespace='incidents',
    actions=[
        Action(
            'take',
            'Take',
            f'{SERVICES}.ticket_take',
            guard=may_take,
            states=NOT_ACCEPTED,
            icon='hand-grab',
            done='You took {record.number}: it is assigned to you and accepted.',
            one_click=True,
            primary=True,
            description='Assign the ticket to yourself and accept it in one step.',
        ),
        Action(
            'accept',
            'Accept',
            f'{SERVICES}.ticket_accept',
            transition='accept',
            guard=may_accept,
            icon='hand-grab',
            done='You accepted {record.number}: it is in your work now.',
            one_click=True,
            primary=True,
            description='Take ownership: you become the assignee and the caller hears who is working on it.',
        ),
        Action(
            'assign',
            'Assign',
            f'{SERVICES}.ticket_assign',
            transition='assign',
            guard=staff_only('assign tickets'),
            form=f'{FORMS}.AssignForm',
            serializer='itsm.api.serializers.AssignSerializer',
            icon='users',
            done='{record.number} is assigned to {record.assignment_group}.',
            description='Hand the ticket to a support group, and optionally to one of its members.',
        ),
        Action(
            'complete',
            'Complete',
            f'{SERVICES}.ticket_complete',
            transition='complete',
            guard=staff_only('complete tickets'),
            form=f'{FORMS}.CompleteForm',
            serializer=f'{SERIALIZERS}.CompleteSerializer',
            icon='circle-check',
            done='{record.number} is completed; the caller is asked to confirm.',
            public_fields=('resolution_code', 'resolution_notes'),
            primary=True,
            description='Service is restored or a fix is in place. The caller is asked to confirm.',
        ),
        Action(
            'pend',
            'Put on hold',
            f'{SERVICES}.ticket_pend',
            transition='pend',
            guard=staff_only('put tickets on hold'),
            form=f'{FORMS}.PendForm',
            serializer=f'{SERIALIZERS}.PendSerializer',
            icon='player-pause',
            done='{record.number} is on hold.',
            public_fields=('reason', 'note'),
            description='Waiting for someone or something: say what.',
        ),
        Action(
            'resume',
            'Resume',
            f'{SERVICES}.ticket_resume',
            transition='resume',
            guard=staff_only('resume tickets'),
            form='itsm.forms.NoteForm',
            serializer='itsm.api.serializers.NoteSerializer',
            icon='player-play',
            done='{record.number} is active again.',
            public_fields=('note',),
            primary=True,
        ),
        Action(
            'escalate',
            'Escalate',
            f'{SERVICES}.ticket_escalate',
            transition='escalate',
            guard=staff_only('escalate tickets'),
            form='itsm.forms.EscalateForm',
            serializer=f'{SERIALIZERS}.EscalateSerializer',
            icon='arrow-big-up-lines',
            done='{record.number} is escalated to {record.assignment_group}.',
            description='Functional escalation: the ticket goes to a group with more expertise, who accept it.',
        ),
        Action(
            'confirm',
            'Confirm resolution',
            f'{SERVICES}.ticket_confirm',
            transition='confirm',
            guard=caller_or_staff('confirm'),
            permission='view',
            icon='thumb-up',
            done='{record.number} is closed with the caller’s consent.',
            one_click=True,
            description='On the caller’s behalf, when they confirmed by phone or e-mail.',
        ),
        Action(
            'reject',
            'Reject resolution',
            f'{SERVICES}.ticket_reject',
            transition='reject',
            guard=caller_or_staff('reject the resolution of', system=False),
            permission='view',
            form='itsm.forms.ReasonForm',
            serializer='itsm.api.serializers.ReasonSerializer',
            icon='thumb-down',
            done='{record.number} is reopened.',
            public_fields=('reason',),
            description='On the caller’s behalf: the problem is not solved. The ticket goes back to its owner.',
        ),
        Action(
            'escalate_management',
            'Escalate to management',
            f'{SERVICES}.ticket_escalate_hierarchical',
            guard=may_escalate_to_management,
            states=WITH_GROUP,
            form='itsm.forms.ReasonForm',
            serializer='itsm.api.serializers.ReasonSerializer',
            icon='speakerphone',
            done='The manager of {record.assignment_group} has been told about {record.number}.',
            in_menu=True,
            description='Hierarchical escalation: the group manager is informed; the ticket stays where it is.',
        ),
        Action(
            'priority',
            'Override priority',
            f'{SERVICES}.ticket_override_priority',
            guard=staff_only('override priorities'),
            form=f'{FORMS}.PriorityForm',
            serializer=f'{SERIALIZERS}.PrioritySerializer',
            icon='flag',
            done=lambda ticket: f'{ticket.number} is now {ticket.priority_label}.',
            in_menu=True,
            description='Set a priority other than the matrix gives. The reason is kept in the history.',
        ),
        Action(
            'parent',
            'Link to parent',
            f'{SERVICES}.ticket_link_parent',
            guard=staff_only('link tickets'),
            form=f'{FORMS}.ParentForm',
            serializer=f'{SERIALIZERS}.ParentSerializer',
            icon='link',
            done=_parent_done,
            in_menu=True,
            description='Make this a child of a master or major incident.',
        ),
        Action(
            'convert',
            'Convert',
            f'{SERVICES}.ticket_convert',
            guard=staff_only('convert tickets'),
            form=f'{FORMS}.ConvertForm',
            serializer=f'{SERIALIZERS}.ConvertSerializer',
            arguments={'to': 'to_kind'},
            icon='transform',
            done='{record.alternate_number} is now {record.number}.',
            one_click=True,
            in_menu=True,
            label_for=_convert_label,
            description='The ticket keeps its history; its previous number still finds it.',
        ),
        Action(
            'security',
            'Security incident',
            f'{SERVICES}.ticket_set_security',
            guard=may_mark_security,
            states=tuple(TICKET_WORKFLOW.all_states),
            form=f'{FORMS}.SecurityForm',
            serializer=f'{SERIALIZERS}.SecuritySerializer',
            icon='shield-lock',
            done=_security_done,
            in_menu=True,
            label_for=_security_label,
            description='A security incident is seen only by security groups, incident managers (and '
            'administrators), its caller and its assignee: it leaves the queues, lists, search and exports of '
            'everyone else.',
        ),
        Action(
            'accept_next',
            'Accept next',
            f'{SERVICES}.ticket_accept_next',
            detail=False,
            icon='player-track-next',
            description='Accept the highest-priority unowned ticket of your groups.',
        ),
    ],
)
