"""Implementation task pages: the list (by change, group, state), the task page with its actions and OLA clocks,
adding a task to an open change and editing one."""

from __future__ import annotations

from typing import Any

from itsm.views.generic import Column, ObjectCreateView, ObjectListView, StaffOnlyMixin
from itsm.views.records import RecordDetailView, RecordEditView, RecordPage

from .. import selectors, services
from ..choices import TaskState
from ..filters import ChangeTaskFilterSet
from ..forms import ChangeTaskCreateForm, ChangeTaskEditForm
from ..models import ChangeTask
from .changes import TASK_COLOURS

TASK_COLUMNS = [
    Column('number', template='changes/cells/number.html'),
    Column('change', order_by='change__number', template='changes/cells/task_change.html'),
    Column('position', 'Order'),
    Column('state', colors=TASK_COLOURS),
    Column('short_description', 'Short description', css_class='pc-cell-wrap'),
    Column('assignment_group', 'Group', order_by='assignment_group__name'),
    Column('assignee', order_by='assignee__last_name,assignee__first_name'),
    Column('opened_at', 'Opened', optional=True),
]


class ChangeTaskListView(StaffOnlyMixin, ObjectListView):
    model = ChangeTask
    queryset = selectors.task_list()
    filterset_class = ChangeTaskFilterSet
    columns = TASK_COLUMNS
    title = 'Change tasks'

    def get_queryset(self):
        return selectors.task_list().order_by('-change__opened_at', 'change_id', 'position', 'pk')


class ChangeTaskPage(RecordPage):
    model = ChangeTask
    queryset = selectors.task_list()
    header_template = 'changes/task/_header.html'
    facts_template = 'changes/task/_facts.html'

    def extra_context(self, request, task: ChangeTask) -> dict[str, Any]:
        return {'task_colours': TASK_COLOURS, 'open_states': (TaskState.OPEN, TaskState.IN_PROGRESS)}


TASK_PAGE = ChangeTaskPage()


class ChangeTaskDetailView(RecordDetailView):
    page = TASK_PAGE


class ChangeTaskCreateView(StaffOnlyMixin, ObjectCreateView):
    model = ChangeTask
    form_class = ChangeTaskCreateForm
    service = services.task_create

    def get_form(self, instance=None):
        form = super().get_form(instance)
        number = self.request.GET.get('change', '')
        if not form.is_bound and number:
            found = form.fields['change'].queryset.filter(number=number.upper()).first()
            if found is not None:
                form.initial['change'] = found.pk
        return form

    def get_success_url(self, obj) -> str:
        return obj.get_absolute_url()


class ChangeTaskEditView(RecordEditView):
    page = TASK_PAGE
    form_class = ChangeTaskEditForm
    service = services.task_update
    service_object_kwarg = 'changetask'
