"""`/api/v1/webhooks/`: subscriptions (owners see their own, administrators all), `rotate-secret` and `test`;
`/api/v1/webhook-deliveries/`: their delivery log, read-only, with `redeliver`."""

from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from itsm.api.viewsets import ItsmModelViewSet
from itsm.audit import Actor
from itsm.permissions import RolePermission

from .. import selectors, services
from ..filters import WebhookDeliveryFilterSet, WebhookSubscriptionFilterSet
from ..models import WebhookDelivery, WebhookSubscription
from .serializers import (
    WebhookDeliveryDetailSerializer,
    WebhookDeliverySerializer,
    WebhookSubscriptionSecretSerializer,
    WebhookSubscriptionSerializer,
)


class WebhookSubscriptionViewSet(ItsmModelViewSet):
    """Outbound webhook subscriptions. The signing secret is answered once: on creation and on `rotate-secret`."""

    queryset = WebhookSubscription.objects.none()  # the schema's model; requests get `get_queryset`
    serializer_class = WebhookSubscriptionSerializer
    filterset_class = WebhookSubscriptionFilterSet
    permission_classes = [RolePermission]

    def get_queryset(self):
        if getattr(self, 'swagger_fake_view', False):
            return self.queryset
        return selectors.subscriptions_for(self.request.user)

    @extend_schema(responses={201: WebhookSubscriptionSecretSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription = services.subscription_create(actor=self.actor(), **serializer.validated_data)
        return Response(WebhookSubscriptionSecretSerializer(subscription).data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        serializer.instance = services.subscription_update(
            subscription=serializer.instance, actor=self.actor(), **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.subscription_delete(subscription=instance, actor=self.actor())

    @extend_schema(request=None, responses=WebhookSubscriptionSecretSerializer)
    @action(detail=True, methods=['post'], url_path='rotate-secret', permission_action='change')
    def rotate_secret(self, request, pk=None):
        """A new signing secret, answered this once; the old one stops signing at once."""
        subscription = services.subscription_rotate_secret(subscription=self.get_object(), actor=self.actor())
        return Response(WebhookSubscriptionSecretSerializer(subscription).data)

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer})
    @action(detail=True, methods=['post'], permission_action='change')
    def test(self, request, pk=None):
        """Send a `ping` event now; the answer is its delivery (follow it in the delivery log)."""
        delivery = services.subscription_ping(subscription=self.get_object(), actor=self.actor())
        delivery.refresh_from_db()
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class WebhookDeliveryViewSet(viewsets.ReadOnlyModelViewSet):
    """The delivery log of the subscriptions I may see (`?subscription=`, `?status=`, `?event_type=`)."""

    queryset = WebhookDelivery.objects.none()
    serializer_class = WebhookDeliverySerializer
    filterset_class = WebhookDeliveryFilterSet
    permission_classes = [RolePermission]
    permission_action: str | None = None

    def get_queryset(self):
        if getattr(self, 'swagger_fake_view', False):
            return self.queryset
        queryset = selectors.deliveries_for(self.request.user)
        if self.action != 'list':
            queryset = WebhookDelivery.objects.filter(pk__in=queryset.values('pk')).prefetch_related('attempt_log')
        return queryset

    def get_serializer_class(self):
        return WebhookDeliverySerializer if self.action == 'list' else WebhookDeliveryDetailSerializer

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer})
    @action(detail=True, methods=['post'], permission_action='view')
    def redeliver(self, request, pk=None):
        """Send this delivery's payload again (same body and event id) as a new delivery."""
        delivery = services.delivery_redeliver(delivery=self.get_object(), actor=Actor.from_request(request))
        delivery.refresh_from_db()
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
