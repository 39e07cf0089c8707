"""Problem priorities of categories: the data table administrators edit (category → impact and urgency; the
priority matrix gives the priority). Saving a row re-prioritises the category's open problems."""

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

from .. import selectors, services
from ..filters import CategoryPriorityFilterSet
from ..forms import CategoryPriorityForm
from ..models import Problem


def with_priority(row):
    """The row with `priority_label`: what the priority matrix gives for its impact and urgency."""
    from incidents.priority import compute_priority

    row.priority_label = f'P{compute_priority(row.impact, row.urgency)}'
    return row


class CategoryPriorityListView(StaffOnlyMixin, ObjectListView):
    queryset = selectors.category_priority_list()
    filterset_class = CategoryPriorityFilterSet
    columns = [
        Column('__str__', 'Category', order_by='category__name', linkify=True),
        'impact',
        'urgency',
        Column('priority_label', 'Priority', order_by=None),
    ]
    title = 'Problem priorities'

    def get_context(self) -> dict[str, Any]:
        context = super().get_context()
        context['object_list'] = [with_priority(row) for row in context['object_list']]
        return context


class CategoryPriorityDetailView(StaffOnlyMixin, ObjectDetailView):
    queryset = selectors.category_priority_list()
    template_name = 'problems/categorypriority_detail.html'
    fields = ['category', 'impact', 'urgency', Column('priority_label', 'Priority')]

    def get_object(self):
        return with_priority(super().get_object())

    def get_extra_context(self, obj) -> dict[str, Any]:
        return {'open_problems': Problem.objects.open().filter(category=obj.category).count()}


class CategoryPriorityCreateView(StaffOnlyMixin, ObjectCreateView):
    queryset = selectors.category_priority_list()
    form_class = CategoryPriorityForm
    service = services.category_priority_create
    success_message = 'Problem priority saved: open problems of the category follow it.'


class CategoryPriorityEditView(StaffOnlyMixin, ObjectEditView):
    queryset = selectors.category_priority_list()
    form_class = CategoryPriorityForm
    service = services.category_priority_update
    service_object_kwarg = 'row'
    success_message = 'Problem priority saved: open problems of the category follow it.'


class CategoryPriorityDeleteView(StaffOnlyMixin, ObjectDeleteView):
    queryset = selectors.category_priority_list()
    service = services.category_priority_delete
    service_object_kwarg = 'row'
    action_description = 'Open problems of the category fall back to medium impact and normal urgency.'
