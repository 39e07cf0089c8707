"""`/api/v1/oncall-schedules/`, `oncall-layers/`, `oncall-overrides/`, `escalation-policies/` (CRUD through the
services), `oncall-pages/` (read, and `acknowledge`), and `/api/v1/oncall/now/`: who is on call now and next."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from itsm.api.viewsets import ItsmModelViewSet
from itsm.audit import Actor
from itsm.permissions import RolePermission

from .. import selectors, services
from ..filters import (
    EscalationPolicyFilterSet,
    OnCallOverrideFilterSet,
    OnCallScheduleFilterSet,
    PageFilterSet,
    RotationLayerFilterSet,
)
from ..models import OnCallSchedule
from .serializers import (
    EscalationPolicySerializer,
    OnCallNowSerializer,
    OnCallOverrideSerializer,
    OnCallScheduleSerializer,
    PageSerializer,
    RotationLayerSerializer,
    now_data,
)


class ServiceViewSet(ItsmModelViewSet):
    """CRUD through `create`/`update`/`delete` services named by `service_prefix`."""

    service_prefix = ''
    service_kwarg = ''
    permission_classes = [RolePermission]

    def _service(self, verb):
        return getattr(services, f'{self.service_prefix}_{verb}')

    def perform_create(self, serializer):
        serializer.instance = self._service('create')(actor=self.actor(), **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = self._service('update')(
            actor=self.actor(), **{self.service_kwarg: serializer.instance}, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        self._service('delete')(actor=self.actor(), **{self.service_kwarg: instance})


class OnCallScheduleViewSet(ServiceViewSet):
    """On-call schedules of support groups; `rotate-feed` replaces the calendar feed's address."""

    queryset = selectors.schedule_list()
    serializer_class = OnCallScheduleSerializer
    filterset_class = OnCallScheduleFilterSet
    service_prefix, service_kwarg = 'schedule', 'schedule'

    @extend_schema(request=None, responses=OnCallScheduleSerializer)
    @action(detail=True, methods=['post'], url_path='rotate-feed', permission_action='change')
    def rotate_feed(self, request, pk=None):
        schedule = services.schedule_rotate_feed(schedule=self.get_object(), actor=self.actor())
        return Response(OnCallScheduleSerializer(schedule).data)


class RotationLayerViewSet(ServiceViewSet):
    """Layers of rotation: later positions win where they cover."""

    queryset = selectors.layer_list()
    serializer_class = RotationLayerSerializer
    filterset_class = RotationLayerFilterSet
    service_prefix, service_kwarg = 'layer', 'layer'


class OnCallOverrideViewSet(ServiceViewSet):
    """Overrides: a person on call instead of the rotation for a window (people who work incidents: their own)."""

    queryset = selectors.override_list()
    serializer_class = OnCallOverrideSerializer
    filterset_class = OnCallOverrideFilterSet
    service_prefix, service_kwarg = 'override', 'override'


class EscalationPolicyViewSet(ServiceViewSet):
    """One escalation policy per group: levels paged in turn while nobody acknowledges."""

    queryset = selectors.policy_list()
    serializer_class = EscalationPolicySerializer
    filterset_class = EscalationPolicyFilterSet
    service_prefix, service_kwarg = 'policy', 'policy'


class PageViewSet(viewsets.ReadOnlyModelViewSet):
    """Pages sent (`?state=`, `?recipient=`, `?record=`); `acknowledge` stops a record's escalation."""

    queryset = selectors.page_list().select_related('content_type')
    serializer_class = PageSerializer
    filterset_class = PageFilterSet
    permission_classes = [RolePermission]
    permission_action: str | None = None

    @extend_schema(request=None, responses={200: PageSerializer, 409: dict})
    @action(detail=True, methods=['post'], permission_action='change')
    def acknowledge(self, request, pk=None):
        """Acknowledge this page (the person paged, the group manager or incident managers); 409 with who and
        when if the record's page was already acknowledged."""
        page = services.page_acknowledge(page=self.get_object(), actor=Actor.from_request(request), via='api')
        return Response(PageSerializer(selectors.page_list().select_related('content_type').get(pk=page.pk)).data)


class OnCallNowView(APIView):
    """Who is on call now and next on every schedule (`?group=` for one group's, `?shifts=1` adds two weeks of
    shifts)."""

    permission_classes = [RolePermission]
    queryset = OnCallSchedule.objects.none()

    @extend_schema(
        parameters=[
            OpenApiParameter('group', int, description='Support group id.'),
            OpenApiParameter('shifts', bool, description='Add the shifts of the next 14 days.'),
        ],
        responses=OnCallNowSerializer(many=True),
    )
    def get(self, request):
        schedules = selectors.schedules_with_rotation()
        group = request.query_params.get('group', '')
        if group:
            if not group.isdigit():
                return Response(
                    {'detail': 'group must be a support group id.', 'code': 'invalid', 'group': ['Not a number.']},
                    status=status.HTTP_400_BAD_REQUEST,
                )
            schedules = schedules.filter(group_id=int(group))
        with_shifts = request.query_params.get('shifts', '') in ('1', 'true', 'yes')
        rows = selectors.now_and_next(list(schedules))
        return Response([now_data(row, with_shifts=with_shifts) for row in rows])
