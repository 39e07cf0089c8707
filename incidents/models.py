"""Incidents and cases: one ticket table, two kinds.

Incidents and cases share the desk, the queues and the whole lifecycle; only their numbers (INC/CS), SLA targets
and a few defaults differ. One table with a `kind` keeps every queue a single indexed query and makes converting
a case into an incident (and back) an update of one row that keeps its timeline. `Incident` and `Case` are
proxies filtered by kind, so the API, admin and pages can treat them as separate record types.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, Q
from django.urls import reverse

from itsm.choices import Impact, Priority, Role, TicketKind, Urgency
from itsm.models import SupportGroup, TimestampedModel
from itsm.records import ProcessRecord, ProcessRecordQuerySet
from itsm.snapshots import ReferenceData

from .actions import TICKET_ACTIONS
from .choices import OPEN_STATES, TICKET_WORKFLOW, PendingReason, ResolutionCode, TicketChannel, TicketState

NUMBER_PREFIXES = {TicketKind.INCIDENT: 'INC', TicketKind.CASE: 'CS'}


class Category(TimestampedModel):
    """A category, or a subcategory when it has a parent. Data, maintained by administrators."""

    name = models.CharField(max_length=80)
    parent = models.ForeignKey('self', null=True, blank=True, on_delete=models.PROTECT, related_name='children')
    kinds = models.JSONField(default=list, blank=True, help_text='Ticket kinds it applies to; empty means all.')
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ['parent__name', 'name']
        verbose_name_plural = 'categories'
        constraints = [
            models.UniqueConstraint(fields=['parent', 'name'], name='category_unique_name_in_parent'),
            # The rule above cannot hold for top-level categories (no parent: NULLs never clash), whose names the API
            # and the imports look categories up by.
            models.UniqueConstraint(
                fields=['name'],
                condition=Q(parent__isnull=True),
                name='category_unique_top_level_name',
                violation_error_message='There is already a top-level category with this name.',
            ),
        ]

    def __str__(self) -> str:
        return f'{self.parent.name} › {self.name}' if self.parent_id else self.name

    def get_absolute_url(self) -> str:
        return reverse('incidents:category_detail', args=[self.pk])

    def clean(self):
        if self.parent_id and self.parent.parent_id:
            raise ValidationError({'parent': 'Subcategories go one level deep: pick a top-level category.'})


class PriorityMatrixEntry(ReferenceData):
    """One cell of the impact × urgency matrix (domain §3). Seeded with ceil((i + u) / 2); editable."""

    impact = models.CharField(max_length=12, choices=Impact.choices)
    urgency = models.CharField(max_length=12, choices=Urgency.choices)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)

    class Meta:
        ordering = ['impact', 'urgency']
        constraints = [models.UniqueConstraint(fields=['impact', 'urgency'], name='priority_matrix_unique_cell')]
        verbose_name_plural = 'priority matrix'

    def __str__(self) -> str:
        return f'{self.get_impact_display()} × {self.get_urgency_display()} → P{self.priority}'

    def get_absolute_url(self) -> str:
        return reverse('incidents:prioritymatrixentry_list')


class TicketQuerySet(ProcessRecordQuerySet):
    def incidents(self):
        return self.filter(kind=TicketKind.INCIDENT)

    def cases(self):
        return self.filter(kind=TicketKind.CASE)

    def by_number(self, number: str):
        """Match the current number or the number the ticket had under its other kind (after a conversion)."""
        number = number.upper()
        return self.filter(Q(number=number) | Q(alternate_number=number))


class Ticket(ProcessRecord):
    """An incident or a case, from opening to closure."""

    number_start = 1001
    workflow = TICKET_WORKFLOW
    actions = TICKET_ACTIONS
    requester_fields = ('caller', 'opened_by')
    # A security incident is seen only by security groups, incident managers (and administrators), its caller,
    # who opened it and its assignee (`ProcessRecordQuerySet.visible_to`).
    restricted_field = 'security_incident'
    restricted_parties = ('assignee',)
    sla_kinds = TicketKind.choices  # agreements name incidents and cases apart

    # The indexes on (kind, …) in Meta serve lookups by kind: no index of its own (nor a LIKE one).
    kind = models.CharField(max_length=10, choices=TicketKind.choices, default=TicketKind.INCIDENT)
    alternate_number = models.CharField(
        max_length=16,
        unique=True,
        null=True,
        blank=True,
        editable=False,
        help_text='The number this ticket had (or will have again) under its other kind.',
    )
    state = models.CharField(max_length=12, choices=TicketState.choices, default=TicketState.NEW, editable=False)
    security_incident = models.BooleanField(
        default=False,
        editable=False,
        help_text='Seen only by security groups, incident managers, its caller and its assignee.',
    )

    # Caller, category, service and CI are looked up through the (field, state) indexes in Meta, which lead with them.
    caller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name='tickets_called', db_index=False
    )
    channel = models.CharField(max_length=12, choices=TicketChannel.choices, default=TicketChannel.PORTAL)
    category = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name='+',
        limit_choices_to={'parent': None},
        db_index=False,
    )
    subcategory = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name='+',
        limit_choices_to={'parent__isnull': False},
    )
    symptom = models.CharField(max_length=120, blank=True)
    service = models.ForeignKey(
        'cmdb.ConfigurationItem',
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name='service_tickets',
        limit_choices_to={'ci_class': 'service'},
        db_index=False,
    )
    ci = models.ForeignKey(
        'cmdb.ConfigurationItem',
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name='tickets',
        verbose_name='configuration item',
        db_index=False,
    )

    impact = models.CharField(max_length=12, choices=Impact.choices, default=Impact.LOW)
    urgency = models.CharField(max_length=12, choices=Urgency.choices, default=Urgency.NORMAL)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.P3, editable=False)
    priority_override_reason = models.CharField(
        max_length=300, blank=True, editable=False, help_text='Set when an agent overrode the computed priority.'
    )

    pending_reason = models.CharField(max_length=12, choices=PendingReason.choices, blank=True, editable=False)
    pending_note = models.CharField(max_length=300, blank=True, editable=False)
    pending_until = models.DateTimeField(null=True, blank=True, editable=False)
    resolution_code = models.CharField(max_length=24, choices=ResolutionCode.choices, blank=True, editable=False)
    resolution_notes = models.TextField(blank=True, editable=False)
    reassignment_count = models.PositiveIntegerField(default=0, editable=False)
    reopen_count = models.PositiveIntegerField(default=0, editable=False)
    parent = models.ForeignKey(
        'self',
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name='children',
        verbose_name='parent incident',
    )
    eta = models.DateTimeField(null=True, blank=True, verbose_name='ETA', help_text='Expected resolution time.')

    # Facts that only imports fill for now: Pitcrew has no problem or change records to link yet, so the
    # source's references are kept as text next to the people and places it named.
    location = models.CharField(max_length=120, blank=True, editable=False, help_text='Location affected.')
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name='tickets_resolved',
        editable=False,
    )
    problem_reference = models.CharField(max_length=60, blank=True, editable=False)
    change_reference = models.CharField(
        max_length=60, blank=True, editable=False, help_text='Request for change that fixed it.'
    )
    caused_by_change = models.CharField(
        max_length=60, blank=True, editable=False, help_text='Request for change that caused it.'
    )
    knowledge_used = models.BooleanField(default=False, editable=False, help_text='A knowledge object solved it.')

    # Where an imported ticket came from. (source_system, source_number) finds it again on the next run, and
    # the digest of its source rows tells whether anything changed there since.
    source_system = models.CharField(max_length=40, blank=True, editable=False)
    source_number = models.CharField(max_length=60, blank=True, editable=False)
    source_digest = models.CharField(max_length=64, blank=True, editable=False)
    source_data = models.JSONField(
        default=dict, blank=True, editable=False, help_text='Source values Pitcrew has no field for.'
    )

    assigned_at = models.DateTimeField(null=True, blank=True, editable=False)
    accepted_at = models.DateTimeField(null=True, blank=True, editable=False)
    completed_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ['priority', 'opened_at']
        indexes = [
            models.Index(fields=['state', 'priority', 'opened_at'], name='ticket_queue_all'),
            models.Index(fields=['assignment_group', 'state', 'priority', 'opened_at'], name='ticket_queue_group'),
            models.Index(fields=['assignee', 'state', 'priority', 'opened_at'], name='ticket_queue_assignee'),
            models.Index(fields=['caller', 'state'], name='ticket_caller'),
            models.Index(fields=['kind', 'state', 'priority', 'opened_at'], name='ticket_kind_queue'),
            models.Index(fields=['state', 'completed_at'], name='ticket_completed'),
            # MTTA and answer figures read tickets by when they were first accepted.
            models.Index(fields=['accepted_at'], name='ticket_accepted', condition=Q(accepted_at__isnull=False)),
            models.Index(fields=['service', 'state'], name='ticket_service'),
            models.Index(fields=['ci', 'state'], name='ticket_ci'),
            models.Index(fields=['category', 'state'], name='ticket_category'),
            # Lists read in queue order stop after one page instead of sorting every matching row.
            models.Index(fields=['kind', 'priority', 'opened_at', 'id'], name='ticket_kind_order'),
            # The open tickets in queue order, with what the queues' visibility rule and counts read (index-only
            # scans of a few thousand entries instead of a heap page per open ticket).
            models.Index(
                fields=['priority', 'opened_at', 'id'],
                include=['state', 'assignment_group', 'assignee', 'security_incident', 'caller', 'opened_by'],
                condition=Q(state__in=OPEN_STATES),
                name='ticket_open_order',
            ),
            models.Index(
                fields=['assignment_group', 'priority', 'opened_at', 'id'],
                condition=Q(state__in=OPEN_STATES),
                name='ticket_open_group_order',
            ),
            models.Index(
                fields=['assignee', 'priority', 'opened_at', 'id'],
                condition=Q(state__in=OPEN_STATES),
                name='ticket_open_assignee_order',
            ),
            # The rollup refresh reads the tickets changed since its last run.
            models.Index(fields=['updated_at'], name='ticket_updated'),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=['source_system', 'source_number'], condition=~Q(source_number=''), name='ticket_unique_source'
            ),
        ]

    @property
    def number_prefix(self) -> str:  # the prefix follows the kind, so a case gets CS… and an incident INC…
        return NUMBER_PREFIXES[TicketKind(self.kind)]

    def get_absolute_url(self) -> str:
        return reverse('incidents:ticket_detail', kwargs={'number': self.number})

    def notification_path(self, *, requester: bool) -> str:
        """Where a message links to: the portal page for the caller, the desk page for staff."""
        return reverse('incidents:portal_ticket', args=[self.number]) if requester else self.get_absolute_url()

    @property
    def priority_label(self) -> str:
        return f'P{self.priority}'

    def may_work(self, user) -> bool:
        from .actions import is_worker

        return is_worker(user)

    @classmethod
    def restricted_clearance(cls, user):
        """Incident managers and administrators see every security incident; members of an active security group
        do too, which is a subquery on their groups (no query of its own)."""
        if user.has_role(Role.INCIDENT_MANAGER, Role.ADMINISTRATOR):
            return True
        return Exists(SupportGroup.objects.filter(members=user, active=True, security=True))

    @property
    def sla_kind(self) -> str:
        return self.kind

    @property
    def sla_responded(self) -> bool:
        return self.accepted_at is not None

    def pause_reason(self) -> str:
        return self.get_pending_reason_display() if self.state == TicketState.PENDING and self.pending_reason else ''


class IncidentManager(models.Manager.from_queryset(TicketQuerySet)):
    def get_queryset(self):
        return super().get_queryset().filter(kind=TicketKind.INCIDENT)


class CaseManager(models.Manager.from_queryset(TicketQuerySet)):
    def get_queryset(self):
        return super().get_queryset().filter(kind=TicketKind.CASE)


class Incident(Ticket):
    """An unplanned interruption or reduction in quality of a service (domain §2)."""

    objects = IncidentManager()

    class Meta:
        proxy = True

    def save(self, *args, **kwargs):
        if self._state.adding:
            self.kind = TicketKind.INCIDENT
        super().save(*args, **kwargs)


class Case(Ticket):
    """An inquiry or request, urgent or not (domain §2)."""

    objects = CaseManager()

    class Meta:
        proxy = True

    def save(self, *args, **kwargs):
        if self._state.adding:
            self.kind = TicketKind.CASE
        super().save(*args, **kwargs)


class ResponseTemplate(TimestampedModel):
    """Opening and closing lines and reply bodies for customer contact, with placeholders.

    Placeholders: {caller_name}, {number}, {short_description}, {agent_name}, {group}, {state}, {eta}.
    """

    class Kind(models.TextChoices):
        OPENING = 'opening', 'Opening line'
        CLOSING = 'closing', 'Closing line'
        BODY = 'body', 'Reply'

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.BODY)
    text = models.TextField()
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ['kind', 'name']

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse('incidents:responsetemplate_detail', args=[self.pk])


class RoutingRule(ReferenceData, TimestampedModel):
    """Where a new ticket goes: the first active rule (lowest position) whose conditions all match sends it to its
    group. A blank condition matches anything, so a rule with none is the default. Data, kept by administrators."""

    position = models.PositiveIntegerField(default=100, help_text='Rules are tried from the lowest position up.')
    name = models.CharField(max_length=120)
    active = models.BooleanField(default=True)
    service = models.ForeignKey(
        'cmdb.ConfigurationItem',
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name='+',
        limit_choices_to={'ci_class': 'service'},
    )
    ci = models.ForeignKey(
        'cmdb.ConfigurationItem',
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name='+',
        verbose_name='configuration item',
    )
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.CASCADE, related_name='+')
    channel = models.CharField(max_length=12, choices=TicketChannel.choices, blank=True)
    kind = models.CharField(max_length=10, choices=TicketKind.choices, blank=True)
    assignment_group = models.ForeignKey('itsm.SupportGroup', on_delete=models.CASCADE, related_name='routing_rules')

    class Meta:
        ordering = ['position', 'pk']
        indexes = [models.Index(fields=['active', 'position'], name='incidents_routing_order')]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse('incidents:routingrule_detail', args=[self.pk])
