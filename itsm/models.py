"""Shared models: people, support groups, reference numbers and the append-only timeline."""

import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.urls import reverse
from django.utils.crypto import salted_hmac

from .choices import Channel, Role, Tier, TimelineKind
from .fields import FieldChangesField
from .snapshots import ReferenceData, ReferenceVersion  # noqa: F401 (registered with the app here)


class TimestampedModel(models.Model):
    """Creation and last-update times for every record."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


def validate_time_zone(value: str) -> None:
    if value and value not in zoneinfo.available_timezones():
        raise ValidationError(f'"{value}" is not a known time zone; use an IANA name such as Europe/Paris.')


class User(AbstractUser):
    """A person: requester, agent, engineer, manager or API client. Roles are auth groups named by slug."""

    phone = models.CharField(max_length=40, blank=True)
    # "Sign out everywhere" sets it: sessions begun before it end (it is part of the session hash below).
    sessions_ended_at = models.DateTimeField(null=True, blank=True, editable=False)
    erased_at = models.DateTimeField(null=True, blank=True, editable=False, help_text='When personal data was erased.')
    department = models.CharField(max_length=120, blank=True)
    location = models.CharField(max_length=120, blank=True)
    vip = models.BooleanField(default=False, help_text='Very important person: callers get extra care.')
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text="IANA time zone every time is shown in (e.g. Europe/Paris); empty means the desk's time zone.",
    )
    external_id = models.CharField(
        max_length=120, blank=True, db_index=True, help_text='Identifier in the system this person was imported from.'
    )

    class Meta:
        ordering = ['username']

    def _get_session_auth_hash(self, secret=None):
        # Django's hash covers the password (a new one ends other sessions); signing out everywhere ends them too.
        # Unset, the hash is Django's own, so sessions begun before this rule keep working.
        if self.sessions_ended_at is None:
            return super()._get_session_auth_hash(secret=secret)
        key_salt = 'itsm.models.User.get_session_auth_hash'
        value = f'{self.password}|{self.sessions_ended_at.isoformat()}'
        return salted_hmac(key_salt, value, secret=secret, algorithm='sha256').hexdigest()

    def __str__(self) -> str:
        return self.name_of(self.first_name, self.last_name, self.username)

    @staticmethod
    def name_of(first_name: str, last_name: str, username: str) -> str:
        """How a person is named: the full name, else the username (`str()`, and option lists that read only these
        columns)."""
        return f'{first_name} {last_name}'.strip() or username

    def get_absolute_url(self) -> str:
        return reverse('itsm:user_detail', args=[self.pk])

    @property
    def display_name(self) -> str:
        return str(self)

    def role_slugs(self) -> set[str]:
        """Role slugs of this person (cached per instance; prefetch `groups` to keep lists constant)."""
        if not hasattr(self, '_role_slugs'):
            if self.pk is None:
                self._role_slugs = set()
            elif 'groups' in getattr(self, '_prefetched_objects_cache', {}):
                self._role_slugs = {group.name for group in self.groups.all()}
            else:
                # With the permissions the same request checks next: one query for both (`itsm.access`).
                from .access import load_access

                load_access(self)
        return self._role_slugs

    def has_role(self, *roles: str) -> bool:
        return self.is_superuser or bool(self.role_slugs() & {str(role) for role in roles})

    @property
    def is_administrator(self) -> bool:
        return self.has_role(Role.ADMINISTRATOR)

    @property
    def is_requester_only(self) -> bool:
        """True for people who only use the portal: they see nothing but their own records."""
        return not self.is_superuser and self.role_slugs() <= {Role.REQUESTER}


class SupportGroupQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)


class SupportGroup(ReferenceData, TimestampedModel):
    """An assignment group (team) on a support tier, with a manager for hierarchical escalation."""

    name = models.CharField(max_length=120, unique=True)
    tier = models.CharField(max_length=8, choices=Tier.choices, default=Tier.L1, db_index=True)
    description = models.TextField(blank=True)
    email = models.EmailField(blank=True, help_text='Where group notifications go; members are used when empty.')
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name='managed_groups'
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name='support_groups')
    escalation_group = models.ForeignKey(
        'self',
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name='escalated_from',
        help_text='Where functional escalation goes next (usually the next tier).',
    )
    active = models.BooleanField(default=True)
    security = models.BooleanField(
        default=False,
        verbose_name='security group',
        help_text='A security group: its members see and work records marked as security incidents.',
    )

    objects = SupportGroupQuerySet.as_manager()

    class Meta:
        ordering = ['tier', 'name']

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse('itsm:supportgroup_detail', args=[self.pk])


class NumberSequence(models.Model):
    """The last reference number handed out per prefix. Only `itsm.numbering` touches it."""

    prefix = models.CharField(max_length=8, primary_key=True)
    last = models.PositiveBigIntegerField()

    def __str__(self) -> str:
        return f'{self.prefix}: {self.last}'


class NumberedModel(TimestampedModel):
    """A record with a human reference number (INC0001001) assigned once, at creation.

    Subclasses set `number_prefix` and may set `number_start`; the number is given by the first save because
    it is an identity invariant, not a business rule.
    """

    number_prefix: str = ''
    number_start: int = 101

    number = models.CharField(max_length=16, unique=True, editable=False)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.number

    def save(self, *args, **kwargs):
        if not self.number:
            from .numbering import next_number

            self.number = next_number(self.number_prefix, start=self.number_start)
        super().save(*args, **kwargs)


class TimelineQuerySet(models.QuerySet):
    def for_object(self, obj):
        return self.filter(content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk)

    def public(self):
        """Entries a requester may see: no work notes, no internal field changes or notifications to staff."""
        return self.filter(public=True)

    def update(self, **kwargs):
        raise PermissionDenied('Timeline entries are append-only.')

    def redact(self) -> int:
        """The one change entries allow: erasing a person's details (`itsm.services.user_erase`). What happened and
        when stays; the values (old and new names, addresses) go."""
        return models.QuerySet.update(self, message='Details erased', changes=[], data={'erased': True})

    def delete(self):
        raise PermissionDenied('Timeline entries are append-only.')


class TimelineEntry(models.Model):
    """One append-only entry in a record's history: who did what, when, through which channel.

    `changes` holds field-level before/after values as `[{"field", "label", "before", "after"}]` (stored compactly:
    `itsm.fields.FieldChangesField`);
    `data` holds kind-specific details (transition from/to, notification recipients, SLA clock, ...).
    """

    # No index of its own: `timeline_record_at` leads with it.
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, db_index=False)
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey('content_type', 'object_id')
    kind = models.CharField(max_length=20, choices=TimelineKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name='+'
    )
    channel = models.CharField(max_length=12, choices=Channel.choices)
    # No index of its own: a record's entries are read through `timeline_record_at`, and a list of every record's
    # entries in recording order reads the primary key.
    at = models.DateTimeField()
    message = models.TextField(blank=True)
    changes = FieldChangesField(default=list, blank=True)
    data = models.JSONField(default=dict, blank=True)
    public = models.BooleanField(default=False, help_text='Visible to the requester in the portal.')

    objects = TimelineQuerySet.as_manager()

    class Meta:
        ordering = ['at', 'id']
        indexes = [models.Index(fields=['content_type', 'object_id', 'at'], name='timeline_record_at')]
        verbose_name_plural = 'timeline entries'

    def __str__(self) -> str:
        return f'{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}'

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get('force_insert'):
            raise PermissionDenied('Timeline entries are append-only.')
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionDenied('Timeline entries are append-only.')


def attachment_path(instance, filename: str) -> str:
    return f'attachments/{instance.record.number}/{filename}'


class Attachment(TimestampedModel):
    """A file on any process record. Size and type are checked by the service that stores it
    (`itsm.conversation.attach`); files are stored under the record's number at upload."""

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name='+')
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey('content_type', 'object_id')
    file = models.FileField(upload_to=attachment_path, max_length=300)
    filename = models.CharField(max_length=200)
    mime_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name='+')
    public = models.BooleanField(default=True, help_text='Visible to the requester in the portal.')

    class Meta:
        ordering = ['created_at', 'id']
        indexes = [models.Index(fields=['content_type', 'object_id', 'created_at'], name='attachment_record')]

    def __str__(self) -> str:
        return self.filename

    def get_absolute_url(self) -> str:
        return reverse('itsm:attachment_download', args=[self.pk])


