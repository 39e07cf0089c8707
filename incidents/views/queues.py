"""Assignment queues: my work, unassigned, all open, and one per support group, highest priority and oldest first.

`?q=mine|unassigned|all` picks a built-in queue (`/queues/group/<id>/` a group's); the text search of the filter
bar is `?search=`. POSTing the page runs a bulk operation on the selected rows, each ticket through its service.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from itsm.audit import Actor
from itsm.errors import ApplicationError, InvalidTransition
from itsm.models import SupportGroup
from itsm.paginator import BoundedPaginator
from itsm.selectors import user_groups_of
from itsm.views.generic import Column, ObjectListView, StaffOnlyMixin, compact_age, error_text
from itsm.views.records import run_action
from sla import selectors as sla_selectors

from .. import selectors, services
from ..choices import OPEN_STATES, PRIORITY_COLOURS, STATE_COLOURS, TICKET_WORKFLOW, TicketState
from ..forms import BulkActionForm
from ..models import Ticket
from ..selectors import Queue
from . import cells
from .filters import TicketFilters, filter_bar_context

BUILT_IN = (Queue.MINE, Queue.UNASSIGNED, Queue.ALL_OPEN)
# Optional columns that show a ticket's reference (the queue always shows caller, assignee and group).
REFERENCED_COLUMNS = {'service', 'category'}
WAITING_ROWS = 25  # unowned tickets of my groups shown below my work; the Unassigned queue lists them all


def refusal_text(error: ValidationError | ApplicationError) -> str:
    """Why a service refused, short enough to list one line per ticket (a refused move does not name it again)."""
    if isinstance(error, InvalidTransition) and {'state', 'action'} <= set(error.extra):
        name = error.extra['action']
        label = (Ticket.actions.get(name) if name in Ticket.actions else TICKET_WORKFLOW.get(name)).label.lower()
        return f'cannot {label}: it is {TicketState(error.extra["state"]).label}'
    return error_text(error)


class QueueView(StaffOnlyMixin, ObjectListView):
    model = Ticket
    permission_action = 'change'
    filterset_class = TicketFilters
    template_name = 'incidents/queue.html'
    table_template_name = 'incidents/queue/_table.html'
    # What an agent needs to pick the next ticket fits 1,280 px; the rest is shown on demand ("Columns").
    columns = [
        Column('number', 'Ticket', render=cells.queue_number, css_class='text-nowrap'),
        Column('short_description', order_by=None, render=cells.queue_description),
        Column('state', colors=STATE_COLOURS, render=cells.state),
        Column('assignment_group', 'Group / assignee', order_by='assignment_group__name', render=cells.queue_group),
        Column('opened_at', 'Age / SLA', order_by='-opened_at', render=cells.queue_age),
        Column('priority', colors=PRIORITY_COLOURS, render=cells.queue_priority, optional=True),
        Column('caller', order_by='caller__last_name,caller__first_name', render=cells.queue_caller, optional=True),
        Column(
            'assignee',
            order_by='assignee__last_name,assignee__first_name',
            render=cells.queue_assignee,
            optional=True,
        ),
        Column('service', order_by='service__name', optional=True),
        Column('category', order_by='category__name', optional=True),
        Column('channel', optional=True),
        Column('updated_at', 'Updated', optional=True),
    ]

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.group = None
        self.queue_name = request.GET.get('q', Queue.MINE)
        if self.queue_name not in BUILT_IN:
            self.queue_name = Queue.MINE

    def current_queue(self) -> tuple[str, SupportGroup | None]:
        if 'group_id' in self.kwargs:
            if self.group is None:
                self.group = get_object_or_404(SupportGroup, pk=self.kwargs['group_id'])
            return Queue.GROUP, self.group
        return self.queue_name, None

    def get_queryset(self):
        name, group = self.current_queue()
        tickets = selectors.queue(user=self.request.user, name=name, group=group)
        if self.likely_only():
            tickets = sla_selectors.filter_likely_to_breach(tickets, True)
        return tickets

    def likely_only(self) -> bool:
        """`?likely_to_breach=true`: only tickets the queue forecast expects to miss their target (`sla.forecast`)."""
        return self.request.GET.get('likely_to_breach', '').lower() in ('true', '1', 'yes', 'on')

    def likely_toggle_url(self) -> str:
        """This page with the likely-to-breach filter switched (and back on its first page)."""
        params = self.request.GET.copy()
        params.pop('page', None)
        if self.likely_only():
            params.pop('likely_to_breach', None)
        else:
            params['likely_to_breach'] = 'true'
        return f'{self.request.path}?{params.urlencode()}' if params else self.request.path

    def filter_data(self):
        """The filter bar's values for `TicketFilterSet` (its `q` is this page's `search`)."""
        data = self.request.GET.copy()
        data.pop('q', None)
        data.pop('likely_to_breach', None)
        search = data.pop('search', [''])[-1]
        if search:
            data['q'] = search
        # Any value of any filter: a chip's value may be followed by the empty box of the same name.
        return data if any(value for _, values in data.lists() for value in values) else None

    def get_context(self, bulk_form=None) -> dict[str, Any]:
        user = self.request.user
        queryset = self.get_queryset()
        filterset = self.filterset_class(self.filter_data(), queryset=queryset, request=self.request)
        if filterset.is_bound and filterset.is_valid():
            queryset = filterset.qs
        columns = self.get_columns(queryset)
        shown = {column.name for column in columns}
        queryset = queryset.referencing('caller', 'assignee', 'assignment_group', *(REFERENCED_COLUMNS & shown))
        queryset, sort = self.sort(queryset, columns)
        counts = selectors.queue_counts(user=user)
        # The sidebar's count of this queue is the page's count while no filter narrows the queue.
        filtered = filterset.is_bound or self.likely_only()
        page = BoundedPaginator(
            queryset, self.page_size(), counted=None if filtered else self.queue_count(counts)
        ).get_page(self.request.GET.get('page'))
        rows = list(page.object_list)
        for ticket in rows:
            ticket.age = compact_age(ticket.opened_at)
            ticket.can_take = Ticket.actions.allows(ticket, 'take', user)
        name, group = self.current_queue()
        context = {
            'queue_name': name,
            'queue_group': group,
            'title': group.name if group else Queue.LABELS[name],
            'filterset': filterset,
            'filter_errors': filterset.errors if filterset.is_bound else {},
            'columns': columns,
            **self.column_context(columns),
            'sort_columns': {c.name: c for c in columns},
            'page_obj': page,
            'object_list': rows,
            'sort': sort,
            'priority_colours': PRIORITY_COLOURS,
            'state_colours': STATE_COLOURS,
            'bulk_form': bulk_form or BulkActionForm(),
            'likely_only': self.likely_only(),
            'likely_toggle_url': self.likely_toggle_url(),
            'selected_ids': {str(pk) for pk in self.request.POST.getlist('tickets')},
            **self.sidebar(user, counts),
            **filter_bar_context(self.request, states=[(s.value, s.label) for s in OPEN_STATES]),
        }
        context['filter_values']['q'] = self.request.GET.get('search', '')
        if name == Queue.MINE:
            # Drawn by the page after it loads (`QueueWaitingView`): the agent's own work shows first.
            context['waiting_url'] = reverse('incidents:queue_waiting')
        return context

    def waiting_in_my_groups(self, user, group_ids: list[int]) -> list[Ticket]:
        """Below my work: the open tickets of my groups (`group_ids`, the sidebar's) that nobody owns yet, most
        urgent first, each with Take."""
        tickets = selectors.queue(user=user, name=Queue.UNASSIGNED).filter(assignment_group__in=group_ids)
        rows = list(tickets.referencing('assignee', 'assignment_group')[:WAITING_ROWS])
        for ticket in rows:
            ticket.age = compact_age(ticket.opened_at)
            ticket.can_take = Ticket.actions.allows(ticket, 'take', user)
        return rows

    def queue_count(self, counts: dict[str, Any]) -> int:
        """This queue's open tickets, from `selectors.queue_counts`."""
        name, group = self.current_queue()
        return counts['groups'].get(group.pk, 0) if name == Queue.GROUP else counts[name]

    def sidebar(self, user, counts: dict[str, Any]) -> dict[str, Any]:
        groups = list(user_groups_of(user).order_by('tier', 'name'))
        for group in groups:
            group.open_count = counts['groups'].get(group.pk, 0)
        return {
            'queue_links': [(name, Queue.LABELS[name], counts[name]) for name in BUILT_IN],
            'my_groups': groups,
            'member_of_current': self.group is None or any(g.pk == self.group.pk for g in groups),
        }

    def post(self, request, *args, **kwargs):
        """Bulk operation on the selected rows: each ticket goes through its service on its own, in its own
        transaction (a refusal leaves that ticket untouched and the others done), and is reported on its own."""
        form = BulkActionForm(request.POST)
        if not form.is_valid():
            return render(request, self.template_name, self.get_context(bulk_form=form), status=400)
        operation, actor = form.cleaned_data['operation'], Actor.from_request(request)
        kwargs = form.service_kwargs()
        done, refused = [], []
        # Only tickets the person may see: a security incident they are not cleared for is not theirs to change.
        for ticket in form.cleaned_data['tickets'].visible_to(request.user).order_by(*selectors.QUEUE_ORDER):
            try:
                with transaction.atomic():
                    if operation == 'comment':
                        services.ticket_comment(ticket=ticket, actor=actor, **kwargs)
                    else:
                        run_action(Ticket.actions.get(operation), ticket, actor=actor, data=kwargs)
            except (ValidationError, ApplicationError) as error:
                refused.append(f'{ticket.number}: {refusal_text(error)}')
            else:
                done.append(ticket.number)
        if done:
            count = f'{len(done)} ticket{"s" if len(done) != 1 else ""}'
            messages.success(request, f'{count} {form.summary()}: {", ".join(done)}.')
        for line in refused:
            messages.error(request, line)
        return redirect(request.get_full_path())


class QueueWaitingView(QueueView):
    """The "waiting in my groups" table below my work: the page asks for it once it has loaded (and again when the
    live updates swap the section), so the agent's own tickets do not wait for a second list and its clocks."""

    http_method_names = ['get']

    def get(self, request, *args, **kwargs):
        groups = list(user_groups_of(request.user).values_list('pk', flat=True))
        # Take comes back to my work, the page this table is part of.
        context = {'waiting': self.waiting_in_my_groups(request.user, groups), 'take_next': reverse('incidents:queue')}
        return render(request, 'incidents/queue/_waiting.html', context)
