"""Filter sets of the source and alert lists, for the pages and the API alike."""

import django_filters

from itsm.filters import TextSearchFilterSet

from .choices import AlertStatus, SourceKind
from .models import Alert, AlertSource


class AlertSourceFilterSet(TextSearchFilterSet):
    search_fields = ('name', 'token_prefix')
    kind = django_filters.ChoiceFilter(choices=SourceKind.choices)

    class Meta:
        model = AlertSource
        fields = ['kind', 'active']


class AlertFilterSet(TextSearchFilterSet):
    search_fields = ('dedup_key', 'summary', 'incident__number')
    status = django_filters.ChoiceFilter(choices=AlertStatus.choices)
    open = django_filters.BooleanFilter(method='filter_open', label='Open (triggered or acknowledged)')
    incident = django_filters.CharFilter(method='filter_incident', label='Incident (number)')

    class Meta:
        model = Alert
        fields = ['source', 'status', 'severity']

    def filter_open(self, queryset, name, value):
        return queryset.open() if value else queryset.exclude(pk__in=queryset.open().values('pk'))

    def filter_incident(self, queryset, name, value):
        return queryset.filter(incident__number=value.strip().upper())
