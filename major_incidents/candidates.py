"""Major-incident candidates: incidents that may be one major incident, found as they arrive (domain §6).

Two rules, run from the incidents' `created` and `changed` hooks (incidents only, never cases):

1. **Critical service.** An incident that is, or becomes, P0 or P1 on a service whose criticality is `critical` is a
   candidate on its own (one per incident).
2. **Flood.** When `MAJOR_CANDIDATE_FLOOD_COUNT` incidents arrive on one service (or one CI) within
   `MAJOR_CANDIDATE_FLOOD_MINUTES`, a flood candidate for that scope lists them. While it is proposed, later arrivals
   on the scope join it instead of starting another. Incidents already part of a major incident do not count, nor
   do those of a flood an incident manager dismissed: a new flood there needs enough new arrivals.

An incident whose service or CI already has an open major incident makes no candidate: the major incident's page
proposes it as a child instead (`selectors.proposed_children`). Every new candidate is written on its incident's
timeline and told at once to the incident managers (inbox and e-mail). Incident managers then declare a major
incident from it (`services.major_declare(candidate=...)`) or dismiss it with a reason (`candidate_dismiss`).

Cost per incident: nothing without a service or CI; otherwise a handful of indexed queries whatever the desk holds
(the open major incidents on the scope, the proposed floods on it, one count of the recent arrivals).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, Count, F, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.urls import reverse
from django.utils import timezone

from cmdb.choices import Criticality
from cmdb.models import Service
from incidents.models import Ticket
from itsm import audit, banners, hooks, notify
from itsm.audit import Actor
from itsm.choices import Priority, Role, TicketKind, TimelineKind
from itsm.errors import Conflict, NotAllowed
from itsm.models import User

from .actions import is_incident_manager
from .choices import CandidateReason, CandidateStatus
from .models import MajorIncident, MajorIncidentCandidate

CANDIDATE_PRIORITIES = (Priority.P0, Priority.P1)
NOTIFY_EVENT = 'major_candidate'
NOTIFY_TEMPLATE = 'major_incidents/candidate_notification.txt'


# ------------------------------------------------------------------------------------------------ scopes
def service_scope(service_id: int) -> str:
    return f'service:{service_id}'


def ci_scope(ci_id: int) -> str:
    return f'ci:{ci_id}'


def _scopes(ticket: Ticket) -> dict[str, tuple[str, int]]:
    """The flood scopes of an incident: scope key → (field, id)."""
    scopes = {}
    if ticket.service_id:
        scopes[service_scope(ticket.service_id)] = ('service', ticket.service_id)
    if ticket.ci_id:
        scopes[ci_scope(ticket.ci_id)] = ('ci', ticket.ci_id)
    return scopes


def _in_open_major(ticket: Ticket) -> bool:
    """Whether the incident, or its service or CI, already belongs to an open major incident (one query)."""
    condition = Q(child_links__incident=ticket.pk)
    if ticket.service_id:
        condition |= Q(services=ticket.service_id)
    if ticket.ci_id:
        condition |= Q(cis=ticket.ci_id)
    return MajorIncident.objects.open().filter(condition).exists()


# ------------------------------------------------------------------------------------------------ the hooks
def on_incident_created(ticket: Ticket, *, actor: Actor, **kwargs) -> None:
    if ticket.kind != TicketKind.INCIDENT or not (ticket.service_id or ticket.ci_id):
        return
    if _in_open_major(ticket):
        return
    _critical_service_rule(ticket, actor)
    _flood_rule(ticket, actor)


def on_incident_changed(ticket: Ticket, *, actor: Actor, **kwargs) -> None:
    """A priority raised (or a service named) later makes the incident a candidate then."""
    if ticket.kind != TicketKind.INCIDENT or ticket.priority not in CANDIDATE_PRIORITIES or not ticket.service_id:
        return
    if not ticket.is_open or _in_open_major(ticket):
        return
    _critical_service_rule(ticket, actor)


def register() -> None:
    """From `MajorIncidentsConfig.ready`: listen to new and changed incidents, and name the notification's text."""
    hooks.subscribe(hooks.CREATED, on_incident_created, model=Ticket)
    hooks.subscribe(hooks.CHANGED, on_incident_changed, model=Ticket)
    notify.register_event_template(NOTIFY_EVENT, NOTIFY_TEMPLATE)
    banners.register(waiting_banner)


