from rest_framework import serializers

from ..models import EmailPreference, Notification


class NotificationSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field='username', read_only=True)
    read = serializers.BooleanField(source='is_read', read_only=True)
    record_type = serializers.CharField(source='content_type.model', read_only=True)

    class Meta:
        model = Notification
        fields = [
            'id',
            'number',
            'record_type',
            'event',
            'topic',
            'label',
            'text',
            'actor',
            'created_at',
            'read_at',
            'read',
        ]
        read_only_fields = fields


class EmailPreferenceSerializer(serializers.ModelSerializer):
    user = serializers.SlugRelatedField(slug_field='username', read_only=True)

    class Meta:
        model = EmailPreference
        fields = ['id', 'user', *EmailPreference.TOPICS]
        read_only_fields = ['id', 'user']
