"""Read-side queries for tickets, shared by the queues, the portal and the API.

A list reads a page in steps that each plan in well under a millisecond: the page's ids in list order from the
ticket table alone (filters, visibility and sort, no join), then those tickets by id, then what the rows show from
each table they name (people, groups, categories, CIs, parent tickets: one query per table, attached in Python),
and their SLA clocks. A ten-table join would cost the same rows but 20-60 ms of planning on every page.
Queues are served by the partial (open state; group or assignee; priority, opened_at, id) indexes on Ticket; the
all-open queue, which holds most of the open clocks, reads its page's ids from the earliest open clocks instead
(`sla.selectors.nearest_due_ids`) rather than working out and sorting every open ticket's nearest due.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, Q, QuerySet
from django.db.models.query import ModelIterable

from itsm.models import SupportGroup, TimelineEntry, User
from itsm.selectors import timeline_for
from sla import selectors as sla_selectors

from .choices import OPEN_STATES, TicketState
from .models import Category, Ticket, TicketQuerySet

QUEUE_ORDER = ('priority', 'opened_at', 'id')

# The tables a ticket's row names, each read once for a whole page: the fields that point to the same table.
REFERENCES = (
    ('caller', 'opened_by', 'assignee', 'resolved_by'),  # people
    ('assignment_group',),
    ('category', 'subcategory'),
    ('service', 'ci'),  # configuration items
    ('parent',),
)


def attach_references(
    tickets: Iterable[Ticket], only: Iterable[str] | None = None, columns: dict[type, tuple[str, ...]] | None = None
) -> None:
    """Set the people, group, categories, CIs and parent each ticket names (`only` those fields, when given) from
    one query per table (none for a table no ticket names), so reading `ticket.caller` and the like costs no
    query. `columns` names, per model, the only columns to read of its rows (what an answer shows of them: any
    other attribute would cost a query per row)."""
    tickets = list(tickets)
    wanted = None if only is None else set(only)
    for names in REFERENCES:
        fields = [Ticket._meta.get_field(name) for name in names if wanted is None or name in wanted]
        if not fields:
            continue
        ids = {getattr(ticket, f.attname) for ticket in tickets for f in fields if not f.is_cached(ticket)}
        ids.discard(None)
        target = fields[0].related_model
        rows = target._base_manager.only(*columns[target]) if columns and target in columns else target._base_manager
        found = rows.in_bulk(ids) if ids else {}
        for ticket in tickets:
            for f in fields:
                if not f.is_cached(ticket):
                    f.set_cached_value(ticket, found.get(getattr(ticket, f.attname)))


class TicketPageQuerySet(TicketQuerySet):
    """Tickets read without joining what they show (see the module's docstring). A slice (a page) reads its ids
    first with every filter and the order, then the rows by id (the filters again, so a row that left the list in
    between is left out); any read attaches the rows' references after."""

    def __getitem__(self, k):
        if not self._reads_in_two_steps(k):
            return super().__getitem__(k)
        ids = None
        if self.nearest_due_then is not None and k.step is None and k.stop is not None:
            ids = sla_selectors.nearest_due_ids(
                self.prefetch_related(None), k.start or 0, k.stop, self.nearest_due_then
            )
        if ids is None:
            ids = list(self.prefetch_related(None).values_list('pk', flat=True)[k])
        found = {ticket.pk: ticket for ticket in self.filter(pk__in=ids).order_by()}
        # A ticket that left the list between the two reads (completed, taken by someone) is left out of the page.
        return [found[pk] for pk in ids if pk in found]

    references: tuple[str, ...] | None = None  # all of REFERENCES
    reference_columns: dict[type, tuple[str, ...]] | None = None  # whole rows
    # (then, the ordering it set) from `by_nearest_due_from_clocks`.
    _nearest_due: tuple[tuple[str, ...], tuple] | None = None

    def by_nearest_due_from_clocks(self, *then: str) -> TicketPageQuerySet:
        """Nearest SLA due first, then `then` (ascending fields), as `sla.selectors.order_by_nearest_due`, each
        page read from the earliest open clocks: for a list that holds most open tickets (the all-open queue),
        whose every ticket's nearest due the database would otherwise work out and sort."""
        clone = sla_selectors.order_by_nearest_due(self, *then)
        clone._nearest_due = (then, clone.query.order_by)
        return clone

    @property
    def nearest_due_then(self) -> tuple[str, ...] | None:
        """The fields after the nearest due while the list is still in that order (not sorted otherwise since, nor
        reversed): its pages are then read from the clocks (`sla.selectors.nearest_due_ids`)."""
        if self._nearest_due is None:
            return None
        then, ordering = self._nearest_due
        return then if self.query.order_by == ordering and self.query.standard_ordering else None

    def referencing(self, *names: str) -> TicketPageQuerySet:
        """Attach only these references (a page that shows only some of them saves the other tables' queries)."""
        clone = self._chain()
        clone.references = names
        return clone

    def reading_references(self, columns: dict[type, tuple[str, ...]]) -> TicketPageQuerySet:
        """Read only these columns of the references' rows, per model (`attach_references`)."""
        clone = self._chain()
        clone.reference_columns = columns
        return clone

    def _clone(self):
        clone = super()._clone()
        clone.references = self.references
        clone.reference_columns = self.reference_columns
        clone._nearest_due = self._nearest_due
        return clone

    def _reads_in_two_steps(self, k) -> bool:
        return isinstance(k, slice) and self._result_cache is None and self._iterable_class is ModelIterable

    def first(self):
        """One row (a lookup by number) is read in one step: its sort has nothing wide to carry."""
        ordered = self if self.ordered else self.order_by('pk')
        return next(iter(QuerySet.__getitem__(ordered, slice(0, 1))), None)

    def _fetch_all(self):
        fetched = self._result_cache is not None
        super()._fetch_all()
        if not fetched and self._iterable_class is ModelIterable:
            attach_references(self._result_cache, self.references, self.reference_columns)


QueuePageQuerySet = TicketPageQuerySet  # its name when only the queues read in two steps


class Queue:
    """Names of the built-in queues."""

    MINE = 'mine'
    UNASSIGNED = 'unassigned'
    ALL_OPEN = 'all'
    GROUP = 'group'
    LABELS = {MINE: 'My work', UNASSIGNED: 'Unassigned', ALL_OPEN: 'All open'}


def ticket_list(
    *,
    user: User | None = None,
    tickets: QuerySet[Ticket] | None = None,
    clock_history: bool = False,
    badge_clocks_only: bool = False,
    many: bool = False,
) -> QuerySet[Ticket]:
    """Tickets with what lists show of them (`tickets`: a queryset to start from, every ticket by default): read
    without a join, their references and SLA clocks attached (`TicketPageQuerySet`). `clock_history`: the clocks
    with what the SLA panel shows too (the ticket page); `badge_clocks_only`: only the clocks the rows' SLA badges
    show (the queues); `many`: a page of many tickets (the clocks' calendars read apart, `clock_prefetch`)."""
    tickets = TicketPageQuerySet(Ticket) if tickets is None else tickets
    if not isinstance(tickets, TicketPageQuerySet):
        tickets = tickets._chain()
        tickets.__class__ = TicketPageQuerySet
    # SLA clocks of every row in one query
    tickets = tickets.prefetch_related(
        sla_selectors.clock_prefetch(with_history=clock_history, badges_only=badge_clocks_only, many=many)
    )
    return tickets.visible_to(user) if user is not None else tickets


def queue(*, user: User, name: str, group: SupportGroup | None = None) -> QuerySet[Ticket]:
    """Open tickets of one queue: nearest SLA due first (overdue on top), then highest priority, then oldest; each
    with the clocks its row shows."""
    tickets = ticket_list(user=user, badge_clocks_only=True, many=True).filter(state__in=OPEN_STATES)
    if name == Queue.MINE:
        tickets = tickets.filter(assignee=user)
    elif name == Queue.UNASSIGNED:
        tickets = tickets.filter(Q(state=TicketState.NEW) | Q(state=TicketState.ASSIGNED, assignee__isnull=True))
    elif name == Queue.GROUP:
        tickets = tickets.filter(assignment_group=group)
    elif name != Queue.ALL_OPEN:
        raise ValueError(f'unknown queue {name!r}')
    if name == Queue.ALL_OPEN:
        return tickets.by_nearest_due_from_clocks(*QUEUE_ORDER)
    return sla_selectors.order_by_nearest_due(tickets, *QUEUE_ORDER)


def queue_counts(*, user: User) -> dict[str, int]:
    """Open-ticket counts of the built-in queues and of each group (`groups`: by group id, groups with open tickets
    only), in one query over the open tickets; they count what the queues list (no security incident the person
    may not see)."""
    per_group = (
        Ticket.objects.visible_to(user)
        .filter(state__in=OPEN_STATES)
        .values('assignment_group')
        .annotate(
            all=Count('pk'),
            mine=Count('pk', filter=Q(assignee=user)),
            unassigned=Count(
                'pk', filter=Q(state=TicketState.NEW) | Q(state=TicketState.ASSIGNED, assignee__isnull=True)
            ),
        )
        .order_by()
    )
    counts = {'mine': 0, 'unassigned': 0, 'all': 0, 'groups': {}}
    for row in per_group:
        for name in ('mine', 'unassigned', 'all'):
            counts[name] += row[name]
        if row['assignment_group'] is not None:
            counts['groups'][row['assignment_group']] = row['all']
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


def category_choices() -> list[tuple[int, str]]:
    """(pk, name) of every top-level category by name: the category filter of the dashboards."""
    return list(Category.objects.filter(parent__isnull=True).order_by('name').values_list('pk', 'name'))


def ticket_by_number(number: str, *, user: User | None = None) -> Ticket | None:
    return ticket_list(user=user).by_number(number).first()


def ticket_timeline(ticket: Ticket, *, public_only: bool = False) -> QuerySet[TimelineEntry]:
    return timeline_for(ticket, public_only=public_only)


def children_of(ticket: Ticket, *, user: User | None = None) -> QuerySet[Ticket]:
    """The ticket's children (those `user` may see, when given)."""
    return ticket_list(user=user).filter(parent=ticket).order_by(*QUEUE_ORDER)


def my_requests(user: User) -> QuerySet[Ticket]:
    """The portal's list: what the person reported or was the caller of, open first, newest first."""
    return ticket_list(user=user, many=True).filter(Q(caller=user) | Q(opened_by=user)).order_by('-opened_at')


def caller_open_tickets(ticket: Ticket, *, user: User | None = None, limit: int = 5) -> list[Ticket]:
    """The caller's other open tickets in queue order, for the ticket page (those `user` may see, when given):
    `limit` rows and one more that only tells there are more; one query on the caller index."""
    others = Ticket.objects.open().filter(caller_id=ticket.caller_id).exclude(pk=ticket.pk).order_by(*QUEUE_ORDER)
    if user is not None:
        others = others.visible_to(user)
    return list(others[: limit + 1])
