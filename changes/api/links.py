"""Changes with problems and incidents over the API (`changes.links`):

- `POST /api/v1/problems/{number}/raise-rfc/`: draft a normal change fixing the problem (its CIs and services);
- `POST /api/v1/incidents/{number}/caused-by-change/`: record the change that caused the incident;
- `/api/v1/incident-causes/`: the recorded causes, read; created and deleted through the same services (no edits:
  remove and record again).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from incidents.models import Ticket
from itsm.api.viewsets import ItsmModelViewSet
from itsm.audit import Actor
from itsm.views.records import find_record
from problems.models import Problem

from .. import links
from ..filters import IncidentCauseFilterSet
from ..models import Change, IncidentCause

__all__ = ['IncidentCauseViewSet', 'IncidentCausedByViewSet', 'ProblemRfcViewSet', 'register']


class _NumberField(serializers.SlugRelatedField):
    """A record named by its number, in any case."""

    def __init__(self, **kwargs):
        super().__init__(slug_field='number', **kwargs)

    def to_internal_value(self, data):
        return super().to_internal_value(str(data).strip().upper())


class _VisibleIncidentField(_NumberField):
    """An incident named by its number, among those the requesting person may see (`visible_to`): a security
    incident is "not found" to others, as a number that does not exist."""

    def get_queryset(self):
        request = self.context.get('request')
        return Ticket.objects.visible_to(request.user) if request is not None else Ticket.objects.all()


class IncidentCauseSerializer(serializers.ModelSerializer):
    incident = _VisibleIncidentField(queryset=Ticket.objects.all())
    change = _NumberField(queryset=Change.objects.all())
    change_state = serializers.CharField(source='change.state', read_only=True)
    recorded_by = serializers.SlugRelatedField(slug_field='username', read_only=True)

    class Meta:
        model = IncidentCause
        fields = ['id', 'incident', 'change', 'change_state', 'recorded_by', 'recorded_at']
        read_only_fields = ['id', 'recorded_by', 'recorded_at']


class IncidentCauseViewSet(ItsmModelViewSet):
    """Incidents caused by changes. Recording refuses a case, a change never implemented (400) and an incident
    whose cause is already recorded (409); deleting removes the cause."""

    queryset = IncidentCause.objects.select_related('incident', 'change', 'recorded_by').order_by('-recorded_at', '-pk')
    serializer_class = IncidentCauseSerializer
    filterset_class = IncidentCauseFilterSet
    http_method_names = ['get', 'post', 'delete', 'head', 'options']

    def get_queryset(self):
        # Causes of incidents the person may see (a security incident only for those cleared for it).
        return super().get_queryset().filter(incident__in=Ticket.objects.visible_to(self.request.user).values('pk'))

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = links.record_cause(incident=data['incident'], change=data['change'], actor=self.actor())

    def perform_destroy(self, cause):
        links.remove_cause(cause=cause, actor=self.actor())


class CausedBySerializer(serializers.Serializer):
    change = _NumberField(queryset=Change.objects.all())


class IncidentCausedByViewSet(viewsets.GenericViewSet):
    """What the incident page's "Caused by change" card does."""

    lookup_field = 'number'
    lookup_value_regex = '[A-Za-z]+[0-9]+'
    queryset = IncidentCause.objects.all()  # the permission: adding a cause
    serializer_class = IncidentCauseSerializer
    permission_action = 'add'

    @extend_schema(request=CausedBySerializer, responses={201: IncidentCauseSerializer})
    @action(detail=True, methods=['post'], url_path='caused-by-change')
    def caused_by_change(self, request, number=None):
        """Record the change (implementation started) that caused the incident."""
        incident = find_record(Ticket.objects.visible_to(request.user), number)
        payload = CausedBySerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        cause = links.record_cause(
            incident=incident, change=payload.validated_data['change'], actor=Actor.from_request(request)
        )
        return Response(IncidentCauseSerializer(cause).data, status=status.HTTP_201_CREATED)


class RaiseRfcSerializer(serializers.Serializer):
    short_description = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)


class RaisedRfcSerializer(serializers.ModelSerializer):
    # Plain strings here: the change's own serializer names the state and type choices in the schema.
    state = serializers.CharField(read_only=True)
    change_type = serializers.CharField(read_only=True)
    problems = serializers.SlugRelatedField(slug_field='number', many=True, read_only=True)
    cis = serializers.SlugRelatedField(slug_field='number', many=True, read_only=True)
    services = serializers.SlugRelatedField(slug_field='number', many=True, read_only=True)

    class Meta:
        model = Change
        fields = ['number', 'short_description', 'change_type', 'state', 'problems', 'cis', 'services']
        read_only_fields = fields


class ProblemRfcViewSet(viewsets.GenericViewSet):
    """What the problem page's "Raise RFC" does."""

    lookup_field = 'number'
    lookup_value_regex = '[A-Za-z]+[0-9]+'
    queryset = Change.objects.all()  # the permission: adding a change
    serializer_class = RaisedRfcSerializer
    permission_action = 'add'

    @extend_schema(request=RaiseRfcSerializer, responses={201: RaisedRfcSerializer})
    @action(detail=True, methods=['post'], url_path='raise-rfc')
    def raise_rfc(self, request, number=None):
        """Draft a normal change fixing the problem, linked to it, with its CIs and services."""
        problem = find_record(Problem.objects.all(), number)
        payload = RaiseRfcSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        change = links.raise_rfc(problem=problem, actor=Actor.from_request(request), **payload.validated_data)
        return Response(RaisedRfcSerializer(change).data, status=status.HTTP_201_CREATED)


def register(router) -> None:
    router.register('incident-causes', IncidentCauseViewSet, basename='incidentcause')
    router.register('incidents', IncidentCausedByViewSet, basename='incident-caused-by')
    router.register('problems', ProblemRfcViewSet, basename='problem-rfc')
