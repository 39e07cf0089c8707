"""Filters of the inbound-message log and of mailboxes, for the API."""

import django_filters

from .choices import Outcome
from .models import InboundMessage, Mailbox


class MailboxFilterSet(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr='icontains')

    class Meta:
        model = Mailbox
        fields = ['name', 'active', 'security', 'after_processing']


class InboundMessageFilterSet(django_filters.FilterSet):
    outcome = django_filters.ChoiceFilter(choices=Outcome.choices)
    sender = django_filters.CharFilter(lookup_expr='iexact')
    record_number = django_filters.CharFilter(lookup_expr='iexact', label='Record number')

    class Meta:
        model = InboundMessage
        fields = ['mailbox', 'outcome', 'sender', 'record_number']
