"""Service level management: business calendars, agreements as data, and one clock per record and target.

Agreements (SLAs per service or by default × record kind × priority, OLAs per support group, underpinning
contracts with suppliers) are records an administrator edits. When a process record (an incident, a case, a
problem...) opens or moves, `sla.services` starts, pauses, resumes, stops or re-targets its clocks. A clock
keeps what it needs to answer without replaying history: business time accumulated before the current run, when
the current run started and when the next warning or the breach falls due (`next_check_at`, indexed, so the
sweep reads only clocks that are due). Paused intervals are kept for the history panel; warnings and breaches
are claimed in `ClockEvent`, whose unique (clock, percent) makes each one happen exactly once.

A clock belongs to any `itsm.records.ProcessRecord` through a generic relation (`content_type`, `object_id`,
`record`); each record model has the reverse `sla_clocks`. Queues sort by nearest due and lists filter on
breaches with one correlated subquery per record kind, served by partial indexes that lead with
(content_type, object_id), and a page of records fetches all its clocks with one prefetch.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from itsm.choices import Priority, Role, TicketKind
from itsm.models import TimestampedModel
from itsm.snapshots import ReferenceData

from . import business_time, records
from .choices import (
    BREACH_PERCENT,
    BUILTIN_24X7,
    CLOCK_STATE_COLOURS,
    DEFAULT_WARNING_PERCENTS,
    EVENT_KIND_COLOURS,
    ClockKind,
    ClockState,
    EventKind,
    StopReason,
)

__all__ = [
    'BusinessCalendar',
    'ClockEvent',
    'ClockPause',
    'OperationalLevelAgreement',
    'ServiceLevelAgreement',
    'SlaClock',
    'UnderpinningContract',
]


def _default_warnings() -> list[int]:
    return list(DEFAULT_WARNING_PERCENTS)


def _default_pause_states() -> list[str]:
    return records.default_pause_states()


def _always() -> dict[str, list[str]]:
    return {key: ['00:00-24:00'] for key in business_time.DAY_KEYS}


def format_minutes(minutes: int | None) -> str:
    """480 → '8h', 90 → '1h 30m', 2880 → '2d' (calendar-neutral: hours of business time)."""
    if minutes is None:
        return ''
    days, rest = divmod(int(minutes), 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f'{days}d' if days else '', f'{hours}h' if hours else '', f'{mins}m' if mins else '']
    return ' '.join(p for p in parts if p) or '0m'


def validate_percents(values: Any) -> list[int]:
    if not isinstance(values, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise ValidationError('Give whole percentages, for example [75, 90].')
    if any(v < 1 or v >= BREACH_PERCENT for v in values):
        raise ValidationError('Warnings lie between 1 and 99 % of the target (the breach is 100 %).')
    if len(set(values)) != len(values):
        raise ValidationError('Each warning percentage once.')
    return sorted(values)


def validate_pause_states(values: Any) -> list[str]:
    """The states of any process record's workflow that a clock may pause in (its open states), in order."""
    allowed = [value for value, _ in records.pausable_states()]
    if not isinstance(values, list) or any(v not in allowed for v in values):
        raise ValidationError(f'Pause states are open record states among: {", ".join(allowed)}.')
    return [v for v in allowed if v in values]


#
# Calendars
#


class BusinessCalendarQuerySet(models.QuerySet):
    def builtin_24x7(self) -> BusinessCalendar:
        """The built-in round-the-clock calendar (created when missing, so it is always there)."""
        calendar, _ = self.get_or_create(
            name=BUILTIN_24X7,
            defaults={
                'timezone': 'UTC',
                'hours': _always(),
                'builtin': True,
                'description': 'Every hour of every day, no holidays.',
            },
        )
        return calendar


