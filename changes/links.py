"""Where changes meet problems and incidents (issue items 9–10). Problems and incidents know nothing of changes:
this module adds itself to their pages (record panels) and to the problem's closure (a close blocker).

- A problem raises a request for change (`raise_rfc`): a draft normal change linked to the problem, with its CIs
  and services, its root cause as the justification. The problem's history names the change.
- A problem closes only once every change linked to it is finished (`open_changes_block_close`): closed, or
  cancelled or rejected (never to be implemented).
- An incident is recorded as caused by a change (`record_cause`, one change per incident): only a change that was
  implemented (it has started) can cause one. Both records' histories say so; `remove_cause` undoes it.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Q, When

from incidents.models import Ticket
from itsm import audit
from itsm.audit import Actor
from itsm.choices import TicketKind, TimelineKind
from itsm.errors import Conflict, NotAllowed
from problems.models import Problem

from .actions import may_draft
from .choices import ChangeType
from .models import Change, IncidentCause

__all__ = ['open_changes_block_close', 'raise_rfc', 'record_cause', 'remove_cause']

PANEL_SIZE = 10


# ---------------------------------------------------------------------------------------------- problems
def rfc_defaults(problem: Problem) -> dict[str, str]:
    """What a change raised from `problem` says unless told otherwise."""
    cause = problem.root_cause or problem.workaround or problem.description
    return {
        'short_description': f'Fix for {problem.number}: {problem.short_description}'[:200],
        'description': problem.description,
        'justification': f'Removes the cause of {problem.number}.' + (f'\n\nRoot cause: {cause}' if cause else ''),
    }


@transaction.atomic
def raise_rfc(*, problem: Problem, actor: Actor, short_description: str = '', description: str = '') -> Change:
    """Draft a normal change that fixes `problem`, linked to it, with its CIs and services."""
    if actor.user is not None and not (may_draft(actor.user) and actor.user.has_perm('changes.add_change')):
        raise NotAllowed('Only engineers, service desk staff and change and problem managers raise changes.')
    if problem.is_final:
        raise Conflict(
            f'{problem.number} is {problem.get_state_display().lower()}: raise changes for open problems only.',
            code='problem_final',
        )
    from .services import change_create

    values = rfc_defaults(problem)
    change = change_create(
        actor=actor,
        short_description=short_description or values['short_description'],
        description=description or values['description'],
        change_type=ChangeType.NORMAL,
        justification=values['justification'],
        cis=list(problem.cis.all()),
        services=list(problem.services.all()),
        problems=[problem],
    )
    audit.record(
        problem,
        actor=actor,
        kind=TimelineKind.LINK,
        message=f'Request for change {change.number} raised: {change.short_description}',
        data={'change': change.number},
    )
    return change


def open_changes_block_close(problem: Problem) -> list[str]:
    """The problems close blocker: the linked changes not finished yet."""
    numbers = list(
        Change.objects.filter(problems=problem)
        .exclude(state__in=Change.workflow.final_states)
        .order_by('number')
        .values_list('number', flat=True)
    )
    if not numbers:
        return []
    return [f'Linked changes are still in progress ({", ".join(numbers)}): close or cancel them first.']


def problem_panel(request, problem: Problem) -> dict | None:
    """The problem page's "Changes" card: its changes (first `PANEL_SIZE`), and the Raise RFC button."""
    user = request.user
    if not user.has_perm('changes.view_change'):
        return None
    changes = Change.objects.filter(problems=problem).order_by('-opened_at', '-pk')
    shown = list(changes[:PANEL_SIZE])
    return {
        'changes': shown,
        'more_changes': max(changes.count() - len(shown), 0) if len(shown) == PANEL_SIZE else 0,
        'may_raise_rfc': not problem.is_final and may_draft(user) and user.has_perm('changes.add_change'),
    }


# --------------------------------------------------------------------------------------------- incidents
def causable_changes():
    """Changes that may have caused an incident: implementation started."""
    return Change.objects.filter(actual_start__isnull=False).order_by('-actual_start', '-pk')


def _may_record(actor: Actor, permission: str) -> None:
    if actor.user is not None and not actor.user.has_perm(f'changes.{permission}_incidentcause'):
        raise NotAllowed('You may not record which change caused an incident.')