# ------------------------------------------------------------------------------------------------ rule 1
def _critical_service_rule(ticket: Ticket, actor: Actor) -> MajorIncidentCandidate | None:
    if ticket.priority not in CANDIDATE_PRIORITIES or not ticket.service_id:
        return None
    critical = Service.objects.filter(ci_id=ticket.service_id, criticality=Criticality.CRITICAL)
    if not critical.exists():
        return None
    if MajorIncidentCandidate.objects.filter(incident=ticket, reason=CandidateReason.CRITICAL_SERVICE).exists():
        return None  # already proposed (or decided) once: a later edit does not propose it again
    try:
        with transaction.atomic():
            candidate = MajorIncidentCandidate.objects.create(
                reason=CandidateReason.CRITICAL_SERVICE,
                incident=ticket,
                service_id=ticket.service_id,
                ci_id=ticket.ci_id,
                scope=ticket.number,
                incident_count=1,
            )
    except IntegrityError:
        return None  # the same incident saved twice at once: the other save proposed it
    candidate.incidents.add(ticket)
    _announce(candidate, ticket, actor)
    return candidate


# ------------------------------------------------------------------------------------------------ rule 2
def _flood_rule(ticket: Ticket, actor: Actor) -> list[MajorIncidentCandidate]:
    scopes = _scopes(ticket)
    proposed = {
        c.scope: c
        for c in MajorIncidentCandidate.objects.filter(
            reason=CandidateReason.FLOOD, status=CandidateStatus.PROPOSED, scope__in=list(scopes)
        ).only('pk', 'scope')
    }
    found = []
    for scope in [s for s in scopes if s in proposed]:
        found.append(_join(proposed[scope], ticket))
    waiting = {scope: value for scope, value in scopes.items() if scope not in proposed}
    if not waiting:
        return found
    since = timezone.now() - dt.timedelta(minutes=settings.MAJOR_CANDIDATE_FLOOD_MINUTES)
    recent = _recent_arrivals(since, waiting)
    tallies = {
        scope.replace(':', '_'): Count('pk', filter=_counted(scope, name, pk)) for scope, (name, pk) in waiting.items()
    }
    counts = recent.aggregate(**tallies)
    for scope, (name, pk) in waiting.items():
        if counts[scope.replace(':', '_')] >= settings.MAJOR_CANDIDATE_FLOOD_COUNT:
            found.append(_propose_flood(scope, name, pk, ticket, since, actor))
    return found


def _counted(scope: str, name: str, pk: int) -> Q:
    """Incidents on the scope that count towards its flood: not those a dismissed flood on it already listed (an
    incident manager judged them; a new flood needs enough new arrivals)."""
    judged = MajorIncidentCandidate.incidents.through.objects.filter(
        majorincidentcandidate__scope=scope,
        majorincidentcandidate__reason=CandidateReason.FLOOD,
        majorincidentcandidate__status=CandidateStatus.DISMISSED,
    ).values('ticket_id')
    return Q(**{f'{name}_id': pk}) & ~Q(pk__in=judged)


def _recent_arrivals(since: dt.datetime, scopes: dict[str, tuple[str, int]]) -> QuerySet[Ticket]:
    """Incidents opened since `since` on any of the scopes that no major incident holds."""
    condition = Q()
    for name, pk in scopes.values():
        condition |= Q(**{f'{name}_id': pk})
    return Ticket.objects.filter(condition, kind=TicketKind.INCIDENT, opened_at__gte=since).filter(
        major_incident_link__isnull=True
    )


def _propose_flood(scope: str, name: str, pk: int, ticket: Ticket, since, actor: Actor) -> MajorIncidentCandidate:
    arrivals = _recent_arrivals(since, {scope: (name, pk)}).filter(_counted(scope, name, pk))
    incidents = list(arrivals.values_list('pk', flat=True))
    try:
        with transaction.atomic():
            candidate = MajorIncidentCandidate.objects.create(
                reason=CandidateReason.FLOOD,
                incident=ticket,
                scope=scope,
                incident_count=len(incidents),
                **{f'{name}_id': pk},
                **({'service_id': ticket.service_id} if name == 'ci' and ticket.service_id else {}),
            )
    except IntegrityError:
        # Another incident on the scope crossed the threshold at the same moment and its candidate committed
        # first (the partial unique constraint): this one joins it.
        winner = MajorIncidentCandidate.objects.get(
            reason=CandidateReason.FLOOD, status=CandidateStatus.PROPOSED, scope=scope
        )
        return _join(winner, ticket)
    candidate.incidents.add(*incidents)
    _announce(candidate, ticket, actor)
    return candidate


def _join(candidate: MajorIncidentCandidate, ticket: Ticket) -> MajorIncidentCandidate:
    """Add a later arrival to a proposed flood (the count grows in the database, so joins at once all count)."""
    MajorIncidentCandidate.objects.filter(pk=candidate.pk).update(
        incident_count=F('incident_count') + 1, incident=ticket
    )
    candidate.incidents.add(ticket)
    return candidate


# ------------------------------------------------------------------------------------------------ telling people
def incident_managers() -> QuerySet[User]:
    return User.objects.filter(groups__name=Role.INCIDENT_MANAGER, is_active=True).distinct()


