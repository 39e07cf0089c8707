"""`/api/v1/changes/calendar/?start=&end=`: the changes planned in a range with their conflicts and the freeze
windows holding them, and the freeze windows of the range; `/api/v1/freeze-windows/`: the windows (change managers
write them). A missing, malformed, reversed or too-wide range is a 400 naming the field."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from cmdb.api.fields import CINumberField
from itsm.api.viewsets import ItsmModelViewSet

from .. import calendar
from ..filters import ChangeCalendarFilterSet, FreezeWindowFilterSet
from ..models import Change, FreezeWindow

__all__ = ['ChangeCalendarViewSet', 'FreezeWindowSerializer', 'FreezeWindowViewSet']


class FreezeWindowSerializer(serializers.ModelSerializer):
    services = CINumberField(
        services_only=True, many=True, required=False, help_text='Service CI numbers; none freezes every change.'
    )

    class Meta:
        model = FreezeWindow
        fields = ['id', 'name', 'starts_at', 'ends_at', 'reason', 'services', 'active', 'created_at', 'updated_at']
        read_only_fields = ['id', 'created_at', 'updated_at']
        validators = []  # the service says why a window is refused

    def validate(self, attrs):
        start = attrs.get('starts_at', getattr(self.instance, 'starts_at', None))
        end = attrs.get('ends_at', getattr(self.instance, 'ends_at', None))
        if start and end and end <= start:
            raise serializers.ValidationError({'ends_at': 'A freeze window ends after it starts.'})
        return attrs


class FreezeWindowViewSet(ItsmModelViewSet):
    """Freeze (blackout) windows: normal changes planned inside an active one are refused at scheduling unless a
    change manager overrides with a reason; standard and emergency changes are not refused."""

    queryset = FreezeWindow.objects.all()
    serializer_class = FreezeWindowSerializer
    filterset_class = FreezeWindowFilterSet

    def get_queryset(self):
        return FreezeWindow.objects.prefetch_related('services').order_by('starts_at', 'pk')

    def perform_create(self, serializer):
        serializer.instance = calendar.freeze_window_create(actor=self.actor(), **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = calendar.freeze_window_update(
            window=serializer.instance, actor=self.actor(), **serializer.validated_data
        )

    def perform_destroy(self, instance):
        calendar.freeze_window_delete(window=instance, actor=self.actor())


class ConflictSerializer(serializers.Serializer):
    change = serializers.CharField(help_text='The other change.')
    short_description = serializers.CharField()
    planned_start = serializers.DateTimeField()
    planned_end = serializers.DateTimeField()
    ci = serializers.CharField(help_text="This change's CI.")
    related_ci = serializers.CharField(help_text="The other change's CI: the same one or related to it.")
    path = serializers.ListField(child=serializers.CharField(), help_text='CI numbers from `ci` to `related_ci`.')


class CalendarEntrySerializer(serializers.Serializer):
    number = serializers.CharField()
    short_description = serializers.CharField()
    change_type = serializers.CharField()
    state = serializers.CharField()
    risk_level = serializers.CharField()
    assignment_group = serializers.CharField(allow_null=True)
    planned_start = serializers.DateTimeField()
    planned_end = serializers.DateTimeField()
    url = serializers.CharField()
    conflicts = ConflictSerializer(many=True)
    freezes = serializers.ListField(child=serializers.IntegerField(), help_text='Freeze windows holding it (ids).')


class CalendarSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    changes = CalendarEntrySerializer(many=True)
    freezes = FreezeWindowSerializer(many=True)


def entry_data(entry: calendar.CalendarEntry) -> dict:
    change = entry.change
    return {
        'number': change.number,
        'short_description': change.short_description,
        'change_type': change.change_type,
        'state': change.state,
        'risk_level': change.risk_level,
        'assignment_group': str(change.assignment_group) if change.assignment_group_id else None,
        'planned_start': change.planned_start,
        'planned_end': change.planned_end,
        'url': change.get_absolute_url(),
        'conflicts': [c.as_dict() for c in entry.conflicts],
        'freezes': [w.pk for w in entry.freezes],
    }


class ChangeCalendarViewSet(viewsets.GenericViewSet):
    """The change calendar of a range (at most `CHANGE_CALENDAR_MAX_DAYS` days); the filters of the calendar
    page apply (without `state`: scheduled changes and those in implementation)."""

    queryset = Change.objects.all()
    serializer_class = CalendarSerializer
    filterset_class = ChangeCalendarFilterSet
    pagination_class = None
    query_parameters = ('start', 'end')

    @extend_schema(
        parameters=[
            OpenApiParameter('start', OpenApiTypes.STR, required=True, description='ISO date or date-time.'),
            OpenApiParameter('end', OpenApiTypes.STR, required=True, description='ISO date or date-time, after start.'),
        ],
        responses=CalendarSerializer,
    )
    def list(self, request, *args, **kwargs):
        start, end = calendar.parse_range(request.query_params.get('start'), request.query_params.get('end'))
        base = Change.objects.scheduled_between(start, end).select_related('assignment_group')
        if not request.query_params.getlist('state'):
            base = base.filter(state__in=calendar.CALENDAR_STATES)
        changes = list(self.filter_queryset(base).order_by('planned_start', 'pk'))
        windows = calendar.freezes_between(start, end)
        entries = calendar.calendar_entries(changes, start, end, windows)
        data = {
            'start': start,
            'end': end,
            'changes': [entry_data(e) for e in entries],
            'freezes': FreezeWindowSerializer(windows, many=True).data,
        }
        return Response(CalendarSerializer(data).data)


# `changes/calendar/` comes before the change routes (it is not a change number).
router = SimpleRouter()
router.register('freeze-windows', FreezeWindowViewSet, basename='freezewindow')
urlpatterns = [
    path('changes/calendar/', ChangeCalendarViewSet.as_view({'get': 'list'}), name='change-calendar'),
    *router.urls,
]
