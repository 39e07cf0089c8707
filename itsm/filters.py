"""Filter sets shared by the people and group pages and their API endpoints."""

import django_filters
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
        fields = ['tier', 'active', 'manager']
