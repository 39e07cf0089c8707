"""Filter sets shared by the people and group pages and their API endpoints."""

import datetime as dt

import django_filters
from django import forms
from django.db.models import Q

from .choices import Role, Tier
from .models import SupportGroup, User


class TextSearchFilterSet(django_filters.FilterSet):
    """Adds `q`: a case-insensitive search over the fields listed in `search_fields`."""

    search_fields: tuple[str, ...] = ()
    q = django_filters.CharFilter(method='filter_text', label='Search')

    def filter_text(self, queryset, name, value):
        condition = Q()
        for field in self.search_fields:
            condition |= Q(**{f'{field}__icontains': value.strip()})
        return queryset.filter(condition) if value.strip() else queryset


class IdFilter(django_filters.NumberFilter):
    """A record's id: a whole number within the database's integer range. Anything else (`1.5`, `1e30`) is a 400
    naming the parameter, rather than a silently truncated id or a number the database cannot compare."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault('min_value', -(2**63))
        kwargs.setdefault('max_value', 2**63 - 1)
        super().__init__(*args, **kwargs)

    def get_max_validator(self):
        return None


class DateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 date and time, compared as the instant it names: its offset is folded into UTC, so any offset
    the parser reads (up to ±23:59) reaches the database, which takes no wider one than ±15:59 (PostgreSQL)."""

    def filter(self, qs, value):
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return super().filter(qs, value)


class UserFilterSet(TextSearchFilterSet):
    search_fields = ('username', 'first_name', 'last_name', 'email', 'department')
    role = django_filters.ChoiceFilter(field_name='groups__name', choices=Role.choices, label='Role')
    group = django_filters.ModelChoiceFilter(
        field_name='support_groups', queryset=SupportGroup.objects.all(), label='Support group'
    )

    class Meta:
        model = User
        fields = ['is_active', 'vip', 'department']


class SupportGroupFilterSet(TextSearchFilterSet):
    search_fields = ('name', 'description', 'email')
    tier = django_filters.ChoiceFilter(choices=Tier.choices)

    class Meta:
        model = SupportGroup
        fields = ['tier', 'active', 'manager', 'security']
