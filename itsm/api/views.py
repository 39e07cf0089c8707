"""Core API: tokens, people and support groups."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers as drf_serializers
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from itsm import selectors, services, signin
from itsm.filters import SupportGroupFilterSet, UserFilterSet

from .serializers import SupportGroupSerializer, UserSerializer
from .throttling import ScopedRateThrottle
from .tokens import ApiTokenCreatedSerializer, ApiTokenSerializer, create_token, created_answer
from .viewsets import ItsmModelViewSet


class TokenExchangeSerializer(ApiTokenSerializer):
    username = drf_serializers.CharField(write_only=True)
    password = drf_serializers.CharField(write_only=True, style={'input_type': 'password'}, trim_whitespace=False)
    name = drf_serializers.CharField(required=False, allow_blank=True, max_length=100)

    class Meta(ApiTokenSerializer.Meta):
        fields = ['username', 'password', 'name', 'read_only', 'apps', 'expires_at']


class TokenView(APIView):
    """Exchange a username and password for a new API token (`Authorization: Bearer …`): full scope and the
    default lifetime unless `name`, `read_only`, `apps` or `expires_at` say otherwise. The key is in this answer
    only; list and revoke tokens at `/api/v1/tokens/`."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = 'login'

    @extend_schema(request=TokenExchangeSerializer, responses={200: ApiTokenCreatedSerializer})
    def post(self, request):
        serializer = TokenExchangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        user, refused = signin.sign_in(request, fields.pop('username'), fields.pop('password'))
        if refused is not None:
            return Response(
                {'detail': refused.message, 'code': 'too_many_attempts', 'retry_after': refused.wait_seconds},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
                headers={'Retry-After': str(refused.wait_seconds)},
            )
        if user is None:
            return Response(
                {'detail': 'Unable to log in with that username and password.', 'code': 'invalid_credentials'},
                status=status.HTTP_400_BAD_REQUEST,
            )
        request.user = user
        # 200 rather than 201, as this endpoint always answered.
        return created_answer(*create_token(request, fields), status=status.HTTP_200_OK)


class UserViewSet(ItsmModelViewSet):
    """People. Only administrators create or change them; DELETE deactivates (history keeps the person)."""

    queryset = selectors.user_list()
    serializer_class = UserSerializer
    filterset_class = UserFilterSet

    def perform_create(self, serializer):
        serializer.instance = services.user_create(actor=self.actor(), **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.user_update(
            user=serializer.instance, actor=self.actor(), **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.user_deactivate(user=instance, actor=self.actor())

    @extend_schema(request=None, responses={200: UserSerializer})
    @action(detail=True, methods=['post'], permission_action='change')
    def erase(self, request, pk=None):
        """Erase the person's personal data (administrators; requesters and deactivated staff only): 409 for
        someone who still works here."""
        user = services.user_erase(user=self.get_object(), actor=self.actor())
        return Response(self.get_serializer(user).data)


class SupportGroupViewSet(ItsmModelViewSet):
    """Support (assignment) groups with tier, manager, members and escalation target."""

    queryset = selectors.support_group_list()
    serializer_class = SupportGroupSerializer
    filterset_class = SupportGroupFilterSet
    lookup_value_regex = '[^/]+'

    def perform_update(self, serializer):
        serializer.instance = services.support_group_update(
            group=serializer.instance, actor=self.actor(), **serializer.validated_data
        )
