"""Read-side queries of service level management: which agreement applies, clocks for lists and panels, and
the ticket annotations and filters the queues use (nearest due, breached, at risk), each a single subquery."""

from __future__ import annotations

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery

from .choices import ClockState
from .models import (
    BusinessCalendar,
    ClockEvent,
    ClockPause,
    OperationalLevelAgreement,
    ServiceLevelAgreement,
    SlaClock,
    UnderpinningContract,
)

__all__ = [
    'calendar_list',
    'clock_event_list',
    'clock_list',
    'clock_pause_list',
    'clock_prefetch',
    'clocks_for_ticket',
    'contract_list',
    'filter_at_risk',
    'filter_breached',
    'ola_for',
    'ola_list',
    'order_by_nearest_due',
    'sla_for',
    'sla_list',
    'with_nearest_due',
]


def calendar_list() -> QuerySet[BusinessCalendar]:
    return BusinessCalendar.objects.order_by('-builtin', 'name')


def sla_list() -> QuerySet[ServiceLevelAgreement]:
    return ServiceLevelAgreement.objects.select_related('calendar', 'service')


def ola_list() -> QuerySet[OperationalLevelAgreement]:
    return OperationalLevelAgreement.objects.select_related('calendar', 'support_group')


def contract_list() -> QuerySet[UnderpinningContract]:
    return UnderpinningContract.objects.select_related('calendar', 'service')


def clock_list() -> QuerySet[SlaClock]:
    return SlaClock.objects.select_related('ticket', 'calendar', 'support_group', 'sla', 'ola')


def clock_event_list() -> QuerySet[ClockEvent]:
    return ClockEvent.objects.select_related('clock__ticket', 'clock__calendar')


def clock_pause_list() -> QuerySet[ClockPause]:
    return ClockPause.objects.select_related('clock__ticket')


def sla_for(*, kind: str, priority: int, service_id: int | None) -> ServiceLevelAgreement | None:
    """The active SLA for a ticket: the service's own for its kind and priority, else the default."""
    candidates = ServiceLevelAgreement.objects.filter(active=True, ticket_kind=kind, priority=priority)
    if service_id is None:
        candidates = candidates.filter(service__isnull=True)
    else:
        candidates = candidates.filter(Q(service_id=service_id) | Q(service__isnull=True))
    return candidates.select_related('calendar').order_by(F('service').asc(nulls_last=True)).first()


def ola_for(*, group_id: int | None, priority: int) -> OperationalLevelAgreement | None:
    """The active OLA of a support group for a priority, else the group's OLA for every priority."""
    if group_id is None:
        return None
    candidates = OperationalLevelAgreement.objects.filter(active=True, support_group_id=group_id).filter(
        Q(priority=priority) | Q(priority__isnull=True)
    )
    return candidates.select_related('calendar', 'support_group').order_by(F('priority').asc(nulls_last=True)).first()


def clock_prefetch(to_attr: str | None = None) -> Prefetch:
    """Each ticket's clocks with their calendars, in the order they started: one query for a whole page."""
    queryset = SlaClock.objects.select_related('calendar', 'support_group').order_by('id')
    return Prefetch('sla_clocks', queryset=queryset, to_attr=to_attr)


def clocks_for_ticket(ticket) -> list[SlaClock]:
    """A ticket's clocks with pauses and events, for the SLA panel (three queries)."""
    return list(
        SlaClock.objects.filter(ticket=ticket)
        .select_related('calendar', 'support_group', 'sla', 'ola')
        .prefetch_related('pauses', 'events')
        .order_by('id')
    )


def _nearest_due() -> Subquery:
    clocks = SlaClock.objects.filter(ticket=OuterRef('pk'), stopped_at__isnull=True, due_at__isnull=False)
    return Subquery(clocks.order_by('due_at').values('due_at')[:1])


def with_nearest_due(tickets: QuerySet) -> QuerySet:
    """Annotate `sla_due`: the earliest due time among the ticket's open, counting clocks (None if none)."""
    return tickets.annotate(sla_due=_nearest_due())


def order_by_nearest_due(tickets: QuerySet, *then: str) -> QuerySet:
    """Nearest SLA due first (overdue before due, tickets without a counting clock last), then `then`."""
    return with_nearest_due(tickets).order_by(F('sla_due').asc(nulls_last=True), *then)


def filter_breached(tickets: QuerySet, breached: bool) -> QuerySet:
    """Tickets with (or without) a clock that missed its target."""
    condition = Exists(
        SlaClock.objects.filter(ticket=OuterRef('pk')).filter(
            Q(breached_at__isnull=False) | Q(state=ClockState.BREACHED)
        )
    )
    return tickets.filter(condition if breached else ~condition)


def filter_at_risk(tickets: QuerySet, at_risk: bool) -> QuerySet:
    """Tickets with (or without) an open clock past a warning threshold that has not breached (yet)."""
    condition = Exists(
        SlaClock.objects.filter(
            ticket=OuterRef('pk'), stopped_at__isnull=True, warned_at__isnull=False, breached_at__isnull=True
        )
    )
    return tickets.filter(condition if at_risk else ~condition)
