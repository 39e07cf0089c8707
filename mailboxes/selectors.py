"""Reads of inbound e-mail."""

from .models import InboundMessage, Mailbox


def mailbox_list():
    return Mailbox.objects.select_related('support_group', 'service').order_by('name')


def message_list():
    return InboundMessage.objects.select_related('mailbox', 'sender_user').order_by('-received_at', '-id')
