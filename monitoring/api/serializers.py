"""Serializers of the monitoring API: the two inbound payloads (validated whole before anything is written) and
the sources and alerts the administrators manage."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from rest_framework import serializers

from itsm.models import SupportGroup, User

from ..choices import AlertmanagerStatus, EventAction, Severity
from ..models import Alert, AlertSource, validate_severity_map


# ------------------------------------------------------------------------------------------ Alertmanager v4
class StringMapField(serializers.DictField):
    """Labels and annotations: an object of strings."""

    child = serializers.CharField(allow_blank=True, trim_whitespace=False)


class AlertmanagerAlertSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=AlertmanagerStatus.choices)
    labels = StringMapField()
    annotations = StringMapField(required=False, default=dict)
    # Read in UTC: Alertmanager's "no end yet" is 0001-01-01T00:00:00Z, which a zone west of UTC cannot hold.
    startsAt = serializers.DateTimeField(required=False, allow_null=True, default_timezone=dt.UTC)  # noqa: N815
    endsAt = serializers.DateTimeField(required=False, allow_null=True, default_timezone=dt.UTC)  # noqa: N815
    generatorURL = serializers.CharField(required=False, allow_blank=True, default='')  # noqa: N815
    fingerprint = serializers.CharField(max_length=255)


class AlertmanagerPayloadSerializer(serializers.Serializer):
    """The webhook body Alertmanager sends (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config)."""

    version = serializers.CharField()
    groupKey = serializers.CharField()  # noqa: N815 - any length: keyed by its hash when longer than a key
    truncatedAlerts = serializers.IntegerField(required=False, min_value=0, default=0)  # noqa: N815
    status = serializers.ChoiceField(choices=AlertmanagerStatus.choices)
    receiver = serializers.CharField(required=False, allow_blank=True, default='')
    groupLabels = StringMapField(required=False, default=dict)  # noqa: N815
    commonLabels = StringMapField(required=False, default=dict)  # noqa: N815
    commonAnnotations = StringMapField(required=False, default=dict)  # noqa: N815
    externalURL = serializers.CharField(required=False, allow_blank=True, default='')  # noqa: N815
    alerts = AlertmanagerAlertSerializer(many=True, allow_empty=False)

    def validate_version(self, value):
        if value != '4':
            raise serializers.ValidationError(
                f'Only version "4" of the Alertmanager webhook is understood, not "{value}".'
            )
        return value

    def validate_alerts(self, value):
        limit = settings.MONITORING_MAX_ALERTS_PER_REQUEST
        if len(value) > limit:
            raise serializers.ValidationError(f'At most {limit} alerts per request; this one has {len(value)}.')
        return value


# ------------------------------------------------------------------------------------------ events API
class EventPayloadSerializer(serializers.Serializer):
    summary = serializers.CharField(max_length=1024)
    source = serializers.CharField(max_length=255)
    # Checked by hand rather than as a choice field: the schema's "severity" enum is the major incidents' 1–4.
    severity = serializers.CharField(help_text='critical, error, warning or info')
    timestamp = serializers.DateTimeField(required=False)
    component = serializers.CharField(required=False, allow_blank=True, max_length=255)
    group = serializers.CharField(required=False, allow_blank=True, max_length=255)
    # `class` is a Python keyword: declared in __init__.
    custom_details = serializers.JSONField(required=False)

    def validate_severity(self, value):
        if value not in Severity.values:
            known = ', '.join(Severity.values)
            raise serializers.ValidationError(f'"{value}" is not a valid choice: give one of {known}.')
        return value

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['class'] = serializers.CharField(required=False, allow_blank=True, max_length=255)


class EventSerializer(serializers.Serializer):
    """An event shaped like PagerDuty's Events API v2."""

    routing_key = serializers.CharField()
    event_action = serializers.ChoiceField(choices=EventAction.choices)
    dedup_key = serializers.CharField(required=False, allow_blank=True, max_length=255)
    payload = EventPayloadSerializer(required=False)
    client = serializers.CharField(required=False, allow_blank=True)
    client_url = serializers.CharField(required=False, allow_blank=True)
    links = serializers.ListField(required=False, child=serializers.DictField())
    images = serializers.ListField(required=False, child=serializers.DictField())

    def validate(self, attrs):
        if attrs['event_action'] == EventAction.TRIGGER and 'payload' not in attrs:
            raise serializers.ValidationError({'payload': ['A trigger needs a payload (summary, source, severity).']})
        if attrs['event_action'] != EventAction.TRIGGER and not attrs.get('dedup_key'):
            raise serializers.ValidationError(
                {'dedup_key': [f'An {attrs["event_action"]} event needs the dedup_key of the alert it is about.']}
            )
        return attrs


# ------------------------------------------------------------------------------------------ sources and alerts
class AlertSourceSerializer(serializers.ModelSerializer):
    support_group = serializers.SlugRelatedField(
        slug_field='name', queryset=SupportGroup.objects.all(), required=False, allow_null=True
    )
    integration_user = serializers.SlugRelatedField(
        slug_field='username', queryset=User.objects.all(), required=False, allow_null=True
    )
    token = serializers.SerializerMethodField(help_text='The full token: given once, on create and rotate.')
    severity_map = serializers.JSONField(required=False, validators=[validate_severity_map])

    class Meta:
        model = AlertSource
        fields = [
            'id',
            'name',
            'kind',
            'token_prefix',
            'token',
            'support_group',
            'service',
            'integration_user',
            'severity_map',
            'flap_window_minutes',
            'dedup_by',
            'active',
            'created_at',
            'updated_at',
        ]
        read_only_fields = ['id', 'token_prefix', 'token', 'created_at', 'updated_at']

    def get_token(self, obj) -> str | None:
        return getattr(obj, 'token', None)


class AlertSerializer(serializers.ModelSerializer):
    source = serializers.SlugRelatedField(slug_field='name', read_only=True)
    incident = serializers.SlugRelatedField(slug_field='number', read_only=True)

    class Meta:
        model = Alert
        fields = [
            'id',
            'source',
            'dedup_key',
            'incident',
            'status',
            'severity',
            'summary',
            'details',
            'event_count',
            'flap_count',
            'first_received_at',
            'last_received_at',
            'acknowledged_at',
            'resolved_at',
        ]
        read_only_fields = fields
