"""Read-side queries that the major-incident pages and the API share."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from incidents.models import Ticket
from itsm.choices import TicketKind

from .models import MajorIncident

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


def proposed_children(major: MajorIncident, *, limit: int = PROPOSED_LIMIT) -> QuerySet[Ticket]:
    """Open incidents on the major incident's services or CIs, opened since the outage began and not yet part of a
    major incident: what agents are offered to link as children (newest first)."""
    condition = _scope(major)
    if condition is None or not major.is_open:
        return Ticket.objects.none()
    return (
        Ticket.objects.open()
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
