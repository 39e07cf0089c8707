"""Major-incident filters shared by the list page and the API."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from itsm.choices import Priority
from itsm.filters import DateTimeFilter, TextSearchFilterSet

from .choices import ACTIVE, MajorIncidentState, ResponseMode, Severity
from .models import MajorIncident


def _item(value: str) -> Q:
    """A configuration item by id, number or exact name."""
    value = value.strip()
    if value.isdigit():
        return Q(pk=int(value))
    return Q(number__iexact=value) | Q(name__iexact=value)


class MajorIncidentFilterSet(TextSearchFilterSet):
    search_fields = ('number', 'short_description', 'description', 'public_title', 'resolution', 'handoff_reference')

    state = django_filters.MultipleChoiceFilter(choices=MajorIncidentState.choices)
    active = django_filters.BooleanFilter(method='filter_active', label='Active (service still down)')
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices)
    severity = django_filters.MultipleChoiceFilter(choices=Severity.choices)
    mode = django_filters.ChoiceFilter(choices=ResponseMode.choices)
    service = django_filters.CharFilter(method='filter_service', label='Service (CI number or name)')
    ci = django_filters.CharFilter(method='filter_ci', label='CI (number or name)')
    incident_manager = django_filters.CharFilter(
        method='filter_incident_manager', label='Incident manager (username, or "me")'
    )
    declared_after = DateTimeFilter(field_name='declared_at', lookup_expr='gte')
    declared_before = DateTimeFilter(field_name='declared_at', lookup_expr='lt')

    class Meta:
        model = MajorIncident
        fields: list[str] = []

    def filter_active(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(state__in=ACTIVE) if value else queryset.exclude(state__in=ACTIVE)

    def filter_incident_manager(self, queryset, name, value):
        value = value.strip()
        if value.lower() == 'me':
            user = getattr(self.request, 'user', None)
            return queryset.filter(incident_manager=user) if user and user.is_authenticated else queryset.none()
        if value.isdigit():
            return queryset.filter(incident_manager_id=int(value))
        return queryset.filter(incident_manager__username__iexact=value)

    def filter_service(self, queryset, name, value):
        from cmdb.models import ConfigurationItem

        items = ConfigurationItem.objects.filter(_item(value)).values('pk')
        # A subquery rather than a join: the list stays one row per major incident without DISTINCT.
        return queryset.filter(
            pk__in=MajorIncident.services.through.objects.filter(configurationitem__in=items).values('majorincident')
        )

    def filter_ci(self, queryset, name, value):
        from cmdb.models import ConfigurationItem

        items = ConfigurationItem.objects.filter(_item(value)).values('pk')
        return queryset.filter(
            pk__in=MajorIncident.cis.through.objects.filter(configurationitem__in=items).values('majorincident')
        )
