"""Filters of hypercare periods and rules, for the pages and the API."""

import django_filters
from django.db.models import Q
from django.utils import timezone

from changes.choices import ChangeType

from .choices import PeriodState
from .models import HypercarePeriod, HypercareRule


class ServiceNumberFilter(django_filters.CharFilter):
    """A service by its CI number (CI0000101)."""

    def filter(self, qs, value):
        return qs.filter(**{f'{self.field_name}__number__iexact': value.strip()}) if value else qs


class HypercarePeriodFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method='search', label='Search')
    state = django_filters.ChoiceFilter(choices=PeriodState.choices, method='in_state')
    service = ServiceNumberFilter(field_name='service', label='Service (CI number)')
    change = django_filters.CharFilter(field_name='change__number', lookup_expr='iexact', label='Change number')
    incident = django_filters.CharFilter(method='with_incident', label='Incident number')

    class Meta:
        model = HypercarePeriod
        fields = ['q', 'state', 'service', 'change', 'incident']

    def search(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(Q(service__name__icontains=value) | Q(reason__icontains=value))

    def in_state(self, queryset, name, value):
        now = timezone.now()
        if value == PeriodState.ACTIVE:
            return queryset.active(now)
        if value == PeriodState.SCHEDULED:
            return queryset.filter(starts_at__gt=now, ended_at__isnull=True)
        if value == PeriodState.ENDED:
            return queryset.filter(Q(ended_at__isnull=False) | Q(ends_at__lte=now))
        return queryset

    def with_incident(self, queryset, name, value):
        """Periods tagging the incident, if the person may see it (a security incident is unknown to others)."""
        if not value:
            return queryset
        from incidents.models import Ticket

        user = getattr(self.request, 'user', None)
        incidents = Ticket.objects.visible_to(user).filter(number__iexact=value.strip())
        return queryset.filter(tagged__ticket__in=incidents.values('pk')).distinct()


class HypercareRuleFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name='name', lookup_expr='icontains', label='Search')
    change_type = django_filters.ChoiceFilter(choices=ChangeType.choices)
    service = ServiceNumberFilter(field_name='service', label='Service (CI number)')
    active = django_filters.BooleanFilter()

    class Meta:
        model = HypercareRule
        fields = ['q', 'change_type', 'service', 'active']
