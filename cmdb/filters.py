"""Filter sets shared by the CMDB pages and their API endpoints."""

import django_filters
from django.db.models import Q

from itsm.filters import TextSearchFilterSet
from itsm.models import SupportGroup, User

from .choices import (
    CIClass,
    CIStatus,
    Criticality,
    Environment,
    RaciActivity,
    RaciRole,
    RelationshipType,
    ServiceKind,
    ServiceStatus,
)
from .models import ConfigurationItem, RaciAssignment, Relationship, Service

__all__ = ['ConfigurationItemFilterSet', 'RaciAssignmentFilterSet', 'RelationshipFilterSet', 'ServiceFilterSet']


class ConfigurationItemFilterSet(TextSearchFilterSet):
    search_fields = ('number', 'name', 'description', 'location', 'vendor', 'version')
    ci_class = django_filters.MultipleChoiceFilter(choices=CIClass.choices, label='Class')
    status = django_filters.MultipleChoiceFilter(choices=CIStatus.choices)
    environment = django_filters.MultipleChoiceFilter(choices=Environment.choices)
    owner = django_filters.ModelChoiceFilter(
        queryset=User.objects.filter(is_active=True), to_field_name='username', label='Owner'
    )
    support_group = django_filters.ModelChoiceFilter(
        queryset=SupportGroup.objects.all(), to_field_name='name', label='Support group'
    )
    location = django_filters.CharFilter(lookup_expr='icontains')
    vendor = django_filters.CharFilter(lookup_expr='icontains')

    class Meta:
        model = ConfigurationItem
        fields = ['ci_class', 'status', 'environment', 'owner', 'support_group', 'location', 'vendor']


class ServiceFilterSet(TextSearchFilterSet):
    search_fields = ('ci__number', 'ci__name', 'ci__description')
    kind = django_filters.ChoiceFilter(choices=ServiceKind.choices)
    status = django_filters.MultipleChoiceFilter(choices=ServiceStatus.choices, label='Service status')
    criticality = django_filters.MultipleChoiceFilter(choices=Criticality.choices)
    service_owner = django_filters.ModelChoiceFilter(
        field_name='ci__owner', queryset=User.objects.all(), to_field_name='username', label='Service owner'
    )
    support_group = django_filters.ModelChoiceFilter(
        field_name='ci__support_group', queryset=SupportGroup.objects.all(), to_field_name='name'
    )

    class Meta:
        model = Service
        fields = ['kind', 'status', 'criticality', 'service_owner', 'support_group']


class RelationshipFilterSet(TextSearchFilterSet):
    search_fields = ('source__number', 'source__name', 'target__number', 'target__name', 'description')
    type = django_filters.MultipleChoiceFilter(choices=RelationshipType.choices)
    source = django_filters.CharFilter(field_name='source__number', lookup_expr='iexact', label='Source (number)')
    target = django_filters.CharFilter(field_name='target__number', lookup_expr='iexact', label='Target (number)')
    ci = django_filters.CharFilter(method='filter_ci', label='Either end (number)')

    class Meta:
        model = Relationship
        fields = ['type', 'source', 'target']

    def filter_ci(self, queryset, name, value):
        value = value.strip().upper()
        return queryset.filter(Q(source__number=value) | Q(target__number=value)) if value else queryset


class RaciAssignmentFilterSet(TextSearchFilterSet):
    search_fields = ('service__ci__name', 'person__username', 'person__last_name', 'support_group__name', 'notes')
    service = django_filters.CharFilter(field_name='service__ci__number', lookup_expr='iexact', label='Service')
    activity = django_filters.ChoiceFilter(choices=RaciActivity.choices)
    role = django_filters.ChoiceFilter(choices=RaciRole.choices)
    person = django_filters.ModelChoiceFilter(queryset=User.objects.all(), to_field_name='username')
    support_group = django_filters.ModelChoiceFilter(queryset=SupportGroup.objects.all(), to_field_name='name')

    class Meta:
        model = RaciAssignment
        fields = ['service', 'activity', 'role', 'person', 'support_group']
