"""Filters of schedules, layers, overrides, policies and pages, for the pages and the API."""

import django_filters
from django.db.models import Q

from itsm.filters import DateTimeFilter, IdFilter

from .choices import PageState
from .models import EscalationPolicy, OnCallOverride, OnCallSchedule, Page, RotationLayer


class OnCallScheduleFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method='search', label='Search')
    group = IdFilter(field_name='group_id')

    class Meta:
        model = OnCallSchedule
        fields = ['q', 'group']

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(group__name__icontains=value)) if value else queryset


class RotationLayerFilterSet(django_filters.FilterSet):
    schedule = IdFilter(field_name='schedule_id')
    handoff = django_filters.CharFilter()

    class Meta:
        model = RotationLayer
        fields = ['schedule', 'handoff']


class OnCallOverrideFilterSet(django_filters.FilterSet):
    schedule = IdFilter(field_name='schedule_id')
    person = IdFilter(field_name='person_id')
    ends_after = DateTimeFilter(field_name='end', lookup_expr='gt')

    class Meta:
        model = OnCallOverride
        fields = ['schedule', 'person', 'ends_after']


class EscalationPolicyFilterSet(django_filters.FilterSet):
    group = IdFilter(field_name='group_id')
    active = django_filters.BooleanFilter()

    class Meta:
        model = EscalationPolicy
        fields = ['group', 'active']


class PageFilterSet(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=PageState.choices)
    recipient = IdFilter(field_name='recipient_id')
    group = IdFilter(field_name='group_id')
    record = django_filters.CharFilter(field_name='record_number', label='Record number')

    class Meta:
        model = Page
        fields = ['state', 'recipient', 'group', 'record']
