from django.urls import reverse
from rest_framework import serializers

from itsm import notify
from itsm.models import User

from .. import services
from ..models import EscalationPolicy, OnCallOverride, OnCallSchedule, Page, RotationLayer


class OnCallScheduleSerializer(serializers.ModelSerializer):
    """A schedule. `feed_url` is its iCalendar feed, readable without a session (rotate it to revoke it)."""

    feed_url = serializers.SerializerMethodField()

    class Meta:
        model = OnCallSchedule
        fields = ['id', 'group', 'name', 'time_zone', 'description', 'feed_url', 'created_at', 'updated_at']
        read_only_fields = ['id', 'feed_url', 'created_at', 'updated_at']

    def get_feed_url(self, obj) -> str:
        return notify.site_url(reverse('oncall:feed', args=[services.feed_token(obj)]))


class RotationLayerSerializer(serializers.ModelSerializer):
    members = serializers.ListField(child=serializers.IntegerField(), help_text='People ids in turn order.')
    restrict_days = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6), required=False, help_text='0 = Monday.'
    )

    class Meta:
        model = RotationLayer
        fields = [
            'id',
            'schedule',
            'name',
            'position',
            'members',
            'handoff',
            'handoff_time',
            'handoff_weekday',
            'rotation_start',
            'restrict_days',
            'restrict_from',
            'restrict_to',
            'created_at',
            'updated_at',
        ]
        read_only_fields = ['id', 'created_at', 'updated_at']


class OnCallOverrideSerializer(serializers.ModelSerializer):
    person = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, help_text='Left out: yourself.'
    )

    class Meta:
        model = OnCallOverride
        fields = ['id', 'schedule', 'person', 'start', 'end', 'note', 'created_at', 'updated_at']
        read_only_fields = ['id', 'created_at', 'updated_at']


class EscalationPolicySerializer(serializers.ModelSerializer):
    levels = serializers.JSONField(
        help_text='[{"notify": "schedule"|"person"|"manager", "minutes": N, "person": id, "schedule": id}, …]'
    )

    class Meta:
        model = EscalationPolicy
        fields = ['id', 'group', 'name', 'levels', 'active', 'created_at', 'updated_at']
        read_only_fields = ['id', 'created_at', 'updated_at']


class PageSerializer(serializers.ModelSerializer):
    recipient = serializers.SlugRelatedField(slug_field='username', read_only=True)
    acknowledged_by = serializers.SlugRelatedField(slug_field='username', read_only=True)
    record_kind = serializers.SerializerMethodField()

    class Meta:
        model = Page
        fields = [
            'id',
            'record_kind',
            'record_number',
            'record_title',
            'group',
            'schedule',
            'level',
            'target',
            'recipient',
            'reason',
            'state',
            'sent_at',
            'escalate_at',
            'escalated_at',
            'acknowledged_at',
            'acknowledged_by',
            'acknowledged_via',
        ]
        read_only_fields = fields

    def get_record_kind(self, obj) -> str:
        return obj.content_type.model


class ShiftSerializer(serializers.Serializer):
    person = serializers.CharField(help_text='Username.')
    person_name = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    source = serializers.CharField(help_text='The layer, or "override".')


class OnCallNowSerializer(serializers.Serializer):
    schedule = serializers.IntegerField()
    schedule_name = serializers.CharField()
    group = serializers.IntegerField()
    group_name = serializers.CharField()
    time_zone = serializers.CharField()
    now = ShiftSerializer(allow_null=True)
    next = ShiftSerializer(allow_null=True)
    shifts = ShiftSerializer(many=True, required=False)


def shift_data(shift: dict | None) -> dict | None:
    if shift is None:
        return None
    person = shift['person']
    return {
        'person': person.username if person else str(shift['person_id']),
        'person_name': (person.get_full_name() or person.username) if person else '',
        'start': shift['start'],
        'end': shift['end'],
        'source': shift['source'],
    }


def now_data(row: dict, *, with_shifts: bool) -> dict:
    schedule = row['schedule']
    data = {
        'schedule': schedule.pk,
        'schedule_name': schedule.name,
        'group': schedule.group_id,
        'group_name': schedule.group.name,
        'time_zone': schedule.time_zone,
        'now': shift_data(row['now']),
        'next': shift_data(row['next']),
    }
    if with_shifts:
        data['shifts'] = [shift_data(s) for s in row['shifts']]
    return data