@transaction.atomic
def record_cause(*, incident: Ticket, change: Change, actor: Actor) -> IncidentCause:
    """Record that `change` caused `incident` (409 if the incident already has a cause)."""
    _may_record(actor, 'add')
    if incident.kind != TicketKind.INCIDENT:
        raise ValidationError({'incident': f'{incident.number} is a case: only incidents are caused by changes.'})
    if change.actual_start is None:
        raise ValidationError(
            {'change': f'{change.number} was never implemented: only an implemented change causes incidents.'}
        )
    existing = IncidentCause.objects.filter(incident=incident).select_related('change').first()
    if existing is not None:
        raise Conflict(
            f'{incident.number} is already recorded as caused by {existing.change.number}: remove that first.',
            code='already_caused',
        )
    cause = IncidentCause.objects.create(incident=incident, change=change, recorded_by=actor.user)
    audit.record_created(cause, actor=actor, message=f'{incident.number} caused by {change.number}', public=False)
    audit.record(
        incident,
        actor=actor,
        kind=TimelineKind.LINK,
        message=f'Caused by change {change.number}: {change.short_description}',
        data={'change': change.number},
    )
    audit.record(
        change,
        actor=actor,
        kind=TimelineKind.LINK,
        message=f'Caused incident {incident.number}: {incident.short_description}',
        data={'incident': incident.number},
    )
    return cause


@transaction.atomic
def remove_cause(*, cause: IncidentCause, actor: Actor) -> None:
    _may_record(actor, 'delete')
    incident, change = cause.incident, cause.change
    for record, message in (
        (incident, f'No longer recorded as caused by change {change.number}'),
        (change, f'No longer recorded as the cause of incident {incident.number}'),
    ):
        audit.record(record, actor=actor, kind=TimelineKind.LINK, message=message, data={'removed': True})
    audit.record(cause, actor=actor, kind=TimelineKind.DELETED, message=f'{cause} removed')
    cause.delete()


def incident_panel(request, incident: Ticket) -> dict | None:
    """The incident page's "Caused by change" card (incidents only, for people who read changes)."""
    user = request.user
    if incident.kind != TicketKind.INCIDENT or not user.has_perm('changes.view_change'):
        return None
    cause = IncidentCause.objects.filter(incident=incident).select_related('change').first()
    return {
        'cause': cause,
        'may_record_cause': cause is None and user.has_perm('changes.add_incidentcause'),
        'may_remove_cause': cause is not None and user.has_perm('changes.delete_incidentcause'),
    }


def change_panel(request, change: Change) -> dict:
    """The change page's "Problems and incidents" card: linked problems and incidents, incidents it caused."""
    user = request.user
    causes = list(
        IncidentCause.objects.filter(change=change).select_related('incident').order_by('-recorded_at', '-pk')
    )
    return {
        'problems': list(Problem.objects.filter(changes=change).order_by('number')),
        # A security incident only for those who may see it (`visible_to`).
        'incidents': list(Ticket.objects.visible_to(user).filter(changes=change).order_by('number')),
        'causes': [cause for cause in causes if cause.incident.is_visible_to(user)],
    }


# ------------------------------------------------------------------------------------------------- CIs
def item_panel(request, ci) -> dict | None:
    """A CI's or a service's page: the latest changes that list it (as a CI or a service), live ones first."""
    user = request.user
    if user.is_requester_only or not user.has_perm('changes.view_change'):
        return None
    changes = Change.objects.filter(Q(cis=ci) | Q(services=ci)).distinct()
    live = ~Q(state__in=Change.workflow.final_states)
    shown = list(
        changes.annotate(live=Case(When(live, then=1), default=0)).order_by('-live', '-opened_at', '-pk')[:PANEL_SIZE]
    )
    return {'changes_item': ci, 'changes_rows': shown}


def register() -> None:
    """From `ChangesConfig.ready`: the panels on the problem, incident, change and CI pages, and the close
    blocker."""
    from cmdb.views import register_item_panel
    from itsm.views.records import register_panel
    from problems.services import register_close_blocker

    register_item_panel('changes/_links_item.html', item_panel)
    register_panel(Problem, 'changes/_links_problem.html', problem_panel)
    register_panel(Ticket, 'changes/_links_incident.html', incident_panel)
    register_panel(Change, 'changes/_links_change.html', change_panel)
    register_close_blocker(open_changes_block_close)
