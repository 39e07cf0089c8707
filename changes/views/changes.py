"""Change pages: the list with its tabs and filters, the change page (`CHANGE_PAGE`), the create and edit forms."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms

from itsm.models import SupportGroup
from itsm.views.generic import Column, ObjectCreateView, ObjectListView, StaffOnlyMixin
from itsm.views.records import RecordDetailView, RecordEditView, RecordPage

from .. import selectors, services
from ..choices import STATE_COLOURS, ChangeState, ChangeType, RiskLevel, TaskState
from ..filters import ChangeFilterSet
from ..forms import ChangeCreateForm, ChangeEditForm
from ..models import Change

RISK_COLOURS = {RiskLevel.LOW: 'green', RiskLevel.MODERATE: 'yellow', RiskLevel.HIGH: 'orange', 'very_high': 'red'}
TYPE_COLOURS = {ChangeType.STANDARD: 'teal', ChangeType.NORMAL: 'blue', ChangeType.EMERGENCY: 'red'}
TASK_COLOURS = {TaskState.OPEN: 'secondary', TaskState.IN_PROGRESS: 'orange', TaskState.DONE: 'green', 'cancelled': ''}

CHANGE_COLUMNS = [
    Column('number', template='changes/cells/number.html'),
    Column('change_type', 'Type', colors=TYPE_COLOURS),
    Column('state', colors=STATE_COLOURS),
    Column('risk_level', 'Risk', colors=RISK_COLOURS),
    Column('short_description', 'Short description', css_class='pc-cell-wrap'),
    Column('owner', order_by='owner__last_name,owner__first_name'),
    Column('assignment_group', 'Group', order_by='assignment_group__name'),
    Column('planned_start', 'Planned start'),
    Column('planned_end', 'Planned end', optional=True),
    Column('environment', optional=True),
    Column('services', 'Services', order_by=None, template='changes/cells/items.html', optional=True),
    Column('cis', 'Configuration items', order_by=None, template='changes/cells/items.html', optional=True),
    Column('open_task_count', 'Open tasks', order_by='open_task_count', optional=True),
    Column('opened_at', 'Opened', optional=True),
]


class ChangePageFilterSet(ChangeFilterSet):
    """The list's filter bar: one state, type and risk at a time, the people, groups and services in menus, the
    planned window as dates (the API takes the same parameters as text)."""

    state = django_filters.ChoiceFilter(choices=ChangeState.choices, label='State')
    change_type = django_filters.ChoiceFilter(choices=ChangeType.choices, label='Type')
    risk = django_filters.ChoiceFilter(field_name='risk_level', choices=RiskLevel.choices, label='Risk')
    planned_from = django_filters.DateFilter(field_name='planned_end', lookup_expr='date__gte', label='Planned from')
    planned_to = django_filters.DateFilter(field_name='planned_start', lookup_expr='date__lte', label='Planned until')
    HIDDEN = ('open', 'requester', 'environment', 'change_model')

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.HIDDEN:
            self.filters.pop(name, None)
        from problems.forms import service_items

        menus = {
            'group': [(g.name, g.name) for g in SupportGroup.objects.active().order_by('name')],
            'service': [(s.number, s.name) for s in service_items()],
        }
        for name, choices in menus.items():
            self.filters[name].field_class = forms.ChoiceField
            self.filters[name].extra['choices'] = [('', 'Any'), *choices]
        for name in ('planned_from', 'planned_to'):
            self.filters[name].extra['widget'] = forms.DateInput(attrs={'type': 'date'})


class ChangeListView(StaffOnlyMixin, ObjectListView):
    """Changes by tab (open, mine, my groups, to assess, scheduled, all) with the filter bar."""

    model = Change
    queryset = selectors.change_list()
    filterset_class = ChangePageFilterSet
    template_name = 'changes/change_list.html'
    columns = CHANGE_COLUMNS
    title = 'Changes'
    filter_labels = {'owner': 'Owner', 'group': 'Group', 'service': 'Service', 'ci': 'CI'}

    def queue_name(self) -> str:
        name = self.request.GET.get('queue', 'open')
        return name if name in selectors.QUEUES else 'open'

    def get_queryset(self):
        return selectors.change_queue(user=self.request.user, name=self.queue_name())

    def get_context(self) -> dict[str, Any]:
        context = super().get_context()
        context.update(queue=self.queue_name(), queues=selectors.QUEUES)
        return context


class ChangePage(RecordPage):
    """The change page: `records/detail.html` with the change's header, its plans, schedule, tests and the testing
    gate, its tasks in order, its people, CIs and services, and its links."""

    model = Change
    queryset = selectors.change_detail()
    template_name = 'changes/change_detail.html'
    header_template = 'changes/change/_header.html'
    summary_template = 'changes/change/_summary.html'
    facts_template = 'changes/change/_facts.html'

    def extra_context(self, request, change: Change) -> dict[str, Any]:
        gate = services.test_gate_refusal(change) if change.state == ChangeState.SCHEDULED else ''
        return {
            'state_colours': STATE_COLOURS,
            'risk_colours': RISK_COLOURS,
            'type_colours': TYPE_COLOURS,
            'task_colours': TASK_COLOURS,
            'tasks': list(change.tasks.all()),
            # A security incident only for those who may see it (no query for the others).
            'incidents': [incident for incident in change.incidents.all() if incident.is_visible_to(request.user)],
            'test_gate': gate,
            'needs_review': change.change_type == ChangeType.EMERGENCY,
        }


CHANGE_PAGE = ChangePage()


class ChangeDetailView(RecordDetailView):
    page = CHANGE_PAGE


class ChangeCreateView(StaffOnlyMixin, ObjectCreateView):
    """Draft a change (engineers, agents, change managers): its type (standard: its model), what, where, when."""

    model = Change
    form_class = ChangeCreateForm
    service = services.change_create
    template_name = 'changes/change_form.html'

    def get_success_url(self, obj) -> str:
        return obj.get_absolute_url()

    def get_form(self, instance=None):
        form = super().get_form(instance)
        if not form.is_bound:
            kind = self.request.GET.get('type')
            if kind in ChangeType.values:
                form.initial['change_type'] = kind
            model = self.request.GET.get('model')
            if model and model.isdigit():
                form.initial.update(change_type=ChangeType.STANDARD, change_model=int(model))
        return form

    def form_context(self, form, obj=None) -> dict[str, Any]:
        return {**super().form_context(form, obj), 'title': 'New change'}


class ChangeEditView(RecordEditView):
    """What the change is, its people, window and plans; as a full page, or (htmx) as a panel on the change page."""

    page = CHANGE_PAGE
    form_class = ChangeEditForm
    service = services.change_update
    service_object_kwarg = 'change'
    template_name = 'changes/change_form.html'

    def form_context(self, form, obj=None) -> dict[str, Any]:
        context = super().form_context(form, obj)
        context['title'] = f'Edit {obj}' if obj else 'Edit change'
        return context
