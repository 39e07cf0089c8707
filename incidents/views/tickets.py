"""Agent ticket pages: lists of incidents and cases, the ticket page (`TICKET_PAGE`), the create and edit forms."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View

from itsm.choices import PRIORITY_MEANINGS, TicketKind
from itsm.views.generic import Column, ObjectCreateView, ObjectListView, StaffOnlyMixin
from itsm.views.records import RecordDetailView, RecordEditView, RecordPage, RecordViewMixin

from .. import selectors, services
from ..choices import PRIORITY_COLOURS, STATE_COLOURS
from ..forms import CommentForm, TicketCreateForm, TicketEditForm
from ..models import Case, Incident, ResponseTemplate, Ticket
from . import cells
from .filters import TicketFilters, filter_bar_context

TICKET_COLUMNS = [
    Column('number', render=cells.number),
    Column('priority', colors=PRIORITY_COLOURS, render=cells.priority),
    Column('state', colors=STATE_COLOURS, render=cells.state),
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
    queryset = selectors.ticket_list(many=True).order_by('-opened_at', '-id')
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
    queryset = selectors.ticket_list(many=True).filter(kind=TicketKind.INCIDENT).order_by('-opened_at', '-id')
    columns = TICKET_COLUMNS
    title = 'Incidents'
    kind = TicketKind.INCIDENT


class CaseListView(TicketListView):
    model = Case
    queryset = selectors.ticket_list(many=True).filter(kind=TicketKind.CASE).order_by('-opened_at', '-id')
    columns = TICKET_COLUMNS
    title = 'Cases'
    kind = TicketKind.CASE


# ------------------------------------------------------------------------------------------------- detail
class TicketPage(RecordPage):
    """The ticket page: `records/detail.html` with the ticket's header, facts, summary and source, and
    communication templates in the comment box. Its SLA panel, the services its CI impacts, the caller's other
    tickets, its parent and children, and the other apps' panels come after the page (`related_template`)."""

    model = Ticket
    queryset = selectors.ticket_list()
    related_queryset = selectors.ticket_list(clock_history=True)  # the SLA panel's history with the clocks
    template_name = 'incidents/ticket_detail.html'
    header_template = 'incidents/ticket/_header.html'
    summary_template = 'incidents/ticket/_summary.html'
    facts_template = 'incidents/ticket/_facts.html'
    comment_template = 'incidents/ticket/_comment_form.html'
    fields_template = 'incidents/ticket/_form_fields.html'
    related_template = 'incidents/ticket/_related.html'
    comment_form_class = CommentForm

    def extra_context(self, request, ticket: Ticket) -> dict[str, Any]:
        working = self.can_work(request.user, ticket)
        return {
            'state_colours': STATE_COLOURS,
            'priority_colours': PRIORITY_COLOURS,
            'response_templates': list(ResponseTemplate.objects.filter(active=True)) if working else [],
        }

    def related_context(self, request, ticket: Ticket) -> dict[str, Any]:
        impacted = []
        if ticket.ci_id:
            from cmdb.selectors import services_impacted_by

            impacted = services_impacted_by(ticket.ci)
        return {
            'children': list(selectors.children_of(ticket, user=request.user)),
            # Staff see what else the caller has open (requesters are sent to the portal before this page).
            'caller_tickets': (
                [] if request.user.is_requester_only else selectors.caller_open_tickets(ticket, user=request.user)
            ),
            'impacted_services': impacted,
            'state_colours': STATE_COLOURS,
            'priority_colours': PRIORITY_COLOURS,
        }


TICKET_PAGE = TicketPage()


class TicketDetailView(RecordDetailView):
    """A ticket under /tickets/, /incidents/ or /cases/ (`kind`: the other kind is shown at its own address).
    Requesters are sent to the portal's page of their own tickets."""

    page = TICKET_PAGE
    kind = ''

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and user.is_requester_only:
            own = selectors.my_requests(user).by_number(str(kwargs.get('number', ''))).first()
            if own is not None:
                return redirect('incidents:portal_ticket', number=own.number)
        return super().dispatch(request, *args, **kwargs)

    def redirect_url(self, ticket: Ticket) -> str:
        wrong_kind = self.kind and ticket.kind != self.kind
        return ticket.get_absolute_url() if wrong_kind else super().redirect_url(ticket)


class InsertTemplateView(RecordViewMixin, View):
    """The comment box again, with a communication template's text (placeholders filled) added to what was typed."""

    page = TICKET_PAGE
    permission_action = 'change'

    def get(self, request, *args, **kwargs):
        ticket = self.get_record()
        body = typed = request.GET.get('body', '')
        chosen = request.GET.get('template', '')
        template = ResponseTemplate.objects.filter(pk=chosen, active=True).first() if chosen.isdigit() else None
        if template is not None:
            text = services.render_template_text(template, ticket=ticket, agent=request.user)
            body = f'{typed.rstrip()}\n\n{text}' if typed.strip() else text
        context = {'body': body, 'placeholder': self.page.comment_form_class.placeholder}
        return render(request, 'records/_comment_body.html', context)


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
        # A known error the problems app offered on the form and the agent chose: on to applying it.
        known_error = self.request.POST.get('apply_known_error', '').strip().upper()
        if known_error.isalnum():
            url = reverse('problems:knownerror_apply', kwargs={'number': known_error})
            return f'{url}?{urlencode({"incident": obj.number, "next": obj.get_absolute_url()})}'
        return obj.get_absolute_url()

    def form_context(self, form, obj=None) -> dict[str, Any]:
        context = super().form_context(form, obj)
        context.update(ticket_form_context(form))
        return context


def ticket_form_context(form) -> dict[str, Any]:
    from ..priority import compute_priority, impact_and_urgency

    impact, urgency = impact_and_urgency(form['channel'].value(), form['impact'].value(), form['urgency'].value())
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


class TicketEditView(RecordEditView):
    """Descriptive fields; as a full page, or (htmx) as a panel on the ticket page."""

    page = TICKET_PAGE
    form_class = TicketEditForm
    service = services.ticket_update
    service_object_kwarg = 'ticket'
    template_name = 'incidents/ticket_form.html'

    def form_context(self, form, obj=None) -> dict[str, Any]:
        context = super().form_context(form, obj)
        context.update(ticket_form_context(form))
        context['title'] = f'Edit {obj}' if obj else 'Edit ticket'
        return context
