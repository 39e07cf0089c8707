"""Reads shared by the monitoring pages and the API."""

from django.db.models import QuerySet

from .models import Alert, AlertSource


def source_list() -> QuerySet[AlertSource]:
    return AlertSource.objects.select_related('support_group', 'service', 'integration_user').order_by('name')


def alert_list() -> QuerySet[Alert]:
    return Alert.objects.select_related('source', 'incident').order_by('-last_received_at', '-pk')
