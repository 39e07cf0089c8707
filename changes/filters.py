"""Filters of the change pages and the API."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from itsm.filters import DateTimeFilter, IdFilter, TextSearchFilterSet
from itsm.models import SupportGroup

from .choices import (
    ApprovalPolicy,
    CabKind,
    CabRoute,
    ChangeState,
    ChangeType,
    MeetingStatus,
    RiskLevel,
    RiskSignal,
    TaskState,
    Vote,
)
from .models import (
    AgendaItem,
    Cab,
    CabMeeting,
    CabRule,
    CabVote,
    Change,
    ChangeModel,
    ChangeModelTask,
    ChangeTask,
    FreezeWindow,
    IncidentCause,
    RiskAnswer,
    RiskAssessment,
    RiskBand,
    RiskQuestion,
    RiskRule,
)


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
    after = DateTimeFilter(field_name='ends_at', lookup_expr='gt', label='Ends after')
    before = DateTimeFilter(field_name='starts_at', lookup_expr='lt', label='Starts before')
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
    question = IdFilter(field_name='question_id', label='Question (id)')

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
    question = IdFilter(field_name='question_id', label='Question (id)')

    class Meta:
        model = RiskAssessment
        fields: list[str] = []


# ------------------------------------------------------------------------------- changes, tasks, catalogue
def _item(value: str) -> Q:
    """A CI or service by key, number or exact name."""
    value = value.strip()
    if value.isdigit():
        return Q(pk=int(value))
    return Q(number__iexact=value) | Q(name__iexact=value)


def _person(queryset, field: str, value: str, request):
    value = value.strip()
    if value.lower() == 'me':
        user = getattr(request, 'user', None)
        return queryset.filter(**{field: user}) if user and user.is_authenticated else queryset.none()
    if value.isdigit():
        return queryset.filter(**{f'{field}_id': int(value)})
    return queryset.filter(**{f'{field}__username__iexact': value})


def _group(queryset, field: str, value: str):
    value = value.strip()
    if value.isdigit():
        return queryset.filter(**{f'{field}_id': int(value)})
    return queryset.filter(**{f'{field}__name__iexact': value})


class ChangeFilterSet(TextSearchFilterSet):
    """Changes by state, type, risk, owner, group, CI, service and planned window (`planned_from`/`planned_to`:
    the changes whose planned window overlaps them)."""

    search_fields = ('number', 'short_description', 'description', 'justification')

    state = django_filters.MultipleChoiceFilter(choices=ChangeState.choices)
    open = django_filters.BooleanFilter(method='filter_open', label='Open')
    change_type = django_filters.MultipleChoiceFilter(choices=ChangeType.choices, label='Type')
    risk = django_filters.MultipleChoiceFilter(field_name='risk_level', choices=RiskLevel.choices, label='Risk')
    owner = django_filters.CharFilter(method='filter_owner', label='Owner (username, or "me")')
    requester = django_filters.CharFilter(method='filter_requester', label='Requester (username, or "me")')
    group = django_filters.CharFilter(method='filter_group', label='Assignment group (name or id)')
    ci = django_filters.CharFilter(method='filter_ci', label='CI (number or name)')
    service = django_filters.CharFilter(method='filter_service', label='Service (CI number or name)')
    environment = django_filters.CharFilter(field_name='environment', lookup_expr='iexact')
    change_model = django_filters.CharFilter(method='filter_model', label='Change model (name or id)')
    planned_from = DateTimeFilter(field_name='planned_end', lookup_expr='gt', label='Planned from')
    planned_to = DateTimeFilter(field_name='planned_start', lookup_expr='lt', label='Planned until')

    class Meta:
        model = Change
        fields: list[str] = []

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        open_states = Change.workflow.open_states
        return queryset.filter(state__in=open_states) if value else queryset.exclude(state__in=open_states)

    def filter_owner(self, queryset, name, value):
        return _person(queryset, 'owner', value, self.request)

    def filter_requester(self, queryset, name, value):
        return _person(queryset, 'requester', value, self.request)

    def filter_group(self, queryset, name, value):
        return _group(queryset, 'assignment_group', value)

    def filter_ci(self, queryset, name, value):
        from cmdb.models import ConfigurationItem

        return queryset.filter(cis__in=ConfigurationItem.objects.filter(_item(value)).values('pk')).distinct()

    def filter_service(self, queryset, name, value):
        from cmdb.models import ConfigurationItem

        items = ConfigurationItem.objects.filter(_item(value)).values('pk')
        return queryset.filter(services__in=items).distinct()

    def filter_model(self, queryset, name, value):
        value = value.strip()
        if value.isdigit():
            return queryset.filter(change_model_id=int(value))
        return queryset.filter(change_model__name__iexact=value)


class ChangeTaskFilterSet(TextSearchFilterSet):
    search_fields = ('number', 'short_description', 'description')

    state = django_filters.MultipleChoiceFilter(choices=TaskState.choices)
    open = django_filters.BooleanFilter(method='filter_open', label='Open')
    change = django_filters.CharFilter(field_name='change__number', lookup_expr='iexact', label='Change (number)')
    group = django_filters.CharFilter(method='filter_group', label='Assignment group (name or id)')
    assignee = django_filters.CharFilter(method='filter_assignee', label='Assignee (username, or "me")')

    class Meta:
        model = ChangeTask
        fields: list[str] = []

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        open_states = ChangeTask.workflow.open_states
        return queryset.filter(state__in=open_states) if value else queryset.exclude(state__in=open_states)

    def filter_group(self, queryset, name, value):
        return _group(queryset, 'assignment_group', value)

    def filter_assignee(self, queryset, name, value):
        return _person(queryset, 'assignee', value, self.request)


class ChangeModelFilterSet(TextSearchFilterSet):
    search_fields = ('name', 'description')

    active = django_filters.BooleanFilter()
    risk_level = django_filters.ChoiceFilter(choices=RiskLevel.choices)

    class Meta:
        model = ChangeModel
        fields: list[str] = []


class ChangeModelTaskFilterSet(TextSearchFilterSet):
    search_fields = ('title', 'description')

    change_model = django_filters.CharFilter(method='filter_model', label='Change model (name or id)')

    class Meta:
        model = ChangeModelTask
        fields: list[str] = []

    def filter_model(self, queryset, name, value):
        value = value.strip()
        if value.isdigit():
            return queryset.filter(change_model_id=int(value))
        return queryset.filter(change_model__name__iexact=value)


# ------------------------------------------------------------------------------------------------ CABs
class CabFilterSet(TextSearchFilterSet):
    search_fields = ('name',)

    kind = django_filters.ChoiceFilter(choices=CabKind.choices)
    policy = django_filters.ChoiceFilter(choices=ApprovalPolicy.choices)
    active = django_filters.BooleanFilter()
    member = django_filters.CharFilter(method='filter_member', label='Member (username, or "me")')

    class Meta:
        model = Cab
        fields: list[str] = []

    def filter_member(self, queryset, name, value):
        return _person(queryset, 'members', value, self.request).distinct()


class CabRuleFilterSet(TextSearchFilterSet):
    search_fields = ('name',)

    route = django_filters.ChoiceFilter(choices=CabRoute.choices)
    change_type = django_filters.ChoiceFilter(choices=ChangeType.choices, label='Type')
    active = django_filters.BooleanFilter()
    cab = django_filters.CharFilter(method='filter_cab', label='CAB (name or id)')

    class Meta:
        model = CabRule
        fields: list[str] = []

    def filter_cab(self, queryset, name, value):
        return _group(queryset, 'cab', value)


class CabMeetingFilterSet(TextSearchFilterSet):
    search_fields = ('location', 'minutes', 'cab__name')

    cab = django_filters.CharFilter(method='filter_cab', label='CAB (name or id)')
    status = django_filters.ChoiceFilter(choices=MeetingStatus.choices)
    starts_after = DateTimeFilter(field_name='starts_at', lookup_expr='gte', label='Starts from')
    starts_before = DateTimeFilter(field_name='starts_at', lookup_expr='lt', label='Starts before')
    change = django_filters.CharFilter(field_name='changes__number', lookup_expr='iexact', label='Change on the agenda')

    class Meta:
        model = CabMeeting
        fields: list[str] = []

    def filter_cab(self, queryset, name, value):
        return _group(queryset, 'cab', value)


class AgendaItemFilterSet(django_filters.FilterSet):
    meeting = IdFilter(field_name='meeting_id')
    change = django_filters.CharFilter(field_name='change__number', lookup_expr='iexact')
    cab = django_filters.CharFilter(method='filter_cab', label='CAB (name or id)')

    class Meta:
        model = AgendaItem
        fields: list[str] = []

    def filter_cab(self, queryset, name, value):
        return _group(queryset, 'meeting__cab', value)


class CabVoteFilterSet(TextSearchFilterSet):
    search_fields = ('comment', 'change__number')

    change = django_filters.CharFilter(field_name='change__number', lookup_expr='iexact')
    vote = django_filters.ChoiceFilter(choices=Vote.choices)
    voter = django_filters.CharFilter(method='filter_voter', label='Voter (username, or "me")')
    meeting = IdFilter(field_name='meeting_id')
    cab = django_filters.CharFilter(method='filter_cab', label='CAB (name or id)')

    class Meta:
        model = CabVote
        fields: list[str] = []

    def filter_voter(self, queryset, name, value):
        return _person(queryset, 'voter', value, self.request)

    def filter_cab(self, queryset, name, value):
        return _group(queryset, 'cab', value)


class IncidentCauseFilterSet(django_filters.FilterSet):
    """Incidents caused by changes (`changes.links`): by either number, the change's type and who recorded it."""

    incident = django_filters.CharFilter(field_name='incident__number', lookup_expr='iexact', label='Incident')
    change = django_filters.CharFilter(field_name='change__number', lookup_expr='iexact', label='Change')
    change_type = django_filters.ChoiceFilter(field_name='change__change_type', choices=ChangeType.choices)
    recorded_by = django_filters.CharFilter(field_name='recorded_by__username', label='Recorded by')

    class Meta:
        model = IncidentCause
        fields = ['incident', 'change', 'change_type', 'recorded_by']
