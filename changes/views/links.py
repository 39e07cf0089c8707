"""Pages where changes meet problems and incidents: raise a request for change from a problem (the problem page's
"Changes" card leads here), record the change that caused an incident (the incident page's "Caused by change"
card), and the list of incidents caused by changes. The services are in `changes.links`; these pages only
validate input and report."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import path
from django.views import View

from incidents.models import Ticket
from itsm.errors import ApplicationError
from itsm.views.generic import (
    Column,
    ObjectDeleteView,
    ObjectDetailView,
    ObjectListView,
    ObjectViewMixin,
    StaffOnlyMixin,
    add_service_errors,
)
from itsm.views.records import find_record
from problems.models import Problem

from .. import links
from ..filters import IncidentCauseFilterSet
from ..models import Change, IncidentCause

FORM_TEMPLATE = 'changes/_links_form.html'


# ------------------------------------------------------------------------------------------------ forms
class RaiseRfcForm(forms.Form):
    short_description = forms.CharField(max_length=200, label='Short description')
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={'rows': 4}))


def _by_number(model, value: str, label: str):
    number = (value or '').strip().upper()
    record = model.objects.filter(number=number).first()
    if record is None:
        raise ValidationError(f'No {label} {number}.')
    return record


class CausedByForm(forms.Form):
    change = forms.CharField(max_length=20, label='Change', help_text='Its number, e.g. CHG0001001.')

    def clean_change(self):
        return _by_number(Change, self.cleaned_data['change'], 'change')


class IncidentCauseForm(CausedByForm):
    incident = forms.CharField(max_length=20, label='Incident', help_text='Its number, e.g. INC0001001.')

    def clean_incident(self):
        return _by_number(Ticket, self.cleaned_data['incident'], 'incident')


# ------------------------------------------------------------------------------------------------ base
class FormPage(StaffOnlyMixin, ObjectViewMixin, View, ABC):
    """GET shows the form about one record; POST validates it and runs the service; a refusal lands on the form
    with the service's status (400, 403, 409) and the input kept."""

    form_class = None
    heading = ''
    submit = ''
    explanation = ''

    @abstractmethod
    def record(self):
        """The record the page is about (None for none)."""

    def initial(self, record) -> dict[str, Any]:
        return {}

    @abstractmethod
    def perform(self, record, data: dict[str, Any]):
        """Run the service; answer (the success message, where to go next)."""

    def page(self, record, form, status: int = 200):
        context = {
            'form': form,
            'record': record,
            'heading': self.heading.format(record=record),
            'submit': self.submit,
            'explanation': self.explanation,
        }
        return self.render(context, FORM_TEMPLATE, status=status)

    def get(self, request, *args, **kwargs):
        record = self.record()
        return self.page(record, self.form_class(initial=self.initial(record)))

    def post(self, request, *args, **kwargs):
        record = self.record()
        form = self.form_class(request.POST)
        if not form.is_valid():
            return self.page(record, form, 400)
        try:
            message, url = self.perform(record, form.cleaned_data)
        except (ValidationError, ApplicationError) as error:
            add_service_errors(form, error)
            return self.page(record, form, getattr(error, 'status_code', 400))
        messages.success(request, message)
        return redirect(url)


class RaiseRfcView(FormPage):
    """Draft a normal change from a problem, with its CIs and services (`changes.links.raise_rfc`)."""

    model = Change
    permission_action = 'add'
    form_class = RaiseRfcForm
    heading = 'Raise a request for change for {record.number}'
    submit = 'Raise RFC'
    explanation = (
        'The change is drafted as a normal change linked to the problem, with its configuration items and services '
        'and its root cause as the justification; complete its plans and submit it from its page.'
    )

    def record(self):
        return find_record(Problem.objects.all(), self.kwargs['number'])

    def initial(self, problem):
        values = links.rfc_defaults(problem)
        return {'short_description': values['short_description'], 'description': values['description']}

    def perform(self, problem, data):
        change = links.raise_rfc(problem=problem, actor=self.actor(), **data)
        return f'{change.number} is drafted for {problem.number}.', change.get_absolute_url()


class CausedByView(FormPage):
    """Record the change that caused an incident (`changes.links.record_cause`)."""

    model = IncidentCause
    permission_action = 'add'
    form_class = CausedByForm
    heading = 'Which change caused {record.number}?'
    submit = 'Record the cause'
    explanation = 'A change whose implementation has started.'

    def record(self):
        return find_record(Ticket.objects.all(), self.kwargs['number'])

    def perform(self, incident, data):
        cause = links.record_cause(incident=incident, change=data['change'], actor=self.actor())
        return f'{incident.number} is recorded as caused by {cause.change.number}.', incident.get_absolute_url()


# ------------------------------------------------------------------------------------------- the causes
CAUSE_COLUMNS = [
    Column('incident', order_by='incident__number'),
    Column('change', order_by='change__number'),
    Column('recorded_by', order_by='recorded_by__last_name'),
    Column('recorded_at', 'Recorded'),
]


def cause_queryset():
    return IncidentCause.objects.select_related('incident', 'change', 'recorded_by').order_by('-recorded_at', '-pk')


class VisibleCausesMixin:
    """Causes of incidents the person may see (a security incident only for those cleared for it)."""

    def get_queryset(self):
        return super().get_queryset().filter(incident__in=Ticket.objects.visible_to(self.request.user).values('pk'))


class IncidentCauseListView(VisibleCausesMixin, StaffOnlyMixin, ObjectListView):
    model = IncidentCause
    queryset = cause_queryset()
    columns = CAUSE_COLUMNS
    filterset_class = IncidentCauseFilterSet
    title = 'Incidents caused by changes'


class IncidentCauseDetailView(VisibleCausesMixin, StaffOnlyMixin, ObjectDetailView):
    model = IncidentCause
    queryset = cause_queryset()
    fields = CAUSE_COLUMNS


class IncidentCauseCreateView(FormPage):
    """Record a cause by the two numbers (the same rules as from the incident's page)."""

    model = IncidentCause
    permission_action = 'add'
    form_class = IncidentCauseForm
    heading = 'Record an incident caused by a change'
    submit = 'Record'

    def record(self):
        return None

    def perform(self, record, data):
        cause = links.record_cause(incident=data['incident'], change=data['change'], actor=self.actor())
        message = f'{cause.incident.number} is recorded as caused by {cause.change.number}.'
        return message, cause.change.get_absolute_url()


class IncidentCauseDeleteView(StaffOnlyMixin, ObjectDeleteView):
    """Remove a recorded cause, through the same service as the incident page's button."""

    model = IncidentCause
    queryset = cause_queryset()
    action_label = 'Remove'

    def perform(self, cause):
        links.remove_cause(cause=cause, actor=self.actor())

    def get_success_url(self, cause):
        return cause.incident.get_absolute_url()


link_urls = [
    path('from-problem/<recordnumber:number>/raise/', RaiseRfcView.as_view(), name='problem_raise_rfc'),
    path('from-incident/<recordnumber:number>/caused-by/', CausedByView.as_view(), name='incident_caused_by'),
    path('incident-causes/', IncidentCauseListView.as_view(), name='incidentcause_list'),
    path('incident-causes/add/', IncidentCauseCreateView.as_view(), name='incidentcause_add'),
    path('incident-causes/<int:pk>/', IncidentCauseDetailView.as_view(), name='incidentcause_detail'),
    path('incident-causes/<int:pk>/delete/', IncidentCauseDeleteView.as_view(), name='incidentcause_delete'),
]
