"""The requester portal: report a problem or ask for something, follow your own tickets, answer the desk.

A person only ever reaches the tickets they are the caller of or opened (`selectors.my_requests`); any other
number is a 404, whoever asks. The portal shows the public part of the history only: no work notes, no internal
files, no notifications sent to staff.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views import View

from itsm.audit import Actor
from itsm.choices import TimelineKind
from itsm.errors import ApplicationError
from itsm.permissions import user_can
from itsm.views.generic import add_service_errors, error_text

from .. import selectors, services
from ..choices import ACTIVE_STATES, STATE_COLOURS, TicketChannel, TicketState
from ..forms import PortalAttachmentForm, PortalCommentForm, PortalRejectForm, PortalTicketForm
from ..models import Ticket
from .common import find_ticket

# What the portal's conversation shows of the public history: messages, e-mails sent, state changes, files.
CONVERSATION_KINDS = (
    TimelineKind.CREATED,
    TimelineKind.COMMENT,
    TimelineKind.NOTIFICATION,
    TimelineKind.TRANSITION,
    TimelineKind.ATTACHMENT,
)

SHOWS = {
    'open': ('Open', ACTIVE_STATES),
    'closed': ('Closed', (TicketState.CLOSED,)),
    'all': ('All', None),
}


def state_help(ticket: Ticket) -> str:
    """Where the ticket stands, in the requester's words."""
    if ticket.state == TicketState.NEW:
        return 'We have received it and will pass it to the right team shortly.'
    if ticket.state == TicketState.ASSIGNED:
        return (
            f'{ticket.assignment_group} will pick it up.' if ticket.assignment_group_id else 'A team will pick it up.'
        )
    if ticket.state == TicketState.ACCEPTED:
        return f'{ticket.assignee} is working on it.' if ticket.assignee_id else 'Someone is working on it.'
    if ticket.state == TicketState.PENDING:
        return f'On hold: {ticket.get_pending_reason_display().lower()}.'
    if ticket.state == TicketState.COMPLETED:
        return 'We think it is solved. Please confirm, or tell us what is still wrong.'
    return 'Closed.'


class PortalMixin(LoginRequiredMixin):
    """Signed-in people, on their own tickets."""

    def ticket(self, number: str) -> Ticket:
        return find_ticket(number, queryset=selectors.my_requests(self.request.user))

    def actor(self) -> Actor:
        return Actor.from_request(self.request)


class PortalHomeView(PortalMixin, View):
    def get(self, request):
        show = request.GET.get('show', 'open')
        if show not in SHOWS:
            show = 'open'
        mine = selectors.my_requests(request.user)
        states = SHOWS[show][1]
        tickets = mine.filter(state__in=states) if states else mine
        page = Paginator(tickets, 25).get_page(request.GET.get('page'))
        counts = {key: (mine.filter(state__in=s) if s else mine).count() for key, (_, s) in SHOWS.items()}
        rows = list(page.object_list)
        for ticket in rows:
            ticket.state_help = state_help(ticket)
        context = {
            'title': 'My requests',
            'show': show,
            'tabs': [(key, label, counts[key]) for key, (label, _) in SHOWS.items()],
            'page_obj': page,
            'tickets': rows,
            'state_colours': STATE_COLOURS,
            'may_report': user_can(request.user, Ticket, 'add'),
            'awaiting': mine.filter(state=TicketState.COMPLETED).count(),
        }
        return render(request, 'incidents/portal/home.html', context)


