"""Daily rollups of the service desk's measures, scheduled MTTR reports and the reports they produced.

Dashboards over years of tickets read `DailyRollup` rows instead of the tickets: one row per day, ticket kind,
priority and one value of one dimension (all tickets, a group, a service, ...), holding additive counters and
duration histograms. `reports.services` rebuilds whole days from the tickets and SLA clocks, so recomputing a
day is idempotent; what each counter means is defined once, in `reports.counters`.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from itsm.choices import Priority, TicketKind
from itsm.models import TimestampedModel

from .choices import Breakdown, Dimension, Frequency, Interval, RollupPeriod

__all__ = [
    'COUNTER_FIELDS',
    'DailyRollup',
    'PeriodRollup',
    'Report',
    'ReportSchedule',
    'RollupCells',
    'RollupContribution',
]

# The additive counters of a rollup row, in the order CSV exports list them.
COUNTER_FIELDS = (
    'opened',
    'accepted',
    'accept_seconds',
    'completed',
    'resolve_seconds',
    'first_time',
    'reopened',
    'reassigned',
    'reassignments',
    'response_met',
    'response_breached',
    'resolution_met',
    'resolution_breached',
    'ola_met',
    'ola_breached',
    'answered_in_target',
    'answered_late',
)


def describe_slices(slices) -> str:
    labels = dict(Breakdown.choices)
    return ', '.join(str(labels.get(s, s)) for s in slices or []) or 'None (overall and trend only)'


def describe_filters(filters: dict) -> str:
    """`{'priority': '1', 'group': '3'}` as "Priority P1, group Service Desk" (names looked up)."""
    if not filters:
        return 'All tickets'
    from .selectors import key_labels

    parts = []
    for name, value in filters.items():
        if name == 'priority':
            parts.append('Priority ' + ', '.join(f'P{p}' for p in str(value).split(',')))
        elif name in ('group', 'service', 'category', 'agent', 'channel', 'kind'):
            key = '' if value == 'none' else str(value)
            parts.append(f'{name} {key_labels(name, [key])[key]}')
    return ', '.join(parts).capitalize()


def _count(help_text: str) -> models.PositiveIntegerField:
    return models.PositiveIntegerField(default=0, help_text=help_text)


class RollupCells(models.Model):
    """The measures' counters for one period × ticket kind × priority × one value of one dimension."""

    dimension = models.CharField(max_length=12, choices=Dimension.choices)
    key = models.CharField(
        max_length=40, blank=True, help_text='The dimension value: an id, a channel, `group:agent`, or empty.'
    )
    kind = models.CharField(max_length=10, choices=TicketKind.choices, blank=True)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.P0)

    opened = _count('Tickets opened that day.')
    accepted = _count('Tickets first accepted that day.')
    accept_seconds = models.FloatField(default=0, help_text='Sum of opened → accepted times of those tickets.')
    completed = _count('Tickets completed that day (their current completion).')
    resolve_seconds = models.FloatField(default=0, help_text='Sum of opened → completed times of those tickets.')
    first_time = _count('Completed tickets never reassigned and never reopened.')
    reopened = _count('Completed tickets reopened at least once.')
    reassigned = _count('Completed tickets reassigned at least once.')
    reassignments = _count('Reassignments of the completed tickets.')
    response_met = _count('SLA response clocks met, decided that day.')
    response_breached = _count('SLA response clocks breached, decided that day.')
    resolution_met = _count('SLA resolution clocks met, decided that day.')
    resolution_breached = _count('SLA resolution clocks breached, decided that day.')
    ola_met = _count('OLA clocks met, decided that day.')
    ola_breached = _count('OLA clocks breached, decided that day.')
    answered_in_target = _count('Tickets opened that day accepted within their response target.')
    answered_late = _count('Tickets opened that day whose response target passed before acceptance.')
    accept_hist = models.JSONField(default=dict, blank=True, help_text='Accepted tickets per duration bucket.')
    resolve_hist = models.JSONField(default=dict, blank=True, help_text='Completed tickets per duration bucket.')

    computed_at = models.DateTimeField(help_text='The moment the data this row was computed from is as of.')

    class Meta:
        abstract = True


class DailyRollup(RollupCells):
    """The counters of one day × ticket kind × priority × one value of one dimension."""

    day = models.DateField(db_index=True)

    class Meta:
        ordering = ['day', 'dimension', 'key', 'kind', 'priority']
        constraints = [
            # Dimension first: every read selects one dimension over a range of days.
            models.UniqueConstraint(fields=['dimension', 'day', 'key', 'kind', 'priority'], name='rollup_unique_cell'),
        ]
        permissions = [
            ('view_team_dashboard', 'Can see the dashboard of a group they lead'),
            ('view_own_kpis', 'Can see their own KPIs'),
        ]

    def __str__(self) -> str:
        return f'{self.day} {self.dimension}={self.key or "*"} {self.kind or "*"} P{self.priority}'


