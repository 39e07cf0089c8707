"""`/api/v1/hypercare-periods/` (start, extend, `end` early, its tagged `incidents`; `?state=`, `?service=`,
`?incident=`) and `/api/v1/hypercare-rules/`."""

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from itsm.api.viewsets import ItsmModelViewSet
from itsm.permissions import RolePermission

from .. import selectors, services
from ..filters import HypercarePeriodFilterSet, HypercareRuleFilterSet
from ..models import HypercarePeriod, HypercareRule
from .serializers import (
    HypercarePeriodEndSerializer,
    HypercarePeriodSerializer,
    HypercareRuleSerializer,
    HypercareTagSerializer,
)


class HypercarePeriodViewSet(ItsmModelViewSet):
    """Hypercare periods of services. Service owners manage those of their own services."""

    queryset = HypercarePeriod.objects.none()
    serializer_class = HypercarePeriodSerializer
    filterset_class = HypercarePeriodFilterSet
    permission_classes = [RolePermission]

    def get_queryset(self):
        if getattr(self, 'swagger_fake_view', False):
            return self.queryset
        return selectors.period_list().order_by('-starts_at', '-id')

    def perform_create(self, serializer):
        serializer.instance = services.period_start(actor=self.actor(), **serializer.validated_data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop('service', None)
        serializer.instance = services.period_update(period=serializer.instance, actor=self.actor(), **data)

    def perform_destroy(self, instance):
        services.period_delete(period=instance, actor=self.actor())

    @extend_schema(request=HypercarePeriodEndSerializer, responses=HypercarePeriodSerializer)
    @action(detail=True, methods=['post'], permission_action='change')
    def end(self, request, pk=None):
        """End hypercare now (before its planned end); the service's open tickets go back to their usual SLA."""
        serializer = HypercarePeriodEndSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        period = services.period_end(period=self.get_object(), actor=self.actor(), **serializer.validated_data)
        return Response(HypercarePeriodSerializer(period).data)

    @extend_schema(request=None, responses=HypercareTagSerializer(many=True))
    @action(detail=True, methods=['get'], permission_action='view', filterset_class=None, pagination_class=None)
    def incidents(self, request, pk=None):
        """The incidents tagged with the period (opened on its service during it, or moved onto it), newest first."""
        tags = selectors.tags_of_period(self.get_object(), user=request.user)
        return Response(HypercareTagSerializer(tags, many=True).data)


class HypercareRuleViewSet(ItsmModelViewSet):
    """Which closed changes put their services into hypercare, and for how long."""

    queryset = HypercareRule.objects.none()
    serializer_class = HypercareRuleSerializer
    filterset_class = HypercareRuleFilterSet
    permission_classes = [RolePermission]

    def get_queryset(self):
        if getattr(self, 'swagger_fake_view', False):
            return self.queryset
        return selectors.rule_list().order_by('name', 'id')
