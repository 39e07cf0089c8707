"""Filters of the service level pages and API (one filter set per model, shared by both).

A clock's record may be any kind of process record: filters and searches on the record (`ticket`, `group`, `q`)
look through each record kind's relation (`sla.records.record_q`), one join per kind."""

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.choices import CallableChoiceIterator

from itsm.choices import Priority
from itsm.filters import DateTimeFilter, IdFilter, TextSearchFilterSet
from itsm.models import SupportGroup

from . import records
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
    # Lazy but not callable: the choices are read when used, and the API schema still lists them.
    ticket_kind = django_filters.ChoiceFilter(choices=CallableChoiceIterator(records.kind_choices))
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices)
    service = django_filters.CharFilter(field_name='service__number', lookup_expr='iexact', label='Service (number)')
    calendar = django_filters.CharFilter(field_name='calendar__name', lookup_expr='iexact')
    default = django_filters.BooleanFilter(field_name='service', lookup_expr='isnull', label='Default (no service)')

    class Meta:
        model = ServiceLevelAgreement
        fields = ['active', 'hypercare']


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


def _record_number(queryset, name, value, prefix=''):
    return queryset.filter(records.record_q('number', 'iexact', value, prefix=prefix)) if value else queryset


class RecordSearchFilterSet(TextSearchFilterSet):
    """`q` also searches the number and short description of the clock's record, whatever kind it is."""

    record_search_fields: tuple[str, ...] = ('number', 'short_description')
    own_search_fields: tuple[str, ...] = ()
    record_prefix = ''

    def filter_text(self, queryset, name, value):
        text = value.strip()
        if not text:
            return queryset
        condition = Q()
        for field in self.record_search_fields:
            condition |= records.record_q(field, 'icontains', text, prefix=self.record_prefix)
        for field in self.own_search_fields:
            condition |= Q(**{f'{field}__icontains': text})
        return queryset.filter(condition)


class SlaClockFilterSet(RecordSearchFilterSet):
    own_search_fields = ('name',)
    state = django_filters.MultipleChoiceFilter(choices=ClockState.choices)
    kind = django_filters.MultipleChoiceFilter(choices=ClockKind.choices)
    ticket = django_filters.CharFilter(method='filter_record', label='Ticket (number)')
    group = django_filters.ModelChoiceFilter(
        field_name='support_group', method='filter_group', queryset=SupportGroup.objects.all(), label='Support group'
    )
    open = django_filters.BooleanFilter(field_name='stopped_at', lookup_expr='isnull', label='Open')
    breached = django_filters.BooleanFilter(
        field_name='breached_at', lookup_expr='isnull', exclude=True, label='Breached'
    )
    at_risk = django_filters.BooleanFilter(method='filter_at_risk', label='At risk')
    due_before = DateTimeFilter(field_name='due_at', lookup_expr='lte', label='Due before')
    likely_to_breach = django_filters.BooleanFilter(method='filter_likely_to_breach', label='Likely to breach')

    class Meta:
        model = SlaClock
        fields = []

    def filter_record(self, queryset, name, value):
        return _record_number(queryset, name, value)

    def filter_group(self, queryset, name, value):
        held = Q(support_group__isnull=True) & records.record_q('assignment_group', 'exact', value)
        return queryset.filter(Q(support_group=value) | held)

    def filter_at_risk(self, queryset, name, value):
        risky = Q(stopped_at__isnull=True, warned_at__isnull=False, breached_at__isnull=True)
        return queryset.filter(risky) if value else queryset.exclude(risky)

    def filter_likely_to_breach(self, queryset, name, value):
        likely = Q(stopped_at__isnull=True, forecast_warned_at__isnull=False)
        return queryset.filter(likely) if value else queryset.exclude(likely)


class ClockEventFilterSet(RecordSearchFilterSet):
    record_search_fields = ('number',)
    own_search_fields = ('clock__name',)
    record_prefix = 'clock__'
    kind = django_filters.ChoiceFilter(choices=EventKind.choices)
    ticket = django_filters.CharFilter(method='filter_record', label='Ticket')
    clock_kind = django_filters.MultipleChoiceFilter(field_name='clock__kind', choices=ClockKind.choices)
    after = DateTimeFilter(field_name='at', lookup_expr='gte')
    before = DateTimeFilter(field_name='at', lookup_expr='lt')

    class Meta:
        model = ClockEvent
        fields = ['superseded']

    def filter_record(self, queryset, name, value):
        return _record_number(queryset, name, value, prefix='clock__')


class ClockPauseFilterSet(django_filters.FilterSet):
    ticket = django_filters.CharFilter(method='filter_record', label='Ticket')
    clock = IdFilter(field_name='clock', label='Clock (id)')
    open = django_filters.BooleanFilter(field_name='ended_at', lookup_expr='isnull', label='Still paused')

    class Meta:
        model = ClockPause
        fields = ['ticket_state']

    def filter_record(self, queryset, name, value):
        return _record_number(queryset, name, value, prefix='clock__')
