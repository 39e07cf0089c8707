from django.contrib.auth.password_validation import validate_password
from rest_framework import serializers

from itsm.choices import Role, Tier
from itsm.models import SupportGroup, TimelineEntry, User

from .fields import GroupField, UsernameField


class UserSerializer(serializers.ModelSerializer):
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=Role.choices), required=False, help_text='Role slugs.'
    )
    password = serializers.CharField(write_only=True, required=False, style={'input_type': 'password'})
    full_name = serializers.CharField(source='get_full_name', read_only=True)

    class Meta:
        model = User
        fields = [
            'id',
            'username',
            'email',
            'password',
            'first_name',
            'last_name',
            'full_name',
            'phone',
            'department',
            'location',
            'vip',
            'is_active',
            'time_zone',
            'roles',
            'external_id',
        ]
        read_only_fields = ['id']
        extra_kwargs = {'time_zone': {'help_text': "IANA time zone (Europe/Paris); empty: the desk's."}}

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data['roles'] = sorted(instance.role_slugs())
        return data

    def validate_password(self, value):
        validate_password(value, self.instance)
        return value


class SupportGroupSerializer(serializers.ModelSerializer):
    tier = serializers.ChoiceField(choices=Tier.choices, required=False)
    manager = serializers.SlugRelatedField(
        slug_field='username', queryset=User.objects.all(), required=False, allow_null=True
    )
    members = serializers.SlugRelatedField(
        slug_field='username', queryset=User.objects.all(), many=True, required=False
    )
    escalation_group = serializers.SlugRelatedField(
        slug_field='name', queryset=SupportGroup.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = SupportGroup
        fields = [
            'id',
            'name',
            'tier',
            'description',
            'email',
            'manager',
            'members',
            'escalation_group',
            'active',
            'security',
        ]
        read_only_fields = ['id']


class TimelineEntrySerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field='username', read_only=True)
    actor_name = serializers.SerializerMethodField()

    class Meta:
        model = TimelineEntry
        fields = ['id', 'kind', 'actor', 'actor_name', 'channel', 'at', 'message', 'changes', 'data', 'public']
        read_only_fields = fields

    def get_actor_name(self, entry) -> str:
        return str(entry.actor) if entry.actor else 'System'


class AssignSerializer(serializers.Serializer):
    """Hand a record to a support group (name or id), optionally to one of its members."""

    group = GroupField()
    assignee = UsernameField(required=False, allow_null=True)
    reason = serializers.CharField(required=False, allow_blank=True, default='')


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default='')


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField()


class CommentSerializer(serializers.Serializer):
    """A comment on a record (`internal`: a work note, which requesters never see)."""

    body = serializers.CharField()
    internal = serializers.BooleanField(required=False, default=False)


class CommentOutputSerializer(TimelineEntrySerializer):
    body = serializers.CharField(source='message')
    internal = serializers.SerializerMethodField()

    class Meta(TimelineEntrySerializer.Meta):
        fields = ['id', 'body', 'internal', 'actor', 'actor_name', 'channel', 'at']
        read_only_fields = fields

    def get_internal(self, entry) -> bool:
        return not entry.public
