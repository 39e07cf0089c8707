"""`/api/v1/metrics/{measure}/`: each measure over a slice, with its trend; scheduled and kept reports (CRUD).

Query parameters of the metrics: `from`, `to` (YYYY-MM-DD; the last 30 days up to today by default),
`interval` (day, week or month), `priority`, `group`, `service`, `category`, `channel`, `agent`, `kind`, and
`source` (`rollup` or `live`; by default the daily rollups whenever they can answer). A bad or unknown
parameter is a 400 naming it.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from itsm.api.viewsets import ItsmModelViewSet
from itsm.errors import ApplicationError

from .. import registry, selectors, services
from ..engine import NotRepresentable
from ..filters import ReportFilterSet, ReportScheduleFilterSet
from ..measures import API_MEASURES, MEASURES
from ..models import DailyRollup
from ..slices import Slice, parse_slice
from . import serializers as s

__all__ = ['MetricListView', 'MetricView', 'ReportScheduleViewSet', 'ReportViewSet']

PARAMETERS = [
    OpenApiParameter('from', OpenApiTypes.DATE, description='First day (default: 29 days before `to`).'),
    OpenApiParameter('to', OpenApiTypes.DATE, description='Last day, included (default: today).'),
    OpenApiParameter('interval', str, enum=['day', 'week', 'month'], description='Trend periods.'),
    OpenApiParameter('priority', str, description='0–4 or P0–P4; several separated by commas.'),
    OpenApiParameter('group', str, description='Support group id or name (`none`: without group).'),
    OpenApiParameter('service', str, description='Service CI id or number.'),
    OpenApiParameter('category', str, description='Top-level category id or name.'),
    OpenApiParameter('channel', str, description='portal, phone, email, monitoring, api or walk_in.'),
    OpenApiParameter('agent', str, description='Assignee id or username.'),
    OpenApiParameter('kind', str, enum=['incident', 'case']),
    OpenApiParameter('source', str, enum=['auto', 'rollup', 'live']),
]


class MetricsAccess:
    """Metrics need `reports.view_dailyrollup` (managers, incident managers, integrations)."""

    queryset = DailyRollup.objects.none()


class MetricListView(MetricsAccess, APIView):
    """The measures and what each means."""

    @extend_schema(operation_id='metrics_list', responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return Response(
            {
                'measures': [
                    {
                        'measure': slug,
                        'label': MEASURES[slug].label,
                        'unit': MEASURES[slug].unit,
                        'definition': MEASURES[slug].definition,
                        'counted_on': MEASURES[slug].counted_on,
                        'url': request.build_absolute_uri(f'{slug}/'),
                    }
                    for slug in API_MEASURES
                ]
                + [
                    {
                        'measure': m.slug,
                        'label': m.label,
                        'unit': m.unit,
                        'definition': m.definition,
                        'counted_on': m.counted_on,
                        'url': request.build_absolute_uri(f'{m.slug}/'),
                    }
                    for m in registry.registered()
                    if request.user.has_perm(m.permission)
                ]
            }
        )


class MetricView(MetricsAccess, APIView):
    """One measure over a slice: its figures (MTTR and MTTA: count, mean, median and p90 in hours) and a
    `series` entry per period."""

    def check_permissions(self, request):
        """A measure another app registers needs that measure's permission instead of the desk's."""
        other = registry.get(self.kwargs.get('measure', ''))
        if other is None:
            super().check_permissions(request)
        elif not (request.user and request.user.is_authenticated and request.user.has_perm(other.permission)):
            self.permission_denied(request, code='permission_denied')

    @extend_schema(parameters=PARAMETERS, responses={200: OpenApiTypes.OBJECT})
    def get(self, request, measure: str):
        other = registry.get(measure)
        if other is not None:
            return Response(_registered(other, parse_slice(request.query_params, strict=True)))
        if measure not in API_MEASURES:
            known = [*API_MEASURES, *(m.slug for m in registry.registered())]
            error = ApplicationError(f'No measure "{measure}". Measures: {", ".join(known)}.', code='not_found')
            error.status_code = 404
            raise error
        slice_ = parse_slice(request.query_params, strict=True)
        try:
            return Response(selectors.measure(measure, slice_))
        except NotRepresentable:
            raise ValidationError(
                {
                    'source': 'The daily rollups hold one of group, service, category, channel or agent at a time; '
                    'use source=live to combine them.'
                }
            ) from None


def _registered(measure: registry.RegisteredMeasure, slice_: Slice) -> dict:
    """A registered measure's answer, shaped as the desk's: what it means, the slice, then its figures."""
    refused = {
        name: [f'{measure.label} cannot be filtered by {name}. Filters: {", ".join(measure.filters) or "none"}.']
        for name in slice_.filters()
        if name not in measure.filters
    }
    if refused:
        raise ValidationError(refused)
    return {
        'measure': measure.slug,
        'label': measure.label,
        'unit': measure.unit,
        'definition': measure.definition,
        'counted_on': measure.counted_on,
        'from': slice_.start.isoformat(),
        'to': slice_.end.isoformat(),
        'interval': slice_.interval,
        'filters': {k: list(v) if isinstance(v, tuple) else v for k, v in slice_.filters().items()},
        'source': 'live',
        'as_of': None,
        **measure.compute(slice_),
    }


class ReportScheduleViewSet(ItsmModelViewSet):
    """MTTR reports e-mailed to a manager daily, weekly or monthly, with the CSV attached."""

    queryset = selectors.schedule_list()
    serializer_class = s.ReportScheduleSerializer
    filterset_class = ReportScheduleFilterSet

    def perform_create(self, serializer):
        serializer.instance = services.schedule_create(actor=self.actor(), **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.schedule_update(
            actor=self.actor(), schedule=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.schedule_delete(actor=self.actor(), schedule=instance)


class ReportViewSet(ItsmModelViewSet):
    """Kept MTTR reports. POST generates one now; PATCH renames or annotates it; its figures never change."""

    queryset = selectors.report_list()
    serializer_class = s.ReportSerializer
    filterset_class = ReportFilterSet

    def get_serializer_class(self):
        return s.ReportUpdateSerializer if self.action in ('update', 'partial_update') else s.ReportSerializer

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        send = data.pop('send', False)
        user = self.request.user
        serializer.instance = services.report_generate(
            actor=self.actor(), send_to=[user.email] if send and user.email else [], **data
        )

    def perform_update(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.report_update(
            actor=self.actor(), report=serializer.instance, title=data.get('title'), notes=data.get('notes')
        )

    def perform_destroy(self, instance):
        services.report_delete(actor=self.actor(), report=instance)
