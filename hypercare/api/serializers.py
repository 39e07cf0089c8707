"""API shapes of hypercare periods and rules. They validate input; `hypercare.services` writes."""

from rest_framework import serializers

from changes.models import ChangeModel
from sla.api.serializers import ServiceField

from ..choices import PeriodState
from ..models import HypercarePeriod, HypercareRule


class HypercarePeriodSerializer(serializers.ModelSerializer):
    """A period. Create it to start hypercare (`starts_at` empty: now); PATCH `ends_at` to extend it;
    `POST {id}/end/` ends it early."""

    service = ServiceField(help_text='Service CI number (CI0000101).')
    starts_at = serializers.DateTimeField(required=False, allow_null=True, help_text='Empty: now.')
    state = serializers.ChoiceField(choices=PeriodState.choices, read_only=True)
    started_by = serializers.SlugRelatedField(slug_field='username', read_only=True)
    ended_by = serializers.SlugRelatedField(slug_field='username', read_only=True)
    change = serializers.SlugRelatedField(slug_field='number', read_only=True)
    incident_count = serializers.IntegerField(read_only=True, help_text='Incidents tagged with the period.')

    class Meta:
        model = HypercarePeriod
        fields = [
            'id',
            'service',
            'starts_at',
            'ends_at',
            'reason',
            'state',
            'started_by',
            'change',
            'rule',
            'began_at',
            'ended_at',
            'ended_by',
            'end_reason',
            'incident_count',
            'created_at',
            'updated_at',
        ]
        read_only_fields = [
            'id',
            'state',
            'started_by',
            'change',
            'rule',
            'began_at',
            'ended_at',
            'ended_by',
            'end_reason',
            'incident_count',
            'created_at',
            'updated_at',
        ]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            fields['service'].read_only = True  # a period stays with its service
        return fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not hasattr(instance, 'incident_count'):
            data['incident_count'] = instance.tagged.count()
        return data

    def validate(self, attrs):
        # The model's constraints and overlaps are the service's to check (one place, one wording).
        return attrs


class HypercarePeriodEndSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default='')


class HypercareRuleSerializer(serializers.ModelSerializer):
    service = ServiceField(required=False, allow_null=True, help_text='Service CI number; empty: every service.')
    change_model = serializers.PrimaryKeyRelatedField(
        queryset=ChangeModel.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = HypercareRule
        fields = [
            'id',
            'name',
            'change_type',
            'change_model',
            'service',
            'duration_days',
            'active',
            'created_at',
            'updated_at',
        ]
        read_only_fields = ['id', 'created_at', 'updated_at']


class HypercareTagSerializer(serializers.Serializer):
    """An incident tagged with a period."""

    number = serializers.CharField(source='ticket.number')
    short_description = serializers.CharField(source='ticket.short_description')
    state = serializers.CharField(source='ticket.state')
    priority = serializers.IntegerField(source='ticket.priority')
    opened_at = serializers.DateTimeField(source='ticket.opened_at')
    completed_at = serializers.DateTimeField(source='ticket.completed_at', allow_null=True)
    tagged_at = serializers.DateTimeField()
