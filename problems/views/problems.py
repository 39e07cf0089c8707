"""Problem pages: the list with its tabs and filters, the problem page (`PROBLEM_PAGE`), the create and edit forms."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms

from incidents.choices import PRIORITY_COLOURS
from incidents.models import Category
from itsm.choices import PRIORITY_MEANINGS, Priority
from itsm.models import SupportGroup
from itsm.views.generic import Column, ObjectCreateView, ObjectListView, StaffOnlyMixin
from itsm.views.records import RecordDetailView, RecordEditView, RecordPage

from .. import selectors, services
from ..actions import is_problem_manager
from ..choices import STATE_COLOURS, ProblemState
from ..filters import ProblemFilterSet
from ..forms import ProblemCreateForm, ProblemEditForm, problem_managers, service_items
from ..models import Problem

PROBLEM_COLUMNS = [
    Column('number', template='problems/cells/number.html'),
    Column('priority', colors=PRIORITY_COLOURS),
    Column('state', colors=STATE_COLOURS),
    Column('short_description', 'Short description', css_class='pc-cell-wrap'),
    Column('owner', order_by='owner__last_name,owner__first_name'),
    Column('assignment_group', 'Group', order_by='assignment_group__name'),
    Column('category', order_by='category__name'),
    Column('incident_count', 'Incidents', order_by='incident_count'),
    Column('services', 'Services', order_by=None, template='problems/cells/items.html', optional=True),
    Column('cis', 'Configuration items', order_by=None, template='problems/cells/items.html', optional=True),
    Column('vendor', optional=True),
    Column('opened_at', 'Opened'),
]


class ProblemPageFilterSet(ProblemFilterSet):
    """The list page's filter bar: one state and one priority at a time, the people, groups, categories and
    services offered in menus (the API takes the same parameters as text)."""

    state = django_filters.ChoiceFilter(choices=ProblemState.choices, label='State')
    priority = django_filters.ChoiceFilter(choices=Priority.choices, label='Priority')
    HIDDEN = ('open', 'opened_after', 'opened_before', 'root_cause_category', 'root_cause_known')

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.HIDDEN:
            self.filters.pop(name, None)
        menus = {
            'owner': [('me', 'Me')] + [(u.username, str(u)) for u in problem_managers()],
            'group': [(g.name, g.name) for g in SupportGroup.objects.active().order_by('name')],
            'category': [(c.name, c.name) for c in Category.objects.filter(parent=None).order_by('name')],
            'service': [(s.number, s.name) for s in service_items()],
        }
        for name, choices in menus.items():
            self.filters[name].field_class = forms.ChoiceField
            self.filters[name].extra['choices'] = [('', 'Any'), *choices]
        self.filters['awaiting_vendor'].label = 'On supplier'


# ------------------------------------------------------------------------------------------------ lists
class ProblemListView(StaffOnlyMixin, ObjectListView):
    """Problems by tab (open, mine, my groups, waiting on the supplier, to assess, all) with the filter bar."""

    model = Problem
    queryset = selectors.problem_list()
    filterset_class = ProblemPageFilterSet
    template_name = 'problems/problem_list.html'
    columns = PROBLEM_COLUMNS
    title = 'Problems'
    filter_labels = {'owner': 'Owner', 'group': 'Group', 'category': 'Category', 'service': 'Service', 'ci': 'CI'}

    def queue_name(self) -> str:
        name = self.request.GET.get('queue', 'open')
        return name if name in selectors.QUEUES else 'open'

    def get_queryset(self):
        return selectors.problem_queue(user=self.request.user, name=self.queue_name())

    def get_context(self) -> dict[str, Any]:
        context = super().get_context()
        context.update(
            queue=self.queue_name(),
            queues=selectors.QUEUES,
            open_by_priority=selectors.open_problems_by_priority(),
            priority_colours=PRIORITY_COLOURS,
        )
        return context


# ------------------------------------------------------------------------------------------------- detail
class ProblemPage(RecordPage):
    """The problem page: `records/detail.html` with the problem's header, its analysis (symptoms, root cause,
    workaround, resolution), its classification, supplier and milestones."""

    model = Problem
    queryset = selectors.problem_detail()
    template_name = 'problems/problem_detail.html'
    header_template = 'problems/problem/_header.html'
    summary_template = 'problems/problem/_summary.html'
    facts_template = 'problems/problem/_facts.html'

    def extra_context(self, request, problem: Problem) -> dict[str, Any]:
        blockers = []
        if problem.state == ProblemState.RESOLVED and is_problem_manager(request.user):
            blockers = services.close_blockers(problem)
        return {
            'state_colours': STATE_COLOURS,
            'priority_colours': PRIORITY_COLOURS,
            'priority_meanings': PRIORITY_MEANINGS,
            'close_blockers': blockers,
        }


PROBLEM_PAGE = ProblemPage()


class ProblemDetailView(RecordDetailView):
    page = PROBLEM_PAGE


# ------------------------------------------------------------------------------------------ create and edit
class ProblemCreateView(StaffOnlyMixin, ObjectCreateView):
    """Log a problem (agents, engineers, incident and problem managers)."""

    model = Problem
    form_class = ProblemCreateForm
    service = services.problem_create
    template_name = 'problems/problem_form.html'

    def get_success_url(self, obj) -> str:
        return obj.get_absolute_url()

    def form_context(self, form, obj=None) -> dict[str, Any]:
        return {**super().form_context(form, obj), 'title': 'New problem'}


class ProblemEditView(RecordEditView):
    """Descriptive fields and supplier details; as a full page, or (htmx) as a panel on the problem page."""

    page = PROBLEM_PAGE
    form_class = ProblemEditForm
    service = services.problem_update
    service_object_kwarg = 'problem'
    template_name = 'problems/problem_form.html'

    def form_context(self, form, obj=None) -> dict[str, Any]:
        context = super().form_context(form, obj)
        context['title'] = f'Edit {obj}' if obj else 'Edit problem'
        return context
