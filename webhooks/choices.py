"""Event types a subscription may ask for, and the states of a delivery."""

from django.db import models


class EventType(models.TextChoices):
    RECORD_CREATED = 'record.created', 'A record was opened'
    RECORD_TRANSITIONED = 'record.transitioned', 'A record moved through its workflow'
    RECORD_COMMENTED = 'record.commented', 'A public comment was added (never work notes)'
    SLA_WARNING = 'sla.warning', 'An SLA/OLA clock crossed a warning threshold'
    SLA_BREACHED = 'sla.breached', 'An SLA/OLA clock breached its target'
    ONCALL_PAGE = 'oncall.page', 'An on-call person was paged for a record'
    ONCALL_ESCALATED = 'oncall.escalated', 'An on-call page went unacknowledged and escalated'
    ONCALL_ACKNOWLEDGED = 'oncall.acknowledged', 'An on-call page was acknowledged'


# Sent by the "test" action only; never subscribed to.
PING = 'ping'


class DeliveryStatus(models.TextChoices):
    PENDING = 'pending', 'Pending'
    RETRYING = 'retrying', 'Retrying'
    SUCCEEDED = 'succeeded', 'Succeeded'
    FAILED = 'failed', 'Failed'  # the subscription was disabled before it could be tried again
    GAVE_UP = 'gave_up', 'Gave up'


# Deliveries a worker may still send.
OPEN_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)