class ApiTokenQuerySet(models.QuerySet):
    def usable(self):
        """Neither revoked nor expired."""
        from django.utils import timezone

        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class ApiToken(models.Model):
    """A person's API credential: `pc_` + an 8-character visible prefix, then a secret; only the SHA-256 of the
    whole key is stored, so the key is shown once, when it is made (`itsm.tokens`).

    Scope: `read_only` allows safe methods only; `apps` (app labels) limits the endpoints it reaches (empty = all).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name='api_tokens')
    name = models.CharField(max_length=100, help_text='What the token is for, e.g. "Monitoring bridge".')
    prefix = models.CharField(max_length=16, unique=True, help_text='The visible start of the key.')
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    read_only = models.BooleanField(default=False, help_text='Only reads (GET, HEAD, OPTIONS) are allowed.')
    apps = models.JSONField(default=list, blank=True, help_text='App labels the token may reach; empty means all.')
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ['-created_at', '-id']
        verbose_name = 'API token'

    def __str__(self) -> str:
        return f'{self.name} ({self.prefix}…)'

    @property
    def is_expired(self) -> bool:
        from django.utils import timezone

        return self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired


class IdempotencyKey(models.Model):
    """The first answer to a POST sent with an `Idempotency-Key`, kept per person and key for a day
    (`itsm.api.idempotency`). A row without `status` is a request still running."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name='+')
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64, help_text='SHA-256 of method, path and body.')
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    body = models.BinaryField(default=b'', blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ['-created_at']
        constraints = [models.UniqueConstraint(fields=['user', 'key'], name='idempotency_user_key')]

    def __str__(self) -> str:
        return f'{self.key} ({self.status or "running"})'


# Defined in its own module with its delivery notes; imported here so Django registers it with the app.
from .outbox import OutboxMessage, OutboxStatus  # noqa: E402, F401
