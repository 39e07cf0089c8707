"""Filters of subscriptions and deliveries, for the pages and the API."""

import django_filters
from django.db.models import Q

from itsm.filters import IdFilter

from .choices import DeliveryStatus
from .models import WebhookDelivery, WebhookSubscription


class WebhookSubscriptionFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method='search', label='Search')
    active = django_filters.BooleanFilter()
    event = django_filters.CharFilter(method='with_event', label='Event type')

    class Meta:
        model = WebhookSubscription
        fields = ['q', 'active', 'event']

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(url__icontains=value)) if value else queryset

    def with_event(self, queryset, name, value):
        # JSON containment is not portable (SQLite): match the quoted slug in the stored list.
        return queryset.filter(events__icontains=f'"{value}"') if value else queryset


class WebhookDeliveryFilterSet(django_filters.FilterSet):
    subscription = IdFilter(field_name='subscription_id')
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices)
    event_type = django_filters.CharFilter()
    event_id = django_filters.UUIDFilter()

    class Meta:
        model = WebhookDelivery
        fields = ['subscription', 'status', 'event_type', 'event_id']
