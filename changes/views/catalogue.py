"""The standard-change catalogue: pre-approved change models with their plans and tasks. Change managers keep it;
staff read it and raise a standard change from a model."""

from __future__ import annotations

from typing import Any

from itsm.views.generic import (
    Column,
    ObjectCreateView,
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    StaffOnlyMixin,
)

from .. import selectors
from ..filters import ChangeModelFilterSet, ChangeModelTaskFilterSet
from ..forms import ChangeModelForm, ChangeModelTaskForm
from .changes import RISK_COLOURS


class ChangeModelListView(StaffOnlyMixin, ObjectListView):
    queryset = selectors.change_model_list()
    filterset_class = ChangeModelFilterSet
    columns = [
        Column('name', linkify=True),
        Column('risk_level', 'Risk', colors=RISK_COLOURS),
        Column('assignment_group', 'Group', order_by='assignment_group__name'),
        Column('task_count', 'Tasks', order_by='task_count'),
        Column('change_count', 'Changes', order_by='change_count'),
        'active',
    ]
    title = 'Standard changes'
    verbose_name = 'change model'


class ChangeModelDetailView(StaffOnlyMixin, ObjectDetailView):
    queryset = selectors.change_model_detail()
    template_name = 'changes/changemodel_detail.html'

    def get_extra_context(self, obj) -> dict[str, Any]:
        return {'tasks': list(obj.tasks.all())}


class ChangeModelCreateView(StaffOnlyMixin, ObjectCreateView):
    queryset = selectors.change_model_list()
    form_class = ChangeModelForm


class ChangeModelEditView(StaffOnlyMixin, ObjectEditView):
    queryset = selectors.change_model_list()
    form_class = ChangeModelForm


class ChangeModelDeleteView(StaffOnlyMixin, ObjectDeleteView):
    queryset = selectors.change_model_list()
    action_description = 'A model changes have followed is kept: retire it instead (untick "active").'


class ChangeModelTaskListView(StaffOnlyMixin, ObjectListView):
    queryset = selectors.change_model_task_list()
    filterset_class = ChangeModelTaskFilterSet
    columns = [
        'position',
        Column('__str__', 'Task', order_by='title', linkify=True),
        Column('assignment_group', 'Group', order_by='assignment_group__name'),
    ]
    title = 'Standard change tasks'


class ChangeModelTaskDetailView(StaffOnlyMixin, ObjectDetailView):
    queryset = selectors.change_model_task_list()
    fields = ['change_model', 'position', 'title', 'description', 'assignment_group']


class ChangeModelTaskCreateView(StaffOnlyMixin, ObjectCreateView):
    queryset = selectors.change_model_task_list()
    form_class = ChangeModelTaskForm

    def get_form(self, instance=None):
        form = super().get_form(instance)
        model = self.request.GET.get('change_model', '')
        if not form.is_bound and model.isdigit():
            form.initial['change_model'] = int(model)
        return form


class ChangeModelTaskEditView(StaffOnlyMixin, ObjectEditView):
    queryset = selectors.change_model_task_list()
    form_class = ChangeModelTaskForm


class ChangeModelTaskDeleteView(StaffOnlyMixin, ObjectDeleteView):
    queryset = selectors.change_model_task_list()
