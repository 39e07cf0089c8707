"""The requester portal: report a problem or ask for something, follow your own tickets, answer the desk.

A person only ever reaches the tickets they are the caller of or opened (`selectors.my_requests`); any other
number is a 404, whoever asks. The portal shows the public part of the history only: no work notes, no internal
files, no notifications sent to staff.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import prefetch_related_objects
from django.shortcuts import redirect, render
from django.views import View

from itsm.audit import Actor
from itsm.choices import TimelineKind
from itsm.errors import ApplicationError
from itsm.permissions import user_can
from itsm.views.generic import add_service_errors, error_text
from predictions.selectors import prediction_of, requester_text

from .. import selectors, services
from ..choices import ACTIVE_STATES, STATE_COLOURS, TicketChannel, TicketState, requester_phrase
from ..forms import PortalAttachmentForm, PortalCommentForm, PortalRejectForm, PortalTicketForm
from ..models import Ticket
from .common import find_ticket

# What the portal's conversation shows of the public history: messages, state changes in plain words, files. The
# e-mails the requester was sent say what the conversation says already; work notes and staff-only entries are
# never public.
CONVERSATION_KINDS = (TimelineKind.CREATED, TimelineKind.COMMENT, TimelineKind.TRANSITION, TimelineKind.ATTACHMENT)
# Steps whose words differ from those of the state they lead to.
STEP_PHRASES = {
    'resume': 'Back with the desk: a specialist team is working on it again.',
    'reject': 'Reopened: back with the desk.',
}

SHOWS = {
    'open': ('Open', ACTIVE_STATES),
    'closed': ('Closed', (TicketState.CLOSED,)),
    'all': ('All', None),
}


def state_help(ticket: Ticket) -> str:
    """Where the ticket stands, in the requester's words (`choices.REQUESTER_PHRASES`)."""
    return requester_phrase(ticket.state, ticket.pending_reason, ticket.attention)


def conversation(ticket: Ticket, user) -> list[dict[str, Any]]:
    """The public history as the requester reads it: the desk's comments and the requester's own as a thread (the
    requester's side on the right), state changes in plain words with the note the desk wrote for the caller,
    files. Field-level changes are never shown."""
    requester_ids = {ticket.caller_id, user.pk}
    items = []
    entries = selectors.ticket_timeline(ticket, public_only=True).filter(kind__in=CONVERSATION_KINDS)
    for entry in entries:
        item = {'entry': entry, 'kind': entry.kind, 'at': entry.at, 'mine': entry.actor_id in requester_ids}
        if entry.actor_id == user.pk:
            item['author'] = 'You'
        elif entry.actor_id is None:
            item['author'] = 'Service desk'
        else:
            item['author'] = entry.actor.get_full_name() or entry.actor.username
        if entry.kind == TimelineKind.TRANSITION:
            action = entry.data.get('action', '')
            reason = next((c['after'] for c in entry.changes if c.get('field') == 'pending_reason'), '')
            item['phrase'] = STEP_PHRASES.get(action) or requester_phrase(entry.data.get('to', ''), reason or '')
            # Notes the desk wrote for the caller; not the desk's own bookkeeping ("Accepted by …", a resume on reply).
            automatic = action in ('accept', 'confirm') or (action == 'resume' and entry.actor_id is None)
            item['note'] = '' if automatic else entry.message
        items.append(item)
    return items


def expected_resolution(ticket: Ticket) -> str:
    """When the requester may expect an answer, when the desk has set no ETA: the one rule of
    `predictions.selectors.requester_text` (how long similar tickets usually take, from the ticket's prediction)."""
    return requester_text(ticket, prediction_of(ticket) if ticket.is_open and not ticket.eta else None)


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
        prefetch_related_objects(rows, 'prediction')
        for ticket in rows:
            ticket.state_help = state_help(ticket)
            ticket.expected = expected_resolution(ticket)
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
        'conversation': conversation(ticket, request.user),
        'expected': expected_resolution(ticket),
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


class PortalPostView(PortalMixin, View, ABC):
    """One form of the portal ticket page, sent to one service; a refusal shows the page again with the input."""

    http_method_names = ['post']
    form_class = None
    form_name = ''

    @abstractmethod
    def call(self, ticket: Ticket, form) -> str:
        """Run the service; return the message to show."""

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
