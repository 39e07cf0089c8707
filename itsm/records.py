"""The process-record kit's model base: what every numbered record with a lifecycle shares.

Incidents and cases, problems, known errors, changes, major incidents and knowledge articles are each a
`ProcessRecord`: a reference number, a short and a long description, a state run by the model's `workflow`, the
group and person working it, who opened it and when, and when it closed. The subclass declares its `workflow`
and `actions` (see `itsm.workflow`), its own `state` field with the workflow's choices, and the fields that make
a requester a party to it (`requester_fields`). Conversation (timeline comments and work notes), attachments and
clocks attach to any process record through generic relations, so no shared table needs a column per app.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.db.models import Q

from .choices import Attention
from .models import NumberedModel


class ProcessRecordQuerySet(models.QuerySet):
    def open(self):
        """Records still to be worked on (every state but the workflow's finished ones)."""
        return self.filter(state__in=self.model.workflow.open_states)

    def visible_to(self, user):
        """Requesters see the records they are a party to (`requester_fields`); staff see all."""
        if user is None or not user.is_authenticated:
            return self.none()
        if user.is_requester_only:
            condition = Q()
            for name in self.model.requester_fields:
                condition |= Q(**{name: user})
            # A kind with no requester fields (problems, changes) shows requesters nothing, not everything.
            return self.filter(condition) if condition else self.none()
        return self


class ProcessRecord(NumberedModel):
    """An abstract numbered record with a lifecycle. Reverse names follow the model: `group.tickets`,
    `user.tickets_assigned`, `user.problems_opened`."""

    short_description = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # Subclasses redeclare `state` with their workflow's choices and first state as default.
    state = models.CharField(max_length=24, editable=False)
    assignment_group = models.ForeignKey(
        'itsm.SupportGroup', null=True, blank=True, on_delete=models.PROTECT, related_name='%(class)ss'
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name='%(class)ss_assigned',
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name='%(class)ss_opened'
    )
    opened_at = models.DateTimeField(db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set when a requester replies or reopens; cleared when someone working the record opens it.
    attention = models.CharField(max_length=20, choices=Attention.choices, blank=True, editable=False)
    attention_since = models.DateTimeField(null=True, blank=True, editable=False)

    attachments = GenericRelation('itsm.Attachment', content_type_field='content_type', object_id_field='object_id')
    sla_clocks = GenericRelation('sla.SlaClock', related_query_name='%(class)s')  # clock lookups: ticket__number

    # Declared by each subclass.
    workflow = None  # itsm.workflow.Workflow
    actions = None  # itsm.workflow.ActionSet
    requester_fields: tuple[str, ...] = ('opened_by',)

    objects = ProcessRecordQuerySet.as_manager()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f'{self.number} {self.short_description}'

    @property
    def is_open(self) -> bool:
        return self.state in self.workflow.open_states

    @property
    def is_final(self) -> bool:
        return self.state in self.workflow.final_states

    def may_work(self, user) -> bool:
        """Whether `user` works records of this kind as staff (comments, work notes, files on any of them)."""
        from .permissions import user_can

        return bool(user and not user.is_requester_only and user_can(user, type(self), 'change'))

    @classmethod
    def caller_field(cls) -> str | None:
        """The field naming the person the record is for (its first requester field: a ticket's caller); None for
        kinds no requester is a party to (problems, changes)."""
        return cls.requester_fields[0] if cls.requester_fields else None

    def is_party(self, user) -> bool:
        """Whether `user` is one of the record's requesters (caller, opener...)."""
        return bool(user and any(getattr(self, f'{name}_id') == user.pk for name in self.requester_fields))

    # -- what the SLA engine reads (overridden where a record measures differently)
    @property
    def sla_kind(self) -> str:
        """Which agreements apply: the `ticket_kind` of SLAs (incident, case, problem, change...)."""
        return self._meta.model_name

    @property
    def sla_responded(self) -> bool:
        """Whether the response target is met: someone took the record on."""
        return self.state not in (*self.workflow.triage_states, *self.workflow.awaiting_acceptance_states)

    @property
    def sla_priority(self) -> int | None:
        return getattr(self, 'priority', None)

    @property
    def sla_service_id(self) -> int | None:
        return getattr(self, 'service_id', None)

    def pause_reason(self) -> str:
        """Why the record waits, for a clock's pause history ('' when it does not say)."""
        return ''
