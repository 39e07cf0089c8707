"""Choices of inbound e-mail: how a mailbox is reached, what happens to processed mail, and what came of a message."""

from django.db import models


class Security(models.TextChoices):
    IMAPS = 'imaps', 'IMAP over TLS (usually port 993)'
    STARTTLS = 'starttls', 'IMAP upgraded with STARTTLS (usually port 143)'
    PLAIN = 'plain', 'Plain IMAP, no encryption (local servers only)'


class AfterProcessing(models.TextChoices):
    MARK_SEEN = 'seen', 'Mark as read'
    MOVE = 'move', 'Move to a folder'
    DELETE = 'delete', 'Delete'


class UnknownSenders(models.TextChoices):
    CREATE = 'create', 'Register them as requesters'
    REFUSE = 'refuse', 'Refuse their mail (recorded, never answered)'


class Outcome(models.TextChoices):
    OPENED = 'opened', 'Opened a ticket'
    COMMENTED = 'commented', 'Added a comment'
    IGNORED = 'ignored', 'Ignored'
    REFUSED = 'refused', 'Refused'
    FAILED = 'failed', 'Failed'
