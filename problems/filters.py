"""Problem filters shared by the problem list page and the API."""

from __future__ import annotations

import datetime as dt

import django_filters
from django.db.models import Q
from django.utils import timezone

from itsm.choices import Impact, Priority, Urgency
from itsm.filters import DateTimeFilter, TextSearchFilterSet

from .choices import CandidateBasis, CandidateStatus, ProblemState, RootCauseCategory
from .models import CategoryPriority, KnownError, KnownErrorUse, Problem, ProblemCandidate

AGES = (('7', 'Older than a week'), ('30', 'Older than 30 days'), ('90', 'Older than 90 days'))


class ProblemFilterSet(TextSearchFilterSet):
    search_fields = ('number', 'short_description', 'description', 'symptoms', 'root_cause', 'vendor_reference')

    state = django_filters.MultipleChoiceFilter(choices=ProblemState.choices)
    open = django_filters.BooleanFilter(method='filter_open', label='Open')
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices)
    owner = django_filters.CharFilter(method='filter_owner', label='Owner (username, or "me")')
    group = django_filters.CharFilter(method='filter_group', label='Assignment group (name or id)')
    category = django_filters.CharFilter(method='filter_category', label='Category (name or id)')
    service = django_filters.CharFilter(method='filter_service', label='Service (CI number or name)')
    ci = django_filters.CharFilter(method='filter_ci', label='CI (number or name)')
    age = django_filters.ChoiceFilter(choices=AGES, method='filter_age', label='Age')
    opened_after = DateTimeFilter(field_name='opened_at', lookup_expr='gte')
    opened_before = DateTimeFilter(field_name='opened_at', lookup_expr='lt')
    root_cause_category = django_filters.ChoiceFilter(choices=RootCauseCategory.choices)
    awaiting_vendor = django_filters.BooleanFilter(
        field_name='awaiting_vendor_since', lookup_expr='isnull', exclude=True, label='Waiting on the supplier'
    )
    root_cause_known = django_filters.BooleanFilter(
        field_name='root_cause', method='filter_root_cause_known', label='Root cause known'
    )

    class Meta:
        model = Problem
        fields: list[str] = []

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        open_states = Problem.workflow.open_states
        return queryset.filter(state__in=open_states) if value else queryset.exclude(state__in=open_states)

    def filter_owner(self, queryset, name, value):
        value = value.strip()
        if value.lower() == 'me':
            user = getattr(self.request, 'user', None)
            return queryset.filter(owner=user) if user and user.is_authenticated else queryset.none()
        if value.isdigit():
            return queryset.filter(owner_id=int(value))
        return queryset.filter(owner__username__iexact=value)

    def filter_group(self, queryset, name, value):
        value = value.strip()
        if value.isdigit():
            return queryset.filter(assignment_group_id=int(value))
        return queryset.filter(assignment_group__name__iexact=value)

    def filter_category(self, queryset, name, value):
        value = value.strip()
        if value.isdigit():
            return queryset.filter(Q(category_id=int(value)) | Q(subcategory_id=int(value)))
        return queryset.filter(Q(category__name__iexact=value) | Q(subcategory__name__iexact=value))

    @staticmethod
    def _item(value: str) -> Q:
        value = value.strip()
        if value.isdigit():
            return Q(pk=int(value))
        return Q(number__iexact=value) | Q(name__iexact=value)

    def filter_service(self, queryset, name, value):
        from cmdb.models import ConfigurationItem

        items = ConfigurationItem.objects.filter(self._item(value)).values('pk')
        return queryset.filter(services__in=items).distinct()

    def filter_ci(self, queryset, name, value):
        from cmdb.models import ConfigurationItem

        items = ConfigurationItem.objects.filter(self._item(value)).values('pk')
        return queryset.filter(cis__in=items).distinct()

    def filter_age(self, queryset, name, value):
        return queryset.filter(opened_at__lt=timezone.now() - dt.timedelta(days=int(value)))

    def filter_root_cause_known(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.exclude(root_cause='') if value else queryset.filter(root_cause='')


class CategoryPriorityFilterSet(TextSearchFilterSet):
    search_fields = ('category__name',)

    impact = django_filters.ChoiceFilter(choices=Impact.choices)
    urgency = django_filters.ChoiceFilter(choices=Urgency.choices)

    class Meta:
        model = CategoryPriority
        fields: list[str] = []


class ProblemCandidateFilterSet(TextSearchFilterSet):
    """Problem candidates by status, basis, CI or service (number or id), category and size."""

    search_fields = ('title', 'symptom')
    status = django_filters.MultipleChoiceFilter(choices=CandidateStatus.choices)
    basis = django_filters.ChoiceFilter(choices=CandidateBasis.choices)
    ci = django_filters.CharFilter(method='filter_ci', label='Configuration item')
    service = django_filters.CharFilter(method='filter_service', label='Service')
    category = django_filters.CharFilter(method='filter_category', label='Category (name or id)')
    min_size = django_filters.NumberFilter(field_name='size', lookup_expr='gte', label='At least (incidents)')
    seen_after = DateTimeFilter(field_name='last_seen', lookup_expr='gte', label='Last seen after')
    problem = django_filters.CharFilter(field_name='problem__number', lookup_expr='iexact', label='Problem')

    class Meta:
        model = ProblemCandidate
        fields = ['status', 'basis']

    def filter_ci(self, queryset, name, value):
        return self._item(queryset, 'ci', value)

    def filter_service(self, queryset, name, value):
        return self._item(queryset, 'service', value)

    @staticmethod
    def _item(queryset, field: str, value: str):
        value = value.strip()
        return queryset.filter(**{f'{field}_id' if value.isdigit() else f'{field}__number__iexact': value})

    def filter_category(self, queryset, name, value):
        value = value.strip()
        if value.isdigit():
            return queryset.filter(Q(category_id=int(value)) | Q(subcategory_id=int(value)))
        return queryset.filter(Q(category__name__iexact=value) | Q(subcategory__name__iexact=value))


class KnownErrorFilterSet(TextSearchFilterSet):
    """Known errors by state, visibility, problem and the items they are logged against (pages and API)."""

    search_fields = ('number', 'title', 'symptoms', 'workaround')

    active = django_filters.BooleanFilter()
    public = django_filters.BooleanFilter()
    problem = django_filters.CharFilter(field_name='problem__number', lookup_expr='iexact', label='Problem (number)')
    ci = django_filters.CharFilter(method='filter_ci', label='CI (number or name)')
    service = django_filters.CharFilter(method='filter_service', label='Service (CI number or name)')

    class Meta:
        model = KnownError
        fields: list[str] = []

    def filter_ci(self, queryset, name, value):
        from cmdb.models import ConfigurationItem

        items = ConfigurationItem.objects.filter(ProblemFilterSet._item(value)).values('pk')
        return queryset.filter(cis__in=items).distinct()

    def filter_service(self, queryset, name, value):
        from cmdb.models import ConfigurationItem

        items = ConfigurationItem.objects.filter(ProblemFilterSet._item(value)).values('pk')
        return queryset.filter(services__in=items).distinct()


class KnownErrorUseFilterSet(django_filters.FilterSet):
    known_error = django_filters.CharFilter(
        field_name='known_error__number', lookup_expr='iexact', label='Known error (number)'
    )
    incident = django_filters.CharFilter(field_name='incident__number', lookup_expr='iexact', label='Incident (number)')
    applied_by = django_filters.CharFilter(field_name='applied_by__username', label='Applied by (username)')

    class Meta:
        model = KnownErrorUse
        fields: list[str] = []
