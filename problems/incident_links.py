"""Incidents recorded with problems (domain §7): raising a problem from an incident, linking and unlinking, and the
policy that every incident escalated to the last tier is recorded with problem management.

An incident belongs to at most one problem (`ProblemIncident`, one row per incident). Agents, engineers, incident
managers and problem managers raise and link; cases are not incidents and are refused. Incidents know nothing of
problems: the incident page shows its problem through a panel (`itsm.views.records.register_panel`) and the
escalation policy listens to the incidents' `transitioned` hook (both wired in `ProblemsConfig.ready`).

**Needs problem review.** An incident escalated (the `escalate` action) to a group of the last tier (`Tier.L3`) gets
a work note whose `data.problem_review` is `needed` (histories written without the services count an `escalate`
transition of an incident a last-tier group holds). Until it is linked to a problem, or a problem manager marks it
reviewed (a work note with `data.problem_review` = `reviewed` and the reason), it is listed by `review_queue()`.
The decision lives in the incident's own history, so the queue needs no table of its own; an incident escalated to
the last tier again after a review comes back.
"""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Count, DateTimeField, Exists, F, OuterRef, Q, QuerySet, Subquery, When
from django.db.models.functions import Coalesce

from incidents.models import Ticket
from itsm import audit
from itsm.audit import Actor
from itsm.choices import TicketKind, Tier, TimelineKind
from itsm.errors import ApplicationError, Conflict, NotAllowed
from itsm.models import TimelineEntry
from itsm.permissions import user_can

from .actions import is_problem_manager
from .choices import STATE_COLOURS
from .models import Problem, ProblemIncident
from .services import RAISER_ROLES, problem_create

REVIEW_KEY = 'problem_review'
REVIEW_NEEDED = 'needed'
REVIEW_DONE = 'reviewed'


# --------------------------------------------------------------------------------------------- who and what
def may_link(user) -> bool:
    """Whether `user` raises problems from incidents and links them (a system job, None, may)."""
    return user is None or (user.is_authenticated and user.has_role(*RAISER_ROLES))


def offers(user) -> dict[str, bool]:
    """What pages offer `user` about incident links: raising a problem, linking, unlinking (the role rule of the
    services and the model permission of the pages, so no button leads to a refusal)."""
    allowed = user is not None and may_link(user)
    return {
        'raise': allowed and user_can(user, Problem, 'add'),
        'link': allowed and user_can(user, ProblemIncident, 'add'),
        'unlink': allowed and user_can(user, ProblemIncident, 'delete'),
    }


def incident_refusal(incident: Ticket, user, *, check_link: bool = True) -> ApplicationError | None:
    """Why `user` may not record `incident` with a problem now (None when they may)."""
    if not may_link(user):
        return NotAllowed('Only service desk staff and problem managers can record incidents with problems.')
    if incident.kind != TicketKind.INCIDENT:
        return Conflict(
            f'{incident.number} is a case: only incidents are recorded with problems.', code='not_an_incident'
        )
    if check_link:
        linked = ProblemIncident.objects.filter(incident=incident).select_related('problem').first()
        if linked is not None:
            return Conflict(
                f'{incident.number} is already linked to {linked.problem.number}.',
                code='already_linked',
                extra={'problem': linked.problem.number},
            )
    return None


def problem_refusal(problem: Problem) -> ApplicationError | None:
    """Why incidents may not join `problem` (None when they may): a closed or cancelled problem takes none."""
    if problem.is_final:
        return Conflict(
            f'{problem.number} is {problem.get_state_display().lower()}: link to a problem still being worked.',
            code='problem_final',
        )
    return None


def linkable_problems() -> QuerySet[Problem]:
    """The problems an incident can join: every one not closed or cancelled, newest first."""
    return Problem.objects.exclude(state__in=Problem.workflow.final_states).order_by('-opened_at')


# --------------------------------------------------------------------------------------------- services
@transaction.atomic
def link_incident(*, problem: Problem, incident: Ticket, actor: Actor) -> ProblemIncident:
    """Record `incident` with `problem`. Refused (409) for a case, an incident already linked to a problem (this
    one or another) and a closed or cancelled problem; both histories say who linked it."""
    incident = Ticket.objects.select_for_update().get(pk=incident.pk)  # two people linking at once: one wins
    for refusal in (incident_refusal(incident, actor.user), problem_refusal(problem)):
        if refusal is not None:
            raise refusal
    link = ProblemIncident.objects.create(problem=problem, incident=incident, linked_by=actor.user)
    audit.record_created(link, actor=actor, message=f'{incident.number} linked to {problem.number}', public=False)
    audit.record(
        incident,
        actor=actor,
        kind=TimelineKind.LINK,
        message=f'Linked to problem {problem.number}: {problem.short_description}',
        data={'problem': problem.number},
    )
    audit.record(
        problem,
        actor=actor,
        kind=TimelineKind.LINK,
        message=f'Incident {incident.number} linked: {incident.short_description}',
        data={'incident': incident.number},
    )
    return link


