"""Reporting a problem's resolution back to incident management (domain §7), so its incidents can be closed.

When a problem is resolved (its `transitioned` hook, subscribed in `ProblemsConfig.ready`), each linked incident
still open gets a work note with the resolution, its caller a public comment (and the e-mail every staff reply
sends), and an incident on hold "awaiting problem resolution" resumes. A resolution that needs a production change
names the change reference in both. Then the problem manager may complete the linked open incidents in one action
(`complete_linked_incidents`): each is completed whole through `incidents.services.ticket_complete`, or left as it
was and named with the reason. A cancelled problem brings no fix: its incidents are told, and those awaiting it
resume.

The desk's incidents are written by the system on the problem's behalf (a problem manager does not work incidents);
their histories name the problem, and the problem's history names who resolved it.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from incidents import notifications as incident_notifications
from incidents.choices import PendingReason, ResolutionCode, TicketState
from incidents.services import ticket_complete, ticket_resume
from itsm import audit, conversation
from itsm.audit import Actor
from itsm.choices import TimelineKind
from itsm.errors import ApplicationError, Conflict, NotAllowed
from itsm.workflow import lock

from .actions import is_problem_manager
from .incident_links import COMPLETABLE_STATES
from .models import Problem

# The resolution codes a problem's incidents are completed with.
COMPLETION_CODES = (ResolutionCode.SOLVED_PERMANENTLY, ResolutionCode.KNOWN_ERROR)


def open_incidents(problem: Problem):
    """The problem's linked incidents still open, oldest link first."""
    from incidents.models import Ticket

    return (
        Ticket.objects.filter(problem_link__problem=problem, state__in=Ticket.workflow.open_states)
        .select_related('caller', 'assignment_group')
        .order_by('problem_link__linked_at', 'pk')
    )


def change_sentence(problem: Problem) -> str:
    if not problem.change_reference:
        return ''
    return f' The fix needs a production change: {problem.change_reference}.'


def on_problem_transitioned(problem: Problem, *, actor: Actor, action: str, **kwargs) -> None:
    if action == 'resolve':
        report_resolution(problem=problem, actor=actor)
    elif action == 'cancel':
        report_cancellation(problem=problem, actor=actor)


def report_cancellation(*, problem: Problem, actor: Actor) -> list[str]:
    """No fix will come from a cancelled problem: its open incidents are told in a work note, and those on hold
    awaiting it resume, back with their group. Returns the incident numbers resumed."""
    system = Actor.system(channel=actor.channel)
    resumed = []
    for incident in open_incidents(problem):
        note = f'{problem.number} was cancelled: {problem.cancel_reason}'
        conversation.comment(incident, actor=system, body=note, internal=True)
        if incident.state == TicketState.PENDING and incident.pending_reason == PendingReason.PROBLEM:
            ticket_resume(ticket=incident, actor=system, note=f'{problem.number} was cancelled.')
            resumed.append(incident.number)
    return resumed


def report_resolution(*, problem: Problem, actor: Actor) -> list[str]:
    """Tell every open linked incident (its workers and its caller) that `problem` is resolved; resume those on hold
    for it. Returns the incident numbers told. Runs inside the resolution's transaction."""
    system = Actor.system(channel=actor.channel)
    change = change_sentence(problem)
    told = []
    for incident in open_incidents(problem):
        conversation.comment(
            incident, actor=system, body=f'{problem.number} resolved: {problem.resolution}{change}', internal=True
        )
        if incident.state == TicketState.PENDING and incident.pending_reason == PendingReason.PROBLEM:
            incident = ticket_resume(ticket=incident, actor=system, note=f'{problem.number} is resolved.')
        later = f' It will be deployed through change {problem.change_reference}.' if change else ''
        body = (
            f'The underlying cause of this incident has been found and fixed ({problem.number}): '
            f'{problem.resolution}{later}'
        )
        entry = conversation.comment(incident, actor=system, body=body)
        # Staff replies reach the caller by e-mail; this one comes from no person, so it is sent here.
        incident_notifications.ticket_event(
            incident, incident_notifications.Event.COMMENTED, extra={'comment': entry.message}
        )
        told.append(incident.number)
    return told


@transaction.atomic
def complete_linked_incidents(
    *, problem: Problem, actor: Actor, resolution_code: str = ResolutionCode.SOLVED_PERMANENTLY
) -> tuple[list[str], list[str]]:
    """Complete the open incidents linked to a resolved (or closed) problem with its resolution. Each incident is
    completed whole, or left as it was and listed with the reason ("INC…: reason"); the problem's history lists
    both. Returns (numbers completed, refusals)."""
    if actor.user is not None and not is_problem_manager(actor.user):
        raise NotAllowed('Only a problem manager can complete the incidents of a problem.')
    if resolution_code not in COMPLETION_CODES:
        allowed = ', '.join(str(code.label) for code in COMPLETION_CODES)
        raise ValidationError({'resolution_code': f'Complete the incidents with one of: {allowed}.'})
    problem = lock(problem)
    if problem.state not in COMPLETABLE_STATES:
        raise Conflict(
            f'{problem.number} is {problem.get_state_display().lower()}: resolve it before completing its incidents.',
            code='not_resolved',
        )
    system = Actor.system(channel=actor.channel)
    notes = f'Resolved by problem {problem.number}: {problem.resolution}{change_sentence(problem)}'
    done, refused = [], []
    for incident in open_incidents(problem):
        try:
            with transaction.atomic():  # an incident that cannot be completed is left whole, not half-done
                ticket_complete(ticket=incident, actor=system, resolution_code=resolution_code, resolution_notes=notes)
        except (ValidationError, ApplicationError) as error:
            reason = error.detail if isinstance(error, ApplicationError) else ' '.join(error.messages)
            refused.append(f'{incident.number} ({incident.get_state_display()}): {reason}')
        else:
            done.append(incident.number)
    if not done and not refused:
        raise Conflict(f'{problem.number} has no open incidents to complete.', code='nothing_to_complete')
    lines = [f'Linked incidents completed: {", ".join(done)}.'] if done else []
    if refused:
        lines.append(f'Not completed, left as they were: {"; ".join(refused)}')
    audit.record(
        problem,
        actor=actor,
        kind=TimelineKind.WORK_NOTE,
        message=' '.join(lines),
        data={'incidents_completed': done, 'incidents_not_completed': refused, 'resolution_code': resolution_code},
    )
    return done, refused