class PeriodRollup(RollupCells):
    """A week's (Monday to Sunday) or a calendar month's daily rows summed: counters added, histograms merged.
    A figure over whole weeks or months reads one row where it would read seven or thirty. Rebuilt from the
    daily rows whenever one of its days is, in the same transaction."""

    period = models.CharField(max_length=5, choices=RollupPeriod.choices)
    start = models.DateField(help_text='The first day: a Monday, or the 1st of the month.')
    combined = models.BooleanField(
        default=False,
        help_text='Sums every ticket kind and priority (kind and priority then stay blank and 0): what a figure '
        'neither filtered nor split by kind or priority reads.',
    )

    class Meta:
        ordering = ['period', 'start', 'dimension', 'key', 'combined', 'kind', 'priority']
        constraints = [
            models.UniqueConstraint(
                fields=['dimension', 'period', 'combined', 'start', 'key', 'kind', 'priority'],
                name='period_rollup_unique_cell',
            ),
        ]

    def __str__(self) -> str:
        cell = 'all kinds and priorities' if self.combined else f'{self.kind or "*"} P{self.priority}'
        return f'{self.period} of {self.start} {self.dimension}={self.key or "*"} {cell}'


class RollupContribution(models.Model):
    """What one ticket (with its SLA clocks) adds to the rollups as of the last refresh: its full-grain rows, so
    a refresh takes them away and adds the ticket's rows now instead of re-rolling whole days. No foreign key:
    a deleted ticket's contribution is still needed to take it away."""

    ticket_id = models.BigIntegerField(primary_key=True)
    entries = models.TextField(
        help_text='JSON list of [base, day ordinal, kind, priority, dimension keys, bucket, counter values].'
    )

    def __str__(self) -> str:
        return f'rollup contribution of ticket {self.ticket_id}'


class ReportSchedule(TimestampedModel):
    """An MTTR report e-mailed to a manager every day, week or month, with the CSV attached."""

    name = models.CharField(max_length=120)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name='report_schedules',
        help_text='The manager the report is for; it goes to their e-mail address.',
    )
    extra_recipients = models.TextField(
        blank=True, help_text='Further e-mail addresses, one a line or comma separated.'
    )
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default=Frequency.WEEKLY)
    slices = models.JSONField(
        default=list, blank=True, help_text='Break MTTR down by these: priority, kind, group, service, ...'
    )
    kind = models.CharField('ticket kind', max_length=10, choices=TicketKind.choices, blank=True)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, null=True, blank=True)
    group = models.ForeignKey('itsm.SupportGroup', null=True, blank=True, on_delete=models.CASCADE, related_name='+')
    service = models.ForeignKey(
        'cmdb.ConfigurationItem',
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name='+',
        limit_choices_to={'ci_class': 'service'},
    )
    category = models.ForeignKey(
        'incidents.Category',
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name='+',
        limit_choices_to={'parent': None},
    )
    channel = models.CharField(max_length=12, blank=True)
    active = models.BooleanField(default=True)
    next_run_at = models.DateTimeField(null=True, blank=True, editable=False, db_index=True)
    last_run_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ['name']
        verbose_name = 'report schedule'

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse('reports:reportschedule_detail', args=[self.pk])

    def clean(self):
        unknown = [s for s in self.slices or [] if s not in Breakdown.values]
        if not isinstance(self.slices, list) or unknown:
            raise ValidationError({'slices': f'Choose slices among: {", ".join(Breakdown.values)}.'})

    @property
    def filters(self) -> dict[str, str]:
        """The schedule's filters as query parameters of the measures (`reports.slices`)."""
        values = {
            'kind': self.kind,
            'priority': '' if self.priority is None else str(self.priority),
            'group': str(self.group_id or ''),
            'service': str(self.service_id or ''),
            'category': str(self.category_id or ''),
            'channel': self.channel,
        }
        return {name: value for name, value in values.items() if value}

    @property
    def slices_text(self) -> str:
        return describe_slices(self.slices)

    @property
    def filters_text(self) -> str:
        return describe_filters(self.filters)

    def recipients(self) -> list[str]:
        extra = [part.strip() for line in self.extra_recipients.splitlines() for part in line.split(',')]
        return list(dict.fromkeys([a for a in [self.owner.email, *extra] if a]))


class Report(TimestampedModel):
    """An MTTR report as generated: its period, slices and filters, the figures and the CSV that went out."""

    title = models.CharField(max_length=200)
    notes = models.TextField(blank=True)
    schedule = models.ForeignKey(
        ReportSchedule, null=True, blank=True, on_delete=models.SET_NULL, related_name='reports', editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name='+', editable=False
    )
    period_start = models.DateField(editable=False)
    period_end = models.DateField(editable=False, help_text='The last day the report covers.')
    interval = models.CharField(max_length=10, choices=Interval.choices, default=Interval.DAY, editable=False)
    slices = models.JSONField(default=list, blank=True, editable=False)
    filters = models.JSONField(default=dict, blank=True, editable=False)
    summary = models.JSONField(default=dict, blank=True, editable=False, help_text='The figures, as computed.')
    csv = models.TextField(blank=True, editable=False)
    emailed_to = models.JSONField(default=list, blank=True, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ['-created_at', '-id']

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse('reports:report_detail', args=[self.pk])

    @property
    def slices_text(self) -> str:
        return describe_slices(self.slices)

    @property
    def filters_text(self) -> str:
        return describe_filters(self.filters)

    @property
    def csv_filename(self) -> str:
        return f'mttr-{self.period_start:%Y%m%d}-{self.period_end:%Y%m%d}-{self.pk}.csv'