@transaction.atomic
def unlink_incident(*, problem: Problem, incident: Ticket, actor: Actor) -> None:
    """Take `incident` off `problem` (it was linked by mistake); both histories say so."""
    if not may_link(actor.user):
        raise NotAllowed('Only service desk staff and problem managers can unlink incidents from problems.')
    link = ProblemIncident.objects.select_for_update().filter(problem=problem, incident=incident).first()
    if link is None:
        raise Conflict(f'{incident.number} is not linked to {problem.number}.', code='not_linked')
    if problem.is_final:
        raise Conflict(f'{problem.number} is {problem.get_state_display().lower()}: its links stay.', code='final')
    link.delete()
    audit.record(
        incident,
        actor=actor,
        kind=TimelineKind.LINK,
        message=f'Unlinked from problem {problem.number}',
        data={'problem': problem.number, 'unlinked': True},
    )
    audit.record(
        problem,
        actor=actor,
        kind=TimelineKind.LINK,
        message=f'Incident {incident.number} unlinked',
        data={'incident': incident.number, 'unlinked': True},
    )


@transaction.atomic
def raise_problem_from_incident(*, incident: Ticket, actor: Actor, **problem_fields: Any) -> Problem:
    """Log a problem for `incident` and link it. What is not given comes from the incident: its short description
    and description, category and subcategory (which set the problem's priority), service and CI, and symptom."""
    refusal = incident_refusal(incident, actor.user)
    if refusal is not None:
        raise refusal
    fields: dict[str, Any] = {
        'short_description': incident.short_description,
        'description': incident.description,
        'category': incident.category,
        'subcategory': incident.subcategory,
        'services': [incident.service] if incident.service_id else [],
        'cis': [incident.ci] if incident.ci_id else [],
        'symptoms': incident.symptom,
    }
    fields.update({name: value for name, value in problem_fields.items() if value not in (None, '')})
    problem = problem_create(actor=actor, **fields)
    link_incident(problem=problem, incident=incident, actor=actor)
    return problem


# ------------------------------------------------------------------------------------ needs problem review
def on_ticket_transitioned(ticket: Ticket, *, actor: Actor, action: str, **kwargs) -> None:
    """An incident escalated to the last tier, and not yet linked to a problem, is listed for problem review."""
    if action != 'escalate' or ticket.kind != TicketKind.INCIDENT or ticket.assignment_group_id is None:
        return
    group = ticket.assignment_group
    if group.tier != Tier.L3 or ProblemIncident.objects.filter(incident=ticket).exists():
        return
    audit.record(
        ticket,
        actor=Actor.system(channel=actor.channel),
        kind=TimelineKind.WORK_NOTE,
        message=f'Escalated to the last tier ({group.name}): listed for problem review.',
        data={REVIEW_KEY: REVIEW_NEEDED, 'group': group.pk},
    )


def _review_notes(value: str):
    """Review notes of incidents (`data__has_key` lets PostgreSQL read them from their partial index, migration
    problems 0002)."""
    return TimelineEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Ticket),
        kind=TimelineKind.WORK_NOTE,
        data__has_key=REVIEW_KEY,
        **{f'data__{REVIEW_KEY}': value},
    )


def _review_entries(value: str):
    return _review_notes(value).filter(object_id=OuterRef('pk'))


