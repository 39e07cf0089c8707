"""CMDB API: CIs (with impact analysis, dependency graph, schema and CSV import), relationships, services and
their RACI matrices. Writes go through `cmdb.services`; reads through `cmdb.selectors`."""

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers as drf_serializers
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from itsm.api.parsers import JSONParser
from itsm.api.viewsets import ItsmModelViewSet, NumberLookupMixin
from itsm.permissions import user_can

from .. import importer, selectors, services
from ..choices import RaciActivity, RaciRole
from ..filters import ConfigurationItemFilterSet, RaciAssignmentFilterSet, RelationshipFilterSet, ServiceFilterSet
from ..models import ConfigurationItem, RaciAssignment, Relationship
from ..schema import RELATIONSHIP_RULES, schema_as_data
from .serializers import (
    ConfigurationItemSerializer,
    ImpactQuerySerializer,
    ImpactResponseSerializer,
    ImportRequestSerializer,
    RaciAssignmentSerializer,
    RelationshipSerializer,
    ServiceSerializer,
)

__all__ = ['ConfigurationItemViewSet', 'RaciAssignmentViewSet', 'RelationshipViewSet', 'ServiceViewSet']


def _change_reference(request, data: dict) -> str:
    """From the body on writes; from `?change_reference=` on DELETE, which has no body."""
    return data.pop('change_reference', '') or request.query_params.get('change_reference', '')


def _service_summary(item) -> dict:
    return {
        'number': item.number,
        'name': item.name,
        'depth': item.depth,
        'status': item.service_status,
        'criticality': item.criticality,
    }


class ConfigurationItemViewSet(NumberLookupMixin, ItsmModelViewSet):
    """Configuration items, by number. A CI's page (`GET /cis/{number}/`) also lists the services it impacts
    and the one an incident on it most likely affects (`suggested_service`)."""

    queryset = selectors.ci_list()
    serializer_class = ConfigurationItemSerializer
    filterset_class = ConfigurationItemFilterSet

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        reference = _change_reference(self.request, data)
        serializer.instance = services.ci_create(actor=self.actor(), change_reference=reference, **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        reference = _change_reference(self.request, data)
        serializer.instance = services.ci_update(
            ci=serializer.instance, actor=self.actor(), change_reference=reference, **data
        )

    def perform_destroy(self, instance):
        services.ci_delete(ci=instance, actor=self.actor(), change_reference=_change_reference(self.request, {}))

    @extend_schema(
        responses=inline_serializer(
            'ConfigurationItemDetail',
            {
                **{name: f for name, f in ConfigurationItemSerializer().fields.items() if not f.write_only},
                'services': drf_serializers.ListField(child=drf_serializers.DictField()),
                'suggested_service': drf_serializers.DictField(allow_null=True),
            },
        )
    )
    def retrieve(self, request, *args, **kwargs):
        ci = self.get_object()
        impacted = selectors.services_impacted_by(ci)
        data = self.get_serializer(ci).data
        data['services'] = [_service_summary(item) for item in impacted]
        data['suggested_service'] = _service_summary(impacted[0]) if impacted else None
        return Response(data)

    @extend_schema(parameters=[ImpactQuerySerializer], responses=ImpactResponseSerializer)
    @action(detail=True, methods=['get'])
    def impact(self, request, number=None):
        """Everything downstream of the CI (what breaks when it fails) or upstream (what it depends on), each
        CI once at its shortest distance, with the path to it. Cycles are followed once.

        `count_only=1` counts them; `limit` (and `offset`) returns one page with the count. Both are bounded, so a
        hub on which the whole estate depends answers quickly: see `count_exact`."""
        query = ImpactQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        ci = self.get_object()
        params = query.validated_data
        head = {'ci': ci.number, 'direction': params['direction'], 'depth': params['depth']}
        if params['count_only'] or 'limit' in params or 'offset' in params:
            walk = selectors.ci_impact_page(
                ci,
                direction=params['direction'],
                depth=params['depth'],
                offset=params.get('offset', 0),
                limit=0 if params['count_only'] else params.get('limit', selectors.IMPACT_PAGE_SIZE),
                cap=selectors.IMPACT_COUNT_LIMIT,
                paths=params['path'],
            )
            data = walk.as_dict(path=params['path'])
            if params['count_only']:
                for key in ('offset', 'limit', 'items'):
                    data.pop(key)
            return Response({**head, **data})
        items = selectors.ci_impact(ci, direction=params['direction'], depth=params['depth'], paths=params['path'])
        return Response({**head, 'items': [item.as_dict(path=params['path']) for item in items]})

    @extend_schema(
        parameters=[OpenApiParameter('depth', OpenApiTypes.INT, description='Steps each way (1–8, default 2).')],
        responses=OpenApiTypes.OBJECT,
    )
    @action(detail=True, methods=['get'])
    def graph(self, request, number=None):
        """Nodes and edges around the CI for the dependency map, `depth` steps upstream and downstream."""
        try:
            depth = max(1, min(int(request.query_params.get('depth', 2)), 8))
        except ValueError:
            depth = 2
        return Response(selectors.ci_graph(self.get_object(), depth=depth))

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=['get'], url_path='schema')
    def class_schema(self, request):
        """Attributes of each CI class (type, required, allowed values) and the classes each relationship
        type may link."""
        return Response(
            {
                'classes': schema_as_data(),
                'relationships': {
                    str(type_): {'sources': sorted(rule.sources), 'targets': sorted(rule.targets)}
                    for type_, rule in RELATIONSHIP_RULES.items()
                },
            }
        )

    @extend_schema(request=ImportRequestSerializer, responses=OpenApiTypes.OBJECT)
    @action(
        detail=False,
        methods=['post'],
        url_path='import',
        parser_classes=[MultiPartParser, FormParser, JSONParser],
        permission_action='add',
    )
    def import_csv(self, request):
        """Import CIs and relationships from CSV files (`cis`, `relationships`), matched on (class, name).
        All or nothing: 200 with the report when imported (or on a dry run), 400 with it when a row failed."""
        if not user_can(request.user, ConfigurationItem, 'change') or not user_can(request.user, Relationship, 'add'):
            return Response(
                {
                    'detail': 'Importing needs permission to add and change CIs and relationships.',
                    'code': 'permission_denied',
                },
                status=status.HTTP_403_FORBIDDEN,
            )
        form = ImportRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        report = importer.import_csv(
            actor=self.actor(),
            cis=data.get('cis'),
            relationships=data.get('relationships'),
            dry_run=data['dry_run'],
            change_reference=data.get('change_reference', ''),
        )
        body = report.as_dict()
        if report.errors:
            return Response(
                {'detail': f'{len(report.errors)} row(s) in error; nothing was imported.', 'code': 'invalid', **body},
                status=400,
            )
        return Response(body)


