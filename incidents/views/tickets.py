"""Agent ticket pages: lists of incidents and cases, the ticket page, and the create and edit forms."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views import View

from itsm.choices import TicketKind
from itsm.errors import ApplicationError
from itsm.views.generic import (
    Column,
    ObjectCreateView,
    ObjectEditView,
    ObjectListView,
    ObjectViewMixin,
    add_service_errors,
)

from .. import selectors, services
from ..choices import OPEN_STATES, PRIORITY_COLOURS, STATE_COLOURS, TicketState
from ..forms import AttachmentForm, CommentForm, TicketCreateForm, TicketEditForm
from ..models import Case, Incident, ResponseTemplate, Ticket
from .common import PRIORITY_MEANINGS, StaffOnlyMixin, can_work, find_ticket, inline_error
from .filters import TicketFilters, filter_bar_context
from .registry import available_actions

__all__ = (
    'CaseListView',
    'IncidentListView',
    'TicketCreateView',
    'TicketDetailView',
    'TicketEditView',
    'TicketListView',
    'detail_context',
    'render_refresh',
)

TICKET_COLUMNS = [
    Column('number', template='incidents/cells/number.html'),
    Column('priority', colors=PRIORITY_COLOURS, template='incidents/cells/priority.html'),
    Column('state', colors=STATE_COLOURS, template='incidents/cells/state.html'),
    Column('short_description', 'Short description', css_class='pc-cell-wrap'),
    Column('caller', order_by='caller__last_name,caller__first_name'),
    Column('assignment_group', 'Group', order_by='assignment_group__name'),
    Column('assignee', order_by='assignee__last_name,assignee__first_name'),
    Column('opened_at', 'Opened'),
]


# ------------------------------------------------------------------------------------------------ lists
class TicketListView(StaffOnlyMixin, ObjectListView):
    """Every ticket, newest first, with the queue filters and search."""

    model = Ticket
    queryset = selectors.ticket_list().order_by('-opened_at', '-id')
    filterset_class = TicketFilters
    template_name = 'incidents/ticket_list.html'
    columns = [TICKET_COLUMNS[0], Column('kind'), *TICKET_COLUMNS[1:]]
    title = 'Tickets'
    kind = ''

    def get_context(self) -> dict[str, Any]:
        context = super().get_context()
        context.update(filter_bar_context(self.request, kind=self.kind))
        return context


class IncidentListView(TicketListView):
    model = Incident
    queryset = selectors.ticket_list().filter(kind=TicketKind.INCIDENT).order_by('-opened_at', '-id')
    columns = TICKET_COLUMNS
    title = 'Incidents'
    kind = TicketKind.INCIDENT


class CaseListView(TicketListView):
    model = Case
    queryset = selectors.ticket_list().filter(kind=TicketKind.CASE).order_by('-opened_at', '-id')
    columns = TICKET_COLUMNS
    title = 'Cases'
    kind = TicketKind.CASE


# ------------------------------------------------------------------------------------------------- detail
def detail_context(request, ticket: Ticket, **extra) -> dict[str, Any]:
    """Everything the ticket page and its refreshed fragments show."""
    user = request.user
    impacted = []
    if ticket.ci_id:
        from cmdb.selectors import services_impacted_by

        impacted = services_impacted_by(ticket.ci)
    working = can_work(user)
    actions = available_actions(ticket, user)
    context = {
        'object': ticket,
        'ticket': ticket,
        'opts': Ticket._meta,
        'title': str(ticket),
        'timeline': list(selectors.ticket_timeline(ticket))[::-1],
        'timeline_visibility': True,
        'attachments': list(ticket.attachments.select_related('uploaded_by')),
        'children': list(selectors.children_of(ticket)),
        'impacted_services': impacted,
        'toolbar_actions': [a for a in actions if not a.in_menu],
        'menu_actions': [a for a in actions if a.in_menu],
        'can_work': working,
        'can_edit': working and ticket.state != TicketState.CLOSED,
        'state_colours': STATE_COLOURS,
        'priority_colours': PRIORITY_COLOURS,
        'is_open': ticket.state in OPEN_STATES,
        'comment_form': CommentForm(),
        'attach_form': AttachmentForm(),
        'response_templates': list(ResponseTemplate.objects.filter(active=True)) if working else [],
    }
    context.update(extra)
    return context


def render_refresh(
    request,
    ticket: Ticket,
    *,
    message: str = '',
    status: int = 200,
    primary: str = 'incidents/ticket/_panel.html',
    **extra,
):
    """htmx answer after a change: `primary` for the element that asked (the action panel by default), plus the
    header, summary, facts and history swapped out of band."""
    fresh = find_ticket(ticket.number)
    context = detail_context(request, fresh, message=message, primary=primary, **extra)
    response = render(request, 'incidents/ticket/_refresh.html', context, status=status)
    return inline_error(response) if status >= 400 else response


class TicketDetailView(StaffOnlyMixin, ObjectViewMixin, View):
    """A ticket with its lifecycle actions, conversation, attachments and history."""

    model = Ticket
    permission_action = 'view'
    kind = ''

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and user.is_requester_only:
            own = selectors.my_requests(user).by_number(str(kwargs.get('number', ''))).first()
            if own is not None:
                return redirect('incidents:portal_ticket', number=own.number)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, number):
        ticket = find_ticket(number)
        if ticket.number != number.upper() or (self.kind and ticket.kind != self.kind):
            return redirect(ticket.get_absolute_url())
        return render(request, 'incidents/ticket_detail.html', detail_context(request, ticket))


# ------------------------------------------------------------------------------------------ create and edit
class TicketCreateView(StaffOnlyMixin, ObjectCreateView):
    """An agent opens an incident or a case for a caller (phone, walk-in, e-mail, ...)."""

    model = Ticket
    form_class = TicketCreateForm
    service = services.ticket_create
    template_name = 'incidents/ticket_form.html'
    kind = ''

    def get_form_kwargs(self) -> dict[str, Any]:
        kind = self.kind or self.request.GET.get('kind', '')
        return {'kind': kind if kind in TicketKind.values else TicketKind.INCIDENT}

    def get_success_url(self, obj) -> str:
        return obj.get_absolute_url()

    def form_context(self, form, obj=None) -> dict[str, Any]:
        context = super().form_context(form, obj)
        context.update(ticket_form_context(form))
        return context


def ticket_form_context(form) -> dict[str, Any]:
    from ..priority import compute_priority

    impact = form['impact'].value()
    urgency = form['urgency'].value()
    try:
        priority = compute_priority(impact, urgency)
    except KeyError:
        priority = None
    return {
        'preview_priority': priority,
        'priority_colours': PRIORITY_COLOURS,
        'priority_meanings': PRIORITY_MEANINGS,
        'title': 'New ticket',
    }


class TicketEditView(StaffOnlyMixin, ObjectEditView):
    """Descriptive fields; as a full page, or (htmx) as a panel on the ticket page."""

    model = Ticket
    form_class = TicketEditForm
    service = services.ticket_update
    service_object_kwarg = 'ticket'
    template_name = 'incidents/ticket_form.html'
    kind = ''

    def get_object(self) -> Ticket:
        return find_ticket(self.kwargs['number'])

    def form_context(self, form, obj=None) -> dict[str, Any]:
        context = super().form_context(form, obj)
        context.update(ticket_form_context(form))
        context['title'] = f'Edit {obj}' if obj else 'Edit ticket'
        return context

    def get(self, request, *args, **kwargs):
        ticket = self.get_object()
        if request.htmx:
            form = self.get_form(instance=ticket)
            return render(request, 'incidents/ticket/_edit_panel.html', {**self.form_context(form, ticket)})
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        if not request.htmx:
            return super().post(request, *args, **kwargs)
        ticket = self.get_object()
        form = self.get_form(instance=self.get_object())
        status = 400
        if form.is_valid():
            try:
                saved = self.save(form)
            except (ValidationError, ApplicationError) as error:
                add_service_errors(form, error)
                status = getattr(error, 'status_code', 400)
            else:
                return render_refresh(request, saved, message=f'{saved.number} updated.')
        response = render(request, 'incidents/ticket/_edit_panel.html', self.form_context(form, ticket), status=status)
        return inline_error(response)