class BusinessCalendar(ReferenceData, TimestampedModel):
    """When targets count: weekly working hours in a time zone, minus country and custom holidays."""

    name = models.CharField(max_length=80, unique=True)
    timezone = models.CharField(max_length=64, default='UTC', help_text='IANA time zone, e.g. Europe/Berlin.')
    hours = models.JSONField(
        default=_always,
        help_text='Working hours per weekday: {"mon": ["08:00-12:00", "13:00-17:00"], ...}; missing days are closed.',
    )
    holiday_country = models.CharField(
        max_length=3, blank=True, help_text='Country code whose public holidays are closed days (e.g. DE, US, GB).'
    )
    holiday_subdivision = models.CharField(
        max_length=10, blank=True, help_text='State or region for regional holidays (e.g. BY, CA).'
    )
    custom_holidays = models.JSONField(
        default=list, blank=True, help_text='Extra closed days: [{"date": "2026-12-24", "name": "Christmas Eve"}].'
    )
    description = models.TextField(blank=True)
    builtin = models.BooleanField(default=False, editable=False, help_text='Shipped with Pitcrew; cannot be deleted.')

    objects = BusinessCalendarQuerySet.as_manager()

    class Meta:
        ordering = ['name']

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse('sla:businesscalendar_detail', args=[self.pk])

    def clean(self):
        errors: dict[str, str] = {}
        try:
            business_time.validate_timezone(self.timezone)
        except ValueError as error:
            errors['timezone'] = str(error)
        try:
            self.hours = normalise_hours(self.hours)
        except ValidationError as error:
            errors['hours'] = error.messages[0]
        code = (self.holiday_country or '').upper()
        self.holiday_country = code
        if code:
            supported = holiday_countries()
            if code not in supported:
                errors['holiday_country'] = f'"{code}" is not a country the holidays calendar knows.'
            elif self.holiday_subdivision and self.holiday_subdivision not in supported[code]:
                options = ', '.join(supported[code][:20]) or 'none'
                errors['holiday_subdivision'] = f'{code} has no subdivision "{self.holiday_subdivision}" ({options}).'
        elif self.holiday_subdivision:
            errors['holiday_subdivision'] = 'A subdivision needs a country.'
        try:
            self.custom_holidays = normalise_custom_holidays(self.custom_holidays)
        except ValidationError as error:
            errors['custom_holidays'] = error.messages[0]
        if errors:
            raise ValidationError(errors)

    def schedule(self) -> business_time.Schedule:
        """The compiled calendar, kept per process until the record changes."""
        key = (
            self.pk,
            self.updated_at,
            self.timezone,
            repr(self.hours),
            self.holiday_country,
            self.holiday_subdivision,
            repr(self.custom_holidays),
        )
        cached = self.__dict__.get('_compiled') or _SCHEDULES.get(self.pk)
        if cached is not None and cached[0] == key:
            return cached[1]
        compiled = business_time.Schedule.from_hours(
            self.hours,
            timezone=self.timezone,
            country=self.holiday_country,
            subdivision=self.holiday_subdivision,
            custom=[dt.date.fromisoformat(h['date']) for h in self.custom_holidays],
        )
        self.__dict__['_compiled'] = (key, compiled)
        if self.pk is not None:
            if len(_SCHEDULES) > 512:
                _SCHEDULES.clear()
            _SCHEDULES[self.pk] = (key, compiled)
        return compiled

    @property
    def hours_text(self) -> str:
        """ "Mon–Fri 08:00-18:00" style: consecutive days with the same hours are grouped."""
        from .choices import WEEKDAYS

        groups: list[list] = []
        for key, label in WEEKDAYS:
            text = ', '.join(self.hours.get(key, []))
            if groups and groups[-1][2] == text:
                groups[-1][1] = label[:3]
            else:
                groups.append([label[:3], label[:3], text])
        shown = [f'{a}–{b}' if a != b else a for a, b, text in groups if text]
        texts = [text for _, _, text in groups if text]
        if len(texts) == 1 and shown == ['Mon–Sun'] and texts[0] == '00:00-24:00':
            return 'Around the clock'
        return '; '.join(f'{days} {text}' for days, text in zip(shown, texts, strict=True))

    @property
    def weekly_hours(self) -> list[tuple[str, list[str]]]:
        from .choices import WEEKDAYS

        return [(label, self.hours.get(key, [])) for key, label in WEEKDAYS]

    def upcoming_holidays(self, *, days: int = 365, today: dt.date | None = None) -> list[tuple[dt.date, str]]:
        """Closed days in the coming `days`, with their names."""
        today = today or timezone.localdate()
        end = today + dt.timedelta(days=days)
        found: dict[dt.date, str] = {}
        if self.holiday_country:
            import holidays as holidays_package

            country = holidays_package.country_holidays(
                self.holiday_country, subdiv=self.holiday_subdivision or None, years=range(today.year, end.year + 1)
            )
            found.update({day: name for day, name in country.items() if today <= day <= end})
        for item in self.custom_holidays:
            day = dt.date.fromisoformat(item['date'])
            if today <= day <= end:
                found[day] = item.get('name') or 'Closed'
        return sorted(found.items())


