"""Hypercare: a period of heightened support for one service after a big change (domain §13).

While a period runs, a hypercare SLA takes precedence for the service's tickets (`sla.selectors.sla_for` asks
`hypercare.selectors.service_in_hypercare`), incidents opened on the service are tagged with the period, and the
service owner gets a daily summary. A period is started by hand or by a `HypercareRule` when a change of the
rule's type closes successfully; it ends when its time is up (the sweep) or early by hand.

State is read from the times: scheduled before `starts_at`, active until `ends_at` (or the early exit), ended
after. `began_at` and `ended_at` record that the start and the end were carried out (tickets re-targeted), each
claimed once by whoever gets there first.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from changes.choices import ChangeType
from itsm import timezones
from itsm.models import TimestampedModel

from .choices import STATE_COLORS, PeriodState


class HypercarePeriodQuerySet(models.QuerySet):
    def active(self, now: dt.datetime | None = None):
        """Periods running at `now` (a past moment too): started, not yet over, not ended early by then."""
        now = now or timezone.now()
        return self.filter(Q(ended_at__isnull=True) | Q(ended_at__gt=now), starts_at__lte=now, ends_at__gt=now)

    def not_ended(self):
        return self.filter(ended_at__isnull=True)


class HypercarePeriod(TimestampedModel):
    service = models.ForeignKey(
        'cmdb.ConfigurationItem',
        on_delete=models.CASCADE,
        related_name='hypercare_periods',
        limit_choices_to={'ci_class': 'service'},
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(help_text='When hypercare ends unless extended or ended early.')
    reason = models.CharField(max_length=300, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name='hypercare_periods_started',
        editable=False,
    )
    change = models.ForeignKey(
        'changes.Change',
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name='hypercare_periods',
        editable=False,
        help_text='The change whose closure started it.',
    )
    rule = models.ForeignKey(
        'HypercareRule', null=True, blank=True, on_delete=models.SET_NULL, related_name='periods', editable=False
    )
    # The start carried out (open tickets re-targeted); set at once for a period that starts now.
    began_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The end carried out: early by hand (`ended_by` set) or by the sweep when `ends_at` passed.
    ended_at = models.DateTimeField(null=True, blank=True, editable=False)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name='hypercare_periods_ended',
        editable=False,
    )
    end_reason = models.CharField(max_length=300, blank=True, editable=False)

    objects = HypercarePeriodQuerySet.as_manager()

    badge_colors = {'state': STATE_COLORS}

    class Meta:
        ordering = ['-starts_at', '-id']
        indexes = [
            # The SLA engine's question for one service, and the overlap check.
            models.Index(fields=['service', 'starts_at', 'ends_at'], name='hypercare_service_time'),
            # The sweep: periods whose start or end is still to be carried out.
            models.Index(fields=['ends_at'], condition=Q(ended_at__isnull=True), name='hypercare_due_end'),
            models.Index(fields=['starts_at'], condition=Q(began_at__isnull=True), name='hypercare_due_start'),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F('starts_at')), name='hypercare_ends_after_start')
        ]

    def __str__(self) -> str:
        return f'{self.service.name} hypercare from {timezones.format_date(self.starts_at)}'

    def get_absolute_url(self) -> str:
        return reverse('hypercare:hypercareperiod_detail', args=[self.pk])

    @property
    def effective_end(self) -> dt.datetime:
        """When hypercare stops (or stopped): the early exit, else the planned end."""
        return min(self.ended_at, self.ends_at) if self.ended_at else self.ends_at

    def state_at(self, now: dt.datetime) -> str:
        if self.ended_at is not None or now >= self.ends_at:
            return PeriodState.ENDED
        return PeriodState.ACTIVE if now >= self.starts_at else PeriodState.SCHEDULED

    @property
    def state(self) -> str:
        return self.state_at(timezone.now())

    def get_state_display(self) -> str:
        return PeriodState(self.state).label


class HypercareRule(TimestampedModel):
    """When a change of `change_type` (optionally of one change model, or touching one service) closes
    successfully, each service it names enters hypercare for `duration_days` (an open period is extended)."""

    name = models.CharField(max_length=120)
    change_type = models.CharField(max_length=10, choices=ChangeType.choices)
    change_model = models.ForeignKey(
        'changes.ChangeModel',
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name='hypercare_rules',
        help_text='Only changes following this model (the category of standard changes); empty: any.',
    )
    service = models.ForeignKey(
        'cmdb.ConfigurationItem',
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name='hypercare_rules',
        limit_choices_to={'ci_class': 'service'},
        help_text='Only this service enters hypercare; empty: every service the change names.',
    )
    duration_days = models.PositiveSmallIntegerField(
        default=14, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ['name', 'id']
        indexes = [models.Index(fields=['change_type', 'active'], name='hypercare_rule_type')]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse('hypercare:hypercarerule_detail', args=[self.pk])


class HypercareIncident(models.Model):
    """An incident opened on (or moved onto) a service while it was in hypercare."""

    period = models.ForeignKey(HypercarePeriod, on_delete=models.CASCADE, related_name='tagged')
    ticket = models.ForeignKey('incidents.Ticket', on_delete=models.CASCADE, related_name='hypercare_tags')
    tagged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ['period', 'tagged_at', 'id']
        constraints = [models.UniqueConstraint(fields=['period', 'ticket'], name='hypercare_tag_once')]
        indexes = [models.Index(fields=['ticket'], name='hypercare_tag_ticket')]

    def __str__(self) -> str:
        return f'{self.ticket_id} in {self.period_id}'


class HypercareSummary(models.Model):
    """The daily summary of a period for one day (desk time): written once, by whoever claims it first."""

    period = models.ForeignKey(HypercarePeriod, on_delete=models.CASCADE, related_name='summaries')
    day = models.DateField()
    sent_at = models.DateTimeField(default=timezone.now)
    recipients = models.JSONField(default=list)

    class Meta:
        ordering = ['period', 'day']
        verbose_name_plural = 'hypercare summaries'
        constraints = [models.UniqueConstraint(fields=['period', 'day'], name='hypercare_summary_once')]

    def __str__(self) -> str:
        return f'{self.period_id} {self.day}'
