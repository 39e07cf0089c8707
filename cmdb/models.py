"""The CMDB: configuration items, the typed relationships between them, service details and RACI matrices.

All CIs share one table (class-specific attributes in a schema-validated JSON column) and all links share one
relationship table, so impact analysis is a single recursive query over two tables. README.md explains why.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse

from itsm.models import NumberedModel, SupportGroup, TimestampedModel

from .choices import (
    CI_STATUS_COLORS,
    CRITICALITY_COLORS,
    ENVIRONMENT_COLORS,
    SERVICE_STATUS_COLORS,
    CIClass,
    CIStatus,
    Criticality,
    Environment,
    RaciActivity,
    RaciRole,
    RelationshipType,
    ServiceKind,
    ServiceStatus,
)
from .schema import relationship_refusal, validate_attributes

__all__ = ['ConfigurationItem', 'RaciAssignment', 'Relationship', 'Service']


class ConfigurationItemQuerySet(models.QuerySet):
    def services(self):
        return self.filter(ci_class=CIClass.SERVICE)

    def production(self):
        return self.filter(environment=Environment.PRODUCTION)


class ConfigurationItem(NumberedModel):
    """Anything we manage: hardware, software, network, storage, documents and services (CI0000101).

    `attributes` holds the class-specific values described in `cmdb.schema.ATTRIBUTES` and is validated
    against them on every save through a service. (class, name) is the natural key imports match on.
    """

    number_prefix = 'CI'
    number_start = 101

    name = models.CharField(max_length=200)
    ci_class = models.CharField('class', max_length=32, choices=CIClass.choices, db_index=True)
    status = models.CharField(max_length=20, choices=CIStatus.choices, default=CIStatus.PROPOSED, db_index=True)
    environment = models.CharField(
        max_length=20, choices=Environment.choices, default=Environment.PRODUCTION, db_index=True
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name='owned_cis',
        help_text='Accountable for the item; for a service, the service owner.',
    )
    support_group = models.ForeignKey(
        SupportGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name='configuration_items'
    )
    location = models.CharField(max_length=120, blank=True, help_text='Site, room or data centre.')
    vendor = models.CharField(max_length=120, blank=True)
    version = models.CharField(max_length=60, blank=True)
    description = models.TextField(blank=True)
    attributes = models.JSONField(default=dict, blank=True, help_text='Class-specific attributes (see the schema).')

    objects = ConfigurationItemQuerySet.as_manager()

    badge_colors = {'status': CI_STATUS_COLORS, 'environment': ENVIRONMENT_COLORS}

    class Meta:
        ordering = ['number']
        verbose_name = 'configuration item'
        constraints = [
            models.UniqueConstraint(fields=['ci_class', 'name'], name='cmdb_ci_unique_class_name'),
        ]

    def __str__(self) -> str:
        return f'{self.number} {self.name}'

    def get_absolute_url(self) -> str:
        return reverse('cmdb:configurationitem_detail', kwargs={'number': self.number})

    def clean(self):
        super().clean()
        if self.ci_class in CIClass.values:
            self.attributes = validate_attributes(self.ci_class, self.attributes)

    def unique_error_message(self, model_class, unique_check):
        if tuple(unique_check) == ('ci_class', 'name'):
            return ValidationError(
                f'A {self.get_ci_class_display().lower()} named "{self.name}" already exists.', code='unique'
            )
        return super().unique_error_message(model_class, unique_check)

    @property
    def is_service(self) -> bool:
        return self.ci_class == CIClass.SERVICE

    @property
    def in_production(self) -> bool:
        return self.environment == Environment.PRODUCTION


class Service(TimestampedModel):
    """What only services have, beside their CI: kind, operational status, criticality and business owner.

    The service owner is the CI's `owner` and the support group the CI's `support_group`, so each fact is
    stored once. The primary key is the CI's, which lets a service share one history with its CI.
    """

    ci = models.OneToOneField(
        ConfigurationItem,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name='service_details',
        limit_choices_to={'ci_class': CIClass.SERVICE},
    )
    kind = models.CharField(max_length=12, choices=ServiceKind.choices, default=ServiceKind.BUSINESS)
    status = models.CharField(
        'service status', max_length=20, choices=ServiceStatus.choices, default=ServiceStatus.OPERATIONAL
    )
    criticality = models.CharField(max_length=10, choices=Criticality.choices, default=Criticality.MEDIUM)
    business_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name='business_services'
    )
    public = models.BooleanField(
        'on the status page', default=False, help_text='Listed on the public status page with its status and history.'
    )
    public_name = models.CharField(
        max_length=120, blank=True, help_text='Name on the status page (the service name when empty).'
    )
    announce_list = models.TextField(
        blank=True, help_text='Addresses told about its major incidents, one per line or separated by commas.'
    )

    badge_colors = {'status': SERVICE_STATUS_COLORS, 'criticality': CRITICALITY_COLORS}

    class Meta:
        ordering = ['ci__name']

    def __str__(self) -> str:
        return self.ci.name

    def get_absolute_url(self) -> str:
        return reverse('cmdb:service_detail', kwargs={'pk': self.ci.number})

    def clean(self):
        super().clean()
        if self.ci_id and self.ci.ci_class != CIClass.SERVICE:
            raise ValidationError(
                {'ci': f'{self.ci.number} is a {self.ci.get_ci_class_display().lower()}, not a service.'}
            )

    @property
    def number(self) -> str:
        return self.ci.number

    @property
    def name(self) -> str:
        return self.ci.name

    @property
    def service_owner(self):
        return self.ci.owner

    @property
    def support_group(self):
        return self.ci.support_group


class RaciAssignment(TimestampedModel):
    """One cell of a service's RACI matrix: a person or a support group holds role R, A, C or I for an activity.

    Each activity has exactly one A: the database refuses a second one and `services.raci_*` refuse leaving an
    activity with assignments but nobody accountable.
    """

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name='raci')
    activity = models.CharField(max_length=32, choices=RaciActivity.choices)
    role = models.CharField(max_length=1, choices=RaciRole.choices)
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name='raci_assignments'
    )
    support_group = models.ForeignKey(
        SupportGroup, null=True, blank=True, on_delete=models.PROTECT, related_name='raci_assignments'
    )
    notes = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ['service', 'activity', 'role', 'id']
        verbose_name = 'RACI assignment'
        constraints = [
            models.CheckConstraint(
                condition=Q(person__isnull=False, support_group__isnull=True)
                | Q(person__isnull=True, support_group__isnull=False),
                name='cmdb_raci_person_or_group',
                violation_error_message='Assign the role to a person or to a support group (exactly one of them).',
            ),
            models.UniqueConstraint(
                fields=['service', 'activity'],
                condition=Q(role=RaciRole.ACCOUNTABLE),
                name='cmdb_raci_one_accountable',
                violation_error_message='This activity already has someone accountable: exactly one A per activity.',
            ),
            models.UniqueConstraint(
                fields=['service', 'activity', 'role', 'person'],
                condition=Q(person__isnull=False),
                name='cmdb_raci_unique_person',
                violation_error_message='This person already holds that role for this activity.',
            ),
            models.UniqueConstraint(
                fields=['service', 'activity', 'role', 'support_group'],
                condition=Q(support_group__isnull=False),
                name='cmdb_raci_unique_group',
                violation_error_message='This support group already holds that role for this activity.',
            ),
        ]

    def __str__(self) -> str:
        return f'{self.service}: {self.get_activity_display()} – {self.role} {self.party}'

    def get_absolute_url(self) -> str:
        return reverse('cmdb:raciassignment_detail', kwargs={'pk': self.pk})

    @property
    def party(self):
        """The person or support group holding the role."""
        return self.person or self.support_group


class Relationship(TimestampedModel):
    """A typed, directed link: `source` depends on `target` (an application runs on a server, ...).

    Which classes each type may link is data (`cmdb.schema.RELATIONSHIP_RULES`); self-links and duplicates
    are refused with a message saying why.
    """

    # Walks go both ways: the unique index (source, target, type) serves upstream steps and the
    # (target, source) index downstream ones, each without touching the table.
    source = models.ForeignKey(ConfigurationItem, on_delete=models.CASCADE, related_name='outgoing', db_index=False)
    type = models.CharField(max_length=20, choices=RelationshipType.choices)
    target = models.ForeignKey(ConfigurationItem, on_delete=models.CASCADE, related_name='incoming', db_index=False)
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ['source', 'type', 'target']
        constraints = [
            models.UniqueConstraint(fields=['source', 'target', 'type'], name='cmdb_relationship_unique'),
            models.CheckConstraint(
                condition=~Q(source=F('target')),
                name='cmdb_relationship_not_self',
                violation_error_message='A CI cannot be related to itself.',
            ),
        ]
        indexes = [models.Index(fields=['target', 'source'], name='cmdb_rel_target_source')]

    def __str__(self) -> str:
        return f'{self.source.number} {self.get_type_display()} {self.target.number}'

    def get_absolute_url(self) -> str:
        return reverse('cmdb:relationship_detail', kwargs={'pk': self.pk})

    def clean(self):
        super().clean()
        if not (self.source_id and self.target_id and self.type) or self.source_id == self.target_id:
            return  # missing values and self-links are reported by the field and constraint checks
        refusal = relationship_refusal(self.source.ci_class, self.type, self.target.ci_class)
        if refusal:
            raise ValidationError({'type': refusal}, code='disallowed_pair')

    def unique_error_message(self, model_class, unique_check):
        if tuple(unique_check) == ('source', 'target', 'type'):
            return ValidationError(
                f'{self.source.number} already {self.get_type_display()} {self.target.number}: '
                'a relationship exists once.',
                code='duplicate',
            )
        return super().unique_error_message(model_class, unique_check)
