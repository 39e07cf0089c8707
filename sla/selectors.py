"""Read-side queries of service level management: which agreement applies, clocks for lists and panels, and
the annotations and filters the queues of any process record use (nearest due, breached, at risk), each a single
correlated subquery on the clocks of the queryset's record kind (a constant content type, so the partial indexes
on (content_type, object_id, due_at) serve them as a foreign key's would)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery

from itsm import snapshots

from .choices import ClockKind, ClockState
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
    'active_olas',
    'active_slas',
    'calendar_list',
    'clock_event_list',
    'clock_list',
    'clock_pause_list',
    'clock_prefetch',
    'clocks_for_record',
    'contract_list',
    'filter_at_risk',
    'filter_breached',
    'filter_likely_to_breach',
    'nearest_due_ids',
    'ola_for',
    'ola_list',
    'order_by_nearest_due',
    'record_clocks',
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
    """Clocks with what lists show; their records come in one query per record kind on the page."""
    return SlaClock.objects.select_related('calendar', 'support_group', 'sla', 'ola').prefetch_related('record')


def clock_event_list() -> QuerySet[ClockEvent]:
    return ClockEvent.objects.select_related('clock__calendar').prefetch_related('clock__record')


def clock_pause_list() -> QuerySet[ClockPause]:
    return ClockPause.objects.select_related('clock').prefetch_related('clock__record')


# Apps that know which services are in hypercare register `check(service_id) -> bool`; this app names none of them.
_hypercare_checks: list[Callable[[int], bool]] = []


def register_hypercare_check(check: Callable[[int], bool]) -> None:
    if check not in _hypercare_checks:
        _hypercare_checks.append(check)


def in_hypercare(service_id: int | None) -> bool:
    return service_id is not None and any(check(service_id) for check in _hypercare_checks)


def active_slas() -> list[ServiceLevelAgreement]:
    """Every active SLA with its calendar, as this process holds them (`itsm.snapshots`: read again after any
    change to an agreement, a calendar or a group). Shared: read-only."""
    return snapshots.snapshot(
        snapshots.DESK_RULES,
        'slas',
        lambda db: list(ServiceLevelAgreement.objects.using(db).filter(active=True).select_related('calendar')),
    )


def active_olas() -> list[OperationalLevelAgreement]:
    """Every active OLA with its calendar and group, as this process holds them. Shared: read-only."""
    return snapshots.snapshot(
        snapshots.DESK_RULES,
        'olas',
        lambda db: list(
            OperationalLevelAgreement.objects.using(db).filter(active=True).select_related('calendar', 'support_group')
        ),
    )


def sla_for(*, kind: str, priority: int | None, service_id: int | None) -> ServiceLevelAgreement | None:
    """The active SLA for a record: the service's own for its kind and priority, else the default. While the
    service is in hypercare a hypercare SLA (the service's own, else the hypercare default) takes precedence."""
    if priority is None:
        return None
    # At most four (hypercare or not, the service's or the default), hypercare ones first, the service's first.
    found = sorted(
        (
            agreement
            for agreement in active_slas()
            if agreement.ticket_kind == kind
            and agreement.priority == priority
            and agreement.service_id in (service_id, None)
            and not (service_id is None and agreement.hypercare)
        ),
        key=lambda agreement: (not agreement.hypercare, agreement.service_id is None, agreement.pk),
    )
    # The hypercare question is asked only when a hypercare SLA could apply, so desks without one pay nothing.
    if found and found[0].hypercare and in_hypercare(service_id):
        return found[0]
    return next((agreement for agreement in found if not agreement.hypercare), None)


def ola_for(*, group_id: int | None, priority: int | None) -> OperationalLevelAgreement | None:
    """The active OLA of a support group for a priority, else the group's OLA for every priority."""
    if group_id is None:
        return None
    found = [
        agreement
        for agreement in active_olas()
        if agreement.support_group_id == group_id and agreement.priority in (priority, None)
    ]
    return min(found, key=lambda agreement: (agreement.priority is None, agreement.pk), default=None)


# Where `clock_prefetch` puts a record's clocks: a plain list, not the generic relation's prefetch cache, for which
# Django builds a filtered queryset per record (about 0.2 ms each, 10 ms on a 50-row page) only to hold its rows.
CLOCKS_ATTR = 'clock_list'


def clock_prefetch(*, with_history: bool = False, badges_only: bool = False, many: bool = False) -> Prefetch:
    """Each record's clocks with their calendars, in the order they started: one query for a whole page, read with
    `record_clocks`. `with_history` adds what the SLA panel shows (agreements, pauses, events: two queries more), so
    that a record's page reads its clocks once for its header and its panel. `badges_only` reads only the clocks
    a row's badges and forecast show (`badges.badges_for`): the ones not stopped, or a record's stopped ones when
    none runs; on a queue of open tickets more than half the clocks are stopped ones no row shows. `many`: a page
    of many records, whose clocks share a handful of calendars, reads each calendar once in a query of its own;
    joined, there would be one calendar built (its hours and holidays decoded) per clock, some 180 on 50 tickets."""
    queryset = SlaClock.objects.select_related('support_group').order_by('id')
    queryset = queryset.prefetch_related('calendar') if many else queryset.select_related('calendar')
    if with_history:
        queryset = queryset.select_related('sla', 'ola').prefetch_related('pauses', 'events')
    if badges_only:
        running = SlaClock.objects.filter(
            content_type_id=OuterRef('content_type_id'), object_id=OuterRef('object_id'), stopped_at__isnull=True
        )
        queryset = queryset.filter(Q(stopped_at__isnull=True) | ~Exists(running))
    return Prefetch('sla_clocks', queryset=queryset, to_attr=CLOCKS_ATTR)


def record_clocks(record) -> list[SlaClock]:
    """A record's clocks in the order they started: those `clock_prefetch` read with it, else one query (none for
    a record not saved yet)."""
    prefetched = getattr(record, CLOCKS_ATTR, None)
    if prefetched is not None:
        return prefetched
    return list(record.sla_clocks.order_by('id')) if getattr(record, 'pk', None) else []


def clocks_for_record(record) -> list[SlaClock]:
    """A record's clocks with pauses and events, for the SLA panel: those read with the record when it was read with
    `clock_prefetch(with_history=True)`, else three queries."""
    prefetched = getattr(record, CLOCKS_ATTR, None)
    if prefetched is not None and all(_has_history(clock) for clock in prefetched):
        clocks = list(prefetched)
    else:
        clocks = list(
            SlaClock.objects.for_record(record)
            .select_related('calendar', 'support_group', 'sla', 'ola')
            .prefetch_related('pauses', 'events')
            .order_by('id')
        )
    for clock in clocks:
        clock.record = record
    return clocks


def _has_history(clock: SlaClock) -> bool:
    read = getattr(clock, '_prefetched_objects_cache', {})
    return 'pauses' in read and 'events' in read and SlaClock.sla.is_cached(clock) and SlaClock.ola.is_cached(clock)


# The clocks that give a record its nearest due: open (not stopped) and counting (a due time, so not paused).
OPEN_DUE = Q(stopped_at__isnull=True, due_at__isnull=False)


def _clocks_of(records: QuerySet) -> QuerySet[SlaClock]:
    """The clocks of the outer query's record (`OuterRef('pk')`), for a queryset of any process record."""
    content_type = ContentType.objects.get_for_model(records.model)
    return SlaClock.objects.filter(content_type=content_type, object_id=OuterRef('pk'))


def with_nearest_due(records: QuerySet) -> QuerySet:
    """Annotate `sla_due`: the earliest due time among the record's open, counting clocks (None if none)."""
    clocks = _clocks_of(records).filter(OPEN_DUE)
    return records.annotate(sla_due=Subquery(clocks.order_by('due_at').values('due_at')[:1]))


def order_by_nearest_due(records: QuerySet, *then: str) -> QuerySet:
    """Nearest SLA due first (overdue before due, records without a counting clock last), then `then`."""
    return with_nearest_due(records).order_by(F('sla_due').asc(nulls_last=True), *then)


# The most open clocks one record holds: one of each kind (the clocks' (content type, record, kind) constraint).
OPEN_CLOCKS_PER_RECORD = len(ClockKind)
# The most clocks a page's walk reads: past it (deep pages), the database's sort is cheaper than the walk and its
# list of record ids.
WALK_LIMIT = 5_000


def nearest_due_ids(records: QuerySet, start: int, stop: int, then: Sequence[str]) -> list[int] | None:
    """The ids of `records[start:stop]` in `order_by_nearest_due(records, *then)`'s order (`then`: ascending
    fields of the record), read from the earliest open clocks of the record kind (`sla_clock_open_by_due`, a walk
    that stops after the clocks it needs) instead of working out every record's nearest due and sorting them all:
    the first page of 7,000 open tickets reads a few hundred clocks and their records.

    The first `stop` records by nearest due own at most `stop × OPEN_CLOCKS_PER_RECORD` of the earliest clocks, so
    that many (and one more, to see where the last due time read ends) hold the page when the records are most
    of the kind's open ones (the all-open queue). None when they are too few among the clocks read (a group's or
    a person's queue) or when the page is too deep (`WALK_LIMIT`): the caller then lets the database sort them
    (`order_by_nearest_due`). Records without a counting clock come last, in the order of `then`."""
    if stop <= start:
        return []
    limit = stop * OPEN_CLOCKS_PER_RECORD
    if limit > WALK_LIMIT:
        return None
    content_type = ContentType.objects.get_for_model(records.model)
    open_due = SlaClock.objects.filter(OPEN_DUE, content_type=content_type)
    walked = list(open_due.order_by('due_at').values_list('object_id', 'due_at')[: limit + 1])
    exhausted = len(walked) <= limit
    if not exhausted:
        # Clocks due at the instant of the first clock not read may be only partly read: the records due before
        # it are known in full.
        boundary = walked[limit][1]
        walked = [row for row in walked if row[1] < boundary]
    nearest: dict[int, dt.datetime] = {}
    for object_id, due in walked:
        if object_id not in nearest or due < nearest[object_id]:
            nearest[object_id] = due
    # Each member as (pk, *then): sorted by its nearest due, then by `then` with None last as the database sorts.
    members = records.order_by().filter(pk__in=list(nearest)).values_list('pk', *then) if nearest else []
    if not exhausted and len(members) < stop:
        return None
    ranked = sorted(members, key=lambda m: (nearest[m[0]], *((value is None, value) for value in m[1:])))
    ids = [member[0] for member in ranked]
    if exhausted and len(ids) < stop:
        # Past the records with a counting clock: the others, in the order of `then`.
        without = records.filter(~Exists(_clocks_of(records).filter(OPEN_DUE)))
        rest = without.order_by(*then).values_list('pk', flat=True)[max(start - len(ids), 0) : stop - len(ids)]
        return ids[start:] + list(rest)
    return ids[start:stop]


def filter_breached(records: QuerySet, breached: bool) -> QuerySet:
    """Records with (or without) a clock that missed its target."""
    condition = Exists(_clocks_of(records).filter(Q(breached_at__isnull=False) | Q(state=ClockState.BREACHED)))
    return records.filter(condition if breached else ~condition)


def filter_at_risk(records: QuerySet, at_risk: bool) -> QuerySet:
    """Records with (or without) an open clock past a warning threshold that has not breached (yet)."""
    condition = Exists(
        _clocks_of(records).filter(stopped_at__isnull=True, warned_at__isnull=False, breached_at__isnull=True)
    )
    return records.filter(condition if at_risk else ~condition)


def filter_likely_to_breach(records: QuerySet, likely: bool) -> QuerySet:
    """Records with (or without) an open clock the queue forecast flagged as likely to breach (`sla.forecast`)."""
    condition = Exists(_clocks_of(records).filter(stopped_at__isnull=True, forecast_warned_at__isnull=False))
    return records.filter(condition if likely else ~condition)
