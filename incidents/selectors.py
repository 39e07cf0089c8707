"""Read-side queries for tickets, shared by the queues, the portal and the API.

Every list joins what its rows show (`select_related`), so a page costs the same number of queries whatever its
length; queues are served by the (state|group|assignee, priority, opened_at) indexes on Ticket.
"""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

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
