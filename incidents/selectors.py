"""Read-side queries for tickets, shared by the queues, the portal and the API.

Every list joins what its rows show (`select_related`), so a page costs the same number of queries whatever its
length; queues are served by the (state|group|assignee, priority, opened_at) indexes on Ticket.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.cache import cache
from django.db import connections
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.utils import timezone

from itsm.models import SupportGroup, TimelineEntry, User
from itsm.selectors import timeline_for
from sla import selectors as sla_selectors

from .choices import OPEN_STATES, TicketState
from .models import Ticket, TicketQuerySet

QUEUE_ORDER = ('priority', 'opened_at', 'id')


class QueuePageQuerySet(TicketQuerySet):
    """Tickets read a page at a time in two steps: first the page's ids in queue order from the ticket table
    alone, then those tickets with everything they show. The queue order needs each open ticket's nearest SLA
    due, so without the split every open ticket would be joined to its caller, group, service, ... only to be
    sorted away."""

    def __getitem__(self, k):
        if not isinstance(k, slice) or self._result_cache is not None or self._fields is not None:
            return super().__getitem__(k)
        ids = list(self.prefetch_related(None).values_list('pk', flat=True)[k])
        found = {ticket.pk: ticket for ticket in self.filter(pk__in=ids).order_by()}
        return [found[pk] for pk in ids]


class Queue:
    """Names of the built-in queues."""

    MINE = 'mine'
    UNASSIGNED = 'unassigned'
    ALL_OPEN = 'all'
    GROUP = 'group'
    LABELS = {MINE: 'My work', UNASSIGNED: 'Unassigned', ALL_OPEN: 'All open'}


def ticket_list(*, user: User | None = None, tickets: QuerySet[Ticket] | None = None) -> QuerySet[Ticket]:
    """Tickets with what lists show of them (`tickets`: a queryset to start from, every ticket by default)."""
    tickets = Ticket.objects.all() if tickets is None else tickets
    tickets = tickets.select_related(
        'caller', 'opened_by', 'assignee', 'assignment_group', 'service', 'ci', 'category', 'subcategory', 'parent'
    ).prefetch_related(sla_selectors.clock_prefetch())  # SLA clocks of every row in one query
    return tickets.visible_to(user) if user is not None else tickets


def my_group_ids(user: User) -> list[int]:
    return list(SupportGroup.objects.filter(members=user, active=True).values_list('pk', flat=True))


def queue(*, user: User, name: str, group: SupportGroup | None = None) -> QuerySet[Ticket]:
    """Open tickets of one queue: nearest SLA due first (overdue on top), then highest priority, then oldest."""
    tickets = ticket_list(tickets=QueuePageQuerySet(Ticket)).filter(state__in=OPEN_STATES)
    if name == Queue.MINE:
        tickets = tickets.filter(assignee=user)
    elif name == Queue.UNASSIGNED:
        tickets = tickets.filter(Q(state=TicketState.NEW) | Q(state=TicketState.ASSIGNED, assignee__isnull=True))
    elif name == Queue.GROUP:
        tickets = tickets.filter(assignment_group=group)
    elif name != Queue.ALL_OPEN:
        raise ValueError(f'unknown queue {name!r}')
    return sla_selectors.order_by_nearest_due(tickets, *QUEUE_ORDER)


def queue_counts(*, user: User) -> dict[str, int]:
    """Open-ticket counts of the built-in queues and of each of the person's groups, in two queries."""
    open_tickets = Ticket.objects.filter(state__in=OPEN_STATES)
    counts = open_tickets.aggregate(
        mine=Count('pk', filter=Q(assignee=user)),
        unassigned=Count('pk', filter=Q(state=TicketState.NEW) | Q(state=TicketState.ASSIGNED, assignee__isnull=True)),
        all=Count('pk'),
    )
    per_group = (
        open_tickets.filter(assignment_group__members=user)
        .values('assignment_group')
        .annotate(n=Count('pk'))
        .values_list('assignment_group', 'n')
    )
    counts['groups'] = dict(per_group)
    return counts


def groups_with_counts(*, user: User) -> list[SupportGroup]:
    """The person's active groups, each with `open_count`."""
    groups = list(SupportGroup.objects.filter(members=user, active=True).order_by('tier', 'name'))
    counts = queue_counts(user=user)['groups']
    for group in groups:
        group.open_count = counts.get(group.pk, 0)
    return groups


def next_ticket_for(user: User) -> Ticket | None:
    """The highest-priority, oldest Assigned ticket without an owner in the person's groups, locked for this
    transaction; rows another transaction holds are skipped rather than waited for."""
    return (
        Ticket.objects.select_for_update(skip_locked=True, of=('self',))
        .filter(state=TicketState.ASSIGNED, assignee__isnull=True, assignment_group__members=user)
        .order_by(*QUEUE_ORDER)
        .first()
    )


def ticket_by_number(number: str, *, user: User | None = None) -> Ticket | None:
    return ticket_list(user=user).by_number(number).first()


def ticket_timeline(ticket: Ticket, *, public_only: bool = False) -> QuerySet[TimelineEntry]:
    return timeline_for(ticket, public_only=public_only)


def children_of(ticket: Ticket) -> QuerySet[Ticket]:
    return ticket_list().filter(parent=ticket).order_by(*QUEUE_ORDER)


def my_requests(user: User) -> QuerySet[Ticket]:
    """The portal's list: what the person reported or was the caller of, open first, newest first."""
    return ticket_list(user=user).filter(Q(caller=user) | Q(opened_by=user)).order_by('-opened_at')


