"""On-call: schedules of support groups (ordered rotation layers and overrides), escalation policies, and the
pages sent for records.

A record is paged at most once per level: the first page (level 1) is unique per record, and each escalation adds
the next level once (a unique constraint backs the sweep's claim). The level-1 page is the lock every writer of a
record's paging takes first, so an acknowledgement and a sweep never both win.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse

from itsm.models import TimestampedModel

from .choices import STATE_COLOURS, Handoff, LevelTarget, PageState, Weekday


def default_zone() -> str:
    return settings.TIME_ZONE


def new_feed_key() -> str:
    return secrets.token_urlsafe(16)


def default_levels() -> list[dict]:
    return [
        {'notify': LevelTarget.SCHEDULE.value, 'minutes': settings.ONCALL_DEFAULT_ESCALATION_MINUTES},
        {'notify': LevelTarget.MANAGER.value},
    ]


class OnCallSchedule(TimestampedModel):
    """Who of a support group is on call, in the schedule's time zone (the desk's by default)."""

    group = models.ForeignKey('itsm.SupportGroup', on_delete=models.CASCADE, related_name='oncall_schedules')
    name = models.CharField(max_length=100)
    time_zone = models.CharField(max_length=64, default=default_zone, help_text='IANA name, e.g. Europe/London.')
    description = models.TextField(blank=True)
    # Part of the calendar feed's signed token: a new key makes every feed address given out so far stop working.
    feed_key = models.CharField(max_length=32, default=new_feed_key, editable=False)
    unaudited_fields = ('feed_key',)  # the calendar feed's secret never reaches the history

    class Meta:
        ordering = ['group__name', 'name', 'id']
        constraints = [models.UniqueConstraint(fields=['group', 'name'], name='oncall_schedule_name_per_group')]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse('oncall:oncallschedule_detail', args=[self.pk])


class RotationLayer(TimestampedModel):
    """One layer of a schedule: members take turns, handing over daily or weekly at a local time. Later layers
    (higher position) win where they cover; `days` and the hours restrict where a layer covers."""

    schedule = models.ForeignKey(OnCallSchedule, on_delete=models.CASCADE, related_name='layers')
    name = models.CharField(max_length=100)
    position = models.PositiveSmallIntegerField(default=1, help_text='Higher layers win where they cover.')
    members = models.JSONField(default=list, help_text='Ids of the people who take turns, in order.')
    handoff = models.CharField(max_length=10, choices=Handoff.choices, default=Handoff.WEEKLY)
    handoff_time = models.TimeField(default='09:00', help_text='Local time of the handover.')
    handoff_weekday = models.PositiveSmallIntegerField(
        choices=Weekday.choices, default=Weekday.MONDAY, help_text='Weekly layers: the day of the handover.'
    )
    rotation_start = models.DateField(help_text='The first member starts at the first handover on or after it.')
    restrict_days = models.JSONField(
        default=list, blank=True, help_text='Weekdays covered (0 = Monday … 6 = Sunday); empty: every day.'
    )
    restrict_from = models.TimeField(null=True, blank=True, help_text='Covered from this local time …')
    restrict_to = models.TimeField(null=True, blank=True, help_text='… until this one; both empty: all day.')

    class Meta:
        ordering = ['schedule', 'position', 'id']
        constraints = [
            models.UniqueConstraint(fields=['schedule', 'position'], name='oncall_layer_position_once'),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse('oncall:rotationlayer_detail', args=[self.pk])


class OnCallOverride(TimestampedModel):
    """`person` is on call instead of whoever the layers say, from `start` to `end`."""

    schedule = models.ForeignKey(OnCallSchedule, on_delete=models.CASCADE, related_name='overrides')
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name='oncall_overrides')
    start = models.DateTimeField()
    end = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ['schedule', 'start', 'id']
        indexes = [models.Index(fields=['schedule', 'end', 'start'], name='oncall_override_window')]

    def __str__(self) -> str:
        return f'{self.person} on {self.schedule}'

    def get_absolute_url(self) -> str:
        return reverse('oncall:oncalloverride_detail', args=[self.pk])


class EscalationPolicy(TimestampedModel):
    """How a group's pages escalate: levels in order, each waiting its `minutes` for an acknowledgement."""

    group = models.OneToOneField('itsm.SupportGroup', on_delete=models.CASCADE, related_name='escalation_policy')
    name = models.CharField(max_length=100)
    levels = models.JSONField(
        default=default_levels,
        help_text='[{"notify": "schedule"|"person"|"manager", "schedule": id, "person": id, "minutes": N}, …]: '
        'each level waits N minutes unacknowledged before the next is paged.',
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ['group__name', 'id']
        verbose_name_plural = 'escalation policies'

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse('oncall:escalationpolicy_detail', args=[self.pk])


class Page(models.Model):
    """One page of one person for one record at one level of escalation."""

    badge_colors = {'state': STATE_COLOURS}

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name='+')
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey('content_type', 'object_id')
    record_number = models.CharField(max_length=20)
    record_title = models.CharField(max_length=300, blank=True)
    group = models.ForeignKey('itsm.SupportGroup', null=True, on_delete=models.SET_NULL, related_name='oncall_pages')
    schedule = models.ForeignKey(OnCallSchedule, null=True, blank=True, on_delete=models.SET_NULL, related_name='+')
    level = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(20)])
    target = models.CharField(max_length=10, choices=LevelTarget.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name='oncall_pages'
    )
    reason = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=12, choices=PageState.choices, default=PageState.OPEN)
    sent_at = models.DateTimeField()
    escalate_at = models.DateTimeField(null=True, blank=True, help_text='When the next level is paged.')
    escalated_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name='+'
    )
    acknowledged_via = models.CharField(max_length=10, blank=True)

    class Meta:
        ordering = ['-sent_at', '-id']
        constraints = [
            models.UniqueConstraint(fields=['content_type', 'object_id', 'level'], name='oncall_page_level_once'),
        ]
        indexes = [
            # The sweep's query: open pages whose escalation is due.
            models.Index(fields=['escalate_at'], condition=Q(state='open'), name='oncall_page_due'),
            models.Index(fields=['recipient', '-sent_at'], name='oncall_page_recipient'),
            models.Index(fields=['state', '-sent_at'], name='oncall_page_state'),
        ]

    def __str__(self) -> str:
        return f'{self.record_number} level {self.level}'

    def get_absolute_url(self) -> str:
        return reverse('oncall:page_detail', args=[self.pk])
