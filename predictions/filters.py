"""Filter set of the duration profiles (API)."""

import django_filters

from .choices import ProfileLevel
from .models import DurationProfile


class DurationProfileFilterSet(django_filters.FilterSet):
    level = django_filters.ChoiceFilter(choices=ProfileLevel.choices)

    class Meta:
        model = DurationProfile
        fields = ['level', 'kind', 'priority', 'category', 'service', 'assignment_group']
