"""Known errors (domain §7): a documented workaround logged against the CIs and services it affects, offered when
an incident is logged on one of them and applied to incidents.

Problem managers and incident managers record, edit and retire known errors (`add`/`change` on KnownError); agents
read them and apply them to the incidents they work; requesters see active public ones only, without the root
cause. Applying one to an incident (`known_error_apply`) records a `KnownErrorUse`, links the incident to the known
error's problem and gives the workaround to the caller (a comment) or the desk (a work note), in one transaction;
only then may the incident be completed with the resolution code "known error" (`incidents.services.ticket_complete`
reads the use through the incident's `known_error_uses`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from itsm import audit
from itsm.audit import Actor
from itsm.choices import TicketKind, TimelineKind
from itsm.errors import Conflict, NotAllowed
from itsm.permissions import user_can
from itsm.workflow import lock

from .models import KnownError, KnownErrorUse, Problem, ProblemIncident

__all__ = [
    'known_error_apply',
    'known_error_create',
    'known_error_prefill',
    'known_error_retire',
    'known_error_update',
    'known_errors_for',
    'known_errors_matching_text',
]

EDITABLE_FIELDS = ('title', 'symptoms', 'workaround', 'root_cause', 'public', 'active', 'problem', 'cis', 'services')
# Words shorter than this (and common ones) do not make a text match in the portal.
MIN_WORD_LENGTH = 4
STOP_WORDS = frozenset(
    ('about', 'after', 'again', 'also', 'because', 'been', 'cannot', 'does', 'from', 'have', 'into', 'just', 'more')
    + ('only', 'over', 'some', 'than', 'that', 'their', 'them', 'then', 'there', 'these', 'they', 'this', 'very')
    + ('want', 'were', 'what', 'when', 'which', 'while', 'with', 'would', 'your')
)
OFFER_LIMIT = 5


def _check_writer(actor: Actor, action: str = 'add') -> None:
    user = actor.user
    if user is not None and (user.is_requester_only or not user_can(user, KnownError, action)):
        raise NotAllowed('Only problem managers and incident managers record and edit known errors.')


def _clean_text(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v.strip() if isinstance(v, str) else v for k, v in fields.items()}


def _save(known_error: KnownError, *, cis, services) -> None:
    known_error.full_clean(exclude=['number'] if not known_error.number else None)
    known_error.save()
    if cis is not None:
        known_error.cis.set(cis)
    if services is not None:
        bad = [item for item in services if getattr(item, 'ci_class', 'service') != 'service']
        if bad:
            raise ValidationError({'services': f'{bad[0]} is not a service.'})
        known_error.services.set(services)


@transaction.atomic
def known_error_create(
    *,
    actor: Actor,
    problem: Problem | None = None,
    title: str,
    symptoms: str,
    workaround: str,
    root_cause: str = '',
    cis: Iterable = (),
    services: Iterable = (),
    public: bool = False,
) -> KnownError:
    """Record a known error, from a problem or on its own; `created` entry on its timeline (and the problem's)."""
    _check_writer(actor)
    fields = _clean_text({'title': title, 'symptoms': symptoms, 'workaround': workaround, 'root_cause': root_cause})
    known_error = KnownError(problem=problem, public=bool(public), created_by=actor.user, **fields)
    _save(known_error, cis=list(cis), services=list(services))
    audit.record_created(known_error, actor=actor, public=False)
    if problem is not None:
        audit.record(
            problem,
            actor=actor,
            kind=TimelineKind.LINK,
            message=f'Known error {known_error.number} recorded: {known_error.title}',
            data={'known_error': known_error.number},
        )
    return known_error


@transaction.atomic
def known_error_update(*, known_error: KnownError, actor: Actor, **fields: Any) -> KnownError:
    """Edit a known error's text, visibility, problem, CIs and services; one field-change entry."""
    _check_writer(actor, 'change')
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: 'This field cannot be changed here.' for name in sorted(unknown)})
    known_error = lock(known_error)
    before = audit.snapshot(known_error)
    cis, services = fields.pop('cis', None), fields.pop('services', None)
    for name, value in _clean_text(fields).items():
        setattr(known_error, name, value)
    _save(
        known_error,
        cis=list(cis) if cis is not None else None,
        services=list(services) if services is not None else None,
    )
    audit.record_changes(known_error, before, actor=actor)
    return known_error


@transaction.atomic
def known_error_retire(*, known_error: KnownError, actor: Actor) -> KnownError:
    """Retire a known error once the permanent fix is in place: no longer offered, kept with its uses."""
    if not known_error.active:
        raise Conflict(f'{known_error.number} is already retired.', code='already_retired')
    return known_error_update(known_error=known_error, actor=actor, active=False)


