"""`/api/v1/tokens/`: a person's own API tokens. List and read them (never the key), create one (the key is in that
answer only), revoke one (`DELETE`, or `POST …/revoke/` to get the revoked token back). Every signed-in person may,
requesters and integrations included; a token used here can only make tokens no wider and no longer-lived than
itself (`itsm.tokens.token_create`)."""

from __future__ import annotations

import django_filters
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from itsm import tokens
from itsm.audit import Actor
from itsm.models import ApiToken
from itsm.roles import PROJECT_APPS


class ApiTokenSerializer(serializers.ModelSerializer):
    apps = serializers.ListField(
        child=serializers.ChoiceField(choices=PROJECT_APPS),
        required=False,
        allow_empty=True,
        help_text='App labels the token may reach; empty or absent for all.',
    )
    expires_at = serializers.DateTimeField(required=False, help_text='Default and maximum lifetime from settings.')
    active = serializers.BooleanField(source='is_active', read_only=True)

    class Meta:
        model = ApiToken
        fields = [
            'id',
            'name',
            'prefix',
            'read_only',
            'apps',
            'expires_at',
            'created_at',
            'last_used_at',
            'revoked_at',
            'active',
        ]
        read_only_fields = ['prefix', 'created_at', 'last_used_at', 'revoked_at']


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.CharField(read_only=True, help_text='The key itself: shown in this answer only.')

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, 'token']


class ApiTokenFilterSet(django_filters.FilterSet):
    active = django_filters.BooleanFilter(method='filter_active', label='Neither revoked nor expired')

    class Meta:
        model = ApiToken
        fields = ['read_only']

    def filter_active(self, queryset, name, value):
        usable = queryset.usable()
        return usable if value else queryset.exclude(pk__in=usable.values('pk'))


def create_token(request, validated: dict) -> tuple[ApiToken, str]:
    """A token for the requesting person, bounded by the token the request came with, if any."""
    parent = request.auth if isinstance(request.auth, ApiToken) else None
    return tokens.token_create(user=request.user, actor=Actor.from_request(request), parent=parent, **validated)


def created_answer(token: ApiToken, key: str, status: int = status.HTTP_201_CREATED) -> Response:
    data = ApiTokenCreatedSerializer(token).data | {'token': key}
    return Response(data, status=status, headers={'Location': reverse('api:apitoken-detail', args=[token.pk])})


class ApiTokenViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """My API tokens. The key is returned once, by the POST that creates it; `DELETE` revokes (204)."""

    serializer_class = ApiTokenSerializer
    filterset_class = ApiTokenFilterSet
    permission_classes = [IsAuthenticated]
    queryset = ApiToken.objects.none()  # the schema's model; each request reads the person's own tokens

    def get_queryset(self):
        return tokens.tokens_of(self.request.user)

    @extend_schema(responses={201: ApiTokenCreatedSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return created_answer(*create_token(request, dict(serializer.validated_data)))

    def perform_destroy(self, instance):
        tokens.token_revoke(token=instance, actor=Actor.from_request(self.request))

    @extend_schema(request=None, responses=ApiTokenSerializer)
    @action(detail=True, methods=['post'])
    def revoke(self, request, pk=None):
        """Revoke the token for good (again: no change) and answer it."""
        token = tokens.token_revoke(token=self.get_object(), actor=Actor.from_request(request))
        return Response(ApiTokenSerializer(token).data)