def caller_open_tickets(ticket: Ticket, *, limit: int = 5) -> list[Ticket]:
    """The caller's other open tickets in queue order, for the ticket page: `limit` rows and one more that only
    tells there are more; one query on the caller index."""
    others = Ticket.objects.open().filter(caller_id=ticket.caller_id).exclude(pk=ticket.pk).order_by(*QUEUE_ORDER)
    return list(others[: limit + 1])


# ------------------------------------------------------------------------------- typical resolution times
TYPICAL_WINDOW_DAYS = 90
TYPICAL_MINIMUM = 5  # fewer completed tickets than this say nothing about how long the next one takes
# Typical times move slowly; pages read them from the cache (the query sorts every completion of the window:
# about 0.6 s for 125,000 incidents completed in 90 days on PostgreSQL).
TYPICAL_CACHE_SECONDS = 15 * 60


@dataclass(frozen=True)
class TypicalTime:
    """How long tickets like one usually take to resolve: the median open → completed time of recently completed
    tickets of its kind and priority (`scope='priority'`), of its kind at any priority when too few of its
    priority were completed (`scope='kind'`), or nothing when too few of its kind were (`scope=''`)."""

    seconds: float | None
    count: int
    scope: str

    @property
    def hours(self) -> float | None:
        return None if self.seconds is None else self.seconds / 3600


class TypicalTimes:
    """The median resolution time per kind and priority and per kind, over the last `days` days."""

    def __init__(self, by_priority: dict[tuple[str, int], tuple[float, int]], by_kind: dict[str, tuple[float, int]]):
        self.by_priority, self.by_kind = by_priority, by_kind

    def for_ticket(self, ticket: Ticket, *, minimum: int = TYPICAL_MINIMUM) -> TypicalTime:
        median, count = self.by_priority.get((ticket.kind, ticket.priority), (None, 0))
        if count >= minimum:
            return TypicalTime(median, count, 'priority')
        median, count = self.by_kind.get(ticket.kind, (None, 0))
        if count >= minimum:
            return TypicalTime(median, count, 'kind')
        return TypicalTime(None, count, '')


def _seconds(value) -> float | None:
    """A duration as the database returns it: a timedelta (PostgreSQL) or microseconds (SQLite)."""
    if value is None:
        return None
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value) / 1_000_000


def typical_resolution_times(
    *, kinds: Iterable[str] | None = None, days: int = TYPICAL_WINDOW_DAYS, now: dt.datetime | None = None
) -> TypicalTimes:
    """Median open → completed times of the tickets completed in the last `days` days (those still completed or
    since closed), per kind and priority and per kind, in one query: window functions number each duration within
    its (kind, priority) and its kind, and the middle one or two of each are kept (the same on PostgreSQL and
    SQLite). Tickets closed without a resolution time (imports) have no completion and count nowhere."""
    since = (now or timezone.now()) - dt.timedelta(days=days)
    tickets = Ticket.objects.filter(
        state__in=(TicketState.COMPLETED, TicketState.CLOSED), completed_at__gte=since, completed_at__isnull=False
    )
    if kinds is not None:
        tickets = tickets.filter(kind__in=list(kinds))
    durations = (
        tickets.annotate(took=ExpressionWrapper(F('completed_at') - F('opened_at'), output_field=DurationField()))
        .values('kind', 'priority', 'took')
        .order_by()
    )
    inner, params = durations.query.sql_with_params()
    sql = f"""
        SELECT r.kind, r.priority,
            MAX(CASE WHEN r.ip = (r.np - 1) / 2 THEN r.took END), MAX(CASE WHEN r.ip = r.np / 2 THEN r.took END),
            MAX(r.np),
            MAX(CASE WHEN r.ik = (r.nk - 1) / 2 THEN r.took END), MAX(CASE WHEN r.ik = r.nk / 2 THEN r.took END),
            MAX(r.nk)
        FROM (
            SELECT d.kind, d.priority, d.took,
                ROW_NUMBER() OVER (PARTITION BY d.kind, d.priority ORDER BY d.took) - 1 AS ip,
                COUNT(*) OVER (PARTITION BY d.kind, d.priority) AS np,
                ROW_NUMBER() OVER (PARTITION BY d.kind ORDER BY d.took) - 1 AS ik,
                COUNT(*) OVER (PARTITION BY d.kind) AS nk
            FROM ({inner}) d
        ) r
        GROUP BY r.kind, r.priority
    """
    by_priority: dict[tuple[str, int], tuple[float, int]] = {}
    kind_middles: dict[str, list[float]] = {}
    kind_counts: dict[str, int] = {}
    with connections[tickets.db].cursor() as cursor:
        cursor.execute(sql, params)
        for kind, priority, low, high, count, kind_low, kind_high, kind_count in cursor.fetchall():
            low, high = _seconds(low), _seconds(high)
            by_priority[(kind, priority)] = ((low + high) / 2, count)
            # The kind's middle one or two durations sit in whichever priorities hold them.
            kind_middles.setdefault(kind, [])
            kind_middles[kind] += [_seconds(v) for v in (kind_low, kind_high) if v is not None]
            kind_counts[kind] = kind_count
    # An odd count names its one middle duration twice, an even one its two middle durations.
    by_kind = {kind: (sum(middles) / len(middles), kind_counts[kind]) for kind, middles in kind_middles.items()}
    return TypicalTimes(by_priority, by_kind)


def cached_typical_resolution_times(*, kinds: Iterable[str]) -> TypicalTimes:
    """`typical_resolution_times` for pages: computed at most every `TYPICAL_CACHE_SECONDS` per set of kinds."""
    kinds = sorted(set(kinds))
    key = f'incidents:typical-resolution:{TYPICAL_WINDOW_DAYS}:{",".join(kinds)}'
    return cache.get_or_set(key, lambda: typical_resolution_times(kinds=kinds), TYPICAL_CACHE_SECONDS)
