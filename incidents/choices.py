"""Ticket states, channels, resolution codes and the lifecycle of domain §4, as data."""

from django.db import models

from itsm.workflow import Transition, Workflow


class TicketState(models.TextChoices):
    NEW = 'new', 'New'
    ASSIGNED = 'assigned', 'Assigned'
    ACCEPTED = 'accepted', 'Accepted'
    PENDING = 'pending', 'Pending'
    COMPLETED = 'completed', 'Completed'
    CLOSED = 'closed', 'Closed'


OPEN_STATES = (TicketState.NEW, TicketState.ASSIGNED, TicketState.ACCEPTED, TicketState.PENDING)
# States a ticket is still being worked in (Completed waits on the caller).
ACTIVE_STATES = (*OPEN_STATES, TicketState.COMPLETED)

STATE_COLOURS = {
    TicketState.NEW: 'azure',
    TicketState.ASSIGNED: 'blue',
    TicketState.ACCEPTED: 'indigo',
    TicketState.PENDING: 'yellow',
    TicketState.COMPLETED: 'green',
    TicketState.CLOSED: 'secondary',
}
PRIORITY_COLOURS = {0: 'red', 1: 'orange', 2: 'yellow', 3: 'blue', 4: 'secondary'}


class TicketChannel(models.TextChoices):
    PORTAL = 'portal', 'Portal'
    PHONE = 'phone', 'Phone'
    EMAIL = 'email', 'E-mail'
    MONITORING = 'monitoring', 'Monitoring event'
    API = 'api', 'API'
    WALK_IN = 'walk_in', 'Walk-in'


class ResolutionCode(models.TextChoices):
    SOLVED_PERMANENTLY = 'solved_permanently', 'Solved (permanently)'
    SOLVED_WORKAROUND = 'solved_workaround', 'Solved (workaround)'
    SOLVED_REMOTELY = 'solved_remotely', 'Solved remotely'
    SOLVED_BY_CHANGE = 'solved_by_change', 'Solved by change'
    KNOWN_ERROR = 'known_error', 'Known error, workaround applied'
    NOT_REPRODUCIBLE = 'not_reproducible', 'Not reproducible'
    USER_ERROR = 'user_error', 'User error / training'
    DUPLICATE = 'duplicate', 'Duplicate'
    CANCELLED = 'cancelled', 'Cancelled by caller'
    REQUEST_FULFILLED = 'request_fulfilled', 'Request fulfilled'


class PendingReason(models.TextChoices):
    CUSTOMER = 'customer', 'Awaiting the customer'
    VENDOR = 'vendor', 'Awaiting a vendor'
    PART = 'part', 'Awaiting a part shipment'
    CHANGE = 'change', 'Awaiting a scheduled change'
    PROBLEM = 'problem', 'Awaiting problem resolution'
    EVENT = 'event', 'Awaiting a scheduled event'


S = TicketState
TICKET_WORKFLOW = Workflow(
    field='state',
    states=TicketState,
    triage=(S.NEW,),
    awaiting_acceptance=(S.ASSIGNED,),
    paused=(S.PENDING,),
    finished=(S.COMPLETED, S.CLOSED),
    final=(S.CLOSED,),
    transitions=[
        # New → Assigned, and Assigned → Assigned to another group (a reassignment).
        Transition('assign', 'Assign', sources=(S.NEW, S.ASSIGNED), target=S.ASSIGNED, requires=('assignment_group',)),
        Transition('accept', 'Accept', sources=(S.ASSIGNED,), target=S.ACCEPTED, requires=('assignee',)),
        Transition('pend', 'Put on hold', sources=(S.ACCEPTED,), target=S.PENDING, requires=('pending_reason',)),
        Transition('resume', 'Resume', sources=(S.PENDING,), target=S.ACCEPTED),
        # Functional escalation or hand-off to another group or tier (a reassignment).
        Transition(
            'escalate', 'Escalate', sources=(S.ASSIGNED, S.ACCEPTED), target=S.ASSIGNED, requires=('assignment_group',)
        ),
        Transition(
            'complete',
            'Complete',
            sources=(S.ACCEPTED,),
            target=S.COMPLETED,
            requires=('resolution_code', 'resolution_notes'),
        ),
        # A child completes with its parent (a ticket or a major incident) from any open state: the parent's
        # resolution is its own, whether or not anyone took it. Run by the cascade only, never offered as an action.
        Transition(
            'complete_with_parent',
            'Complete with its parent',
            sources=(S.NEW, S.ASSIGNED, S.ACCEPTED, S.PENDING),
            target=S.COMPLETED,
            requires=('resolution_code', 'resolution_notes'),
        ),
        Transition('confirm', 'Confirm resolution', sources=(S.COMPLETED,), target=S.CLOSED),
        Transition('reject', 'Reject resolution', sources=(S.COMPLETED,), target=S.ACCEPTED),
        Transition('auto_close', 'Close automatically', sources=(S.COMPLETED,), target=S.CLOSED),
    ],
)


# Where a ticket stands, in the requester's words (the portal): by state, or by state and pending reason first.
REQUESTER_PHRASES = {
    TicketState.NEW: 'We have received it and will pass it to the right team shortly.',
    TicketState.ASSIGNED: 'A specialist team is working on it.',
    TicketState.ACCEPTED: 'A specialist team is working on it.',
    TicketState.PENDING: 'On hold for now.',
    (TicketState.PENDING, PendingReason.CUSTOMER): 'Waiting for your reply.',
    (TicketState.PENDING, PendingReason.VENDOR): 'On hold: waiting for a supplier.',
    (TicketState.PENDING, PendingReason.PART): 'On hold: waiting for a part to arrive.',
    (TicketState.PENDING, PendingReason.CHANGE): 'On hold: waiting for a planned change.',
    (TicketState.PENDING, PendingReason.PROBLEM): 'On hold: waiting for a fix to the underlying problem.',
    (TicketState.PENDING, PendingReason.EVENT): 'On hold: waiting for a scheduled event.',
    TicketState.COMPLETED: 'Resolved: please confirm or reopen.',
    TicketState.CLOSED: 'Closed.',
}
# What the requester's own step did, while nobody at the desk has opened the ticket since (its attention marker).
REQUESTER_ATTENTION_PHRASES = {
    'customer_replied': 'Back with the desk: we have your reply.',
    'reopened': 'Reopened: back with the desk.',
}


def requester_phrase(state: str, pending_reason: str = '', attention: str = '') -> str:
    """The portal's words for a ticket's state (and pending reason), or for the requester's unseen reply."""
    if attention in REQUESTER_ATTENTION_PHRASES and state not in (TicketState.COMPLETED, TicketState.CLOSED):
        return REQUESTER_ATTENTION_PHRASES[attention]
    return REQUESTER_PHRASES.get((state, pending_reason)) or REQUESTER_PHRASES.get(state, '')
