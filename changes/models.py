"""Requests for change, the standard-change catalogue, risk data, CABs and their meetings and votes, freeze windows,
implementation tasks and the calendar feed's tokens (domain §8).

A change (`Change`) and an implementation task (`ChangeTask`) are process records (`itsm.records.ProcessRecord`) run
by `CHANGE_WORKFLOW` and `TASK_WORKFLOW`, so tasks carry their own OLA clocks. Incidents and problems know nothing
of changes: the links live here (`Change.incidents`, `Change.problems`, `IncidentCause`).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from itsm.models import TimestampedModel
from itsm.records import ProcessRecord, ProcessRecordQuerySet

from .actions import CHANGE_ACTIONS, TASK_ACTIONS
from .choices import (
    CHANGE_WORKFLOW,
    TASK_WORKFLOW,
    ApprovalPolicy,
    CabKind,
    CabRoute,
    ChangeOutcome,
    ChangeState,
    ChangeType,
    MeetingStatus,
    RiskLevel,
    RiskSignal,
    TaskState,
    Vote,
)


# ------------------------------------------------------------------------------------------ the catalogue
class ChangeModel(TimestampedModel):
    """A pre-approved standard change: what it does, its plans and the tasks it always has. No CAB."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    risk_level = models.CharField(max_length=10, choices=RiskLevel.choices, default=RiskLevel.LOW)
    implementation_plan = models.TextField(blank=True)
    backout_plan = models.TextField(blank=True)
    test_plan = models.TextField(blank=True)
    assignment_group = models.ForeignKey(
        'itsm.SupportGroup', null=True, blank=True, on_delete=models.PROTECT, related_name='+'
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ['name']

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse('changes:changemodel_detail', args=[self.pk])


class ChangeModelTask(models.Model):
    """One task every change of a model gets, in order."""

    change_model = models.ForeignKey(ChangeModel, on_delete=models.CASCADE, related_name='tasks')
    position = models.PositiveIntegerField(default=10)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    assignment_group = models.ForeignKey(
        'itsm.SupportGroup', null=True, blank=True, on_delete=models.PROTECT, related_name='+'
    )

    class Meta:
        ordering = ['change_model', 'position', 'pk']

    def __str__(self) -> str:
        return f'{self.change_model}: {self.title}'

    def get_absolute_url(self) -> str:
        return self.change_model.get_absolute_url()


# ------------------------------------------------------------------------------------------ risk as data
class RiskQuestion(TimestampedModel):
    """A question of the risk questionnaire; each answer adds its score."""

    position = models.PositiveIntegerField(default=10)
    text = models.CharField(max_length=300)
    help_text = models.CharField(max_length=300, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ['position', 'pk']

    def __str__(self) -> str:
        return self.text

    def get_absolute_url(self) -> str:
        return reverse('changes:riskquestion_detail', args=[self.pk])


class RiskAnswer(models.Model):
    question = models.ForeignKey(RiskQuestion, on_delete=models.CASCADE, related_name='answers')
    position = models.PositiveIntegerField(default=10)
    label = models.CharField(max_length=200)
    score = models.IntegerField(default=0)

    class Meta:
        ordering = ['question', 'position', 'pk']

    def __str__(self) -> str:
        return f'{self.label} ({self.score:+d})'

    def get_absolute_url(self) -> str:
        return self.question.get_absolute_url()


class RiskBand(models.Model):
    """From this questionnaire score up, the change is at least this risky (the highest band reached wins)."""

    min_score = models.IntegerField(unique=True)
    level = models.CharField(max_length=10, choices=RiskLevel.choices)

    class Meta:
        ordering = ['min_score']

    def __str__(self) -> str:
        return f'{self.min_score}+ → {self.get_level_display()}'

    def get_absolute_url(self) -> str:
        return reverse('changes:riskband_detail', args=[self.pk])


class RiskRule(TimestampedModel):
    """When a signal from the CMDB or the live desk reaches `threshold`, the risk is raised to at least `raise_to`."""

    name = models.CharField(max_length=120)
    signal = models.CharField(max_length=24, choices=RiskSignal.choices)
    threshold = models.PositiveIntegerField(default=1)
    raise_to = models.CharField(max_length=10, choices=RiskLevel.choices)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ['signal', 'threshold', 'pk']

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse('changes:riskrule_detail', args=[self.pk])


# ------------------------------------------------------------------------------------------ CABs
class Cab(TimestampedModel):
    """A change advisory board: its members and how many of them must approve."""

    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=10, choices=CabKind.choices, default=CabKind.REGULAR)
    policy = models.CharField(max_length=10, choices=ApprovalPolicy.choices, default=ApprovalPolicy.MAJORITY)
    required_approvals = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text='For "N of the members": how many approvals authorise a change.'
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name='cabs', blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ['kind', 'name']
        verbose_name = 'CAB'
        verbose_name_plural = 'CABs'

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse('changes:cab_detail', args=[self.pk])


class CabRule(TimestampedModel):
    """Which board authorises a change: the first active rule (lowest position) whose conditions match. A blank
    condition matches anything. Data, so "standard changes and changes outside production skip the CAB" can be
    read and changed by the change manager."""

    position = models.PositiveIntegerField(default=100)
    name = models.CharField(max_length=120)
    change_type = models.CharField(max_length=10, choices=ChangeType.choices, blank=True)
    outside_production = models.BooleanField(
        null=True, blank=True, help_text="Yes: all the change's CIs are outside production; no: at least one is in."
    )
    route = models.CharField(max_length=16, choices=CabRoute.choices)
    cab = models.ForeignKey(Cab, null=True, blank=True, on_delete=models.PROTECT, related_name='rules')
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ['position', 'pk']

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse('changes:cabrule_detail', args=[self.pk])


class CabMeeting(TimestampedModel):
    """A CAB meeting; its agenda is the changes awaiting authorisation whose planned start falls in its window."""

    cab = models.ForeignKey(Cab, on_delete=models.PROTECT, related_name='meetings')
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField()
    window_start = models.DateTimeField(help_text='Changes planned to start from here...')
    window_end = models.DateTimeField(help_text='...until here are on the agenda.')
    status = models.CharField(max_length=10, choices=MeetingStatus.choices, default=MeetingStatus.PLANNED)
    location = models.CharField(max_length=200, blank=True)
    minutes = models.TextField(blank=True)
    changes = models.ManyToManyField('Change', through='AgendaItem', related_name='cab_meetings', blank=True)

    class Meta:
        ordering = ['-starts_at']
        verbose_name = 'CAB meeting'

    def __str__(self) -> str:
        return f'{self.cab} {self.starts_at:%Y-%m-%d %H:%M}'

    def get_absolute_url(self) -> str:
        return reverse('changes:cabmeeting_detail', args=[self.pk])


class AgendaItem(models.Model):
    meeting = models.ForeignKey(CabMeeting, on_delete=models.CASCADE, related_name='agenda')
    change = models.ForeignKey('Change', on_delete=models.CASCADE, related_name='agenda_items')
    position = models.PositiveIntegerField(default=10)

    class Meta:
        ordering = ['meeting', 'position', 'pk']
        constraints = [models.UniqueConstraint(fields=['meeting', 'change'], name='changes_agenda_once')]

    def __str__(self) -> str:
        return f'{self.meeting}: {self.change_id}'

    def get_absolute_url(self) -> str:
        return self.meeting.get_absolute_url()


# ------------------------------------------------------------------------------------------ changes
class ChangeQuerySet(ProcessRecordQuerySet):
    def scheduled_between(self, start, end):
        """Changes whose planned window overlaps [start, end)."""
        return self.filter(planned_start__lt=end, planned_end__gt=start)


class Change(ProcessRecord):
    """A request for change, from draft to closure."""

    number_prefix = 'CHG'
    number_start = 1001
    workflow = CHANGE_WORKFLOW
    actions = CHANGE_ACTIONS
    requester_fields = ()  # changes are staff records

    state = models.CharField(max_length=16, choices=ChangeState.choices, default=ChangeState.DRAFT, editable=False)
    change_type = models.CharField(max_length=10, choices=ChangeType.choices, default=ChangeType.NORMAL, db_index=True)
    change_model = models.ForeignKey(
        ChangeModel,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name='changes',
        help_text='The pre-approved model a standard change follows.',
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name='changes_requested'
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name='changes_owned'
    )
    cis = models.ManyToManyField(
        'cmdb.ConfigurationItem', blank=True, related_name='changes', verbose_name='configuration items'
    )
    services = models.ManyToManyField(
        'cmdb.ConfigurationItem', blank=True, related_name='service_changes', limit_choices_to={'ci_class': 'service'}
    )
    # Derived from the CIs (the most exposed one: production if any is); stored for filters and the calendar.
    environment = models.CharField(max_length=20, blank=True, editable=False, db_index=True)

    planned_start = models.DateTimeField(null=True, blank=True, db_index=True)
    planned_end = models.DateTimeField(null=True, blank=True)
    actual_start = models.DateTimeField(null=True, blank=True, editable=False)
    actual_end = models.DateTimeField(null=True, blank=True, editable=False)

    justification = models.TextField(blank=True)
    implementation_plan = models.TextField(blank=True)
    backout_plan = models.TextField(blank=True)
    test_plan = models.TextField(blank=True)
    test_results = models.TextField(blank=True)
    tests_passed = models.BooleanField(null=True, blank=True, help_text='Whether the recorded tests passed.')
    test_gate_bypass_reason = models.CharField(max_length=300, blank=True, editable=False)

    # Risk: the questionnaire's level, and the level the live signals raised it to (with why).
    questionnaire_level = models.CharField(max_length=10, choices=RiskLevel.choices, blank=True, editable=False)
    risk_level = models.CharField(max_length=10, choices=RiskLevel.choices, blank=True, editable=False)
    risk_reasons = models.JSONField(default=list, blank=True, editable=False)
    risk_assessed_at = models.DateTimeField(null=True, blank=True, editable=False)

    cab_route = models.CharField(max_length=16, choices=CabRoute.choices, blank=True, editable=False)
    cab = models.ForeignKey(
        Cab, null=True, blank=True, on_delete=models.PROTECT, related_name='changes', editable=False
    )
    authorized_at = models.DateTimeField(null=True, blank=True, editable=False)
    freeze_override_reason = models.CharField(max_length=300, blank=True, editable=False)

    outcome = models.CharField(max_length=24, choices=ChangeOutcome.choices, blank=True, editable=False)
    review_notes = models.TextField(
        blank=True, help_text='Post-implementation review (required after failed and emergency changes).'
    )
    cancel_reason = models.CharField(max_length=300, blank=True, editable=False)
    rejection_reason = models.CharField(max_length=300, blank=True, editable=False)

    problems = models.ManyToManyField('problems.Problem', blank=True, related_name='changes')
    incidents = models.ManyToManyField('incidents.Ticket', blank=True, related_name='changes')

    objects = ChangeQuerySet.as_manager()

    class Meta:
        ordering = ['-opened_at']
        indexes = [
            models.Index(fields=['state', 'planned_start'], name='changes_calendar'),
            models.Index(fields=['owner', 'state'], name='changes_owner_state'),
            models.Index(fields=['assignment_group', 'state'], name='changes_group_state'),
        ]

    def get_absolute_url(self) -> str:
        return reverse('changes:change_detail', args=[self.number])


class RiskAssessment(models.Model):
    """A change's answer to one question of the questionnaire."""

    change = models.ForeignKey(Change, on_delete=models.CASCADE, related_name='risk_answers')
    question = models.ForeignKey(RiskQuestion, on_delete=models.PROTECT, related_name='+')
    answer = models.ForeignKey(RiskAnswer, on_delete=models.PROTECT, related_name='+')

    class Meta:
        ordering = ['change', 'question__position']
        constraints = [models.UniqueConstraint(fields=['change', 'question'], name='changes_one_answer_per_question')]

    def __str__(self) -> str:
        return f'{self.change_id}: {self.answer}'

    def get_absolute_url(self) -> str:
        return self.change.get_absolute_url()


class CabVote(models.Model):
    """A member's vote on a change (in a meeting, or outside one for the emergency CAB). One per member and change;
    voting again replaces it."""

    change = models.ForeignKey(Change, on_delete=models.CASCADE, related_name='votes')
    cab = models.ForeignKey(Cab, on_delete=models.PROTECT, related_name='votes')
    meeting = models.ForeignKey(CabMeeting, null=True, blank=True, on_delete=models.SET_NULL, related_name='votes')
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name='cab_votes')
    vote = models.CharField(max_length=8, choices=Vote.choices)
    comment = models.TextField(blank=True)
    cast_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ['change', 'cast_at']
        constraints = [models.UniqueConstraint(fields=['change', 'voter'], name='changes_one_vote_per_member')]

    def __str__(self) -> str:
        return f'{self.voter} {self.vote} {self.change_id}'

    def get_absolute_url(self) -> str:
        return self.change.get_absolute_url()


