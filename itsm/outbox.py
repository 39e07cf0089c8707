"""The notification outbox: one row per notification, written in the transaction that caused it.

`itsm.notify.notify()` stores a pending row with what to send (the record, the event, the addresses); a rollback
drops it and a commit keeps it, whether or not the broker takes the task that delivers it promptly. Delivery
(`itsm.notify.deliver_outbox`) locks the row, sends through every channel and marks it sent together with the
timeline entry; the `notification-outbox` beat sweep delivers what a lost task or a dead worker left pending, and
retries transient failures with backoff. The row's `key` is the stable part of every e-mail's Message-ID.
"""

from __future__ import annotations

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone


class OutboxStatus(models.TextChoices):
    PENDING = 'pending', 'Pending'
    SENT = 'sent', 'Sent'
    FAILED = 'failed', 'Failed (given up)'


class OutboxMessage(models.Model):
    """One notification on its way out, and what became of it."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name='+')
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey('content_type', 'object_id')
    event = models.CharField(max_length=60)
    label = models.TextField(blank=True)
    recipients = models.JSONField(default=list, blank=True)
    public = models.BooleanField(default=False)
    extra = models.JSONField(default=dict, blank=True, help_text='Template values, named people and the actor.')
    rendered = models.JSONField(
        null=True,
        blank=True,
        help_text='The message as rendered when it was handed over (subject, bodies, data); empty: rendered when '
        'delivered, from the record as it is then.',
    )
    key = models.CharField(
        max_length=100, unique=True, help_text='Stable identity of the notification: the Message-ID of its e-mails.'
    )
    status = models.CharField(max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    emailed = models.JSONField(default=list, blank=True, help_text='Addresses the mail server has accepted.')
    refused = models.JSONField(
        default=dict, blank=True, help_text='Addresses the mail server refused for good (5xx), with its reply.'
    )

    class Meta:
        ordering = ['-created_at', '-id']
        verbose_name = 'outgoing notification'
        indexes = [
            models.Index(fields=['next_attempt_at'], condition=Q(status='pending'), name='outbox_pending_due'),
            models.Index(fields=['content_type', 'object_id'], name='outbox_record'),
        ]

    def __str__(self) -> str:
        return f'{self.event} #{self.pk} ({self.get_status_display()})'
