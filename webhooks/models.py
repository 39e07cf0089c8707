"""Outbound webhooks: who wants which events where, and every delivery of an event with its attempts.

A subscription belongs to its owner (an administrator or an API client holding the `integration` role, who may
read every record anyway, so a payload never tells its owner more than the API would). Its secret signs each
body (`webhooks.signing`); deliveries keep the exact JSON sent so a manual redelivery repeats it byte for byte.
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from itsm.models import TimestampedModel
from itsm.snapshots import ReferenceData

from .choices import OPEN_STATUSES, DeliveryStatus, EventType


def new_secret() -> str:
    return f'whsec_{secrets.token_urlsafe(32)}'


def wants_event(events, record_kinds, event_type: str, kind: str | None) -> bool:
    """Whether a subscription to `events` on `record_kinds` (empty: every kind) wants this event."""
    return event_type in events and (not record_kinds or kind in record_kinds)


class WebhookSubscriptionQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Owners see their own subscriptions; administrators see all."""
        if user is None or not user.is_authenticated:
            return self.none()
        if user.is_superuser or user.has_role('administrator'):
            return self
        return self.filter(owner=user)


class WebhookSubscription(ReferenceData, TimestampedModel):
    """Where to POST which events. Reference data (`itsm.snapshots`): which subscriptions want what is read once per
    process and version, so events nobody subscribed to cost no query."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name='webhook_subscriptions')
    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500, verbose_name='URL', help_text='Where each event is POSTed as JSON.')
    events = models.JSONField(default=list, help_text=f'Event types: {", ".join(EventType.values)}.')
    record_kinds = models.JSONField(
        default=list, blank=True, help_text='Only records of these kinds (incident, case, problem…); empty: all.'
    )
    # Signs every body; shown to the owner once, when created or rotated (never in histories or the API after).
    secret = models.CharField(max_length=100, default=new_secret, editable=False)
    unaudited_fields = ('secret',)  # the signing secret never reaches the history
    active = models.BooleanField(default=True)
    allow_private_destination = models.BooleanField(
        default=False,
        help_text='Allow loopback and private network addresses (administrators only).',
    )
    security_incidents = models.BooleanField(
        default=False,
        verbose_name='security incidents',
        help_text='Send events about security incidents too (administrators only); off: they are never sent.',
    )
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    disabled_at = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_reason = models.CharField(max_length=300, blank=True, editable=False)

    objects = WebhookSubscriptionQuerySet.as_manager()

    class Meta:
        ordering = ['name', 'id']
        indexes = [models.Index(fields=['active'], name='webhook_active')]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse('webhooks:webhooksubscription_detail', args=[self.pk])

    def wants(self, event_type: str, kind: str | None) -> bool:
        return wants_event(self.events, self.record_kinds, event_type, kind)


class WebhookDelivery(models.Model):
    """One event for one subscription: the body as sent, where it stands, and what the last attempt got."""

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name='deliveries')
    event_type = models.CharField(max_length=40)
    event_id = models.UUIDField(default=uuid.uuid4, help_text='Sent as Pitcrew-Delivery: the same on every retry.')
    payload = models.JSONField()
    body = models.TextField(help_text='The exact JSON sent (signed as is).')
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    error = models.CharField(max_length=500, blank=True)
    redelivery_of = models.ForeignKey(
        'self', null=True, blank=True, on_delete=models.SET_NULL, related_name='redeliveries'
    )
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    badge_colors = {
        'status': {
            'pending': 'secondary',
            'retrying': 'warning',
            'succeeded': 'success',
            'failed': 'danger',
            'gave_up': 'danger',
        }
    }

    class Meta:
        ordering = ['-created_at', '-id']
        verbose_name_plural = 'webhook deliveries'
        indexes = [
            models.Index(fields=['subscription', '-created_at'], name='webhook_delivery_log'),
            # The sweep's query: open deliveries whose next attempt is due.
            models.Index(
                fields=['next_attempt_at'], condition=Q(status__in=OPEN_STATUSES), name='webhook_delivery_due'
            ),
        ]

    def __str__(self) -> str:
        return f'{self.event_type} {self.event_id}'


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery, as the delivery log shows it."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name='attempt_log')
    number = models.PositiveSmallIntegerField()
    at = models.DateTimeField()
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.TextField(blank=True)
    error = models.CharField(max_length=500, blank=True)
    succeeded = models.BooleanField(default=False)

    class Meta:
        ordering = ['delivery', 'number']
        constraints = [models.UniqueConstraint(fields=['delivery', 'number'], name='webhook_attempt_once')]

    def __str__(self) -> str:
        return f'{self.delivery} #{self.number}'
