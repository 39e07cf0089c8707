"""Mailboxes the desk polls for mail, and the log of every message read from them."""

from __future__ import annotations

import os

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from itsm.choices import Impact, Urgency

from .choices import AfterProcessing, Outcome, Security, UnknownSenders


class Mailbox(models.Model):
    """An IMAP folder whose new mail opens tickets and adds comments."""

    name = models.CharField(max_length=80, unique=True)
    address = models.EmailField(
        help_text='The address people write to. Mail from it (or any other mailbox) is ignored, so the desk never '
        'answers itself.'
    )
    host = models.CharField(max_length=255)
    port = models.PositiveIntegerField(default=993)
    security = models.CharField(max_length=10, choices=Security.choices, default=Security.IMAPS)
    username = models.CharField(max_length=255)
    password = models.CharField(
        max_length=255,
        blank=True,
        help_text='Stored in the database; leave empty when an environment variable holds it.',
    )
    password_env = models.CharField(
        max_length=100,
        blank=True,
        verbose_name='password environment variable',
        help_text='Name of an environment variable holding the password (wins over the stored password).',
    )
    folder = models.CharField(max_length=200, default='INBOX')
    after_processing = models.CharField(
        max_length=10, choices=AfterProcessing.choices, default=AfterProcessing.MARK_SEEN
    )
    move_to = models.CharField(
        max_length=200, blank=True, help_text='Folder processed mail moves to (created when missing).'
    )
    unknown_senders = models.CharField(max_length=10, choices=UnknownSenders.choices, default=UnknownSenders.CREATE)
    support_group = models.ForeignKey(
        'itsm.SupportGroup',
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name='+',
        help_text='Group new tickets go to; empty lets the routing rules decide.',
    )
    service = models.ForeignKey(
        'cmdb.ConfigurationItem',
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name='+',
        limit_choices_to={'ci_class': 'service'},
        help_text='Affected service of new tickets.',
    )
    impact = models.CharField(
        max_length=12, choices=Impact.choices, blank=True, help_text='Empty (with urgency empty) means P4.'
    )
    urgency = models.CharField(max_length=12, choices=Urgency.choices, blank=True)
    active = models.BooleanField(default=True)
    last_polled_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ['name']
        verbose_name_plural = 'mailboxes'

    def __str__(self) -> str:
        return self.name

    def clean(self):
        errors = {}
        if self.after_processing == AfterProcessing.MOVE and not self.move_to.strip():
            errors['move_to'] = 'Name the folder processed mail moves to.'
        if self.after_processing == AfterProcessing.MOVE and self.move_to.strip() == self.folder.strip():
            errors['move_to'] = 'Processed mail must move to another folder than the one polled.'
        if not self.password and not self.password_env:
            errors['password'] = 'Give a password or the environment variable that holds it.'
        if errors:
            raise ValidationError(errors)

    def secret(self) -> str:
        """The password to log in with: the named environment variable's value, else the stored password."""
        if self.password_env:
            value = os.environ.get(self.password_env)
            if value is None:
                raise ValidationError(f'The environment variable {self.password_env} is not set.')
            return value
        return self.password


class InboundMessage(models.Model):
    """One message read from a mailbox and what came of it. `message_key` (unique across all mailboxes) is what makes
    a message count once: the same mail delivered to two polled mailboxes opens one ticket, not two."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name='messages')
    message_key = models.CharField(max_length=64, unique=True, editable=False)
    message_id = models.CharField(max_length=500, blank=True, verbose_name='Message-ID')
    sender = models.CharField(max_length=254, blank=True)
    sender_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name='+'
    )
    subject = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True, help_text='The Date header, when readable.')
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, db_index=True)
    reason = models.TextField(blank=True)
    content_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name='+')
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    record = GenericForeignKey('content_type', 'object_id')
    record_number = models.CharField(max_length=20, blank=True, db_index=True)

    class Meta:
        ordering = ['-received_at', '-id']
        verbose_name = 'inbound message'

    def __str__(self) -> str:
        return f'{self.sender}: {self.subject}'[:120]
