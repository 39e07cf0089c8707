"""Read-side queries that the major-incident pages and the API share."""

from __future__ import annotations

from django.db.models import BooleanField, Case, Count, Prefetch, Q, QuerySet, Value, When
from django.db.models.functions import Now

from cmdb.models import ConfigurationItem
from incidents.models import Ticket
from itsm.choices import TicketKind

from .choices import ACTIVE, MajorIncidentState
from .models import MajorIncident, MajorIncidentChild, MajorIncidentUpdate, Recipient, Validation

PROPOSED_LIMIT = 50


def _scope(major: MajorIncident) -> Q | None:
    service_ids = [s.pk for s in major.services.all()]
    ci_ids = [c.pk for c in major.cis.all()]
    condition = Q()
    if service_ids:
        condition |= Q(service_id__in=service_ids)
    if ci_ids:
        condition |= Q(ci_id__in=ci_ids)
    return condition or None


def proposed_children(major: MajorIncident, *, user, limit: int = PROPOSED_LIMIT) -> QuerySet[Ticket]:
    """Open incidents on the major incident's services or CIs, opened since the outage began and not yet part of a
    major incident: what agents are offered to link as children (newest first), those `user` may see."""
    condition = _scope(major)
    if condition is None or not major.is_open:
        return Ticket.objects.none()
    return (
        Ticket.objects.visible_to(user)
        .open()
        .filter(condition, kind=TicketKind.INCIDENT, opened_at__gte=major.outage_started_at)
        .filter(major_incident_link__isnull=True)
        .select_related('caller', 'service', 'ci', 'assignment_group', 'assignee')
        .order_by('-opened_at')[:limit]
    )


def active_majors_for(ticket: Ticket) -> QuerySet[MajorIncident]:
    """Open major incidents on the ticket's service or CI: the ones an incident page offers to join."""
    condition = Q()
    if ticket.service_id:
        condition |= Q(services=ticket.service_id)
    if ticket.ci_id:
        condition |= Q(cis=ticket.ci_id)
    if not condition:
        return MajorIncident.objects.none()
    return MajorIncident.objects.open().filter(condition).distinct().order_by('-priority', '-opened_at')


# ------------------------------------------------------------------------------------------------- the pages
def major_list() -> QuerySet[MajorIncident]:
    """Major incidents with what the list and the API show: the incident manager, the services, how many child
    incidents and whether an update is overdue (one query for the rows, one for their services)."""
    return (
        MajorIncident.objects.select_related('incident_manager', 'assignment_group')
        .prefetch_related(Prefetch('services', queryset=ConfigurationItem.objects.order_by('name')))
        .annotate(
            child_count=Count('child_links', distinct=True),
            update_overdue=Case(
                When(state__in=ACTIVE, next_update_due__lt=Now(), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
        )
    )


QUEUES = {'active': 'Active', 'review': 'In review', 'closed': 'Closed', 'all': 'All'}


def major_queue(name: str) -> QuerySet[MajorIncident]:
    """One tab of the list (`QUEUES`): active ones most urgent and oldest first, the others newest first."""
    majors = major_list()
    if name == 'active':
        return majors.filter(state__in=ACTIVE).order_by('priority', 'declared_at', 'pk')
    if name == 'review':
        majors = majors.filter(state=MajorIncidentState.REVIEW)
    elif name == 'closed':
        majors = majors.filter(state__in=(MajorIncidentState.CLOSED, MajorIncidentState.CANCELLED))
    elif name != 'all':
        raise ValueError(f'unknown major-incident queue {name!r}')
    return majors.order_by('-declared_at', '-pk')


def major_detail() -> QuerySet[MajorIncident]:
    """Major incidents with everything their page shows, in a number of queries that does not grow with the
    children, updates, recipients or validations."""
    return MajorIncident.objects.select_related(
        'incident_manager',
        'tech_lead',
        'communications_lead',
        'service_owner',
        'business_owner',
        'source_incident',
        'assignment_group',
        'assignee',
        'opened_by',
        'review',
    ).prefetch_related(
        Prefetch('services', queryset=ConfigurationItem.objects.order_by('name')),
        Prefetch('cis', queryset=ConfigurationItem.objects.order_by('name')),
        'support_staff',
        Prefetch(
            'child_links',
            queryset=MajorIncidentChild.objects.select_related(
                'incident__caller', 'incident__assignee', 'incident__assignment_group', 'linked_by'
            ),
        ),
        Prefetch('updates', queryset=MajorIncidentUpdate.objects.select_related('posted_by', 'template')),
        Prefetch('recipients', queryset=Recipient.objects.select_related('person')),
        Prefetch('validations', queryset=Validation.objects.select_related('validated_by')),
    )


# At most this many CIs get an impact walk on the page (one query each): a record naming more shows the first ones.
IMPACT_CI_LIMIT = 10


def impact_analysis(major: MajorIncident) -> list[tuple[ConfigurationItem, list]]:
    """Each affected CI (services first) with the services downstream of it (`cmdb.selectors.services_impacted_by`)."""
    from cmdb.selectors import services_impacted_by

    items = [*major.services.all(), *major.cis.all()]
    seen, analysis = set(), []
    for item in items:
        if item.pk in seen or len(analysis) >= IMPACT_CI_LIMIT:
            continue
        seen.add(item.pk)
        analysis.append((item, [s for s in services_impacted_by(item) if s.id != item.pk]))
    return analysis


def declared_from_incident(incident: Ticket) -> MajorIncident | None:
    """The major incident an incident already belongs to, or was declared from (None: it may be declared)."""
    link = MajorIncidentChild.objects.filter(incident=incident).select_related('major_incident').first()
    if link is not None:
        return link.major_incident
    return MajorIncident.objects.filter(source_incident=incident).exclude(state=MajorIncidentState.CANCELLED).first()
