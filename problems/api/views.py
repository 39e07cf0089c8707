"""Problems over the API: `/api/v1/problems/` (one POST per action, comments, timeline) and the category priorities
administrators edit at `/api/v1/problem-category-priorities/`."""

from __future__ import annotations

from itsm.api.records import RecordViewSet
from itsm.api.viewsets import ItsmModelViewSet

from .. import selectors, services
from ..filters import CategoryPriorityFilterSet, ProblemFilterSet
from ..models import CategoryPriority, Problem
from . import serializers as s


class ProblemViewSet(RecordViewSet):
    """Problems, addressed by number. They are never deleted: they are closed or cancelled."""

    queryset = Problem.objects.all()
    serializer_class = s.ProblemSerializer
    filterset_class = ProblemFilterSet
    http_method_names = ['get', 'post', 'patch', 'head', 'options']

    def get_queryset(self):
        return selectors.problem_list(user=self.request.user).order_by('priority', 'opened_at', 'id')

    def get_serializer_class(self):
        return s.ProblemUpdateSerializer if self.action in ('partial_update', 'update') else s.ProblemSerializer

    def perform_create(self, serializer):
        problem = services.problem_create(actor=self.actor(), **dict(serializer.validated_data))
        serializer.instance = self.reload(problem)

    def perform_update(self, serializer):
        problem = services.problem_update(
            problem=serializer.instance, actor=self.actor(), **dict(serializer.validated_data)
        )
        serializer.instance = self.reload(problem)


class CategoryPriorityViewSet(ItsmModelViewSet):
    """A category's problem impact and urgency; open problems of the category take the new priority."""

    queryset = CategoryPriority.objects.all()
    serializer_class = s.CategoryPrioritySerializer
    filterset_class = CategoryPriorityFilterSet

    def get_queryset(self):
        return selectors.category_priority_list()

    def perform_create(self, serializer):
        serializer.instance = services.category_priority_create(actor=self.actor(), **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.category_priority_update(
            row=serializer.instance, actor=self.actor(), **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.category_priority_delete(row=instance, actor=self.actor())
