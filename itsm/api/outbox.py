"""`/api/v1/notification-outbox/`: the notifications on their way out, read-only, for administrators (who hold
the model's view permission; no other role is granted it)."""

import django_filters
from django.contrib.contenttypes.models import ContentType
from rest_framework import serializers, viewsets

from ..filters import DateTimeFilter, IdFilter
from ..outbox import OutboxMessage, OutboxStatus


class OutboxMessageSerializer(serializers.ModelSerializer):
    record_type = serializers.SerializerMethodField()

    class Meta:
        model = OutboxMessage
        fields = [
            'id',
            'key',
            'record_type',
            'object_id',
            'event',
            'label',
            'recipients',
            'public',
            'status',
            'attempts',
            'next_attempt_at',
            'created_at',
            'sent_at',
            'failed_at',
            'last_error',
            'emailed',
            'refused',
        ]
        read_only_fields = fields

    def get_record_type(self, obj) -> str:
        """The record's model as `app_label.model` (`incidents.ticket`)."""
        content_type = ContentType.objects.get_for_id(obj.content_type_id)
        return f'{content_type.app_label}.{content_type.model}'


class OutboxMessageFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=OutboxStatus.choices)
    event = django_filters.CharFilter()
    key = django_filters.CharFilter()
    object_id = IdFilter(label='Record (id)')
    created_after = DateTimeFilter(field_name='created_at', lookup_expr='gte')
    created_before = DateTimeFilter(field_name='created_at', lookup_expr='lt')

    class Meta:
        model = OutboxMessage
        fields = ['status', 'event', 'key', 'object_id', 'created_after', 'created_before']


class OutboxMessageViewSet(viewsets.ReadOnlyModelViewSet):
    """Outgoing notifications, newest first (`?status=pending&status=failed`, `?event=assigned`,
    `?created_after=2026-12-01T00:00Z`): what waits, what was sent, what was given up and why."""

    queryset = OutboxMessage.objects.order_by('-created_at', '-id')
    serializer_class = OutboxMessageSerializer
    filterset_class = OutboxMessageFilterSet
