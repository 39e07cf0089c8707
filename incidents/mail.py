"""Rendering and sending of ticket e-mails; each sent message is recorded on the ticket's timeline."""

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from itsm import audit
from itsm.audit import Actor
from itsm.choices import TimelineKind

from .models import Ticket
from .notifications import CALLER_EVENTS, Event, site_url, subject_for


def send_ticket_notification(*, ticket_id: int, event: str, recipients: list[str], extra: dict) -> bool:
    ticket = Ticket.objects.select_related('caller', 'assignment_group', 'assignee').filter(pk=ticket_id).first()
    if ticket is None or not recipients:
        return False
    to_caller = event in CALLER_EVENTS
    path = reverse('incidents:portal_ticket', args=[ticket.number]) if to_caller else ticket.get_absolute_url()
    context = {'ticket': ticket, 'event': event, 'event_label': Event(event).label, 'url': site_url(path), **extra}
    subject = subject_for(ticket, event)
    body = render_to_string(f'incidents/email/{event}.txt', context)
    EmailMultiAlternatives(subject=subject, body=body, to=recipients).send()
    audit.record(
        ticket,
        actor=Actor.system(),
        kind=TimelineKind.NOTIFICATION,
        message=subject,
        data={'event': event, 'recipients': recipients},
        public=to_caller,
    )
    return True
