"""`/api/v1/notifications/`: the caller's own notifications; `/api/v1/notification-preferences/`: their e-mail
preferences. Nobody reads or changes anyone else's: the querysets hold the person's own rows only."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from itsm.audit import Actor

from .. import selectors, services
from ..filters import NotificationFilterSet
from ..models import EmailPreference
from .serializers import EmailPreferenceSerializer, NotificationSerializer


class NotificationViewSet(viewsets.ReadOnlyModelViewSet):
    """My notifications, latest first (`?unread=true`, `?topic=mentions`, `?number=INC0001001`)."""

    serializer_class = NotificationSerializer
    filterset_class = NotificationFilterSet
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self):
        return selectors.notifications_for(self.request.user)

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=['post'])
    def read(self, request, pk=None):
        """Mark one notification read."""
        notification = services.mark_read(notification=self.get_object(), user=request.user)
        return Response(self.get_serializer(notification).data)

    @extend_schema(request=None, responses={200: {'type': 'object', 'properties': {'marked': {'type': 'integer'}}}})
    @action(detail=False, methods=['post'], url_path='read-all')
    def read_all(self, request):
        """Mark all my notifications read."""
        return Response({'marked': services.mark_all_read(user=request.user)}, status=status.HTTP_200_OK)


class EmailPreferenceViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet
):
    """My e-mail preferences: one row, all topics on until changed (`PATCH {"sla": false}`)."""

    serializer_class = EmailPreferenceSerializer
    permission_classes = [permissions.IsAuthenticated]
    http_method_names = ['get', 'patch', 'put', 'head', 'options']

    queryset = EmailPreference.objects.none()  # the schema's model; requests get `get_queryset`

    def get_queryset(self):
        if getattr(self, 'swagger_fake_view', False):
            return self.queryset
        services.preferences_for(self.request.user)
        return EmailPreference.objects.filter(user=self.request.user).select_related('user').order_by('pk')

    def perform_update(self, serializer):
        serializer.instance = services.preferences_update(
            user=self.request.user, fields=dict(serializer.validated_data), actor=Actor.from_request(self.request)
        )