def _announce(candidate: MajorIncidentCandidate, ticket: Ticket, actor: Actor) -> None:
    """On the incident's timeline now; to the incident managers (inbox and e-mail) once the incident commits."""
    text = describe(candidate)
    audit.record(
        ticket,
        actor=actor,
        kind=TimelineKind.LINK,
        message=f'Proposed as a major-incident candidate: {text}',
        data={'major_candidate': candidate.pk, 'reason': candidate.reason},
    )
    notify.notify(
        ticket,
        NOTIFY_EVENT,
        (),
        label='Major-incident candidate',
        extra={
            'candidate_id': candidate.pk,
            'candidate_text': text,
            'candidate_url': notify.site_url(candidate.get_absolute_url()),
        },
        people=list(incident_managers()),
    )


def describe(candidate: MajorIncidentCandidate) -> str:
    if candidate.reason == CandidateReason.FLOOD:
        return f'{candidate.incident_count} incidents within {settings.MAJOR_CANDIDATE_FLOOD_MINUTES} minutes'
    return 'P0/P1 on a critical service'


# ------------------------------------------------------------------------------------------------ decisions
@transaction.atomic
def candidate_dismiss(*, candidate: MajorIncidentCandidate, actor: Actor, reason: str) -> MajorIncidentCandidate:
    """Not a major incident: say why. Incident managers only; only a proposed candidate."""
    if actor.user is not None and not is_incident_manager(actor.user):
        raise NotAllowed('Only an incident manager can dismiss major-incident candidates.')
    reason = (reason or '').strip()
    if not reason:
        raise ValidationError({'reason': 'Say why this is not a major incident.'})
    candidate = MajorIncidentCandidate.objects.select_for_update().select_related('incident').get(pk=candidate.pk)
    if candidate.status != CandidateStatus.PROPOSED:
        raise Conflict(
            f'This candidate is already {candidate.get_status_display().lower()}: only a proposed one is dismissed.',
            code='candidate_decided',
        )
    candidate.status = CandidateStatus.DISMISSED
    candidate.decided_by = actor.user
    candidate.decided_at = timezone.now()
    candidate.dismiss_reason = reason[:300]
    candidate.save(update_fields=['status', 'decided_by', 'decided_at', 'dismiss_reason'])
    audit.record(
        candidate.incident,
        actor=actor,
        kind=TimelineKind.LINK,
        message=f'Major-incident candidate dismissed: {candidate.dismiss_reason}',
        data={'major_candidate': candidate.pk, 'dismissed': True},
    )
    return candidate


# ------------------------------------------------------------------------------------------------ reads
def candidate_list() -> QuerySet[MajorIncidentCandidate]:
    """Candidates for the pages, proposed first, then the newest."""
    return (
        MajorIncidentCandidate.objects.select_related('incident', 'service', 'ci', 'major_incident', 'decided_by')
        .annotate(
            waiting=Case(
                When(status=CandidateStatus.PROPOSED, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .order_by('waiting', '-detected_at', '-pk')
    )


def visible_candidates(candidates: QuerySet[MajorIncidentCandidate], user) -> QuerySet[MajorIncidentCandidate]:
    """`candidates` whose incident (the latest to arrive) `user` may see (`visible_to`): a candidate raised by a
    security incident is shown only to those cleared for it."""
    return candidates.filter(incident__in=Ticket.objects.visible_to(user).values('pk'))


def candidate_detail() -> QuerySet[MajorIncidentCandidate]:
    incidents = Ticket.objects.select_related('service', 'ci', 'major_incident_link__major_incident').order_by(
        '-opened_at'
    )
    return candidate_list().prefetch_related(Prefetch('incidents', queryset=incidents))


def waiting_count() -> int:
    return MajorIncidentCandidate.objects.filter(status=CandidateStatus.PROPOSED).count()


def candidate_of(ticket: Ticket) -> MajorIncidentCandidate | None:
    """The proposed candidate holding an incident, if any (one query)."""
    return (
        MajorIncidentCandidate.objects.filter(status=CandidateStatus.PROPOSED)
        .filter(Q(incident=ticket) | Q(incidents=ticket))
        .order_by('-detected_at')
        .first()
    )


def waiting_banner(request) -> banners.Banner | None:
    """Incident managers' banner on every page: the candidates waiting for a decision (one count query)."""
    user = request.user
    if not user.has_role(Role.INCIDENT_MANAGER):
        return None
    count = waiting_count()
    if not count:
        return None
    noun = 'candidate' if count == 1 else 'candidates'
    return banners.Banner(
        text=f'{count} major-incident {noun} waiting',
        url=f'{reverse("major_incidents:candidate_list")}?status={CandidateStatus.PROPOSED}',
        link_label='Review them' if count > 1 else 'Review it',
        level='danger',
    )