_SCHEDULES: dict[int, tuple[tuple, business_time.Schedule]] = {}


def holiday_countries() -> dict[str, list[str]]:
    import holidays as holidays_package

    return {code: list(subdivisions) for code, subdivisions in holidays_package.list_supported_countries().items()}


def normalise_hours(value: Any) -> dict[str, list[str]]:
    if not isinstance(value, dict):
        raise ValidationError('Working hours are a mapping of weekday to intervals, e.g. {"mon": ["08:00-18:00"]}.')
    unknown = sorted(set(value) - set(business_time.DAY_KEYS))
    if unknown:
        raise ValidationError(f'Unknown weekday {", ".join(unknown)}: use {", ".join(business_time.DAY_KEYS)}.')
    result = {}
    for key in business_time.DAY_KEYS:
        intervals = value.get(key) or []
        if isinstance(intervals, str):
            intervals = [part for part in intervals.split(',') if part.strip()]
        try:
            parsed = business_time.parse_hours(intervals)
        except ValueError as error:
            raise ValidationError(f'{key}: {error}') from None
        if parsed:
            result[key] = business_time.format_hours(parsed)
    if not result:
        raise ValidationError('Give working hours on at least one day.')
    return result


def normalise_custom_holidays(value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list):
        raise ValidationError('Custom holidays are a list of dates.')
    days: dict[str, str] = {}
    for item in value:
        if isinstance(item, str):
            text, name = item, ''
        elif isinstance(item, dict):
            text, name = item.get('date'), item.get('name', '')
        else:
            raise ValidationError(f'{item!r} is neither a date like 2026-12-24 nor {{"date": …, "name": …}}.'[:200])
        try:
            day = dt.date.fromisoformat(str(text))
        except (TypeError, ValueError):
            raise ValidationError(f'"{text}" is not a date like 2026-12-24.') from None
        days[day.isoformat()] = str(name or '')[:80]
    return [{'date': day, 'name': name} for day, name in sorted(days.items())]


#
# Agreements
#

TARGET_YEARS = 5


def check_targets_fit(agreement, names: tuple[str, ...]) -> dict[str, str]:
    """Targets must fit in a few years of the calendar's working time (a due time is always found)."""
    if not agreement.calendar_id:
        return {}
    try:
        per_week = business_time.weekly_minutes(agreement.calendar.hours)
    except ValueError:
        return {}
    limit = per_week * 52 * TARGET_YEARS
    return {
        name: f'{getattr(agreement, name)} minutes is more than {TARGET_YEARS} years of working time on '
        f'"{agreement.calendar}" ({per_week} minutes a week).'
        for name in names
        if getattr(agreement, name) and getattr(agreement, name) > limit
    }


# Who keeps which agreement beyond the model permission: incident managers and administrators keep every one;
# service owners only those of services they own (never the defaults, which hold for every service).
AGREEMENT_KEEPERS = (Role.ADMINISTRATOR, Role.INCIDENT_MANAGER)


def keeps_agreements_of(user, service) -> bool:
    """Whether `user` may write an agreement of `service` (None: a default for every service)."""
    if user is None:
        return True  # the desk itself (demo data, jobs)
    if user.has_role(*AGREEMENT_KEEPERS):
        return True
    return service is not None and service.owner_id == user.pk


