"""A person's in-app notifications and which of them also reach them by e-mail."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .choices import Topic


class NotificationQuerySet(models.QuerySet):
    def for_user(self, user):
        """A person's own notifications (nobody sees anyone else's)."""
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(recipient=user)

    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """One message to one person about one record (a copy of what the notification kit sent them)."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name='notifications')
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name='+')
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey('content_type', 'object_id')
    number = models.CharField(max_length=20, help_text='Reference number of the record, kept for the list.')
    event = models.CharField(max_length=40)
    topic = models.CharField(max_length=20, choices=Topic.choices, default=Topic.UPDATES)
    label = models.CharField(max_length=120)
    text = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name='+'
    )
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ['-created_at', '-id']
        indexes = [
            models.Index(fields=['recipient', '-created_at'], name='inbox_latest'),
            models.Index(fields=['recipient'], condition=Q(read_at__isnull=True), name='inbox_unread'),
        ]

    def __str__(self) -> str:
        return f'{self.number} {self.label}'

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class EmailPreference(models.Model):
    """Which notifications also reach a person by e-mail (all of them until they say otherwise)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name='email_preference')
    assignments = models.BooleanField(default=True, verbose_name=Topic.ASSIGNMENTS.label)
    replies = models.BooleanField(default=True, verbose_name=Topic.REPLIES.label)
    reopenings = models.BooleanField(default=True, verbose_name=Topic.REOPENINGS.label)
    mentions = models.BooleanField(default=True, verbose_name=Topic.MENTIONS.label)
    sla = models.BooleanField(default=True, verbose_name=Topic.SLA.label)
    updates = models.BooleanField(default=True, verbose_name=Topic.UPDATES.label)

    TOPICS = tuple(Topic.values)

    class Meta:
        verbose_name = 'e-mail preference'

    def __str__(self) -> str:
        return f'E-mail preferences of {self.user}'

    def wants(self, topic: str) -> bool:
        return bool(getattr(self, topic, True))
