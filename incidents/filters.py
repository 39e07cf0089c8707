"""Ticket filters shared by the queue pages and the API."""

import django_filters
from django.db.models import Q

from itsm.choices import Attention, Impact, Priority, Urgency
from itsm.filters import DateTimeFilter, TextSearchFilterSet
from sla import selectors as sla_selectors

from .choices import TicketChannel, TicketState
from .models import RoutingRule, Ticket


class TicketFilterSet(TextSearchFilterSet):
    search_fields = ('number', 'alternate_number', 'short_description', 'description', 'source_number')

    state = django_filters.MultipleChoiceFilter(choices=TicketState.choices)
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices)
    impact = django_filters.ChoiceFilter(choices=Impact.choices)
    urgency = django_filters.ChoiceFilter(choices=Urgency.choices)
    channel = django_filters.ChoiceFilter(choices=TicketChannel.choices)
    group = django_filters.CharFilter(method='filter_group', label='Assignment group (name or id)')
    assignee = django_filters.CharFilter(field_name='assignee__username', label='Assignee (username)')
    caller = django_filters.CharFilter(field_name='caller__username', label='Caller (username)')
    service = django_filters.CharFilter(field_name='service__number', lookup_expr='iexact', label='Service (CI number)')
    ci = django_filters.CharFilter(field_name='ci__number', lookup_expr='iexact', label='CI (number)')
    category = django_filters.CharFilter(method='filter_category', label='Category (name or id)')
    opened_after = DateTimeFilter(field_name='opened_at', lookup_expr='gte')
    opened_before = DateTimeFilter(field_name='opened_at', lookup_expr='lt')
    unassigned = django_filters.BooleanFilter(field_name='assignee', lookup_expr='isnull', label='Without assignee')
    sla_breached = django_filters.BooleanFilter(method='filter_sla_breached', label='SLA breached')
    sla_at_risk = django_filters.BooleanFilter(method='filter_sla_at_risk', label='SLA at risk')
    source = django_filters.CharFilter(field_name='source_system', label='Imported from (source system)')
    parent = django_filters.CharFilter(field_name='parent__number', lookup_expr='iexact', label='Parent (number)')
    security_incident = django_filters.BooleanFilter(label='Security incident')
    attention = django_filters.ChoiceFilter(
        choices=[(value, label) for value, label in Attention.choices if value],
        label='Needs attention (customer_replied, reopened)',
    )

    class Meta:
        model = Ticket
        fields = ['kind']

    def filter_group(self, queryset, name, value):
        if value.isdigit():
            return queryset.filter(assignment_group_id=int(value))
        return queryset.filter(assignment_group__name__iexact=value)

    def filter_category(self, queryset, name, value):
        if value.isdigit():
            return queryset.filter(Q(category_id=int(value)) | Q(subcategory_id=int(value)))
        return queryset.filter(Q(category__name__iexact=value) | Q(subcategory__name__iexact=value))

    def filter_sla_breached(self, queryset, name, value):
        return sla_selectors.filter_breached(queryset, value)

    def filter_sla_at_risk(self, queryset, name, value):
        return sla_selectors.filter_at_risk(queryset, value)


class RoutingRuleFilterSet(TextSearchFilterSet):
    """Routing rules by what they match and where they send tickets (the list page and the API)."""

    search_fields = ('name',)

    active = django_filters.BooleanFilter()
    channel = django_filters.ChoiceFilter(choices=TicketChannel.choices)
    group = django_filters.CharFilter(method='filter_group', label='Assignment group (name or id)')
    service = django_filters.CharFilter(field_name='service__number', lookup_expr='iexact', label='Service (CI number)')

    class Meta:
        model = RoutingRule
        fields = ['kind']

    def filter_group(self, queryset, name, value):
        if value.isdigit():
            return queryset.filter(assignment_group_id=int(value))
        return queryset.filter(assignment_group__name__iexact=value)
