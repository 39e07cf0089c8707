"""Pages where incidents meet problems: raise a problem from an incident or link it to one (the incident page's
"Problem" card leads here), unlink, the "Needs problem review" queue of last-tier escalations, completing a resolved
problem's incidents, and the list of incident links. The services are in `problems.incident_links` and
`problems.report_back`; these pages only validate input and report."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.urls import path, reverse
from django.views import View

from incidents.choices import ResolutionCode
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
    error_text,
)
from itsm.views.records import find_record

from .. import incident_links, report_back
from ..actions import is_problem_manager
from ..models import Problem, ProblemIncident

FORM_TEMPLATE = 'problems/_incidents_form.html'


# ------------------------------------------------------------------------------------------------ forms
class RaiseProblemForm(forms.Form):
    short_description = forms.CharField(max_length=200, label='Short description')
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={'rows': 4}))
    symptoms = forms.CharField(
        required=False, widget=forms.Textarea(attrs={'rows': 2}), help_text='How it shows, in the callers’ words.'
    )


class LinkProblemForm(forms.Form):
    problem = forms.ModelChoiceField(
        queryset=Problem.objects.none(), label='Problem', help_text='Problems not yet closed or cancelled.'
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['problem'].queryset = incident_links.linkable_problems()


class ProblemIncidentForm(LinkProblemForm):
    incident = forms.CharField(max_length=20, label='Incident', help_text='Its number, e.g. INC0001001.')

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_incident(self):
        number = self.cleaned_data['incident'].strip().upper()
        # Among the incidents the person may see: a security incident is "not found", as an unknown number.
        incident = Ticket.objects.visible_to(self.user).by_number(number).first()
        if incident is None:
            raise ValidationError(f'No incident {number}.')
        return incident


class ReviewedForm(forms.Form):
    reason = forms.CharField(max_length=300, widget=forms.Textarea(attrs={'rows': 2}), label='Why no problem')


class CompleteIncidentsForm(forms.Form):
    resolution_code = forms.ChoiceField(
        choices=[(code.value, code.label) for code in report_back.COMPLETION_CODES],
        initial=ResolutionCode.SOLVED_PERMANENTLY,
        label='Resolution code',
    )


# ------------------------------------------------------------------------------------------------ base
class FormPage(StaffOnlyMixin, ObjectViewMixin, View, ABC):
    """GET shows `form_class` about one record; POST validates it and calls `perform`; a refusal from the service
    lands on the form with the service's status (400, 403, 409) and the input kept."""

    form_class = None
    heading = ''
    submit = ''
    explanation = ''

    @abstractmethod
    def record(self):
        """The record the page is about (None for none)."""

    def initial(self, record) -> dict[str, Any]:
        return {}

    def form_kwargs(self) -> dict[str, Any]:
        return {}

    @abstractmethod
    def perform(self, record, data: dict[str, Any]) -> str:
        """Run the service; answer the success message."""

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
        return self.page(record, self.form_class(initial=self.initial(record), **self.form_kwargs()))

    def post(self, request, *args, **kwargs):
        record = self.record()
        form = self.form_class(request.POST, **self.form_kwargs())
        if not form.is_valid():
            return self.page(record, form, 400)
        try:
            message = self.perform(record, form.cleaned_data)
        except (ValidationError, ApplicationError) as error:
            add_service_errors(form, error)
            return self.page(record, form, getattr(error, 'status_code', 400))
        messages.success(request, message)
        return redirect(self.success_url(record))

    def success_url(self, record) -> str:
        return record.get_absolute_url()


class IncidentFormPage(FormPage, ABC):
    def record(self):
        incidents = Ticket.objects.visible_to(self.request.user).select_related(
            'category', 'subcategory', 'service', 'ci'
        )
        return find_record(incidents, self.kwargs['number'])


# ------------------------------------------------------------------------------------------- from incidents
class RaiseProblemView(IncidentFormPage):
    """An agent or an incident manager raises a problem from an incident: it is logged and the incident linked."""

    model = Problem
    permission_action = 'add'
    form_class = RaiseProblemForm
    heading = 'Raise a problem from {record.number}'
    submit = 'Raise the problem'
    explanation = (
        'The problem takes the incident’s category (which sets its priority), service and configuration item; '
        'the incident is linked to it.'
    )

    def initial(self, incident):
        return {
            'short_description': incident.short_description,
            'description': incident.description,
            'symptoms': incident.symptom,
        }

    def perform(self, incident, data):
        problem = incident_links.raise_problem_from_incident(incident=incident, actor=self.actor(), **data)
        return f'{problem.number} raised; {incident.number} is linked to it.'


