"""The monitoring API.

Inbound (authenticated by the source's own token, not a person's session or API token):
- `POST /api/v1/integrations/alertmanager/`: Alertmanager's webhook (version 4), `Authorization: Bearer <token>`.
- `POST /api/v1/events/`: events shaped like PagerDuty's Events API v2; the body's `routing_key` is the token.
Both validate the whole body before writing anything and apply it in one transaction: a refused request leaves
nothing behind.

Administration: `/api/v1/monitoring-sources/` (CRUD, `POST .../{id}/rotate-token/`) and `/api/v1/monitoring-alerts/`
(read only).
"""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ParseError
from rest_framework.response import Response
from rest_framework.views import APIView

from itsm.api.viewsets import ItsmModelViewSet

from .. import selectors, services
from ..choices import SourceKind
from ..filters import AlertFilterSet, AlertSourceFilterSet
from ..models import AlertSource
from .serializers import AlertmanagerPayloadSerializer, AlertSerializer, AlertSourceSerializer, EventSerializer


def _unauthorized(detail: str) -> Response:
    response = Response({'detail': detail, 'code': 'not_authenticated'}, status=status.HTTP_401_UNAUTHORIZED)
    response['WWW-Authenticate'] = 'Bearer realm="monitoring"'
    return response


def _disabled(source: AlertSource) -> Response:
    detail = f'The monitoring source "{source}" is disabled: an administrator turns it on again.'
    return Response({'detail': detail, 'code': 'source_disabled'}, status=status.HTTP_403_FORBIDDEN)


def _body(request) -> dict:
    data = request.data  # a ParseError (400 "parse_error") for a body that is not JSON
    if not isinstance(data, dict):
        raise ParseError('The body must be a JSON object.')
    return data


class InboundView(APIView):
    authentication_classes: list = []  # the source's token, checked by the view: no session, no CSRF
    permission_classes = [permissions.AllowAny]
    throttle_classes: list = []  # an alert storm must not be dropped


class AlertmanagerWebhookView(InboundView):
    """Alertmanager's webhook receiver: each alert of the notification opens, counts, reopens or resolves."""

    @extend_schema(request=AlertmanagerPayloadSerializer, responses={202: dict})
    def post(self, request):
        header = request.headers.get('Authorization', '')
        scheme, _, token = header.partition(' ')
        if scheme.lower() != 'bearer' or not token.strip():
            return _unauthorized('Missing token: send "Authorization: Bearer <token>" (http_config.authorization).')
        source = services.source_for_token(token.strip(), SourceKind.ALERTMANAGER)
        if source is None:
            return _unauthorized('Unknown token: no Alertmanager source has it (was it rotated?).')
        if not source.active:
            return _disabled(source)
        serializer = AlertmanagerPayloadSerializer(data=_body(request))
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            outcomes = services.alertmanager_receive(source=source, payload=serializer.validated_data)
        body = {'status': 'success', 'message': f'{len(outcomes)} alert(s) processed'}
        return Response({**body, 'alerts': [o.as_dict() for o in outcomes]}, status=status.HTTP_202_ACCEPTED)


class EventsView(InboundView):
    """Events API (PagerDuty Events v2 shape): trigger, acknowledge or resolve by dedup key."""

    @extend_schema(request=EventSerializer, responses={202: dict})
    def post(self, request):
        data = _body(request)
        routing_key = data.get('routing_key')
        if not isinstance(routing_key, str) or not routing_key.strip():
            return _unauthorized('Missing routing_key: give the token of your events source.')
        source = services.source_for_token(routing_key.strip(), SourceKind.EVENTS)
        if source is None:
            return _unauthorized('Unknown routing_key: no events source has it (was it rotated?).')
        if not source.active:
            return _disabled(source)
        serializer = EventSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            outcome = services.events_receive(source=source, event=serializer.validated_data)
        body = {
            'status': 'success',
            'message': 'Event processed',
            'dedup_key': outcome.dedup_key,
            'action': outcome.action,
            'incident': outcome.incident.number if outcome.incident else None,
        }
        return Response(body, status=status.HTTP_202_ACCEPTED)


class AlertSourceViewSet(ItsmModelViewSet):
    """Monitoring sources. The token is returned once, in the answer to create and to `rotate-token`."""

    queryset = AlertSource.objects.none()
    serializer_class = AlertSourceSerializer
    filterset_class = AlertSourceFilterSet
    http_method_names = ['get', 'post', 'patch', 'delete', 'head', 'options']

    def get_queryset(self):
        return selectors.source_list()

    def perform_create(self, serializer):
        serializer.instance = services.source_create(actor=self.actor(), **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.source_update(
            actor=self.actor(), obj=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.source_delete(actor=self.actor(), obj=instance)

    @extend_schema(request=None, responses=AlertSourceSerializer)
    @action(detail=True, methods=['post'], url_path='rotate-token', permission_action='change')
    def rotate_token(self, request, pk=None):
        """Replace the token; the old one stops working at once. The new one is in this answer only."""
        source = services.source_rotate_token(actor=self.actor(), obj=self.get_object())
        return Response(self.get_serializer(source).data)


class AlertViewSet(viewsets.ReadOnlyModelViewSet):
    """Alerts received: `?status=triggered`, `?open=true`, `?source=<id>`, `?incident=INC0001001`, `?q=`."""

    queryset = selectors.alert_list()
    serializer_class = AlertSerializer
    filterset_class = AlertFilterSet

    def get_queryset(self):
        return selectors.alert_list()