class FreezeWindow(TimestampedModel):
    """A freeze or blackout: normal changes may not be planned inside it unless the change manager overrides.
    With services, only changes touching them are frozen; without, every change is."""

    name = models.CharField(max_length=120)
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=300, blank=True)
    services = models.ManyToManyField(
        'cmdb.ConfigurationItem', blank=True, related_name='freeze_windows', limit_choices_to={'ci_class': 'service'}
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ['starts_at']
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F('starts_at')), name='changes_freeze_ends_after_start'
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse('changes:freezewindow_detail', args=[self.pk])


class ChangeTask(ProcessRecord):
    """An implementation task of a change, in order, worked by a group (with its own OLA clocks)."""

    number_prefix = 'CTASK'
    number_start = 1001
    workflow = TASK_WORKFLOW
    actions = TASK_ACTIONS
    requester_fields = ()

    change = models.ForeignKey(Change, on_delete=models.CASCADE, related_name='tasks')
    position = models.PositiveIntegerField(default=10)
    state = models.CharField(max_length=12, choices=TaskState.choices, default=TaskState.OPEN, editable=False)
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    done_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ['change', 'position', 'pk']
        indexes = [models.Index(fields=['assignment_group', 'state'], name='changes_task_group_state')]

    def get_absolute_url(self) -> str:
        return reverse('changes:changetask_detail', args=[self.number])


class IncidentCause(models.Model):
    """An incident caused by a change (one change per incident)."""

    incident = models.OneToOneField('incidents.Ticket', on_delete=models.CASCADE, related_name='caused_by')
    change = models.ForeignKey(Change, on_delete=models.CASCADE, related_name='caused_incidents')
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name='+'
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ['-recorded_at']

    def __str__(self) -> str:
        return f'{self.incident_id} caused by {self.change_id}'

    def get_absolute_url(self) -> str:
        return self.change.get_absolute_url()


def new_calendar_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarToken(models.Model):
    """A person's secret for subscribing to the change calendar (iCalendar) from a calendar client."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name='calendar_token')
    token = models.CharField(max_length=64, unique=True, default=new_calendar_token, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ['user']

    def __str__(self) -> str:
        return f'Calendar token of {self.user}'
