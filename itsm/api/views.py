"""Core API: tokens, people and support groups."""

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from itsm import selectors, services
from itsm.filters import SupportGroupFilterSet, UserFilterSet

from .serializers import SupportGroupSerializer, TokenRequestSerializer, TokenResponseSerializer, UserSerializer
from .viewsets import ItsmModelViewSet


class TokenView(APIView):
    """Exchange a username and password for an API token (`Authorization: Token …`)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = 'login'

    @extend_schema(request=TokenRequestSerializer, responses={200: TokenResponseSerializer})
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(
            request, username=serializer.validated_data['username'], password=serializer.validated_data['password']
        )
        if user is None:
            return Response(
                {'detail': 'Unable to log in with that username and password.', 'code': 'invalid_credentials'},
                status=status.HTTP_400_BAD_REQUEST,
            )
        token, _ = Token.objects.get_or_create(user=user)
        return Response({'token': token.key})


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
