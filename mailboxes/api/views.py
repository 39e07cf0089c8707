"""`/api/v1/mailboxes/`: administrators configure mailboxes (the password is write-only);
`/api/v1/inbound-messages/`: the read-only log of what came of each message."""

from rest_framework import viewsets

from itsm.api.viewsets import ItsmModelViewSet

from .. import selectors
from ..filters import InboundMessageFilterSet, MailboxFilterSet
from .serializers import InboundMessageSerializer, MailboxSerializer


class MailboxViewSet(ItsmModelViewSet):
    """Mailboxes polled for new mail (administrators only)."""

    queryset = selectors.mailbox_list()
    serializer_class = MailboxSerializer
    filterset_class = MailboxFilterSet


class InboundMessageViewSet(viewsets.ReadOnlyModelViewSet):
    """Messages read from the mailboxes, latest first (`?outcome=failed`, `?record_number=INC0001001`)."""

    queryset = selectors.message_list()
    serializer_class = InboundMessageSerializer
    filterset_class = InboundMessageFilterSet
