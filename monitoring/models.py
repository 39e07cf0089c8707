"""Monitoring sources (an Alertmanager, or anything posting PagerDuty-shaped events) and the alerts they raise.

A source authenticates with its own token; only its SHA-256 hash and a short visible prefix are stored. An alert is
one problem a source reports, keyed by its dedup key: while it is open (triggered or acknowledged) every repeat is
counted on it, and it holds the incident it opened.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse

from itsm.choices import Impact, Urgency
from itsm.models import TimestampedModel

from .choices import OPEN_STATUSES, STATUS_COLOURS, AlertStatus, DedupBy, SourceKind, default_severity_map


def token_hash(token: str) -> str:
    return hashlib.sha256((token or '').encode()).hexdigest()


def validate_severity_map(value) -> None:
    """{severity: {"impact": ..., "urgency": ...}} with known impact and urgency values."""
    if not isinstance(value, dict) or not value:
        raise ValidationError('Give a JSON object: {"critical": {"impact": "high", "urgency": "critical"}, ...}.')
    for severity, cell in value.items():
        if not isinstance(cell, dict):
            raise ValidationError(f'"{severity}" must map to {{"impact": ..., "urgency": ...}}.')
        if cell.get('impact') not in Impact.values:
            raise ValidationError(f'"{severity}": impact must be one of {", ".join(Impact.values)}.')
        if cell.get('urgency') not in Urgency.values:
            raise ValidationError(f'"{severity}": urgency must be one of {", ".join(Urgency.values)}.')


class AlertSource(TimestampedModel):
    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=SourceKind.choices, default=SourceKind.ALERTMANAGER)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    unaudited_fields = ('token_hash',)  # no business of the history; the prefix tells tokens apart
    token_prefix = models.CharField(
        max_length=8, editable=False, help_text='The first characters of the token, to tell tokens apart.'
    )
    support_group = models.ForeignKey(
        'itsm.SupportGroup',
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name='+',
        help_text='Incidents go to this group (without one, the routing rules and the service decide).',
    )
    service = models.ForeignKey(
        'cmdb.ConfigurationItem',
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name='+',
        limit_choices_to={'ci_class': 'service'},
        help_text='Affected service of its incidents, unless the matched CI names one.',
    )
    integration_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name='+',
        help_text='Caller of its incidents (a person with the integration role; created when left empty).',
    )
    severity_map = models.JSONField(
        default=default_severity_map,
        validators=[validate_severity_map],
        help_text='Severity → impact and urgency, e.g. {"critical": {"impact": "high", "urgency": "critical"}}.',
    )
    flap_window_minutes = models.PositiveIntegerField(
        default=30,
        validators=[MinValueValidator(0), MaxValueValidator(7 * 24 * 60)],
        help_text='An alert firing again this soon after it resolved reopens its incident instead of opening one.',
    )
    dedup_by = models.CharField(
        max_length=20,
        choices=DedupBy.choices,
        default=DedupBy.FINGERPRINT,
        help_text='Alertmanager only: what makes notifications the same alert.',
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ['name']

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse('monitoring:alertsource_detail', args=[self.pk])


class AlertQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)


class Alert(models.Model):
    badge_colors = {'status': STATUS_COLOURS}

    source = models.ForeignKey(AlertSource, on_delete=models.CASCADE, related_name='alerts')
    dedup_key = models.CharField(max_length=255)
    incident = models.ForeignKey(
        'incidents.Ticket', null=True, blank=True, on_delete=models.SET_NULL, related_name='monitoring_alerts'
    )
    status = models.CharField(max_length=20, choices=AlertStatus.choices, default=AlertStatus.TRIGGERED)
    severity = models.CharField(max_length=40, blank=True)
    summary = models.CharField(max_length=500, blank=True, help_text='The last summary received.')
    details = models.JSONField(default=dict, blank=True, help_text='Labels, annotations or custom details.')
    event_count = models.PositiveIntegerField(default=1, help_text='Trigger events received while open.')
    flap_count = models.PositiveIntegerField(default=0, help_text='Times it fired again soon after resolving.')
    first_received_at = models.DateTimeField()
    last_received_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ['-last_received_at', '-id']
        constraints = [
            # One open alert per source and key: parallel triggers make one incident, not two.
            models.UniqueConstraint(
                fields=['source', 'dedup_key'],
                condition=Q(status__in=OPEN_STATUSES),
                name='monitoring_one_open_alert_per_key',
            )
        ]
        indexes = [models.Index(fields=['source', 'dedup_key', '-resolved_at'], name='monitoring_alert_key')]

    def __str__(self) -> str:
        return f'{self.source} {self.dedup_key[:40]}'

    def get_absolute_url(self) -> str:
        return reverse('monitoring:alert_detail', args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES
