"""CMDB API shapes. CIs are named by number, people by username and support groups by name.

Validation of attributes, relationships and RACI rules lives in the models and services, so the API, the pages
and the CSV import refuse the same things with the same messages; the serializers only shape data.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from itsm.models import SupportGroup, User

from ..choices import (
    CIClass,
    CIStatus,
    Criticality,
    Environment,
    ImpactDirection,
    RaciActivity,
    RaciRole,
    RelationshipType,
    ServiceKind,
    ServiceStatus,
)
from ..models import ConfigurationItem, RaciAssignment, Relationship, Service
from ..selectors import DEFAULT_IMPACT_DEPTH, IMPACT_COUNT_LIMIT, MAX_IMPACT_DEPTH

MAX_IMPACT_PAGE = 1000

__all__ = [
    'CIReferenceField',
    'ConfigurationItemSerializer',
    'ImpactQuerySerializer',
    'ImportRequestSerializer',
    'RaciAssignmentSerializer',
    'RelationshipSerializer',
    'ServiceSerializer',
]


def _person_field(**kwargs):
    return serializers.SlugRelatedField(
        slug_field='username', queryset=User.objects.all(), required=False, allow_null=True, **kwargs
    )


def _group_field(**kwargs):
    return serializers.SlugRelatedField(
        slug_field='name', queryset=SupportGroup.objects.all(), required=False, allow_null=True, **kwargs
    )


CHANGE_REFERENCE_HELP = 'Approved change covering this edit; required for production CIs when change control is on.'


class CIReferenceField(serializers.SlugRelatedField):
    """A CI by its number, in any letter case."""

    def __init__(self, **kwargs):
        kwargs.setdefault('queryset', ConfigurationItem.objects.all())
        super().__init__(slug_field='number', **kwargs)

    def to_internal_value(self, data):
        return super().to_internal_value(str(data).strip().upper())


class ConfigurationItemSerializer(serializers.ModelSerializer):
    ci_class = serializers.ChoiceField(choices=CIClass.choices)
    status = serializers.ChoiceField(choices=CIStatus.choices, required=False)
    environment = serializers.ChoiceField(choices=Environment.choices, required=False)
    owner = _person_field()
    support_group = _group_field()
    attributes = serializers.JSONField(required=False, help_text='Class-specific attributes; see /cis/schema/.')
    change_reference = serializers.CharField(
        write_only=True, required=False, allow_blank=True, help_text=CHANGE_REFERENCE_HELP
    )

    class Meta:
        model = ConfigurationItem
        fields = [
            'number',
            'name',
            'ci_class',
            'status',
            'environment',
            'owner',
            'support_group',
            'location',
            'vendor',
            'version',
            'description',
            'attributes',
            'change_reference',
            'created_at',
            'updated_at',
        ]
        read_only_fields = ['number', 'created_at', 'updated_at']
        # Uniqueness is checked by the model, whose message names the clashing class and name.
        validators = []


class RelationshipSerializer(serializers.ModelSerializer):
    source = CIReferenceField(help_text='Number of the CI that depends on the target.')
    type = serializers.ChoiceField(choices=RelationshipType.choices)
    target = CIReferenceField(help_text='Number of the CI the source depends on.')
    source_name = serializers.CharField(source='source.name', read_only=True)
    target_name = serializers.CharField(source='target.name', read_only=True)
    change_reference = serializers.CharField(
        write_only=True, required=False, allow_blank=True, help_text=CHANGE_REFERENCE_HELP
    )

    class Meta:
        model = Relationship
        fields = [
            'id',
            'source',
            'source_name',
            'type',
            'target',
            'target_name',
            'description',
            'change_reference',
            'created_at',
        ]
        read_only_fields = ['id', 'created_at']
        # Self-links, duplicates and disallowed class pairs are refused by the model with the reason.
        validators = []


class RaciEntrySerializer(serializers.ModelSerializer):
    person = serializers.SlugRelatedField(slug_field='username', read_only=True)
    support_group = serializers.SlugRelatedField(slug_field='name', read_only=True)

    class Meta:
        model = RaciAssignment
        fields = ['id', 'activity', 'role', 'person', 'support_group', 'notes']
        read_only_fields = fields


class ServiceSerializer(serializers.Serializer):
    """A service: its CI's fields (number, name, owner, group, environment) and its details, flat."""

    id = serializers.IntegerField(source='pk', read_only=True)
    number = serializers.CharField(source='ci.number', read_only=True)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    kind = serializers.ChoiceField(choices=ServiceKind.choices, required=False)
    status = serializers.ChoiceField(choices=ServiceStatus.choices, required=False, help_text='Operational status.')
    criticality = serializers.ChoiceField(choices=Criticality.choices, required=False)
    service_owner = _person_field()
    business_owner = _person_field()
    support_group = _group_field()
    environment = serializers.ChoiceField(choices=Environment.choices, required=False)
    ci_status = serializers.ChoiceField(choices=CIStatus.choices, required=False, help_text='Lifecycle status.')
    public = serializers.BooleanField(required=False, help_text='Listed on the public status page.')
    public_name = serializers.CharField(
        max_length=120, required=False, allow_blank=True, help_text='Name on the status page.'
    )
    announce_list = serializers.CharField(
        required=False, allow_blank=True, help_text='Addresses told about its major incidents.'
    )
    raci = RaciEntrySerializer(many=True, read_only=True)
    change_reference = serializers.CharField(
        write_only=True, required=False, allow_blank=True, help_text=CHANGE_REFERENCE_HELP
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, instance):
        ci = instance.ci
        return {
            'id': instance.pk,
            'number': ci.number,
            'name': ci.name,
            'description': ci.description,
            'kind': instance.kind,
            'status': instance.status,
            'criticality': instance.criticality,
            'service_owner': ci.owner.username if ci.owner else None,
            'business_owner': instance.business_owner.username if instance.business_owner else None,
            'support_group': ci.support_group.name if ci.support_group else None,
            'environment': ci.environment,
            'ci_status': ci.status,
            'public': instance.public,
            'public_name': instance.public_name,
            'announce_list': instance.announce_list,
            'raci': RaciEntrySerializer(instance.raci.all(), many=True).data,
            'created_at': serializers.DateTimeField().to_representation(instance.created_at),
            'updated_at': serializers.DateTimeField().to_representation(instance.updated_at),
        }


