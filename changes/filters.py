"""Filters of the change pages and the API."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from itsm.filters import TextSearchFilterSet
from itsm.models import SupportGroup

from .choices import ChangeState, ChangeType, RiskLevel, RiskSignal
from .models import Change, FreezeWindow, RiskAnswer, RiskAssessment, RiskBand, RiskQuestion, RiskRule


def _ci_condition(prefix: str, value: str) -> Q:
    value = value.strip()
    return Q(**{f'{prefix}__number__iexact': value}) | Q(**{f'{prefix}__name__iexact': value})


class ChangeCalendarFilterSet(django_filters.FilterSet):
    """The calendar's filters (the page and the API); without `state` the calendar shows scheduled changes and
    those in implementation."""

    type = django_filters.MultipleChoiceFilter(field_name='change_type', choices=ChangeType.choices, label='Type')
    risk = django_filters.MultipleChoiceFilter(field_name='risk_level', choices=RiskLevel.choices, label='Risk')
    state = django_filters.MultipleChoiceFilter(choices=ChangeState.choices, label='State')
    group = django_filters.ModelChoiceFilter(
        field_name='assignment_group', queryset=SupportGroup.objects.order_by('name'), label='Group'
    )
    service = django_filters.CharFilter(method='filter_service', label='Service (CI number or name)')
    ci = django_filters.CharFilter(method='filter_ci', label='CI (number or name)')

    class Meta:
        model = Change
        fields: list[str] = []

    def filter_service(self, queryset, name, value):
        if not value.strip():
            return queryset
        return queryset.filter(_ci_condition('services', value) | _ci_condition('cis', value)).distinct()

    def filter_ci(self, queryset, name, value):
        return queryset.filter(_ci_condition('cis', value)).distinct() if value.strip() else queryset


class FreezeWindowFilterSet(TextSearchFilterSet):
    search_fields = ('name', 'reason')

    active = django_filters.BooleanFilter()
    after = django_filters.IsoDateTimeFilter(field_name='ends_at', lookup_expr='gt', label='Ends after')
    before = django_filters.IsoDateTimeFilter(field_name='starts_at', lookup_expr='lt', label='Starts before')
    service = django_filters.CharFilter(method='filter_service', label='Service (CI number or name)')

    class Meta:
        model = FreezeWindow
        fields: list[str] = []

    def filter_service(self, queryset, name, value):
        return queryset.filter(_ci_condition('services', value)).distinct() if value.strip() else queryset


# ------------------------------------------------------------------------------------------ risk
class RiskQuestionFilterSet(TextSearchFilterSet):
    search_fields = ('text', 'help_text')
    active = django_filters.BooleanFilter()

    class Meta:
        model = RiskQuestion
        fields: list[str] = []


class RiskAnswerFilterSet(TextSearchFilterSet):
    search_fields = ('label',)
    question = django_filters.NumberFilter(field_name='question_id', label='Question (id)')

    class Meta:
        model = RiskAnswer
        fields: list[str] = []


class RiskBandFilterSet(django_filters.FilterSet):
    level = django_filters.MultipleChoiceFilter(choices=RiskLevel.choices)

    class Meta:
        model = RiskBand
        fields: list[str] = []


class RiskRuleFilterSet(TextSearchFilterSet):
    search_fields = ('name',)
    signal = django_filters.MultipleChoiceFilter(choices=RiskSignal.choices)
    raise_to = django_filters.MultipleChoiceFilter(choices=RiskLevel.choices, label='Raises to')
    active = django_filters.BooleanFilter()

    class Meta:
        model = RiskRule
        fields: list[str] = []


class RiskAssessmentFilterSet(django_filters.FilterSet):
    change = django_filters.CharFilter(field_name='change__number', lookup_expr='iexact', label='Change')
    question = django_filters.NumberFilter(field_name='question_id', label='Question (id)')

    class Meta:
        model = RiskAssessment
        fields: list[str] = []