def review_queue() -> QuerySet[Ticket]:
    """Incidents escalated to the last tier that are neither linked to a problem nor reviewed since, most recently
    escalated first; each with `escalated_at` (the last such escalation).

    An escalation is known by the work note `on_ticket_transitioned` writes, or, for histories written without the
    services (imports, generated data), by an `escalate` transition of an incident a last-tier group now holds."""
    flagged = _review_entries(REVIEW_NEEDED)
    escalations = TimelineEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Ticket),
        object_id=OuterRef('pk'),
        kind=TimelineKind.TRANSITION,
        data__action='escalate',
    )
    # One set of ids from two sources, each read the cheap way (the notes from their index, the escalations only
    # for the incidents a last-tier group holds), so the database starts from the few ids, not from every incident.
    held_by_last_tier = (
        Ticket.objects.filter(kind=TicketKind.INCIDENT, assignment_group__tier=Tier.L3)
        .filter(Exists(escalations))
        .order_by()
        .values('pk')
    )
    reviewed = _review_entries(REVIEW_DONE)
    return (
        Ticket.objects.filter(kind=TicketKind.INCIDENT, problem_link__isnull=True)
        .filter(pk__in=_review_notes(REVIEW_NEEDED).order_by().values('object_id').union(held_by_last_tier))
        .annotate(
            escalated_at=Coalesce(
                Subquery(flagged.order_by('-at').values('at')[:1], output_field=DateTimeField()),
                Subquery(escalations.order_by('-at').values('at')[:1], output_field=DateTimeField()),
            ),
            reviewed_at=Subquery(reviewed.order_by('-at').values('at')[:1], output_field=DateTimeField()),
        )
        .filter(Q(reviewed_at__isnull=True) | Q(reviewed_at__lt=F('escalated_at')))
        .select_related('caller', 'assignment_group', 'assignee')
        .order_by('-escalated_at', '-pk')
    )


@transaction.atomic
def mark_reviewed(*, incident: Ticket, actor: Actor, reason: str) -> Ticket:
    """A problem manager decides an escalated incident needs no problem; the reason stays in its history."""
    if actor.user is not None and not is_problem_manager(actor.user):
        raise NotAllowed('Only a problem manager can mark an escalation reviewed.')
    reason = (reason or '').strip()
    if not reason:
        raise ValidationError({'reason': 'Say why this escalation needs no problem.'})
    incident = Ticket.objects.select_for_update().get(pk=incident.pk)
    if not review_queue().filter(pk=incident.pk).exists():
        raise Conflict(f'{incident.number} is not waiting for a problem review.', code='not_in_review')
    audit.record(
        incident,
        actor=actor,
        kind=TimelineKind.WORK_NOTE,
        message=f'Problem review: no problem needed. {reason}',
        data={REVIEW_KEY: REVIEW_DONE, 'reason': reason},
    )
    return incident


# --------------------------------------------------------------------------------------------- the panels
def incident_panel(request, ticket: Ticket) -> dict[str, Any] | None:
    """The incident page's "Problem" card: its problem, or (for who may) the ways to record it with one. One query."""
    if ticket.kind != TicketKind.INCIDENT:
        return None
    link = ProblemIncident.objects.filter(incident=ticket).select_related('problem').first()
    offered = offers(request.user) if link is None and not ticket.is_final else {}
    return {
        'problem_link': link,
        'problem_colour': STATE_COLOURS.get(link.problem.state, 'secondary') if link else '',
        'may_raise': offered.get('raise', False),
        'may_link_incident': offered.get('link', False),
    }


# How many linked incidents the problem page lists; the rest are a link away (the incident links list).
PANEL_SIZE = 20


def problem_panel(request, problem: Problem) -> dict[str, Any]:
    """The problem page's "Incidents" card: its linked incidents, open ones first, newest link first. Two queries,
    whatever the number of incidents (the counts, then the first `PANEL_SIZE`)."""
    user = request.user
    links = ProblemIncident.objects.filter(problem=problem)
    if Ticket.restricted_condition(user) is not None:  # a security incident only for those who may see it
        links = links.filter(incident__in=Ticket.objects.visible_to(user).values('pk'))
    open_states = Ticket.workflow.open_states
    counts = links.aggregate(total=Count('pk'), open=Count('pk', filter=Q(incident__state__in=open_states)))
    shown = list(
        links.select_related('incident', 'incident__caller', 'incident__assignment_group', 'linked_by')
        .annotate(still_open=Case(When(incident__state__in=open_states, then=1), default=0))
        .order_by('-still_open', '-linked_at', '-pk')[:PANEL_SIZE]
    )
    offered = offers(user) if not problem.is_final else {}
    return {
        'incident_links': shown,
        'incident_count': counts['total'],
        'more_incidents': counts['total'] - len(shown),
        'open_incident_count': counts['open'],
        'may_link_incident': offered.get('link', False),
        'may_unlink': offered.get('unlink', False),
        'may_complete_incidents': bool(counts['open'])
        and problem.state in COMPLETABLE_STATES
        and is_problem_manager(user),
    }


# A problem whose linked incidents can be completed with its resolution.
COMPLETABLE_STATES = ('resolved', 'closed')