@extend_schema_field(OpenApiTypes.STR)
class ServiceNumberField(serializers.RelatedField):
    """A service by its CI number."""

    default_error_messages = {'does_not_exist': 'No service {value}.'}

    def __init__(self, **kwargs):
        kwargs.setdefault('queryset', Service.objects.select_related('ci'))
        super().__init__(**kwargs)

    def to_representation(self, value):
        return value.ci.number

    def to_internal_value(self, data):
        value = str(data).strip().upper()
        service = self.get_queryset().filter(ci__number=value).first()
        if service is None:
            self.fail('does_not_exist', value=value)
        return service


class RaciAssignmentSerializer(serializers.ModelSerializer):
    service = ServiceNumberField(help_text='Number of the service CI.')
    activity = serializers.ChoiceField(choices=RaciActivity.choices)
    role = serializers.ChoiceField(choices=RaciRole.choices)
    person = _person_field()
    support_group = _group_field()

    class Meta:
        model = RaciAssignment
        fields = ['id', 'service', 'activity', 'role', 'person', 'support_group', 'notes', 'created_at']
        read_only_fields = ['id', 'created_at']
        # The exactly-one-A rule and the uniqueness checks are the service layer's, with their own messages.
        validators = []


class ImpactQuerySerializer(serializers.Serializer):
    direction = serializers.ChoiceField(choices=ImpactDirection.choices, default=ImpactDirection.DOWNSTREAM)
    depth = serializers.IntegerField(min_value=1, max_value=MAX_IMPACT_DEPTH, default=DEFAULT_IMPACT_DEPTH)
    path = serializers.BooleanField(default=True, help_text='Include each CI’s path from the start.')
    count_only = serializers.BooleanField(
        default=False,
        help_text=(
            'Only count the CIs reached (in all and at each step), listing none. The count is exact up to '
            f'{IMPACT_COUNT_LIMIT:,} CIs; beyond, the walk stops after the step that passed that number and '
            '`count_exact` is false (at least `count` CIs are affected).'
        ),
    )
    offset = serializers.IntegerField(
        min_value=0, max_value=IMPACT_COUNT_LIMIT, required=False, help_text='Skip this many CIs (paged mode).'
    )
    limit = serializers.IntegerField(
        min_value=1,
        max_value=MAX_IMPACT_PAGE,
        required=False,
        help_text=(
            'Paged mode: return at most this many CIs, nearest first then in id order, with the bounded `count` '
            '(as for `count_only`). Without `limit` or `offset` every CI reached is returned, unbounded.'
        ),
    )


class ImpactItemSerializer(serializers.Serializer):
    number = serializers.CharField()
    name = serializers.CharField()
    ci_class = serializers.ChoiceField(choices=CIClass.choices)
    depth = serializers.IntegerField()
    path = serializers.ListField(child=serializers.CharField(), required=False)


class ImpactResponseSerializer(serializers.Serializer):
    ci = serializers.CharField()
    direction = serializers.CharField()
    depth = serializers.IntegerField()
    count = serializers.IntegerField(required=False, help_text='CIs reached (count-only and paged modes).')
    count_exact = serializers.BooleanField(
        required=False, help_text='False when the walk stopped early at the count limit: `count` is a floor.'
    )
    depth_reached = serializers.IntegerField(required=False, help_text='Steps the walk took.')
    by_depth = serializers.ListField(
        child=serializers.IntegerField(), required=False, help_text='CIs first reached at each step, from step 1.'
    )
    offset = serializers.IntegerField(required=False)
    limit = serializers.IntegerField(required=False)
    items = ImpactItemSerializer(many=True, required=False)


class ImportRequestSerializer(serializers.Serializer):
    cis = serializers.FileField(required=False, help_text='CSV of CIs: class, name, status, ..., attr.<name>.')
    relationships = serializers.FileField(required=False, help_text='CSV of relationships: source, type, target.')
    dry_run = serializers.BooleanField(default=False, help_text='Report what would change; keep nothing.')
    change_reference = serializers.CharField(required=False, allow_blank=True, help_text=CHANGE_REFERENCE_HELP)
