"""Problem candidate pages: the list with its evidence at a glance, a candidate's page (its incidents, counts per day,
first and last seen, history), and accepting or dismissing it (problem managers).

Candidates are written by the recurrence scan (`problems.candidates.scan_candidates`), never through a form: there is
no add, edit or delete page.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import path
from django.views import View

from itsm.errors import ApplicationError
from itsm.views.generic import (
    Column,
    ObjectDetailView,
    ObjectListView,
    ObjectViewMixin,
    StaffOnlyMixin,
    add_service_errors,
)

from .. import candidates
from ..choices import CandidateStatus
from ..filters import ProblemCandidateFilterSet
from ..models import ProblemCandidate

STATUS_COLOURS = {
    CandidateStatus.PROPOSED: 'azure',
    CandidateStatus.ACCEPTED: 'green',
    CandidateStatus.DISMISSED: 'secondary',
}
SPARK_DAYS = 30  # the list's sparkline: the last month of the candidate's evidence


class CandidateListView(StaffOnlyMixin, ObjectListView):
    queryset = candidates.candidate_list()
    filterset_class = ProblemCandidateFilterSet
    title = 'Problem candidates'
    columns = [
        Column('title', linkify=True),
        Column('status', colors=STATUS_COLOURS),
        Column('basis'),
        Column('size', 'Incidents'),
        Column('daily_counts', 'Per day', order_by=None, template='problems/candidate_sparkline.html'),
        Column('first_seen'),
        Column('last_seen'),
        Column('problem', optional=True),
        Column('ci', 'CI', optional=True),
        Column('service', optional=True),
    ]

    def get_context(self):
        context = super().get_context()
        for candidate in context['object_list']:
            days = sorted(candidate.daily_counts or {})[-SPARK_DAYS:]
            candidate.spark = candidates.sparkline(candidate.daily_counts or {}, days=_span(days))
        return context


def _span(days: list[str]) -> list[str] | None:
    """Every day from the first to the last of `days` (None when empty: the sparkline is then empty)."""
    if not days:
        return None
    first, last = dt.date.fromisoformat(days[0]), dt.date.fromisoformat(days[-1])
    return [(first + dt.timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


class CandidateDetailView(StaffOnlyMixin, ObjectDetailView):
    queryset = candidates.candidate_detail()
    template_name = 'problems/candidate_detail.html'
    fields = [
        Column('status', colors=STATUS_COLOURS),
        'basis',
        Column('size', 'Incidents'),
        'first_seen',
        'last_seen',
        Column('ci', 'Configuration item'),
        'service',
        'category',
        'subcategory',
        'symptom',
        'problem',
        'scanned_at',
        'decided_by',
        'decided_at',
        'dismiss_reason',
        'dismissed_size',
    ]

    def get_extra_context(self, obj):
        # A security incident among them only for those who may see it (`is_visible_to`: no query for the others).
        incidents = [incident for incident in obj.incidents.all() if incident.is_visible_to(self.request.user)]
        may_decide = obj.status == CandidateStatus.PROPOSED and self.request.user.has_perm(
            'problems.change_problemcandidate'
        )
        return {
            'incidents': incidents,
            'spark': candidates.sparkline(obj.daily_counts or {}),
            'may_decide': may_decide,
            'accept_form': AcceptForm(initial={'short_description': obj.title}) if may_decide else None,
            'dismiss_form': DismissForm() if may_decide else None,
            'regrow_size': candidates.regrow_size(obj) if obj.status == CandidateStatus.DISMISSED else None,
        }


class AcceptForm(forms.Form):
    wide_fields = ('short_description',)

    short_description = forms.CharField(
        max_length=candidates.SHORT_DESCRIPTION_MAX,
        required=False,
        help_text="The problem's short description; the candidate's title when left empty.",
    )


class DismissForm(forms.Form):
    reason = forms.CharField(
        max_length=300,
        widget=forms.Textarea(attrs={'rows': 3}),
        help_text='Why this is not a problem. It is proposed again only if it grows by the configured factor.',
    )


class CandidateDecisionView(StaffOnlyMixin, ObjectViewMixin, View):
    """Accept or dismiss: GET shows the form, POST calls the service. A refusal comes back on the form."""

    permission_action = 'change'
    model = ProblemCandidate
    template_name = 'problems/candidate_decide.html'
    form_class: type[forms.Form] = forms.Form
    label = ''

    def get_queryset(self):
        return candidates.candidate_list()

    def render_form(self, obj, form, status: int = 200):
        return self.render({'object': obj, 'form': form, 'label': self.label}, status=status)

    def get(self, request, *args, **kwargs):
        obj = self.get_object()
        return self.render_form(obj, self.form_class(initial=self.initial(obj)))

    def initial(self, obj) -> dict:
        return {}

    def post(self, request, *args, **kwargs):
        obj = self.get_object()
        form = self.form_class(request.POST)
        if not form.is_valid():
            return self.render_form(obj, form)
        try:
            url = self.decide(obj, form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.render_form(obj, form)
        except ApplicationError as error:
            add_service_errors(form, error)
            return self.render_form(obj, form, status=error.status_code)
        return HttpResponseRedirect(url)


class CandidateAcceptView(CandidateDecisionView):
    form_class = AcceptForm
    label = 'Accept'

    def initial(self, obj):
        return {'short_description': obj.title}

    def decide(self, obj, data):
        problem = candidates.candidate_accept(
            candidate=obj, actor=self.actor(), short_description=data.get('short_description', '')
        )
        messages.success(self.request, f'{problem.number} opened from the candidate, its incidents linked.')
        return problem.get_absolute_url()


class CandidateDismissView(CandidateDecisionView):
    form_class = DismissForm
    label = 'Dismiss'

    def decide(self, obj, data):
        candidate = candidates.candidate_dismiss(candidate=obj, actor=self.actor(), reason=data['reason'])
        messages.success(self.request, f'Candidate dismissed: “{candidate}”.')
        return candidate.get_absolute_url()


candidate_urls = [
    path('candidates/', CandidateListView.as_view(), name='problemcandidate_list'),
    path('candidates/<int:pk>/', CandidateDetailView.as_view(), name='problemcandidate_detail'),
    path('candidates/<int:pk>/accept/', CandidateAcceptView.as_view(), name='problemcandidate_accept'),
    path('candidates/<int:pk>/dismiss/', CandidateDismissView.as_view(), name='problemcandidate_dismiss'),
]