class AgreementBase(ReferenceData, TimestampedModel):
    """What every agreement has: a calendar the targets run on, warning thresholds and the states that pause."""

    name = models.CharField(max_length=120)
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, related_name='+')
    warning_percents = models.JSONField(
        default=_default_warnings, blank=True, help_text='Warn when this share of a target has passed, e.g. [75, 90].'
    )
    pause_states = models.JSONField(
        default=_default_pause_states, blank=True, help_text='Ticket states in which the clocks stop counting.'
    )
    active = models.BooleanField(default=True)
    description = models.TextField(blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    target_fields: tuple[str, ...] = ()

    def clean(self):
        errors = {}
        for name, validate in (('warning_percents', validate_percents), ('pause_states', validate_pause_states)):
            try:
                setattr(self, name, validate(getattr(self, name)))
            except ValidationError as error:
                errors[name] = error.messages[0]
        errors.update(check_targets_fit(self, self.target_fields))
        if errors:
            raise ValidationError(errors)


class ServiceLevelAgreement(AgreementBase):
    """An SLA: response (until someone takes the record on) and resolution (until its work is finished) targets for
    one record kind (`ticket_kind`: incident, case...) and priority, for one service or, without a service, for
    every service that has no SLA of its own."""

    # The kinds the process records declare (incident, case...): `sla.records.kind_choices`.
    ticket_kind = models.CharField(max_length=24, choices=records.kind_choices, default=TicketKind.INCIDENT)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)
    service = models.ForeignKey(
        'cmdb.ConfigurationItem',
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name='slas',
        limit_choices_to={'ci_class': 'service'},
        help_text='Leave empty for the default of every service.',
    )
    response_minutes = models.PositiveIntegerField(help_text='Business minutes from opening to Accepted.')
    resolution_minutes = models.PositiveIntegerField(help_text='Business minutes from opening to Completed.')
    hypercare = models.BooleanField(
        default=False,
        help_text='Applies, instead of the usual SLA, while the service (or, without a service, any service) is in '
        'hypercare.',
    )

    target_fields = ('response_minutes', 'resolution_minutes')

    def writable_by(self, user) -> bool:
        return keeps_agreements_of(user, self.service)

    class Meta:
        ordering = ['ticket_kind', 'priority', 'service__name', 'name']
        verbose_name = 'SLA'
        verbose_name_plural = 'SLAs'
        constraints = [
            models.UniqueConstraint(
                fields=['ticket_kind', 'priority', 'service', 'hypercare'],
                condition=Q(active=True, service__isnull=False),
                name='sla_one_active_per_service',
            ),
            models.UniqueConstraint(
                fields=['ticket_kind', 'priority', 'hypercare'],
                condition=Q(active=True, service__isnull=True),
                name='sla_one_active_default',
            ),
            models.CheckConstraint(condition=Q(response_minutes__gt=0, resolution_minutes__gt=0), name='sla_targets'),
        ]

    def get_absolute_url(self) -> str:
        return reverse('sla:servicelevelagreement_detail', args=[self.pk])

    def clean(self):
        super().clean()
        if self.service_id and self.service.ci_class != 'service':
            raise ValidationError({'service': f'{self.service} is not a service.'})
        if self.response_minutes and self.resolution_minutes and self.response_minutes > self.resolution_minutes:
            raise ValidationError({'response_minutes': 'The response target cannot be longer than the resolution.'})
        if self.active and self.ticket_kind and self.priority is not None:
            clash = ServiceLevelAgreement.objects.filter(
                active=True,
                ticket_kind=self.ticket_kind,
                priority=self.priority,
                service_id=self.service_id,
                hypercare=self.hypercare,
            ).exclude(pk=self.pk)
            if clash.exists():
                scope = f'{self.service}' if self.service_id else 'the default'
                if self.hypercare:
                    scope += ' in hypercare'
                raise ValidationError(
                    f'"{clash.first()}" already covers {self.get_ticket_kind_display().lower()}s of '
                    f'P{self.priority} for {scope}.'
                )

    def target_minutes(self, kind: str) -> int:
        return self.response_minutes if kind == ClockKind.RESPONSE else self.resolution_minutes


