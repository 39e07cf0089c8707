"""Filters of the scheduled-report and report-archive lists, shared by the pages and the API."""

import django_filters

from itsm.filters import DateTimeFilter, IdFilter, TextSearchFilterSet

from .choices import Frequency
from .models import Report, ReportSchedule

__all__ = ['ReportFilterSet', 'ReportScheduleFilterSet']


class ReportScheduleFilterSet(TextSearchFilterSet):
    search_fields = ('name', 'extra_recipients')

    frequency = django_filters.ChoiceFilter(choices=Frequency.choices)
    owner = django_filters.CharFilter(field_name='owner__username', label='Manager (username)')

    class Meta:
        model = ReportSchedule
        fields = ['active']


class ReportFilterSet(TextSearchFilterSet):
    search_fields = ('title', 'notes')

    schedule = IdFilter(field_name='schedule_id', label='Schedule (id)')
    generated_after = DateTimeFilter(field_name='created_at', lookup_expr='gte')
    generated_before = DateTimeFilter(field_name='created_at', lookup_expr='lt')

    class Meta:
        model = Report
        fields = []
