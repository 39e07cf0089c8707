from rest_framework import serializers

from cmdb.api.fields import CINumberField
from itsm.api.fields import GroupField

from ..models import InboundMessage, Mailbox


class MailboxSerializer(serializers.ModelSerializer):
    """A mailbox; the password may be written but is never returned (`has_password` tells whether one is stored)."""

    password = serializers.CharField(
        write_only=True, required=False, allow_blank=True, style={'input_type': 'password'}
    )
    has_password = serializers.SerializerMethodField()
    support_group = GroupField(required=False, allow_null=True)
    service = CINumberField(services_only=True, required=False, allow_null=True)

    class Meta:
        model = Mailbox
        fields = [
            'id',
            'name',
            'address',
            'host',
            'port',
            'security',
            'username',
            'password',
            'has_password',
            'password_env',
            'folder',
            'after_processing',
            'move_to',
            'unknown_senders',
            'support_group',
            'service',
            'impact',
            'urgency',
            'active',
            'last_polled_at',
            'last_error',
            'created_at',
            'updated_at',
        ]
        read_only_fields = ['id', 'last_polled_at', 'last_error', 'created_at', 'updated_at']

    def get_has_password(self, obj) -> bool:
        return bool(obj.password)


class InboundMessageSerializer(serializers.ModelSerializer):
    mailbox = serializers.SlugRelatedField(slug_field='name', read_only=True)
    sender_user = serializers.SlugRelatedField(slug_field='username', read_only=True)

    class Meta:
        model = InboundMessage
        fields = [
            'id',
            'mailbox',
            'message_id',
            'sender',
            'sender_user',
            'subject',
            'sent_at',
            'received_at',
            'outcome',
            'reason',
            'record_number',
        ]
        read_only_fields = fields
