"""The incident page card's action: link this incident to an open major incident in one click.

A POST from the card (`major_incidents/_incident_card.html`) names the major incident; the link itself is
`services.major_link_children`, so its guards and refusals are the same as on the major incident's own page. The
answer goes back to the incident page with a message saying what happened; an htmx request is told where to go
(`HX-Redirect`) instead of following a redirect inside the card.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import path
from django.views import View

from incidents.models import Ticket
from itsm.errors import ApplicationError
from itsm.views.generic import ObjectViewMixin, StaffOnlyMixin, error_text
from itsm.views.records import find_record

from ..models import MajorIncident, MajorIncidentChild


class IncidentLinkView(StaffOnlyMixin, ObjectViewMixin, View):
    """POST `major=<MIR number>`: the incident of the URL becomes a child of that major incident."""

    model = MajorIncidentChild
    permission_action = 'add'
    http_method_names = ['post']

    def post(self, request, number: str):
        from .. import services

        incident = find_record(Ticket.objects.visible_to(request.user), number)
        major_number = (request.POST.get('major') or '').strip().upper()
        major = MajorIncident.objects.filter(number=major_number).first() if major_number else None
        if major is None:
            messages.error(request, f'Choose an open major incident to link {incident.number} to.')
            return self.back(incident)
        try:
            services.major_link_children(major=major, actor=self.actor(), incidents=[incident])
        except (ValidationError, ApplicationError) as error:
            messages.error(request, f'{incident.number} was not linked: {error_text(error)}')
            return self.back(incident)
        messages.success(request, f'{incident.number} is now part of {major.number}: it completes with it.')
        return self.back(incident)

    def back(self, incident: Ticket):
        url = incident.get_absolute_url()
        if self.request.htmx:
            response = HttpResponse()
            response['HX-Redirect'] = url
            return response
        return HttpResponseRedirect(url)


incident_urls = [
    path('incidents/<str:number>/link/', IncidentLinkView.as_view(), name='incident_link'),
]