class OperationalLevelAgreement(AgreementBase):
    """An OLA: how fast a support group accepts and resolves the records it holds, for one priority or all."""

    support_group = models.ForeignKey('itsm.SupportGroup', on_delete=models.CASCADE, related_name='olas')
    priority = models.PositiveSmallIntegerField(
        choices=Priority.choices, null=True, blank=True, help_text='Leave empty for every priority.'
    )
    accept_minutes = models.PositiveIntegerField(help_text='Business minutes from assignment to the group to Accepted.')
    resolve_minutes = models.PositiveIntegerField(
        help_text='Business minutes from assignment to the group to Completed.'
    )

    target_fields = ('accept_minutes', 'resolve_minutes')

    class Meta:
        ordering = ['support_group__name', 'priority', 'name']
        verbose_name = 'OLA'
        verbose_name_plural = 'OLAs'
        constraints = [
            models.UniqueConstraint(
                fields=['support_group', 'priority'],
                condition=Q(active=True, priority__isnull=False),
                name='ola_one_active_per_priority',
            ),
            models.UniqueConstraint(
                fields=['support_group'],
                condition=Q(active=True, priority__isnull=True),
                name='ola_one_active_default',
            ),
            models.CheckConstraint(condition=Q(accept_minutes__gt=0, resolve_minutes__gt=0), name='ola_targets'),
        ]

    def get_absolute_url(self) -> str:
        return reverse('sla:operationallevelagreement_detail', args=[self.pk])

    def clean(self):
        super().clean()
        if self.accept_minutes and self.resolve_minutes and self.accept_minutes > self.resolve_minutes:
            raise ValidationError({'accept_minutes': 'The accept target cannot be longer than the resolve target.'})
        if self.active and self.support_group_id:
            clash = OperationalLevelAgreement.objects.filter(
                active=True, support_group_id=self.support_group_id, priority=self.priority
            ).exclude(pk=self.pk)
            if clash.exists():
                scope = f'P{self.priority}' if self.priority is not None else 'every priority'
                raise ValidationError(f'"{clash.first()}" already covers {self.support_group} for {scope}.')

    def target_minutes(self, kind: str) -> int:
        return self.accept_minutes if kind == ClockKind.OLA_ACCEPT else self.resolve_minutes


class UnderpinningContract(TimestampedModel):
    """A contract with a supplier that backs our agreements: its response and resolution targets, its term."""

    name = models.CharField(max_length=120)
    supplier = models.CharField(max_length=120)
    reference = models.CharField(max_length=60, blank=True, help_text='Contract number at the supplier.')
    service = models.ForeignKey(
        'cmdb.ConfigurationItem',
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name='underpinning_contracts',
        limit_choices_to={'ci_class': 'service'},
        help_text='The service this contract supports.',
    )
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, related_name='+')
    response_minutes = models.PositiveIntegerField()
    resolution_minutes = models.PositiveIntegerField()
    contact_email = models.EmailField(blank=True, help_text='Where incidents are raised with the supplier.')

    def writable_by(self, user) -> bool:
        return keeps_agreements_of(user, self.service)

    contact_phone = models.CharField(max_length=40, blank=True)
    valid_from = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ['supplier', 'name']
        constraints = [
            models.UniqueConstraint(fields=['supplier', 'name'], name='uc_unique_name_per_supplier'),
        ]

    def __str__(self) -> str:
        return f'{self.supplier}: {self.name}'

    def get_absolute_url(self) -> str:
        return reverse('sla:underpinningcontract_detail', args=[self.pk])

    def clean(self):
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValidationError({'valid_until': 'The contract cannot end before it starts.'})
        if self.service_id and self.service.ci_class != 'service':
            raise ValidationError({'service': f'{self.service} is not a service.'})

    @property
    def in_force(self) -> bool:
        today = timezone.localdate()
        return (self.valid_from is None or self.valid_from <= today) and (
            self.valid_until is None or today <= self.valid_until
        )


#
# Clocks
#


class SlaClockQuerySet(models.QuerySet):
    def for_record(self, record):
        """The clocks of one process record."""
        return self.filter(content_type=ContentType.objects.get_for_model(record), object_id=record.pk)


