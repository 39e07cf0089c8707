"""Filters of a person's notifications, for the inbox page and the API."""

import django_filters

from .choices import Topic
from .models import Notification


class NotificationFilterSet(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(field_name='read_at', lookup_expr='isnull', label='Unread only')
    topic = django_filters.ChoiceFilter(choices=Topic.choices)
    number = django_filters.CharFilter(field_name='number', lookup_expr='iexact', label='Record number')

    class Meta:
        model = Notification
        fields = ['unread', 'topic', 'number']
