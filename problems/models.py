"""Problems, known errors and the problem candidates found in the incident history (domain §7).

A problem is a process record (`itsm.records.ProcessRecord`) run by `PROBLEM_WORKFLOW`. Incidents join a problem
through `ProblemIncident` (one row per incident, so an incident belongs to at most one problem) and known errors are
applied to incidents through `KnownErrorUse`; incidents themselves know nothing of problems.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from itsm.choices import Impact, Priority, Urgency
from itsm.models import NumberedModel, TimestampedModel
from itsm.records import ProcessRecord, ProcessRecordQuerySet

from .actions import PROBLEM_ACTIONS
from .choices import PROBLEM_WORKFLOW, AnalysisMethod, CandidateBasis, CandidateStatus, ProblemState, RootCauseCategory


class CategoryPriority(models.Model):
    """A problem category's impact and urgency: the problem's priority comes from them through the priority matrix.
    Data an administrator edits (domain §7: every problem has a category-driven priority)."""

    category = models.OneToOneField('incidents.Category', on_delete=models.CASCADE, related_name='problem_priority')
    impact = models.CharField(max_length=12, choices=Impact.choices, default=Impact.MEDIUM)
    urgency = models.CharField(max_length=12, choices=Urgency.choices, default=Urgency.NORMAL)

    class Meta:
        ordering = ['category__name']
        verbose_name = 'problem category priority'
        verbose_name_plural = 'problem category priorities'

    def __str__(self) -> str:
        return f'{self.category}: {self.get_impact_display()} impact, {self.get_urgency_display()} urgency'

    def get_absolute_url(self) -> str:
        return reverse('problems:categorypriority_detail', args=[self.pk])


class ProblemQuerySet(ProcessRecordQuerySet):
    pass


class Problem(ProcessRecord):
    """The unknown underlying cause of one or more incidents, from logging to closure."""

    number_prefix = 'PRB'
    number_start = 1001
    workflow = PROBLEM_WORKFLOW
    actions = PROBLEM_ACTIONS
    requester_fields = ()  # requesters are never party to a problem; they see public known errors only

    state = models.CharField(max_length=24, choices=ProblemState.choices, default=ProblemState.NEW, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name='problems_owned',
        help_text='The problem manager accountable for it.',
    )
    category = models.ForeignKey(
        'incidents.Category',
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name='+',
        limit_choices_to={'parent': None},
    )
    subcategory = models.ForeignKey(
        'incidents.Category',
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name='+',
        limit_choices_to={'parent__isnull': False},
    )
    impact = models.CharField(max_length=12, choices=Impact.choices, default=Impact.MEDIUM, editable=False)
    urgency = models.CharField(max_length=12, choices=Urgency.choices, default=Urgency.NORMAL, editable=False)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.P3, editable=False)

    services = models.ManyToManyField(
        'cmdb.ConfigurationItem', blank=True, related_name='service_problems', limit_choices_to={'ci_class': 'service'}
    )
    cis = models.ManyToManyField(
        'cmdb.ConfigurationItem', blank=True, related_name='problems', verbose_name='configuration items'
    )

    # Supplier coordination.
    vendor = models.CharField(max_length=120, blank=True)
    vendor_reference = models.CharField(max_length=120, blank=True, help_text="The supplier's case number.")
    awaiting_vendor_since = models.DateTimeField(
        null=True, blank=True, editable=False, help_text='Set while the problem waits on the supplier.'
    )

    # Root-cause analysis.
    symptoms = models.TextField(blank=True)
    root_cause = models.TextField(blank=True)
    root_cause_category = models.CharField(max_length=16, choices=RootCauseCategory.choices, blank=True)
    contributing_factors = models.TextField(blank=True)
    analysis_method = models.CharField(max_length=16, choices=AnalysisMethod.choices, blank=True)
    root_cause_found_at = models.DateTimeField(null=True, blank=True, editable=False)

    workaround = models.TextField(blank=True)
    resolution = models.TextField(blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True, editable=False)
    change_reference = models.CharField(
        max_length=40, blank=True, help_text='The change request that deploys the fix, when one is needed.'
    )
    cancel_reason = models.CharField(max_length=300, blank=True, editable=False)

    objects = ProblemQuerySet.as_manager()

    class Meta:
        ordering = ['-opened_at']
        indexes = [
            models.Index(fields=['state', 'priority', 'opened_at'], name='problems_queue_order'),
            models.Index(fields=['owner', 'state'], name='problems_owner_state'),
            models.Index(fields=['assignment_group', 'state'], name='problems_group_state'),
        ]

    def get_absolute_url(self) -> str:
        return reverse('problems:problem_detail', args=[self.number])


class ProblemIncident(models.Model):
    """An incident recorded with a problem. One per incident: an incident belongs to at most one problem."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name='incident_links')
    incident = models.OneToOneField('incidents.Ticket', on_delete=models.CASCADE, related_name='problem_link')
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name='+'
    )
    linked_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ['-linked_at']
        indexes = [models.Index(fields=['problem', 'linked_at'], name='problems_link_problem')]

    def __str__(self) -> str:
        return f'{self.incident.number} → {self.problem.number}'

    def get_absolute_url(self) -> str:
        return self.problem.get_absolute_url()


class KnownErrorQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)

    def visible_to(self, user):
        """Requesters see active public known errors only; staff see all."""
        if user is None or not user.is_authenticated:
            return self.none()
        if user.is_requester_only:
            return self.filter(active=True, public=True)
        return self

    def for_items(self, *, ci_id=None, service_id=None):
        """Active known errors logged against the CI or the service (either matches)."""
        condition = Q()
        if ci_id:
            condition |= Q(cis=ci_id)
        if service_id:
            condition |= Q(services=service_id)
        if not condition:
            return self.none()
        return self.active().filter(condition).distinct()


class KnownError(NumberedModel):
    """A problem with a documented root cause or workaround, logged against the CIs and services it affects."""

    number_prefix = 'KE'
    number_start = 1001

    problem = models.ForeignKey(Problem, null=True, blank=True, on_delete=models.PROTECT, related_name='known_errors')
    title = models.CharField(max_length=200)
    symptoms = models.TextField(help_text='How it shows, in the words callers use: what agents match on.')
    root_cause = models.TextField(blank=True)
    workaround = models.TextField(help_text='What restores service until the fix is in place.')
    cis = models.ManyToManyField(
        'cmdb.ConfigurationItem', blank=True, related_name='known_errors', verbose_name='configuration items'
    )
    services = models.ManyToManyField(
        'cmdb.ConfigurationItem',
        blank=True,
        related_name='service_known_errors',
        limit_choices_to={'ci_class': 'service'},
    )
    public = models.BooleanField(default=False, help_text='Requesters see it (and its workaround) in the portal.')
    active = models.BooleanField(default=True, help_text='Retired once the permanent fix is in place.')
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name='+'
    )

    objects = KnownErrorQuerySet.as_manager()

    class Meta:
        ordering = ['-created_at']
        indexes = [models.Index(fields=['active', 'public'], name='problems_ke_active_public')]

    def __str__(self) -> str:
        return f'{self.number} {self.title}'

    def get_absolute_url(self) -> str:
        return reverse('problems:knownerror_detail', args=[self.number])


class KnownErrorUse(models.Model):
    """A known error applied to an incident: its workaround given, the incident linked to the known error's problem."""

    known_error = models.ForeignKey(KnownError, on_delete=models.CASCADE, related_name='uses')
    incident = models.ForeignKey('incidents.Ticket', on_delete=models.CASCADE, related_name='known_error_uses')
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name='+'
    )
    applied_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ['-applied_at']
        constraints = [
            models.UniqueConstraint(fields=['known_error', 'incident'], name='problems_ke_use_once'),
        ]

    def __str__(self) -> str:
        return f'{self.known_error.number} on {self.incident_id}'

    def get_absolute_url(self) -> str:
        return self.known_error.get_absolute_url()


class ProblemCandidate(TimestampedModel):
    """A cluster of recent incidents that look like one underlying problem, proposed by the recurrence scan.

    `key` identifies the cluster across scans (basis plus what the incidents share), so a dismissed cluster is not
    proposed again unless it grows by the configured factor past `dismissed_size`.
    """

    key = models.CharField(max_length=255, unique=True)
    basis = models.CharField(max_length=24, choices=CandidateBasis.choices)
    status = models.CharField(
        max_length=10, choices=CandidateStatus.choices, default=CandidateStatus.PROPOSED, db_index=True
    )
    title = models.CharField(max_length=200)
    ci = models.ForeignKey('cmdb.ConfigurationItem', null=True, blank=True, on_delete=models.CASCADE, related_name='+')
    service = models.ForeignKey(
        'cmdb.ConfigurationItem', null=True, blank=True, on_delete=models.CASCADE, related_name='+'
    )
    category = models.ForeignKey(
        'incidents.Category', null=True, blank=True, on_delete=models.SET_NULL, related_name='+'
    )
    subcategory = models.ForeignKey(
        'incidents.Category', null=True, blank=True, on_delete=models.SET_NULL, related_name='+'
    )
    symptom = models.CharField(max_length=120, blank=True)
    incidents = models.ManyToManyField('incidents.Ticket', related_name='problem_candidates')
    size = models.PositiveIntegerField(default=0, help_text='Incidents in the cluster at the last scan.')
    first_seen = models.DateTimeField(null=True, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    daily_counts = models.JSONField(default=dict, blank=True, help_text='Incidents per day: {"2026-12-01": 3}.')
    scanned_at = models.DateTimeField(null=True, blank=True)
    problem = models.ForeignKey(Problem, null=True, blank=True, on_delete=models.SET_NULL, related_name='candidates')
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name='+'
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    dismiss_reason = models.CharField(max_length=300, blank=True)
    dismissed_size = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ['-size', '-last_seen']
        indexes = [models.Index(fields=['status', 'last_seen'], name='problems_candidate_queue')]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse('problems:problemcandidate_detail', args=[self.pk])