class SlaClock(TimestampedModel):
    """One target of one process record, counting business time on its calendar.

    Elapsed time = `elapsed` (accumulated before the current run) + business time since `run_started_at` when
    running. `due_at` is when the target runs out if nothing pauses it (None while paused or stopped);
    `next_check_at` is when the next unclaimed warning or the breach falls due (None when nothing is pending).
    A breach is final: a clock that breached stays `breached` when it stops.
    """

    # The record measured: any process record (deleted with it through its `sla_clocks` relation). The indexes
    # below lead with (content_type, object_id), so the content type needs no index of its own.
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name='+', db_index=False)
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey('content_type', 'object_id')
    kind = models.CharField(max_length=12, choices=ClockKind.choices)
    name = models.CharField(max_length=200)
    sla = models.ForeignKey(
        ServiceLevelAgreement, null=True, blank=True, on_delete=models.SET_NULL, related_name='clocks'
    )
    ola = models.ForeignKey(
        OperationalLevelAgreement, null=True, blank=True, on_delete=models.SET_NULL, related_name='clocks'
    )
    support_group = models.ForeignKey(
        'itsm.SupportGroup',
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name='+',
        help_text='For OLA clocks: the group the ticket was with.',
    )
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, related_name='clocks')
    target_minutes = models.PositiveIntegerField()
    warning_percents = models.JSONField(default=_default_warnings)
    pause_states = models.JSONField(default=_default_pause_states)
    state = models.CharField(max_length=10, choices=ClockState.choices, default=ClockState.RUNNING)
    started_at = models.DateTimeField()
    elapsed = models.DurationField(default=dt.timedelta, help_text='Business time counted before the current run.')
    run_started_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True)
    next_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.CharField(max_length=12, choices=StopReason.choices, blank=True)
    # The queue forecast (`sla.forecast`): set while the open tickets ahead of this one in its group's queue, at the
    # group's recent throughput, would finish it after its due time; cleared when the forecast improves again.
    forecast_warned_at = models.DateTimeField(
        null=True, blank=True, help_text='When the queue forecast first said this clock will probably breach.'
    )
    forecast_at = models.DateTimeField(
        null=True, blank=True, help_text='When the queue forecast expects the work done (latest forecast).'
    )
    forecast_ahead = models.PositiveIntegerField(null=True, blank=True, help_text='Open tickets ahead in the queue.')
    forecast_rate = models.FloatField(
        null=True, blank=True, help_text="The group's recent throughput: tickets completed per business hour."
    )

    badge_colors = {'state': CLOCK_STATE_COLOURS}

    objects = SlaClockQuerySet.as_manager()

    class Meta:
        ordering = ['content_type', 'object_id', 'id']
        verbose_name = 'SLA clock'
        indexes = [
            # The sweep reads only clocks whose next warning or breach is due.
            models.Index(fields=['next_check_at'], condition=Q(next_check_at__isnull=False), name='sla_clock_due'),
            # A record's clocks (the engine, the panel, a page's prefetch, the breached and at-risk filters).
            models.Index(fields=['content_type', 'object_id', 'due_at'], name='sla_clock_record_due'),
            # The rollup refresh reads the clocks changed since its last run.
            models.Index(fields=['updated_at'], name='sla_clock_updated'),
            # The queues' nearest due: a small index of the open clocks, read without touching the table.
            models.Index(
                fields=['content_type', 'object_id', 'due_at'],
                condition=Q(stopped_at__isnull=True, due_at__isnull=False),
                name='sla_clock_open_due',
            ),
            # The breached and at-risk filters (the same conditions as `sla.selectors`): small indexes of the few
            # clocks that missed or are close to missing, so neither filter reads the clock table.
            models.Index(
                fields=['content_type', 'object_id'],
                condition=Q(breached_at__isnull=False) | Q(state=ClockState.BREACHED),
                name='sla_clock_breached',
            ),
            models.Index(
                fields=['content_type', 'object_id'],
                condition=Q(stopped_at__isnull=True, warned_at__isnull=False, breached_at__isnull=True),
                name='sla_clock_at_risk',
            ),
            models.Index(fields=['state', 'due_at'], name='sla_clock_state_due'),
            # The all-open queues' pages: the open clocks walked in due order (`selectors.nearest_due_ids`).
            models.Index(
                fields=['content_type', 'due_at', 'object_id'],
                condition=Q(stopped_at__isnull=True, due_at__isnull=False),
                name='sla_clock_open_by_due',
            ),
            # The likely-to-breach filter (`sla.selectors.filter_likely_to_breach`): the few flagged open clocks.
            models.Index(
                fields=['content_type', 'object_id'],
                condition=Q(stopped_at__isnull=True, forecast_warned_at__isnull=False),
                name='sla_clock_forecast',
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=['content_type', 'object_id', 'kind'],
                condition=Q(stopped_at__isnull=True),
                name='sla_clock_one_open_per_kind',
            ),
        ]

    def __str__(self) -> str:
        return f'{getattr(self.record, "number", "?")} · {self.name}'

    def get_absolute_url(self) -> str:
        return reverse('sla:slaclock_detail', args=[self.pk])

    # -- derived values (no queries beyond the calendar, which lists select)
    @property
    def target(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.target_minutes)

    @property
    def is_open(self) -> bool:
        return self.stopped_at is None

    @property
    def is_running(self) -> bool:
        return self.run_started_at is not None

    @property
    def breached(self) -> bool:
        return self.breached_at is not None or self.state == ClockState.BREACHED

    def threshold(self, percent: int) -> dt.timedelta:
        """Business time at which `percent` of the target has passed (exact: whole microseconds)."""
        return dt.timedelta(microseconds=self.target_minutes * percent * 600_000)

    def elapsed_at(self, moment: dt.datetime | None = None) -> dt.timedelta:
        if self.run_started_at is None:
            return self.elapsed
        moment = moment or timezone.now()
        return self.elapsed + business_time.business_time_between(self.calendar, self.run_started_at, moment)

    def remaining_at(self, moment: dt.datetime | None = None) -> dt.timedelta:
        return self.target - self.elapsed_at(moment)

    def instant_of(self, amount: dt.timedelta) -> dt.datetime | None:
        """When the running clock's elapsed time reaches `amount` (the run start if it already has)."""
        if self.run_started_at is None:
            return None
        return business_time.add_business_time(self.calendar, self.run_started_at, amount - self.elapsed)

    def percent_at(self, moment: dt.datetime | None = None) -> float:
        return 100 * self.elapsed_at(moment) / self.target if self.target_minutes else 0.0

    @property
    def likely_to_breach(self) -> bool:
        """Whether the queue forecast says this open clock will probably breach."""
        return self.forecast_warned_at is not None and self.stopped_at is None and self.breached_at is None

    @property
    def risk_at(self) -> dt.datetime | None:
        """When the first warning falls due on the current run (for the badge colour), if it is running."""
        if not self.warning_percents or self.run_started_at is None:
            return None
        return self.instant_of(self.threshold(min(self.warning_percents)))

    def percents(self) -> list[int]:
        return [*sorted(self.warning_percents), BREACH_PERCENT]


