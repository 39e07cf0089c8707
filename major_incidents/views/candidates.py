"""Major-incident candidate pages: the list (proposed first), a candidate's page with its incidents, and dismissing it.

Candidates are written by the rules that watch new incidents (`major_incidents.candidates`), never through a form:
there is no add, edit or delete page. Declaring a major incident from one is the declare page
(`majorincident_add?candidate=<id>`), which incident managers reach from the candidate's page.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import NoReverseMatch, path, reverse
from django.utils.http import urlencode
from django.views import View

from itsm.errors import ApplicationError
from itsm.filters import TextSearchFilterSet
from itsm.views.generic import (
    Column,
    ObjectDetailView,
    ObjectListView,
    ObjectViewMixin,
    StaffOnlyMixin,
    add_service_errors,
)

from .. import candidates
from ..actions import is_incident_manager
from ..choices import CandidateReason, CandidateStatus
from ..models import MajorIncidentCandidate

STATUS_COLOURS = {
    CandidateStatus.PROPOSED: 'red',
    CandidateStatus.DECLARED: 'green',
    CandidateStatus.DISMISSED: 'secondary',
}


class CandidateFilterSet(TextSearchFilterSet):
    """Candidates by status and reason, or by the text of the incident that triggered them."""

    search_fields = ('incident__number', 'incident__short_description', 'service__name', 'ci__name')
    status = django_filters.MultipleChoiceFilter(choices=CandidateStatus.choices)
    reason = django_filters.ChoiceFilter(choices=CandidateReason.choices)

    class Meta:
        model = MajorIncidentCandidate
        fields = ['status', 'reason']


class CandidatePageMixin(StaffOnlyMixin):
    verbose_name = 'major-incident candidate'
    verbose_name_plural = 'major-incident candidates'

    def base_context(self):
        return {**super().base_context(), 'list_url': reverse('major_incidents:candidate_list')}

    def get_queryset(self):
        return candidates.visible_candidates(super().get_queryset(), self.request.user)


class CandidateListView(CandidatePageMixin, ObjectListView):
    queryset = candidates.candidate_list()
    filterset_class = CandidateFilterSet
    title = 'Major-incident candidates'
    columns = [
        Column('__str__', 'Candidate', order_by=None, linkify=True),
        Column('status', colors=STATUS_COLOURS),
        Column('reason'),
        Column('service'),
        Column('ci', 'CI'),
        Column('incident_count', 'Incidents'),
        Column('incident', 'Latest incident'),
        Column('detected_at', 'Detected'),
        Column('major_incident', 'Major incident', optional=True),
    ]


class CandidateDetailView(CandidatePageMixin, ObjectDetailView):
    queryset = candidates.candidate_detail()
    template_name = 'major_incidents/candidate_detail.html'
    fields = [
        Column('status', colors=STATUS_COLOURS),
        'reason',
        'service',
        Column('ci', 'Configuration item'),
        Column('incident_count', 'Incidents'),
        Column('incident', 'Latest incident'),
        'detected_at',
        'major_incident',
        'decided_by',
        'decided_at',
        'dismiss_reason',
    ]

    def get_timeline(self, obj):
        return []  # a candidate's story is on its incidents' timelines

    def get_extra_context(self, obj):
        proposed = obj.status == CandidateStatus.PROPOSED
        user = self.request.user
        manages = is_incident_manager(user)
        return {
            # A security incident among them only for those who may see it (no query for the others).
            'incidents': [incident for incident in obj.incidents.all() if incident.is_visible_to(user)],
            'may_decide': proposed and manages,
            'declare_url': declare_url(candidate=obj.pk),
            'dismiss_form': DismissForm() if proposed and manages else None,
            'edit_url': '',
            'delete_url': '',
        }


def declare_url(**query) -> str:
    """The declare page, prefilled from a candidate or an incident ('' while that page is not routed)."""
    try:
        url = reverse('major_incidents:majorincident_add')
    except NoReverseMatch:
        return ''
    return f'{url}?{urlencode(query)}'


class DismissForm(forms.Form):
    reason = forms.CharField(
        max_length=300,
        widget=forms.Textarea(attrs={'rows': 3}),
        help_text='Why this is not a major incident (kept on its incident’s history).',
    )


class CandidateDismissView(CandidatePageMixin, ObjectViewMixin, View):
    """GET shows the form; POST dismisses. A refusal comes back on the form with its status."""

    permission_action = 'change'
    model = MajorIncidentCandidate
    template_name = 'major_incidents/candidate_dismiss.html'

    def get_queryset(self):
        return candidates.visible_candidates(candidates.candidate_list(), self.request.user)

    def render_form(self, obj, form, status: int = 200):
        return self.render({'object': obj, 'form': form}, status=status)

    def get(self, request, *args, **kwargs):
        return self.render_form(self.get_object(), DismissForm())

    def post(self, request, *args, **kwargs):
        obj = self.get_object()
        form = DismissForm(request.POST)
        if not form.is_valid():
            return self.render_form(obj, form, status=400)
        try:
            candidates.candidate_dismiss(candidate=obj, actor=self.actor(), reason=form.cleaned_data['reason'])
        except ValidationError as error:
            add_service_errors(form, error)
            return self.render_form(obj, form, status=400)
        except ApplicationError as error:
            add_service_errors(form, error)
            return self.render_form(obj, form, status=error.status_code)
        messages.success(request, f'Candidate dismissed: {obj}.')
        return HttpResponseRedirect(obj.get_absolute_url())


candidate_urls = [
    path('candidates/', CandidateListView.as_view(), name='candidate_list'),
    path('candidates/<int:pk>/', CandidateDetailView.as_view(), name='candidate_detail'),
    path('candidates/<int:pk>/dismiss/', CandidateDismissView.as_view(), name='candidate_dismiss'),
]