def known_error_prefill(problem: Problem) -> dict[str, Any]:
    """A new known error's values taken from its problem: symptoms, root cause, workaround, CIs and services."""
    return {
        'problem': problem,
        'title': problem.short_description,
        'symptoms': problem.symptoms,
        'root_cause': problem.root_cause,
        'workaround': problem.workaround,
        'cis': list(problem.cis.all()),
        'services': list(problem.services.all()),
    }


# ------------------------------------------------------------------------------------------------ reading
def _visible(user) -> QuerySet[KnownError]:
    return KnownError.objects.visible_to(user)


def known_errors_for(*, ci_id=None, service_id=None, user, limit: int | None = OFFER_LIMIT) -> list[KnownError]:
    """Active known errors logged against the CI or the service that `user` may see (requesters: public ones),
    newest first. Empty without a CI or a service."""
    queryset = _visible(user).for_items(ci_id=ci_id, service_id=service_id).order_by('-created_at')
    return list(queryset[:limit] if limit else queryset)


def _words(text: str) -> list[str]:
    words = {w.strip('.,;:!?()[]"\'').lower() for w in (text or '').split()}
    return sorted(w for w in words if len(w) >= MIN_WORD_LENGTH and w not in STOP_WORDS)


def known_errors_matching_text(text: str, *, user, limit: int = OFFER_LIMIT, incident=None) -> list[KnownError]:
    """Active known errors whose title or symptoms share a meaningful word with `text` (the portal's words).
    For an incident's page (`incident`), those its CI or service already offers (the "Known errors" panel) and those
    applied to it are left out, in the same query."""
    words = _words(text)[:8]
    if not words:
        return []
    condition = Q()
    for word in words:
        condition |= Q(title__icontains=word) | Q(symptoms__icontains=word)
    matching = _visible(user).active().filter(condition)
    if incident is not None:
        offered = KnownError.objects.for_items(ci_id=incident.ci_id, service_id=incident.service_id)
        matching = matching.exclude(pk__in=offered.values('pk')).exclude(
            pk__in=incident.known_error_uses.values('known_error_id')
        )
    return list(matching.order_by('-created_at')[:limit])


# ------------------------------------------------------------------------------------------------ applying
def workaround_text(known_error: KnownError) -> str:
    return f'Known error {known_error.number}: {known_error.title}\n\nWorkaround: {known_error.workaround}'


@transaction.atomic
def known_error_apply(*, known_error: KnownError, incident, actor: Actor, public: bool = True) -> KnownErrorUse:
    """Apply a known error to an incident: record the use, link the incident to the known error's problem (an
    incident already linked to another problem stays there, and the use says so), and copy the workaround into a
    public comment the caller reads (`public`) or a work note. The use's `linked_problem` and `kept_problem` tell
    what happened to the link."""
    from incidents.services import ticket_comment

    from .incident_links import link_incident

    user = actor.user
    if user is not None and (not incident.may_work(user) or not user_can(user, KnownErrorUse, 'add')):
        raise NotAllowed('Only the desk staff working incidents apply known errors.')
    if not known_error.active:
        raise Conflict(f'{known_error.number} is retired: its workaround is no longer offered.', code='retired')
    incident = lock(incident)
    if incident.is_final:
        raise Conflict(f'{incident.number} is closed.', code='closed')
    if KnownErrorUse.objects.filter(known_error=known_error, incident=incident).exists():
        raise Conflict(f'{known_error.number} is already applied to {incident.number}.', code='already_applied')
    try:
        with transaction.atomic():
            use = KnownErrorUse.objects.create(known_error=known_error, incident=incident, applied_by=user)
    except IntegrityError:
        raise Conflict(
            f'{known_error.number} is already applied to {incident.number}.', code='already_applied'
        ) from None
    use.linked_problem, use.kept_problem = None, None
    if known_error.problem_id and incident.kind == TicketKind.INCIDENT and not known_error.problem.is_final:
        # Cases are not recorded with problems, and a closed problem takes no more incidents.
        current = ProblemIncident.objects.filter(incident=incident).select_related('problem').first()
        if current is None:
            link_incident(problem=known_error.problem, incident=incident, actor=actor)
            use.linked_problem = known_error.problem
        elif current.problem_id != known_error.problem_id:
            use.kept_problem = current.problem
    ticket_comment(ticket=incident, actor=actor, body=workaround_text(known_error), internal=not public)
    kept = f' It stays with {use.kept_problem.number}, the problem it was linked to.' if use.kept_problem else ''
    audit.record(
        incident,
        actor=actor,
        kind=TimelineKind.LINK,
        message=f'Known error {known_error.number} applied ({"comment" if public else "work note"}).{kept}',
        data={'known_error': known_error.number, 'public': bool(public)},
    )
    audit.record(
        known_error,
        actor=actor,
        kind=TimelineKind.LINK,
        message=f'Applied to {incident.number}',
        data={'incident': incident.number},
    )
    audit.record_created(use, actor=actor, public=False)
    return use
