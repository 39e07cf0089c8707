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
        """The one rule of who sees which records. Requesters see the records they are a party to
        (`requester_fields`); staff see all, except restricted records (a kind's `restricted_field`, a security
        incident), which only people the kind clears (`restricted_clearance`) and the record's own people
        (`requester_fields` and `restricted_parties`: its caller, its assignee) see."""
        if user is None or not user.is_authenticated:
            return self.none()
        if user.is_requester_only:
            condition = Q()
            for name in self.model.requester_fields:
                condition |= Q(**{name: user})
            # A kind with no requester fields (problems, changes) shows requesters nothing, not everything.
            return self.filter(condition) if condition else self.none()
        condition = self.model.restricted_condition(user)
        return self if condition is None else self.filter(condition)


def without_hidden_records(rows: models.QuerySet, user, *, via: str = '') -> models.QuerySet:
    """`rows` about process records through a generic relation (SLA clocks; `via='clock__'` for rows of a clock)
    without those about a restricted record `user` may not see: the one rule (`visible_to`) for tables that name
    their record by content type and id. Nothing is added for people nothing is hidden from."""
    from django.apps import apps
    from django.contrib.contenttypes.models import ContentType

    if user is None or not user.is_authenticated:
        return rows.none()
    for model in apps.get_models():
        if model._meta.proxy or not issubclass(model, ProcessRecord) or not model.restricted_field:
            continue
        condition = model.restricted_condition(user) if not user.is_requester_only else None
        if condition is None:
            continue
        hidden = model._base_manager.filter(**{model.restricted_field: True}).exclude(
            pk__in=model._base_manager.filter(condition).values('pk')
        )
        content_type = ContentType.objects.get_for_model(model)
        rows = rows.exclude(**{f'{via}content_type': content_type, f'{via}object_id__in': hidden.values('pk')})
    return rows


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
    # A kind whose records can be restricted (security incidents) names the boolean field that marks one, the
    # fields naming people who see it besides its requesters, and overrides `restricted_clearance`.
    restricted_field: str | None = None
    restricted_parties: tuple[str, ...] = ('assignee',)

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

    @classmethod
    def restricted_clearance(cls, user) -> bool | models.Expression:
        """Whether staff member `user` sees every restricted record of the kind: True, False, or a condition that
        reads no row of the records (an `Exists` on the person's groups), so the rule stays part of one query."""
        return False

    @classmethod
    def restricted_condition(cls, user) -> Q | None:
        """What `visible_to` adds for staff member `user`: None when nothing is hidden from them, else records
        that are not restricted, or are restricted and name them (requester fields, restricted parties), or any
        when their clearance (a subquery) holds."""
        if not cls.restricted_field:
            return None
        clearance = cls.restricted_clearance(user)
        if clearance is True:
            return None
        condition = Q(**{cls.restricted_field: False})
        for name in dict.fromkeys((*cls.requester_fields, *cls.restricted_parties)):
            condition |= Q(**{name: user})
        if clearance is not False:
            condition |= Q(clearance)
        return condition

    @property
    def is_restricted(self) -> bool:
        return bool(self.restricted_field and getattr(self, self.restricted_field))

    def is_visible_to(self, user) -> bool:
        """`visible_to` for this one record (who may hear about it, see a link to it): no query for a record that
        is not restricted, at most one for one that is."""
        if user is None or not user.is_authenticated:
            return False
        if user.is_requester_only:
            return self.is_party(user)
        if not self.is_restricted:
            return True
        if any(getattr(self, f'{name}_id') == user.pk for name in (*self.requester_fields, *self.restricted_parties)):
            return True
        clearance = self.restricted_clearance(user)
        if isinstance(clearance, bool):
            return clearance
        # The clearance reads no row of the records, so it holds for every record of the kind: asked once per person.
        cache = user.__dict__.setdefault('_restricted_clearance', {})
        label = self._meta.label
        if label not in cache:
            cache[label] = type(self)._base_manager.filter(pk=self.pk).filter(clearance).exists()
        return cache[label]

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
