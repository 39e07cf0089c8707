"""Lifecycle actions from the ticket page (htmx panels, or plain forms without JavaScript) and "Accept next".

GET shows the action's small form; POST validates it and calls the action's service once. With htmx, success
answers the refreshed header, facts and history; a refusal answers the form again with the reason and the input
kept, with the status the service gave (400, 403 or 409). Without htmx the same happens through full pages.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from itsm.audit import Actor
from itsm.errors import ApplicationError
from itsm.views.generic import ObjectViewMixin, add_service_errors

from .. import services
from ..models import Ticket
from .common import StaffOnlyMixin, find_ticket, inline_error
from .registry import ACTIONS, BoundAction, TicketAction
from .tickets import detail_context, render_refresh

__all__ = ('AcceptNextView', 'TicketActionView', 'safe_next')


def safe_next(request, default: str = '') -> str:
    url = request.POST.get('next') or request.GET.get('next') or ''
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=False):
        return url
    return default


def error_text(error: ValidationError | ApplicationError) -> str:
    if isinstance(error, ApplicationError):
        return error.detail
    return ' '.join(error.messages)


class TicketActionView(StaffOnlyMixin, ObjectViewMixin, View):
    model = Ticket
    permission_action = 'change'
    action: TicketAction

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.action = ACTIONS[kwargs['action']]

    def bound(self, ticket: Ticket) -> BoundAction:
        return BoundAction(self.action, self.action.url(ticket), self.action.label_for(ticket))

    def make_form(self, ticket: Ticket, data=None):
        return self.action.form_class(data, ticket=ticket, user=self.request.user)

    def panel(self, ticket: Ticket, form, status: int = 200):
        """The action's form: alone for htmx, or open on the full ticket page."""
        context = {'panel_action': self.bound(ticket), 'panel_form': form, 'next': safe_next(self.request)}
        if self.request.htmx:
            response = render(
                self.request, 'incidents/ticket/_action_form.html', {'ticket': ticket, **context}, status=status
            )
            return inline_error(response) if status >= 400 else response
        return render(
            self.request, 'incidents/ticket_detail.html', detail_context(self.request, ticket, **context), status=status
        )

    def get(self, request, *args, **kwargs):
        ticket = find_ticket(kwargs['number'])
        return self.panel(ticket, self.make_form(ticket))

    def post(self, request, *args, **kwargs):
        ticket = find_ticket(kwargs['number'])
        form = self.make_form(ticket, request.POST)
        status = 400
        if form.is_valid():
            try:
                updated = self.action.run(ticket=ticket, actor=Actor.from_request(request), form=form)
            except (ValidationError, ApplicationError) as error:
                add_service_errors(form, error)
                status = getattr(error, 'status_code', 400)
                return self.refused(ticket, form, status, error)
            return self.done(updated)
        return self.refused(ticket, form, status)

    def done(self, ticket: Ticket):
        fresh = find_ticket(ticket.number)
        message = self.action.message(fresh)
        if self.request.htmx:
            if fresh.number != self.kwargs['number'].upper():  # converted: the page's address changed
                messages.success(self.request, message)
                response = HttpResponse(status=204)
                response['HX-Redirect'] = fresh.get_absolute_url()
                return response
            return render_refresh(self.request, fresh, message=message)
        messages.success(self.request, message)
        return redirect(safe_next(self.request) or fresh.get_absolute_url())

    def refused(self, ticket: Ticket, form, status: int, error=None):
        fresh = find_ticket(ticket.number)
        back = safe_next(self.request)
        if back and not self.request.htmx and error is not None:
            # A one-click action from a list (Accept in a queue row): report there.
            messages.error(self.request, error_text(error))
            return redirect(back)
        if self.request.htmx:
            context = {'panel_action': self.bound(fresh), 'panel_form': form, 'next': back}
            return render_refresh(self.request, fresh, status=status, **context)
        return self.panel(fresh, form, status=status)


class AcceptNextView(StaffOnlyMixin, ObjectViewMixin, View):
    """Take the highest-priority, oldest unowned ticket of my groups."""

    model = Ticket
    permission_action = 'change'
    http_method_names = ['post']

    def post(self, request, *args, **kwargs):
        back = safe_next(request)
        try:
            ticket = services.ticket_accept_next(actor=Actor.from_request(request))
        except (ValidationError, ApplicationError) as error:
            messages.error(request, error_text(error))
            return redirect(back or 'incidents:queue')
        if ticket is None:
            messages.info(request, 'Nothing is waiting in your groups: every assigned ticket has an owner.')
            return redirect(back or 'incidents:queue')
        messages.success(request, f'You accepted {ticket.number}: {ticket.short_description}')
        return redirect(ticket.get_absolute_url())
