"""Filters of the service level pages and API (one filter set per model, shared by both)."""

import django_filters
from django.db.models import Q
from django.utils import timezone

from itsm.choices import Priority, TicketKind
from itsm.filters import TextSearchFilterSet
from itsm.models import SupportGroup

from .choices import ClockKind, ClockState, EventKind
from .models import (
    BusinessCalendar,
    ClockEvent,
    ClockPause,
    OperationalLevelAgreement,
    ServiceLevelAgreement,
    SlaClock,
    UnderpinningContract,
)

__all__ = [
    'BusinessCalendarFilterSet',
    'ClockEventFilterSet',
    'ClockPauseFilterSet',
    'OperationalLevelAgreementFilterSet',
    'ServiceLevelAgreementFilterSet',
    'SlaClockFilterSet',
    'UnderpinningContractFilterSet',
]


class BusinessCalendarFilterSet(TextSearchFilterSet):
    search_fields = ('name', 'timezone', 'description')

    class Meta:
        model = BusinessCalendar
        fields = ['holiday_country', 'builtin']


class ServiceLevelAgreementFilterSet(TextSearchFilterSet):
    search_fields = ('name', 'description')
    ticket_kind = django_filters.ChoiceFilter(choices=TicketKind.choices)
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices)
    service = django_filters.CharFilter(field_name='service__number', lookup_expr='iexact', label='Service (number)')
    calendar = django_filters.CharFilter(field_name='calendar__name', lookup_expr='iexact')
    default = django_filters.BooleanFilter(field_name='service', lookup_expr='isnull', label='Default (no service)')

    class Meta:
        model = ServiceLevelAgreement
        fields = ['active']


class OperationalLevelAgreementFilterSet(TextSearchFilterSet):
    search_fields = ('name', 'description', 'support_group__name')
    group = django_filters.ModelChoiceFilter(
        field_name='support_group', queryset=SupportGroup.objects.all(), label='Support group'
    )
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices)
    calendar = django_filters.CharFilter(field_name='calendar__name', lookup_expr='iexact')

    class Meta:
        model = OperationalLevelAgreement
        fields = ['active']


class UnderpinningContractFilterSet(TextSearchFilterSet):
    search_fields = ('name', 'supplier', 'reference', 'notes')
    supplier = django_filters.CharFilter(lookup_expr='icontains')
    service = django_filters.CharFilter(field_name='service__number', lookup_expr='iexact', label='Service (number)')
    in_force = django_filters.BooleanFilter(method='filter_in_force', label='In force today')

    class Meta:
        model = UnderpinningContract
        fields = []

    def filter_in_force(self, queryset, name, value):
        today = timezone.localdate()
        current = (Q(valid_from__isnull=True) | Q(valid_from__lte=today)) & (
            Q(valid_until__isnull=True) | Q(valid_until__gte=today)
        )
        return queryset.filter(current) if value else queryset.exclude(current)


class SlaClockFilterSet(TextSearchFilterSet):
    search_fields = ('ticket__number', 'ticket__short_description', 'name')
    state = django_filters.MultipleChoiceFilter(choices=ClockState.choices)
    kind = django_filters.MultipleChoiceFilter(choices=ClockKind.choices)
    ticket = django_filters.CharFilter(field_name='ticket__number', lookup_expr='iexact', label='Ticket (number)')
    group = django_filters.ModelChoiceFilter(
        field_name='support_group', method='filter_group', queryset=SupportGroup.objects.all(), label='Support group'
    )
    open = django_filters.BooleanFilter(field_name='stopped_at', lookup_expr='isnull', label='Open')
    breached = django_filters.BooleanFilter(
        field_name='breached_at', lookup_expr='isnull', exclude=True, label='Breached'
    )
    at_risk = django_filters.BooleanFilter(method='filter_at_risk', label='At risk')
    due_before = django_filters.IsoDateTimeFilter(field_name='due_at', lookup_expr='lte', label='Due before')

    class Meta:
        model = SlaClock
        fields = []

    def filter_group(self, queryset, name, value):
        return queryset.filter(Q(support_group=value) | Q(support_group__isnull=True, ticket__assignment_group=value))

    def filter_at_risk(self, queryset, name, value):
        risky = Q(stopped_at__isnull=True, warned_at__isnull=False, breached_at__isnull=True)
        return queryset.filter(risky) if value else queryset.exclude(risky)


class ClockEventFilterSet(TextSearchFilterSet):
    search_fields = ('clock__ticket__number', 'clock__name')
    kind = django_filters.ChoiceFilter(choices=EventKind.choices)
    ticket = django_filters.CharFilter(field_name='clock__ticket__number', lookup_expr='iexact', label='Ticket')
    clock_kind = django_filters.MultipleChoiceFilter(field_name='clock__kind', choices=ClockKind.choices)
    after = django_filters.IsoDateTimeFilter(field_name='at', lookup_expr='gte')
    before = django_filters.IsoDateTimeFilter(field_name='at', lookup_expr='lt')

    class Meta:
        model = ClockEvent
        fields = ['superseded']


class ClockPauseFilterSet(django_filters.FilterSet):
    ticket = django_filters.CharFilter(field_name='clock__ticket__number', lookup_expr='iexact', label='Ticket')
    clock = django_filters.NumberFilter(field_name='clock', label='Clock (id)')
    open = django_filters.BooleanFilter(field_name='ended_at', lookup_expr='isnull', label='Still paused')

    class Meta:
        model = ClockPause
        fields = ['ticket_state']