class PortalCreateView(PortalMixin, View):
    """Report an incident or open a case, for yourself."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not user_can(request.user, Ticket, 'add'):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        initial = {'kind': request.GET['kind']} if request.GET.get('kind') in ('incident', 'case') else {}
        return self.show(PortalTicketForm(initial=initial))

    def show(self, form, status: int = 200):
        context = {'form': form, 'title': 'Ask the service desk'}
        return render(self.request, 'incidents/portal/new.html', context, status=status)

    def post(self, request):
        form = PortalTicketForm(request.POST)
        if not form.is_valid():
            return self.show(form, status=400)
        try:
            ticket = services.ticket_create(
                actor=self.actor(), caller=request.user, channel=TicketChannel.PORTAL, **form.service_kwargs()
            )
        except (ValidationError, ApplicationError) as error:
            add_service_errors(form, error)
            return self.show(form, status=getattr(error, 'status_code', 400))
        messages.success(request, f'Thank you. We have received your request as {ticket.number}.')
        return redirect('incidents:portal_ticket', number=ticket.number)


def portal_ticket_context(request, ticket: Ticket, **forms) -> dict[str, Any]:
    return {
        'ticket': ticket,
        'object': ticket,
        'title': f'{ticket.number} {ticket.short_description}',
        'timeline': selectors.ticket_timeline(ticket, public_only=True).filter(kind__in=CONVERSATION_KINDS),
        'attachments': ticket.attachments.filter(public=True).select_related('uploaded_by'),
        'state_colours': STATE_COLOURS,
        'state_help': state_help(ticket),
        'comment_form': forms.get('comment_form') or PortalCommentForm(),
        'attach_form': forms.get('attach_form') or PortalAttachmentForm(),
        'reject_form': forms.get('reject_form') or PortalRejectForm(),
        'may_attach': user_can(request.user, ticket.attachments.model, 'add'),
        'is_closed': ticket.state == TicketState.CLOSED,
        'awaiting_confirmation': ticket.state == TicketState.COMPLETED,
    }


class PortalTicketView(PortalMixin, View):
    def get(self, request, number):
        ticket = self.ticket(number)
        if ticket.number != number.upper():
            return redirect('incidents:portal_ticket', number=ticket.number)
        return render(request, 'incidents/portal/ticket.html', portal_ticket_context(request, ticket))


class PortalPostView(PortalMixin, View):
    """One form of the portal ticket page, sent to one service; a refusal shows the page again with the input."""

    http_method_names = ['post']
    form_class = None
    form_name = ''

    def call(self, ticket: Ticket, form) -> str:
        """Run the service; return the message to show."""
        raise NotImplementedError

    def post(self, request, number):
        ticket = self.ticket(number)
        form = self.form_class(request.POST, request.FILES) if self.form_class else None
        status = 400
        if form is None or form.is_valid():
            try:
                message = self.call(ticket, form)
            except (ValidationError, ApplicationError) as error:
                if form is None:
                    messages.error(request, error_text(error))
                    return redirect('incidents:portal_ticket', number=ticket.number)
                add_service_errors(form, error)
                status = getattr(error, 'status_code', 400)
            else:
                messages.success(request, message)
                return redirect('incidents:portal_ticket', number=ticket.number)
        fresh = self.ticket(ticket.number)
        context = portal_ticket_context(request, fresh, **{self.form_name: form})
        return render(request, 'incidents/portal/ticket.html', context, status=status)


class PortalCommentView(PortalPostView):
    form_class = PortalCommentForm
    form_name = 'comment_form'

    def call(self, ticket, form):
        services.ticket_comment(ticket=ticket, actor=self.actor(), body=form.cleaned_data['body'])
        return 'Your comment has been added.'


class PortalAttachView(PortalPostView):
    form_class = PortalAttachmentForm
    form_name = 'attach_form'

    def call(self, ticket, form):
        upload = form.cleaned_data['file']
        services.ticket_attach(ticket=ticket, actor=self.actor(), upload=upload, public=True)
        return f'{upload.name} is attached.'


class PortalConfirmView(PortalPostView):
    def call(self, ticket, form):
        services.ticket_confirm(ticket=ticket, actor=self.actor())
        return f'Thank you for confirming. {ticket.number} is closed.'


class PortalRejectView(PortalPostView):
    form_class = PortalRejectForm
    form_name = 'reject_form'

    def call(self, ticket, form):
        services.ticket_reject(ticket=ticket, actor=self.actor(), reason=form.cleaned_data['reason'])
        return f'{ticket.number} is reopened; the team will be back in touch.'