class ClockPause(models.Model):
    """An interval in which a clock did not count, and why (the record's state, kept in `ticket_state` as the API
    names it, and the reason the record gives)."""

    clock = models.ForeignKey(SlaClock, on_delete=models.CASCADE, related_name='pauses')
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ticket_state = models.CharField(max_length=24)
    reason = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ['clock', 'started_at', 'id']
        verbose_name = 'SLA clock pause'
        constraints = [
            models.UniqueConstraint(fields=['clock'], condition=Q(ended_at__isnull=True), name='sla_pause_one_open'),
        ]

    def __str__(self) -> str:
        return f'{self.clock} paused {timezone.localtime(self.started_at):%Y-%m-%d %H:%M}'

    def get_absolute_url(self) -> str:
        return reverse('sla:clockpause_detail', args=[self.pk])

    @property
    def duration(self) -> dt.timedelta | None:
        return (self.ended_at - self.started_at) if self.ended_at else None


class ClockEvent(models.Model):
    """A warning or breach of a clock, claimed exactly once: the database refuses a second row for the same
    clock and percent, so overlapping or repeated sweeps and a clock stopping late cannot announce it twice.

    `claim` identifies the transaction that inserted the row; `superseded` marks warnings passed in the same
    sweep as a higher threshold (recorded, not announced); `notified_at` is set when the e-mail went out.
    """

    # No index of its own: the unique (clock, percent) constraint leads with it.
    clock = models.ForeignKey(SlaClock, on_delete=models.CASCADE, related_name='events', db_index=False)
    percent = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=8, choices=EventKind.choices)
    crossed_at = models.DateTimeField(help_text='When the threshold was reached.')
    at = models.DateTimeField(default=timezone.now, help_text='When it was recorded.')
    claim = models.UUIDField(db_index=True)
    superseded = models.BooleanField(default=False)
    notified_at = models.DateTimeField(null=True, blank=True)
    recipients = models.JSONField(default=list, blank=True)

    badge_colors = {'kind': EVENT_KIND_COLOURS}

    class Meta:
        ordering = ['-at', '-id']
        verbose_name = 'SLA event'
        constraints = [models.UniqueConstraint(fields=['clock', 'percent'], name='sla_event_once_per_threshold')]
        indexes = [
            models.Index(
                fields=['at'], condition=Q(notified_at__isnull=True, superseded=False), name='sla_event_unnotified'
            ),
        ]

    def __str__(self) -> str:
        label = 'breach' if self.kind == EventKind.BREACH else f'{self.percent} % warning'
        return f'{self.clock} {label}'

    def get_absolute_url(self) -> str:
        return reverse('sla:clockevent_detail', args=[self.pk])
