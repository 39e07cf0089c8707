"""Talking about a ticket on its page: comments and work notes, communication templates, attachments."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views import View

from itsm.audit import Actor
from itsm.errors import ApplicationError
from itsm.views.generic import ObjectViewMixin, add_service_errors

from .. import services
from ..forms import AttachmentForm, CommentForm
from ..models import ResponseTemplate, Ticket
from .common import StaffOnlyMixin, find_ticket, inline_error
from .tickets import detail_context, render_refresh

__all__ = ('AttachView', 'CommentView', 'InsertTemplateView')


class TicketFormPostView(StaffOnlyMixin, ObjectViewMixin, View):
    """POST one small form about a ticket to one service; answers like the lifecycle actions do."""

    model = Ticket
    permission_action = 'change'
    http_method_names = ['post']
    form_class = None
    form_context_name = ''
    fragment_template = ''

    def call(self, ticket: Ticket, form):
        raise NotImplementedError

    def success_message(self, ticket: Ticket, form) -> str:
        raise NotImplementedError

    def post(self, request, *args, **kwargs):
        ticket = find_ticket(kwargs['number'])
        form = self.form_class(request.POST, request.FILES)
        status = 400
        if form.is_valid():
            try:
                self.call(ticket, form)
            except (ValidationError, ApplicationError) as error:
                add_service_errors(form, error)
                status = getattr(error, 'status_code', 400)
            else:
                message = self.success_message(ticket, form)
                if request.htmx:
                    return render_refresh(request, ticket, message=message, primary=self.fragment_template)
                messages.success(request, message)
                return redirect(ticket.get_absolute_url())
        if request.htmx:
            context = detail_context(request, ticket, **{self.form_context_name: form})
            response = render(request, self.fragment_template, context, status=status)
            return inline_error(response)
        context = detail_context(request, ticket, **{self.form_context_name: form})
        return render(request, 'incidents/ticket_detail.html', context, status=status)


class CommentView(TicketFormPostView):
    """A work note (internal) or a comment the caller sees."""

    form_class = CommentForm
    form_context_name = 'comment_form'
    fragment_template = 'incidents/ticket/_comment_form.html'

    def call(self, ticket, form):
        services.ticket_comment(ticket=ticket, actor=Actor.from_request(self.request), **form.service_kwargs())

    def success_message(self, ticket, form) -> str:
        if form.cleaned_data['visibility'] == 'internal':
            return 'Work note added.'
        return f'Comment sent to {ticket.caller}.'


class AttachView(TicketFormPostView):
    form_class = AttachmentForm
    form_context_name = 'attach_form'
    fragment_template = 'incidents/ticket/_attach_form.html'

    def call(self, ticket, form):
        services.ticket_attach(ticket=ticket, actor=Actor.from_request(self.request), **form.service_kwargs())

    def success_message(self, ticket, form) -> str:
        return f'{form.cleaned_data["file"].name} attached.'


class InsertTemplateView(StaffOnlyMixin, ObjectViewMixin, View):
    """The comment box again, with a communication template's text (placeholders filled) added to what was typed."""

    model = Ticket
    permission_action = 'change'

    def get(self, request, *args, **kwargs):
        ticket = find_ticket(kwargs['number'])
        typed = request.GET.get('body', '')
        chosen = request.GET.get('template', '')
        template = ResponseTemplate.objects.filter(pk=chosen, active=True).first() if chosen.isdigit() else None
        body = typed
        if template is not None:
            text = services.render_template_text(template, ticket=ticket, agent=request.user)
            body = f'{typed.rstrip()}\n\n{text}' if typed.strip() else text
        return render(request, 'incidents/ticket/_comment_body.html', {'body': body, 'ticket': ticket})
