from rest_framework import serializers

from ..choices import EventType
from ..models import WebhookAttempt, WebhookDelivery, WebhookSubscription


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    """A subscription. `secret` is in the answer to its creation (and to `rotate-secret`) only."""

    owner = serializers.SlugRelatedField(slug_field='username', read_only=True)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices), allow_empty=False, help_text='Event types.'
    )
    record_kinds = serializers.ListField(
        child=serializers.CharField(), required=False, help_text='Record kinds (incident, case…); empty: all.'
    )

    class Meta:
        model = WebhookSubscription
        fields = [
            'id',
            'name',
            'url',
            'events',
            'record_kinds',
            'active',
            'allow_private_destination',
            'security_incidents',
            'owner',
            'consecutive_failures',
            'disabled_at',
            'disabled_reason',
            'created_at',
            'updated_at',
        ]
        read_only_fields = [
            'id',
            'owner',
            'consecutive_failures',
            'disabled_at',
            'disabled_reason',
            'created_at',
            'updated_at',
        ]


class WebhookSubscriptionSecretSerializer(WebhookSubscriptionSerializer):
    secret = serializers.CharField(read_only=True, help_text='Shown this once: keep it to verify signatures.')

    class Meta(WebhookSubscriptionSerializer.Meta):
        fields = [*WebhookSubscriptionSerializer.Meta.fields, 'secret']


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ['number', 'at', 'response_code', 'duration_ms', 'response_excerpt', 'error', 'succeeded']
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            'id',
            'subscription',
            'event_type',
            'event_id',
            'status',
            'attempts',
            'next_attempt_at',
            'last_response_code',
            'duration_ms',
            'response_excerpt',
            'error',
            'redelivery_of',
            'created_at',
            'delivered_at',
        ]
        read_only_fields = fields


class WebhookDeliveryDetailSerializer(WebhookDeliverySerializer):
    attempt_log = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta(WebhookDeliverySerializer.Meta):
        fields = [*WebhookDeliverySerializer.Meta.fields, 'payload', 'attempt_log']
        read_only_fields = fields
