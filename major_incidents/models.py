"""Major incidents (domain §6): the response record, its team, children, recipients, updates, cadence reminders,
validations, the post-incident review with its action items, and the candidates found among new incidents.

A major incident is a process record (`itsm.records.ProcessRecord`) run by `MAJOR_INCIDENT_WORKFLOW`. Incidents join
one through `MajorIncidentChild` (one row per incident, so an incident belongs to at most one major incident);
incidents themselves know nothing of major incidents.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from itsm.choices import Priority
from itsm.models import TimestampedModel
from itsm.records import ProcessRecord, ProcessRecordQuerySet

from .actions import MAJOR_INCIDENT_ACTIONS
from .choices import (
    MAJOR_INCIDENT_WORKFLOW,
    CandidateReason,
    CandidateStatus,
    MajorIncidentState,
    ProcessRating,
    RecipientSource,
    ResponseMode,
    ServiceImpact,
    Severity,
    UpdateAudience,
    UpdateStatus,
    ValidationRole,
)

USER = settings.AUTH_USER_MODEL


class MajorIncidentQuerySet(ProcessRecordQuerySet):
    def active(self):
        """Major incidents whose services are still down or degraded."""
        from .choices import ACTIVE

        return self.filter(state__in=ACTIVE)


class MajorIncident(ProcessRecord):
    """A high-impact disruption run by a dedicated team, from detection to the post-incident review."""

    number_prefix = 'MIR'
    number_start = 1001
    workflow = MAJOR_INCIDENT_WORKFLOW
    actions = MAJOR_INCIDENT_ACTIONS
    requester_fields = ()  # requesters follow major incidents on the public status page

    state = models.CharField(
        max_length=24, choices=MajorIncidentState.choices, default=MajorIncidentState.DETECTION, editable=False
    )
    priority = models.PositiveSmallIntegerField(
        choices=Priority.choices, default=Priority.P1, help_text='Sets the update cadence (P0 every 30 min, P1 60).'
    )
    severity = models.PositiveSmallIntegerField(choices=Severity.choices, default=Severity.SEV1)
    service_impact = models.CharField(
        max_length=24,
        choices=ServiceImpact.choices,
        default=ServiceImpact.MAJOR_OUTAGE,
        help_text='What the status page shows for the affected public services while it is active.',
    )
    public_title = models.CharField(
        max_length=200, blank=True, help_text='Title on the public status page (the short description when empty).'
    )
    source_incident = models.ForeignKey(
        'incidents.Ticket',
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name='+',
        help_text='The incident it was declared from.',
    )
    services = models.ManyToManyField(
        'cmdb.ConfigurationItem',
        blank=True,
        related_name='service_major_incidents',
        limit_choices_to={'ci_class': 'service'},
    )
    cis = models.ManyToManyField(
        'cmdb.ConfigurationItem', blank=True, related_name='major_incidents', verbose_name='configuration items'
    )

    # The response team (domain §6).
    incident_manager = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name='major_incidents_managed'
    )
    tech_lead = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name='+')
    communications_lead = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name='+')
    service_owner = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name='+')
    business_owner = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name='+')
    support_staff = models.ManyToManyField(USER, blank=True, related_name='major_incidents_supported')

    # Response mode: urgent, or handed off to the owning team's system of record.
    mode = models.CharField(max_length=10, choices=ResponseMode.choices, default=ResponseMode.URGENT)
    handoff_owner = models.CharField(max_length=120, blank=True, help_text='The team that now owns the fix.')
    handoff_reference = models.CharField(
        max_length=120, blank=True, help_text="The issue in that team's system of record."
    )
    handoff_estimate = models.DateTimeField(null=True, blank=True, help_text='When they expect to have it fixed.')
    handed_off_at = models.DateTimeField(null=True, blank=True, editable=False)

    # The outage, as measured (mean time to declare and to restore are read from these).
    outage_started_at = models.DateTimeField(help_text='When the service went down (the first report, or earlier).')
    declared_at = models.DateTimeField(editable=False)
    restored_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolution = models.TextField(blank=True, help_text='What restored the service.')
    cancel_reason = models.CharField(max_length=300, blank=True, editable=False)

    # The update cadence: the next update is due at `next_update_due`; a reminder fires once when it passes.
    update_interval_minutes = models.PositiveIntegerField(
        default=60, help_text='Minutes between updates (defaults from the priority).'
    )
    last_update_at = models.DateTimeField(null=True, blank=True, editable=False)
    next_update_due = models.DateTimeField(null=True, blank=True, editable=False)

    objects = MajorIncidentQuerySet.as_manager()

    class Meta:
        ordering = ['-opened_at']
        indexes = [
            models.Index(fields=['state', 'priority', 'opened_at'], name='majors_queue_order'),
            models.Index(fields=['incident_manager', 'state'], name='majors_manager_state'),
            models.Index(
                fields=['next_update_due'],
                name='majors_update_due',
                condition=Q(next_update_due__isnull=False),
            ),
            models.Index(fields=['declared_at'], name='majors_declared_at'),
        ]

    def get_absolute_url(self) -> str:
        return reverse('major_incidents:majorincident_detail', args=[self.number])

    @property
    def title(self) -> str:
        return self.public_title or self.short_description


class MajorIncidentChild(models.Model):
    """An incident worked as part of a major incident. One per incident."""

    major_incident = models.ForeignKey(MajorIncident, on_delete=models.CASCADE, related_name='child_links')
    incident = models.OneToOneField('incidents.Ticket', on_delete=models.CASCADE, related_name='major_incident_link')
    linked_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name='+')
    linked_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ['-linked_at']
        indexes = [models.Index(fields=['major_incident', 'linked_at'], name='majors_child_major')]
        verbose_name = 'child incident'

    def __str__(self) -> str:
        return f'{self.incident.number} → {self.major_incident.number}'

    def get_absolute_url(self) -> str:
        return self.major_incident.get_absolute_url()


class Recipient(models.Model):
    """Someone told about a major incident: built from its services when declared, then edited by hand."""

    major_incident = models.ForeignKey(MajorIncident, on_delete=models.CASCADE, related_name='recipients')
    person = models.ForeignKey(USER, null=True, blank=True, on_delete=models.CASCADE, related_name='+')
    email = models.EmailField()
    name = models.CharField(max_length=150, blank=True)
    source = models.CharField(max_length=16, choices=RecipientSource.choices, default=RecipientSource.ADDED)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ['source', 'email']
        constraints = [
            models.UniqueConstraint(fields=['major_incident', 'email'], name='majors_one_recipient_per_address')
        ]

    def __str__(self) -> str:
        return f'{self.name} <{self.email}>' if self.name else self.email

    def get_absolute_url(self) -> str:
        return self.major_incident.get_absolute_url()


class UpdateTemplate(TimestampedModel):
    """A templated update (data an administrator edits). Placeholders: {number}, {title}, {services}, {status},
    {impact}, {next_update}, {incident_manager}, {handoff_owner}, {handoff_reference}, {handoff_estimate}."""

    name = models.CharField(max_length=100, unique=True)
    audience = models.CharField(max_length=12, choices=UpdateAudience.choices)
    status = models.CharField(max_length=16, choices=UpdateStatus.choices, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ['audience', 'name']

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse('major_incidents:updatetemplate_detail', args=[self.pk])


class MajorIncidentUpdate(models.Model):
    """One update: internal, e-mailed to the recipient list, or public (status page and its subscribers)."""

    major_incident = models.ForeignKey(MajorIncident, on_delete=models.CASCADE, related_name='updates')
    audience = models.CharField(max_length=12, choices=UpdateAudience.choices)
    status = models.CharField(max_length=16, choices=UpdateStatus.choices, default=UpdateStatus.INVESTIGATING)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    template = models.ForeignKey(UpdateTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name='+')
    posted_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name='+')
    posted_at = models.DateTimeField(db_index=True)
    due_at = models.DateTimeField(null=True, blank=True, help_text='When this update was due on the cadence.')
    on_time = models.BooleanField(default=True)
    recipient_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ['-posted_at', '-pk']
        indexes = [
            models.Index(fields=['major_incident', 'posted_at'], name='majors_update_order'),
            models.Index(fields=['audience', 'posted_at'], name='majors_update_audience'),
        ]
        verbose_name = 'major-incident update'

    def __str__(self) -> str:
        return f'{self.major_incident.number} {self.get_audience_display()} update {self.posted_at:%Y-%m-%d %H:%M}'

    def get_absolute_url(self) -> str:
        return self.major_incident.get_absolute_url()


class CadenceReminder(models.Model):
    """The reminder sent to the communications lead for one missed update. Unique per due time, so overlapping
    beats send it exactly once."""

    major_incident = models.ForeignKey(MajorIncident, on_delete=models.CASCADE, related_name='cadence_reminders')
    due_at = models.DateTimeField()
    sent_at = models.DateTimeField(auto_now_add=True)
    sent_to = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name='+')

    class Meta:
        ordering = ['-due_at']
        constraints = [
            models.UniqueConstraint(fields=['major_incident', 'due_at'], name='majors_one_reminder_per_due_update')
        ]

    def __str__(self) -> str:
        return f'{self.major_incident.number}: update due {self.due_at:%Y-%m-%d %H:%M} missed'

    def get_absolute_url(self) -> str:
        return self.major_incident.get_absolute_url()


class Validation(models.Model):
    """The service owner's or the business owner's confirmation that the restored service works."""

    major_incident = models.ForeignKey(MajorIncident, on_delete=models.CASCADE, related_name='validations')
    role = models.CharField(max_length=16, choices=ValidationRole.choices)
    validated_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name='+')
    validated_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ['validated_at']
        constraints = [
            models.UniqueConstraint(fields=['major_incident', 'role'], name='majors_one_validation_per_role')
        ]

    def __str__(self) -> str:
        return f'{self.major_incident.number} validated by the {self.get_role_display().lower()}'

    def get_absolute_url(self) -> str:
        return self.major_incident.get_absolute_url()


class PostIncidentReview(TimestampedModel):
    """The close-out record: outage, root cause, how well the process was followed, and the long-term actions."""

    major_incident = models.OneToOneField(MajorIncident, on_delete=models.CASCADE, related_name='review')
    outage_started_at = models.DateTimeField()
    outage_ended_at = models.DateTimeField(null=True, blank=True)
    summary = models.TextField(blank=True, help_text='What happened, in a paragraph.')
    root_cause = models.TextField(blank=True)
    what_went_well = models.TextField(blank=True)
    what_went_badly = models.TextField(blank=True)
    process_rating = models.PositiveSmallIntegerField(choices=ProcessRating.choices, null=True, blank=True)
    process_notes = models.TextField(blank=True, help_text='How well the response process was followed.')
    problem = models.ForeignKey(
        'problems.Problem',
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name='major_incident_reviews',
        help_text='The problem record opened for the root cause.',
    )
    author = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name='+')
    completed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ['-created_at']
        verbose_name = 'post-incident review'

    def __str__(self) -> str:
        return f'Review of {self.major_incident.number}'

    def get_absolute_url(self) -> str:
        return reverse('major_incidents:review', args=[self.major_incident.number])


class ActionItem(TimestampedModel):
    """A long-term action from the review, tracked to done."""

    review = models.ForeignKey(PostIncidentReview, on_delete=models.CASCADE, related_name='action_items')
    description = models.CharField(max_length=300)
    owner = models.ForeignKey(USER, on_delete=models.PROTECT, related_name='major_incident_actions')
    due_date = models.DateField()
    done_at = models.DateTimeField(null=True, blank=True, editable=False)
    done_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name='+')
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ['due_date', 'pk']
        indexes = [
            models.Index(fields=['due_date'], name='majors_action_open_due', condition=Q(done_at__isnull=True)),
            models.Index(fields=['owner', 'done_at'], name='majors_action_owner'),
        ]

    def __str__(self) -> str:
        return self.description

    def get_absolute_url(self) -> str:
        return reverse('major_incidents:review', args=[self.review.major_incident.number])


class MajorIncidentCandidate(models.Model):
    """Incidents that may be one major incident: a P0/P1 on a critical service, or a flood on one service or CI.

    One proposed candidate at a time per reason and service or CI (a flood grows its incident list), and one per
    incident for the critical-service rule."""

    reason = models.CharField(max_length=20, choices=CandidateReason.choices)
    status = models.CharField(max_length=10, choices=CandidateStatus.choices, default=CandidateStatus.PROPOSED)
    incident = models.ForeignKey(
        'incidents.Ticket', on_delete=models.CASCADE, related_name='major_candidates', help_text='The latest trigger.'
    )
    incidents = models.ManyToManyField('incidents.Ticket', related_name='+', blank=True)
    service = models.ForeignKey(
        'cmdb.ConfigurationItem', null=True, blank=True, on_delete=models.CASCADE, related_name='+'
    )
    ci = models.ForeignKey('cmdb.ConfigurationItem', null=True, blank=True, on_delete=models.CASCADE, related_name='+')
    scope = models.CharField(
        max_length=40, editable=False, help_text='"service:<id>" or "ci:<id>" for a flood; the incident number else.'
    )
    incident_count = models.PositiveIntegerField(default=1)
    detected_at = models.DateTimeField(auto_now_add=True, db_index=True)
    major_incident = models.ForeignKey(
        MajorIncident, null=True, blank=True, on_delete=models.SET_NULL, related_name='candidates'
    )
    decided_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name='+')
    decided_at = models.DateTimeField(null=True, blank=True)
    dismiss_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ['-detected_at']
        indexes = [models.Index(fields=['status', 'detected_at'], name='majors_candidate_queue')]
        constraints = [
            models.UniqueConstraint(
                fields=['scope'],
                condition=Q(status='proposed', reason='flood'),
                name='majors_one_open_flood_per_scope',
            ),
            models.UniqueConstraint(
                fields=['incident'],
                condition=Q(reason='critical_service'),
                name='majors_one_critical_candidate_per_incident',
            ),
        ]
        verbose_name = 'major-incident candidate'

    def __str__(self) -> str:
        return f'{self.get_reason_display()}: {self.incident.number}'

    def get_absolute_url(self) -> str:
        return reverse('major_incidents:candidate_detail', args=[self.pk])