class LinkProblemView(IncidentFormPage):
    """Link an incident to a problem already logged."""

    model = ProblemIncident
    permission_action = 'add'
    form_class = LinkProblemForm
    heading = 'Link {record.number} to a problem'
    submit = 'Link'

    def perform(self, incident, data):
        link = incident_links.link_incident(problem=data['problem'], incident=incident, actor=self.actor())
        return f'{incident.number} is linked to {link.problem.number}.'


class UnlinkIncidentView(StaffOnlyMixin, ObjectViewMixin, View):
    """POST: take an incident off the problem (linked by mistake); back to the problem."""

    model = ProblemIncident
    permission_action = 'delete'
    http_method_names = ['post']

    def post(self, request, *args, **kwargs):
        problem = find_record(Problem.objects.all(), kwargs['number'])
        incident = find_record(Ticket.objects.visible_to(request.user), kwargs['incident'])
        try:
            incident_links.unlink_incident(problem=problem, incident=incident, actor=self.actor())
        except (ValidationError, ApplicationError) as error:
            messages.error(request, error_text(error))
        else:
            messages.success(request, f'{incident.number} is no longer linked to {problem.number}.')
        return redirect(problem.get_absolute_url())


class CompleteIncidentsView(FormPage):
    """The problem manager completes a resolved problem's open incidents in one action."""

    model = Problem
    permission_action = 'change'
    form_class = CompleteIncidentsForm
    heading = 'Complete the incidents of {record.number}'
    submit = 'Complete linked incidents'
    explanation = (
        'Each open incident linked to the problem is completed with its resolution, and its caller asked to '
        'confirm. One that cannot be completed now is left as it is and named.'
    )

    def record(self):
        return find_record(Problem.objects.all(), self.kwargs['number'])

    def perform(self, problem, data):
        done, refused = report_back.complete_linked_incidents(
            problem=problem, actor=self.actor(), resolution_code=data['resolution_code']
        )
        text = f'Completed: {", ".join(done)}.' if done else 'No incident completed.'
        if refused:
            text += f' Left as they were: {"; ".join(refused)}'
        return text


