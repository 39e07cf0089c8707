"""`/api/v1/known-errors/` and `/api/v1/known-error-uses/`.

Known errors are written through `problems.known_errors` (problem managers and incident managers); requesters
read active public ones only, without the root cause. Uses are created by applying a known error to an incident
(`POST /known-error-uses/` or `POST /known-errors/{number}/apply/`), never edited.
"""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from cmdb.api.fields import CINumberField
from cmdb.models import ConfigurationItem
from itsm.api.viewsets import ItsmModelViewSet, NumberLookupMixin
from itsm.audit import Actor

from .. import known_errors, selectors
from ..filters import KnownErrorFilterSet, KnownErrorUseFilterSet
from ..models import KnownError, KnownErrorUse, Problem

__all__ = ['KnownErrorUseViewSet', 'KnownErrorViewSet']

# What requesters do not read: the analysis behind the workaround and who handles it.
INTERNAL_FIELDS = ('root_cause', 'problem', 'created_by', 'uses_count')


class ProblemNumberField(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        kwargs.setdefault('queryset', Problem.objects.all())
        super().__init__(slug_field='number', **kwargs)

    def to_internal_value(self, data):
        return super().to_internal_value(str(data).strip().upper())


class IncidentNumberField(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        from incidents.models import Ticket

        kwargs.setdefault('queryset', Ticket.objects.all())
        super().__init__(slug_field='number', **kwargs)

    def to_internal_value(self, data):
        return super().to_internal_value(str(data).strip().upper())


class KnownErrorSerializer(serializers.ModelSerializer):
    problem = ProblemNumberField(required=False, allow_null=True)
    cis = CINumberField(many=True, required=False)
    services = CINumberField(many=True, required=False, services_only=True)
    created_by = serializers.SlugRelatedField(slug_field='username', read_only=True)
    uses_count = serializers.SerializerMethodField()

    class Meta:
        model = KnownError
        fields = [
            'number',
            'title',
            'symptoms',
            'workaround',
            'root_cause',
            'public',
            'active',
            'problem',
            'cis',
            'services',
            'created_by',
            'created_at',
            'updated_at',
            'uses_count',
        ]
        read_only_fields = ['number', 'created_by', 'created_at', 'updated_at']

    def get_uses_count(self, obj) -> int:
        return len(obj.uses.all())

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get('request')
        if request is not None and request.user.is_requester_only:
            for name in INTERNAL_FIELDS:
                data.pop(name, None)
        return data


class ApplySerializer(serializers.Serializer):
    incident = IncidentNumberField()
    public = serializers.BooleanField(
        default=True, help_text='Copy the workaround into a comment the caller reads (true) or a work note (false).'
    )


class KnownErrorUseSerializer(serializers.ModelSerializer):
    known_error = serializers.SlugRelatedField(slug_field='number', queryset=KnownError.objects.all())
    incident = IncidentNumberField()
    applied_by = serializers.SlugRelatedField(slug_field='username', read_only=True)
    public = serializers.BooleanField(
        default=True,
        write_only=True,
        help_text='Copy the workaround into a comment the caller reads (true) or a work note (false).',
    )
    linked_problem = serializers.SerializerMethodField()

    class Meta:
        model = KnownErrorUse
        fields = ['id', 'known_error', 'incident', 'applied_by', 'applied_at', 'public', 'linked_problem']
        read_only_fields = ['id', 'applied_by', 'applied_at']

    def get_linked_problem(self, obj) -> str | None:
        link = getattr(obj.incident, 'problem_link', None)
        return link.problem.number if link is not None else None


def known_error_queryset():
    items = ConfigurationItem.objects.only('id', 'number')
    return KnownError.objects.select_related('problem', 'created_by').prefetch_related(
        Prefetch('cis', queryset=items), Prefetch('services', queryset=items), Prefetch('uses')
    )


class KnownErrorViewSet(NumberLookupMixin, ItsmModelViewSet):
    """Known errors, by number. Requesters read active public ones (without the root cause); problem managers and
    incident managers record, edit and retire them (`DELETE` retires: known errors and their uses are kept)."""

    queryset = known_error_queryset()
    serializer_class = KnownErrorSerializer
    filterset_class = KnownErrorFilterSet
    http_method_names = ['get', 'post', 'patch', 'head', 'options']

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data.pop('active', None)
        serializer.instance = known_errors.known_error_create(actor=self.actor(), **data)

    def perform_update(self, serializer):
        serializer.instance = known_errors.known_error_update(
            known_error=serializer.instance, actor=self.actor(), **serializer.validated_data
        )

    @extend_schema(request=None, responses=KnownErrorSerializer)
    @action(detail=True, methods=['post'], permission_action='change')
    def retire(self, request, number=None):
        """Retire the known error once the permanent fix is in place: it is no longer offered."""
        known_error = known_errors.known_error_retire(known_error=self.get_object(), actor=self.actor())
        return Response(self.get_serializer(known_error).data)

    @extend_schema(request=ApplySerializer, responses={201: KnownErrorUseSerializer})
    @action(detail=True, methods=['post'], permission_action='view')
    def apply(self, request, number=None):
        """Apply the known error to an incident: the use recorded, the incident linked to the known error's
        problem, the workaround copied into a comment (`public`) or a work note."""
        known_error = self.get_object()
        serializer = ApplySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        use = known_errors.known_error_apply(known_error=known_error, actor=self.actor(), **serializer.validated_data)
        return Response(
            KnownErrorUseSerializer(use, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED
        )


class KnownErrorUseViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Known errors applied to incidents. `POST` applies one (the service links the incident and gives the
    workaround); uses are not edited or deleted."""

    queryset = KnownErrorUse.objects.none()  # for the schema; requests read known_error_uses(user=...)
    serializer_class = KnownErrorUseSerializer
    filterset_class = KnownErrorUseFilterSet

    def get_queryset(self):
        return selectors.known_error_uses(user=self.request.user)

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = known_errors.known_error_apply(
            known_error=data['known_error'],
            incident=data['incident'],
            actor=Actor.from_request(self.request),
            public=data['public'],
        )
