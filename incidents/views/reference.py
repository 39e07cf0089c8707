"""Reference data of the desk: categories, the priority matrix, communication (response) templates and the routing
rules that send new tickets to a group."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.views import View

from itsm.choices import Impact, Urgency
from itsm.errors import ApplicationError
from itsm.models import SupportGroup
from itsm.permissions import user_can
from itsm.views.generic import (
    Column,
    ObjectActionView,
    ObjectCreateView,
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    ObjectViewMixin,
    add_service_errors,
)

from .. import routing, services
from ..choices import PRIORITY_COLOURS
from ..filters import RoutingRuleFilterSet
from ..forms import (
    CategoryForm,
    ConfigurationItemField,
    PriorityMatrixEntryForm,
    PriorityMatrixForm,
    ResponseTemplateForm,
    ServiceChoiceField,
    service_queryset,
)
from ..models import Category, PriorityMatrixEntry, ResponseTemplate, RoutingRule
from ..priority import default_priority


# ------------------------------------------------------------------------------------------------ categories
def category_list():
    return Category.objects.select_related('parent').order_by('parent__name', 'name')


class CategoryListView(ObjectListView):
    queryset = category_list()
    columns = [
        Column('__str__', 'Category', order_by='parent__name,name', linkify=True),
        Column('parent', 'Subcategory of', order_by='parent__name'),
        Column('kinds', 'Applies to', order_by=None, template='incidents/cells/kinds.html'),
        'active',
    ]


class CategoryDetailView(ObjectDetailView):
    queryset = category_list()
    template_name = 'incidents/category_detail.html'
    fields = ['name', 'parent', 'active']

    def get_extra_context(self, obj) -> dict[str, Any]:
        return {'subcategories': obj.children.order_by('name')}


class CategoryCreateView(ObjectCreateView):
    queryset = category_list()
    form_class = CategoryForm


class CategoryEditView(ObjectEditView):
    queryset = category_list()
    form_class = CategoryForm


class CategoryDeleteView(ObjectDeleteView):
    queryset = category_list()


# ------------------------------------------------------------------------------------------ response templates
class ResponseTemplateListView(ObjectListView):
    queryset = ResponseTemplate.objects.all()
    columns = [
        Column('name', linkify=True),
        Column('kind', colors={'opening': 'azure', 'closing': 'purple', 'body': 'teal'}),
        Column('text', order_by=None, template='incidents/cells/preview.html', css_class='pc-cell-wrap'),
        'active',
        Column('updated_at', 'Updated'),
    ]
    title = 'Response templates'


class ResponseTemplateDetailView(ObjectDetailView):
    queryset = ResponseTemplate.objects.all()
    template_name = 'incidents/responsetemplate_detail.html'
    fields = ['kind', 'active', 'updated_at']


class ResponseTemplateCreateView(ObjectCreateView):
    queryset = ResponseTemplate.objects.all()
    form_class = ResponseTemplateForm


class ResponseTemplateEditView(ObjectEditView):
    queryset = ResponseTemplate.objects.all()
    form_class = ResponseTemplateForm


class ResponseTemplateDeleteView(ObjectDeleteView):
    queryset = ResponseTemplate.objects.all()


# ----------------------------------------------------------------------------------------------- priority matrix
def matrix_cells() -> dict[tuple[str, str], PriorityMatrixEntry]:
    """Every cell of the matrix as stored, with unsaved entries holding the default where none is stored."""
    stored = {(e.impact, e.urgency): e for e in PriorityMatrixEntry.objects.all()}
    cells = {}
    for impact in Impact.values:
        for urgency in Urgency.values:
            entry = stored.get((impact, urgency))
            if entry is None:
                entry = PriorityMatrixEntry(impact=impact, urgency=urgency, priority=default_priority(impact, urgency))
            entry.is_default = entry.priority == default_priority(impact, urgency)
            cells[(impact, urgency)] = entry
    return cells


def set_cell(*, actor, impact: str, urgency: str, priority: int) -> PriorityMatrixEntry:
    services.priority_matrix_set(actor=actor, cells=[(impact, urgency, priority)])
    return PriorityMatrixEntry.objects.get(impact=impact, urgency=urgency)


class PriorityMatrixView(ObjectViewMixin, View):
    """The impact × urgency grid, edited as a whole. New priorities apply to tickets opened from then on."""

    model = PriorityMatrixEntry
    permission_action = 'view'

    def context(self, form) -> dict[str, Any]:
        cells = matrix_cells()
        rows = [
            (impact, label, [(cells[(impact, u)], form[form.field_name(impact, u)]) for u in Urgency.values])
            for impact, label in Impact.choices
        ]
        return {
            'title': 'Priority matrix',
            'form': form,
            'rows': rows,
            'urgencies': Urgency.choices,
            'priority_colours': PRIORITY_COLOURS,
            'may_change': user_can(self.request.user, PriorityMatrixEntry, 'change'),
        }

    def make_form(self, data=None):
        return PriorityMatrixForm(data, cells={key: e.priority for key, e in matrix_cells().items()})

    def get(self, request, *args, **kwargs):
        context = self.context(self.make_form())
        if request.htmx and not request.htmx.boosted:
            return self.render(context, 'incidents/reference/_matrix_grid.html')
        return self.render(context, 'incidents/prioritymatrix.html')

    def post(self, request, *args, **kwargs):
        if not user_can(request.user, PriorityMatrixEntry, 'change'):
            raise PermissionDenied
        form = self.make_form(request.POST)
        if form.is_valid():
            try:
                services.priority_matrix_set(actor=self.actor(), cells=form.cells())
            except (ValidationError, ApplicationError) as error:
                add_service_errors(form, error)
            else:
                messages.success(request, 'Priority matrix saved. Tickets opened from now on use it.')
                return redirect('incidents:prioritymatrixentry_list')
        return self.render(self.context(form), 'incidents/prioritymatrix.html', status=400)


class PriorityMatrixEntryDetailView(ObjectDetailView):
    queryset = PriorityMatrixEntry.objects.all()
    fields = ['impact', 'urgency', 'priority']


class PriorityMatrixEntryCreateView(ObjectCreateView):
    """One cell the matrix does not store yet (it uses the default until then)."""

    queryset = PriorityMatrixEntry.objects.all()
    form_class = PriorityMatrixEntryForm
    success_message = 'Priority matrix cell saved.'

    def save(self, form):
        return set_cell(actor=self.actor(), **form.cleaned_data)


class PriorityMatrixEntryEditView(ObjectEditView):
    queryset = PriorityMatrixEntry.objects.all()
    form_class = PriorityMatrixEntryForm
    success_message = 'Priority matrix cell saved.'

    def save(self, form):
        entry = self.get_object()
        priority = form.cleaned_data['priority']
        return set_cell(actor=self.actor(), impact=entry.impact, urgency=entry.urgency, priority=priority)


class PriorityMatrixEntryResetView(ObjectActionView):
    """Put a cell back to the default priority, ceil((impact + urgency) / 2)."""

    queryset = PriorityMatrixEntry.objects.all()
    action_label = 'Reset to default'
    action_description = 'The cell gets the priority the default matrix gives: ceil((impact + urgency) / 2).'
    success_message = 'The cell is back to its default priority.'

    def perform(self, obj):
        default = default_priority(obj.impact, obj.urgency)
        return set_cell(actor=self.actor(), impact=obj.impact, urgency=obj.urgency, priority=default)


# ------------------------------------------------------------------------------------------------ routing rules
def routing_rule_list():
    return RoutingRule.objects.select_related('service', 'ci', 'category__parent', 'assignment_group').order_by(
        'position', 'pk'
    )


class RoutingRuleForm(forms.ModelForm):
    service = ServiceChoiceField(queryset=service_queryset(), required=False, empty_label='— any service —')
    ci = ConfigurationItemField(label='Configuration item', required=False, help_text='Blank: any item.')

    class Meta:
        model = RoutingRule
        fields = ['position', 'name', 'active', 'service', 'ci', 'category', 'channel', 'kind', 'assignment_group']
        help_texts = {
            'category': 'A category or a subcategory; blank: any.',
            'channel': 'Blank: any channel.',
            'kind': 'Blank: incidents and cases.',
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['service'].queryset = service_queryset()
        self.fields['category'].queryset = Category.objects.select_related('parent').order_by('parent__name', 'name')
        self.fields['category'].empty_label = '— any category —'
        self.fields['assignment_group'].queryset = SupportGroup.objects.filter(active=True).order_by('name')


class RoutingRuleListView(ObjectListView):
    queryset = routing_rule_list()
    filterset_class = RoutingRuleFilterSet
    columns = [
        Column('position', '#'),
        Column('name', linkify=True),
        Column('service', order_by='service__name'),
        Column('ci', 'CI', order_by='ci__number'),
        Column('category', order_by='category__name'),
        'channel',
        'kind',
        Column('assignment_group', 'Routes to', order_by='assignment_group__name'),
        'active',
    ]
    title = 'Routing rules'


class RoutingRuleDetailView(ObjectDetailView):
    queryset = routing_rule_list()
    fields = ['position', 'active', 'service', 'ci', 'category', 'channel', 'kind', 'assignment_group']


class RoutingRuleCreateView(ObjectCreateView):
    queryset = routing_rule_list()
    form_class = RoutingRuleForm
    service = routing.rule_create


class RoutingRuleEditView(ObjectEditView):
    queryset = routing_rule_list()
    form_class = RoutingRuleForm
    service = routing.rule_update


class RoutingRuleDeleteView(ObjectDeleteView):
    queryset = routing_rule_list()