# ------------------------------------------------------------------------------------ needs problem review
class ProblemManagerMixin:
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not is_problem_manager(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


REVIEW_COLUMNS = [
    Column('number', template='problems/_incidents_review_number.html', order_by=None),
    Column('short_description', 'Short description', css_class='pc-cell-wrap', order_by=None),
    Column('state', order_by=None),
    Column('assignment_group', 'Group', order_by=None),
    Column('escalated_at', 'Escalated', order_by=None),
]


class ReviewQueueView(StaffOnlyMixin, ObjectListView):
    """Incidents escalated to the last tier, not linked to a problem, not reviewed. Problem managers decide each
    (link, raise, or no problem needed); agents may raise or link; other staff read it."""

    model = ProblemIncident
    title = 'Escalations awaiting problem review'

    def get_columns(self, queryset):
        user = self.request.user
        offered = incident_links.offers(user)
        if is_problem_manager(user) and offered['raise'] and offered['link']:
            decide = 'problems/_incidents_review_actions.html'
        elif offered['raise'] and offered['link']:
            decide = 'problems/_incidents_review_actions_agent.html'
        else:
            decide = ''
        self.columns = REVIEW_COLUMNS + ([Column('decide', 'Decide', template=decide, order_by=None)] if decide else [])
        return super().get_columns(queryset)

    def get_queryset(self):
        return incident_links.review_queue().visible_to(self.request.user)

    def get_context(self):
        return {**super().get_context(), 'add_url': ''}


class MarkReviewedView(ProblemManagerMixin, IncidentFormPage):
    """A problem manager decides an escalation needs no problem, with the reason."""

    model = ProblemIncident
    permission_action = 'change'
    form_class = ReviewedForm
    heading = 'Mark {record.number} reviewed'
    submit = 'No problem needed'
    explanation = 'The incident leaves the “Needs problem review” queue; the reason stays in its history.'

    def perform(self, incident, data):
        incident_links.mark_reviewed(incident=incident, actor=self.actor(), reason=data['reason'])
        return f'{incident.number} is reviewed: no problem needed.'

    def success_url(self, incident):
        return reverse('problems:review_queue')


# ------------------------------------------------------------------------------------------- the links
LINK_COLUMNS = [
    Column('incident', template='problems/_incidents_cell_incident.html', order_by='incident__number'),
    Column('problem', template='problems/_incidents_cell_problem.html', order_by='problem__number'),
    Column('linked_by', order_by='linked_by__last_name'),
    Column('linked_at', 'Linked'),
]


def link_queryset():
    return ProblemIncident.objects.select_related('incident', 'problem', 'linked_by').order_by('-linked_at', '-pk')


class VisibleLinksMixin:
    """Links of incidents the person may see (a security incident only for those cleared for it)."""

    def get_queryset(self):
        return super().get_queryset().filter(incident__in=Ticket.objects.visible_to(self.request.user).values('pk'))


class ProblemIncidentListView(VisibleLinksMixin, StaffOnlyMixin, ObjectListView):
    model = ProblemIncident
    queryset = link_queryset()
    columns = LINK_COLUMNS
    title = 'Incidents linked to problems'

    @property
    def filterset_class(self):
        from ..api.links import ProblemIncidentFilterSet

        return ProblemIncidentFilterSet


class ProblemIncidentDetailView(VisibleLinksMixin, StaffOnlyMixin, ObjectDetailView):
    model = ProblemIncident
    queryset = link_queryset()
    fields = LINK_COLUMNS


class ProblemIncidentCreateView(FormPage):
    """Link an incident to a problem by their numbers (the same rules as from the incident's page)."""

    model = ProblemIncident
    permission_action = 'add'
    form_class = ProblemIncidentForm
    heading = 'Link an incident to a problem'
    submit = 'Link'

    def record(self):
        return None

    def form_kwargs(self):
        return {'user': self.request.user}

    def initial(self, record):
        problem = self.request.GET.get('problem', '')
        return {'problem': problem} if problem.isdigit() else {}

    def perform(self, record, data):
        self.link = incident_links.link_incident(problem=data['problem'], incident=data['incident'], actor=self.actor())
        return f'{self.link.incident.number} is linked to {self.link.problem.number}.'

    def success_url(self, record):
        return self.link.problem.get_absolute_url()


class ProblemIncidentDeleteView(VisibleLinksMixin, StaffOnlyMixin, ObjectDeleteView):
    """Unlink, through the same service as the problem page's Unlink."""

    model = ProblemIncident
    queryset = link_queryset()
    action_label = 'Unlink'

    def perform(self, link):
        incident_links.unlink_incident(problem=link.problem, incident=link.incident, actor=self.actor())

    def get_success_url(self, link):
        return link.problem.get_absolute_url()


incident_link_urls = [
    path('from-incident/<recordnumber:number>/raise/', RaiseProblemView.as_view(), name='incident_raise'),
    path('from-incident/<recordnumber:number>/link/', LinkProblemView.as_view(), name='incident_link'),
    path(
        '<recordnumber:number>/incidents/<recordnumber:incident>/unlink/',
        UnlinkIncidentView.as_view(),
        name='problem_unlink_incident',
    ),
    path(
        '<recordnumber:number>/complete-incidents/',
        CompleteIncidentsView.as_view(),
        name='problem_complete_incidents',
    ),
    path('review/', ReviewQueueView.as_view(), name='review_queue'),
    path('review/<recordnumber:number>/reviewed/', MarkReviewedView.as_view(), name='review_reviewed'),
    path('incident-links/', ProblemIncidentListView.as_view(), name='problemincident_list'),
    path('incident-links/add/', ProblemIncidentCreateView.as_view(), name='problemincident_add'),
    path('incident-links/<int:pk>/', ProblemIncidentDetailView.as_view(), name='problemincident_detail'),
    path('incident-links/<int:pk>/delete/', ProblemIncidentDeleteView.as_view(), name='problemincident_delete'),
]
