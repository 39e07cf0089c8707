"""The actions an agent can take on a ticket from its page, and which of them a person may take right now.

Each action names its form and its service; the lifecycle (`TICKET_WORKFLOW.allowed`) and the person's rights
decide which buttons a page shows. The services check everything again when the form is sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from itsm.choices import TicketKind

from .. import forms, services
from ..choices import OPEN_STATES, TICKET_WORKFLOW, TicketState
from ..models import Ticket
from .common import can_work


@dataclass(frozen=True)
class TicketAction:
    name: str
    label: str
    icon: str
    form_class: type[forms.ActionForm]
    service: Callable[..., Ticket]
    transition: str = ''  # the lifecycle step it runs; shown only when the state allows it
    done: str | Callable[[Ticket], str] = ''  # success message, formatted with the updated ticket
    one_click: bool = False  # no input: the button sends the action straight away
    primary: bool = False
    in_menu: bool = False  # listed under "More" rather than as a button
    description: str = ''

    @property
    def slug(self) -> str:
        return self.name.replace('_', '-')

    def url_name(self, prefix: str = 'ticket') -> str:
        return f'incidents:{prefix}_{self.name}'

    def url(self, ticket: Ticket) -> str:
        return reverse(self.url_name(), kwargs={'number': ticket.number})

    def label_for(self, ticket: Ticket) -> str:
        if self.name == 'convert':
            return 'Convert to case' if ticket.kind == TicketKind.INCIDENT else 'Convert to incident'
        return self.label

    def run(self, *, ticket: Ticket, actor, form) -> Ticket:
        return self.service(ticket=ticket, actor=actor, **form.service_kwargs())

    def message(self, ticket: Ticket) -> str:
        if callable(self.done):
            return self.done(ticket)
        return self.done.format(ticket=ticket)


def _escalate_management(*, ticket, actor, reason):
    return services.ticket_escalate_hierarchical(ticket=ticket, actor=actor, reason=reason)


def _parent_done(ticket: Ticket) -> str:
    if ticket.parent_id:
        return f'{ticket.number} is now a child of {ticket.parent.number}.'
    return f'{ticket.number} no longer has a parent.'


ACTIONS: dict[str, TicketAction] = {
    action.name: action
    for action in [
        TicketAction(
            'accept',
            'Accept',
            'hand-grab',
            forms.NoInputForm,
            services.ticket_accept,
            transition='accept',
            done='You accepted {ticket.number}: it is in your work now.',
            one_click=True,
            primary=True,
            description='Take ownership: you become the assignee and the caller hears who is working on it.',
        ),
        TicketAction(
            'assign',
            'Assign',
            'users',
            forms.AssignForm,
            services.ticket_assign,
            transition='assign',
            done='{ticket.number} is assigned to {ticket.assignment_group}.',
            description='Hand the ticket to a support group, and optionally to one of its members.',
        ),
        TicketAction(
            'complete',
            'Complete',
            'circle-check',
            forms.CompleteForm,
            services.ticket_complete,
            transition='complete',
            done='{ticket.number} is completed; the caller is asked to confirm.',
            primary=True,
            description='Service is restored or a fix is in place. The caller is asked to confirm.',
        ),
        TicketAction(
            'pend',
            'Put on hold',
            'player-pause',
            forms.PendForm,
            services.ticket_pend,
            transition='pend',
            done='{ticket.number} is on hold.',
            description='Waiting for someone or something: say what.',
        ),
        TicketAction(
            'resume',
            'Resume',
            'player-play',
            forms.NoteForm,
            services.ticket_resume,
            transition='resume',
            done='{ticket.number} is active again.',
            primary=True,
        ),
        TicketAction(
            'escalate',
            'Escalate',
            'arrow-big-up-lines',
            forms.EscalateForm,
            services.ticket_escalate,
            transition='escalate',
            done='{ticket.number} is escalated to {ticket.assignment_group}.',
            description='Functional escalation: the ticket goes to a group with more expertise, who accept it.',
        ),
        TicketAction(
            'confirm',
            'Confirm resolution',
            'thumb-up',
            forms.NoInputForm,
            services.ticket_confirm,
            transition='confirm',
            done='{ticket.number} is closed with the caller’s consent.',
            one_click=True,
            description='On the caller’s behalf, when they confirmed by phone or e-mail.',
        ),
        TicketAction(
            'reject',
            'Reject resolution',
            'thumb-down',
            forms.ReasonForm,
            services.ticket_reject,
            transition='reject',
            done='{ticket.number} is reopened.',
            description='On the caller’s behalf: the problem is not solved. The ticket goes back to its owner.',
        ),
        TicketAction(
            'escalate_management',
            'Escalate to management',
            'speakerphone',
            forms.ReasonForm,
            _escalate_management,
            done='The manager of {ticket.assignment_group} has been told about {ticket.number}.',
            in_menu=True,
            description='Hierarchical escalation: the group manager is informed; the ticket stays where it is.',
        ),
        TicketAction(
            'priority',
            'Override priority',
            'flag',
            forms.PriorityForm,
            services.ticket_override_priority,
            done='{ticket.number} is now {ticket.priority_label}.',
            in_menu=True,
            description='Set a priority other than the matrix gives. The reason is kept in the history.',
        ),
        TicketAction(
            'parent',
            'Link to parent',
            'link',
            forms.ParentForm,
            services.ticket_link_parent,
            done=_parent_done,
            in_menu=True,
            description='Make this a child of a master or major incident.',
        ),
        TicketAction(
            'convert',
            'Convert',
            'transform',
            forms.ConvertForm,
            services.ticket_convert,
            done='{ticket.alternate_number} is now {ticket.number}.',
            one_click=True,
            in_menu=True,
            description='The ticket keeps its history; its previous number still finds it.',
        ),
    ]
}


@dataclass(frozen=True)
class BoundAction:
    """An action as one ticket's page shows it."""

    action: TicketAction
    url: str
    label: str

    def __getattr__(self, name: str) -> Any:
        return getattr(self.action, name)


def may_accept(ticket: Ticket, user) -> bool:
    return bool(
        ticket.assignment_group_id
        and ticket.assignee_id in (None, user.pk)
        and ticket.assignment_group.members.filter(pk=user.pk).exists()
    )


def is_allowed(action: TicketAction, ticket: Ticket, user, allowed: set[str]) -> bool:
    """Whether `user` may take `action` on `ticket` now (`allowed`: the transitions its state allows)."""
    if action.transition and action.transition not in allowed:
        return False
    if action.name == 'accept':
        return may_accept(ticket, user)
    if action.name == 'escalate_management':
        group = ticket.assignment_group
        return ticket.state in OPEN_STATES and group is not None and group.manager_id is not None
    if action.name in ('priority', 'parent', 'convert'):
        return ticket.state != TicketState.CLOSED
    return True


def available_actions(ticket: Ticket, user) -> list[BoundAction]:
    """The actions `user` may take on `ticket` in its current state, in the order the page shows them."""
    if not can_work(user):
        return []
    allowed = {t.name for t in TICKET_WORKFLOW.allowed(ticket)}
    return [
        BoundAction(action, action.url(ticket), action.label_for(ticket))
        for action in ACTIONS.values()
        if is_allowed(action, ticket, user, allowed)
    ]