class RelationshipViewSet(ItsmModelViewSet):
    """Typed, directed relationships: `source` depends on `target`. Refusals (self-links, duplicates, class
    pairs the type does not allow) come back as 400 with the reason."""

    queryset = selectors.relationship_list()
    serializer_class = RelationshipSerializer
    filterset_class = RelationshipFilterSet

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        reference = _change_reference(self.request, data)
        serializer.instance = services.relationship_create(actor=self.actor(), change_reference=reference, **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        reference = _change_reference(self.request, data)
        serializer.instance = services.relationship_update(
            relationship=serializer.instance, actor=self.actor(), change_reference=reference, **data
        )

    def perform_destroy(self, instance):
        services.relationship_delete(
            relationship=instance, actor=self.actor(), change_reference=_change_reference(self.request, {})
        )


class ServiceViewSet(ItsmModelViewSet):
    """Business and technical services with their RACI matrix. Addressed by id or by CI number."""

    queryset = selectors.service_list().prefetch_related(
        Prefetch('raci', queryset=RaciAssignment.objects.select_related('person', 'support_group'))
    )
    serializer_class = ServiceSerializer
    filterset_class = ServiceFilterSet
    lookup_value_regex = '[^/]+'

    def get_object(self):
        value = str(self.kwargs[self.lookup_field])
        lookup = {'pk': value} if value.isdigit() else {'ci__number': value.upper()}
        service = get_object_or_404(self.filter_queryset(self.get_queryset()), **lookup)
        self.check_object_permissions(self.request, service)
        return service

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        reference = _change_reference(self.request, data)
        serializer.instance = services.service_create(actor=self.actor(), change_reference=reference, **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        reference = _change_reference(self.request, data)
        serializer.instance = services.service_update(
            service=serializer.instance, actor=self.actor(), change_reference=reference, **data
        )

    def perform_destroy(self, instance):
        services.service_delete(
            service=instance, actor=self.actor(), change_reference=_change_reference(self.request, {})
        )

    @extend_schema(
        parameters=[
            OpenApiParameter('activity', OpenApiTypes.STR, enum=RaciActivity.values),
            OpenApiParameter('roles', OpenApiTypes.STR, description='Comma-separated RACI roles, e.g. A,R.'),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    @action(detail=True, methods=['get'])
    def recipients(self, request, pk=None):
        """Who to notify about the service, derived from its RACI matrix (one entry per e-mail address)."""
        service = self.get_object()
        roles = [r.strip().upper() for r in request.query_params.get('roles', '').split(',') if r.strip()]
        unknown = sorted(set(roles) - set(RaciRole.values))
        activity = request.query_params.get('activity') or None
        if unknown or (activity and activity not in RaciActivity.values):
            return Response(
                {'detail': f'Unknown roles or activity: {", ".join(unknown) or activity}.', 'code': 'invalid'},
                status=400,
            )
        found = selectors.service_recipients(service, activity=activity, roles=roles or None)
        return Response({'service': service.ci.number, 'items': [r.as_dict() for r in found]})


class RaciAssignmentViewSet(ItsmModelViewSet):
    """Cells of services' RACI matrices. Exactly one A per activity: assign the A first, hand it over by
    changing that assignment, remove it last."""

    queryset = selectors.raci_list()
    serializer_class = RaciAssignmentSerializer
    filterset_class = RaciAssignmentFilterSet

    def perform_create(self, serializer):
        serializer.instance = services.raci_assign(actor=self.actor(), **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.raci_update(
            assignment=serializer.instance, actor=self.actor(), **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.raci_remove(assignment=instance, actor=self.actor())
