"""Where a new ticket goes when nobody named a group: the routing rules (data, kept by administrators), then the
support group of the ticket's service.

A rule matches when every condition it sets holds (service, configuration item, category or subcategory, channel,
kind); a blank condition matches anything, so a rule without conditions is the default. The first active rule by
position wins, and the database picks it: one query whatever the number of rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from itsm import audit
from itsm.audit import Actor
from itsm.models import SupportGroup

from .models import RoutingRule, Ticket

__all__ = ['Route', 'matching_rule', 'route', 'route_for', 'rule_create', 'rule_update', 'validate_rule']


@dataclass(frozen=True)
class Route:
    """A group and why the ticket goes there (the timeline says it)."""

    group: SupportGroup
    rule: RoutingRule | None = None

    @property
    def message(self) -> str:
        if self.rule is not None:
            return f'Routed to {self.group} by rule "{self.rule.name}"'
        return f'Routed to {self.group}: the support group of the service'


def _blank_or(field: str, value) -> Q:
    blank = Q(**{f'{field}__isnull': True}) if field.endswith('_id') else Q(**{field: ''})
    return blank | Q(**{field: value}) if value not in (None, '') else blank


def matching_rule(ticket: Ticket) -> RoutingRule | None:
    """The first active rule (by position) whose conditions all hold for `ticket`, with its group; one query."""
    categories = [pk for pk in (ticket.category_id, ticket.subcategory_id) if pk is not None]
    category = Q(category_id__isnull=True) | (Q(category_id__in=categories) if categories else Q(pk__in=[]))
    return (
        RoutingRule.objects.filter(active=True, assignment_group__active=True)
        .filter(_blank_or('service_id', ticket.service_id))
        .filter(_blank_or('ci_id', ticket.ci_id))
        .filter(category)
        .filter(_blank_or('channel', ticket.channel))
        .filter(_blank_or('kind', ticket.kind))
        .select_related('assignment_group')
        .order_by('position', 'pk')
        .first()
    )


def route_for(ticket: Ticket) -> Route | None:
    """The group a new ticket goes to and why: the first matching rule, else its service's support group."""
    rule = matching_rule(ticket)
    if rule is not None:
        return Route(rule.assignment_group, rule)
    service = ticket.service
    if service is not None and service.support_group_id is not None and service.support_group.active:
        return Route(service.support_group)
    return None


def route(ticket: Ticket) -> SupportGroup | None:
    """The support group a new ticket goes to, or None when neither a rule nor its service names one."""
    found = route_for(ticket)
    return found.group if found else None


def validate_rule(rule: RoutingRule) -> None:
    """Refuse a rule that could never route as written: a service that is not a service CI, a category that does
    not apply to the rule's kind, an inactive group."""
    errors = {}
    if rule.service_id and not rule.service.is_service:
        errors['service'] = f'{rule.service.number} is not a service: choose a service CI.'
    if rule.category_id and rule.kind and rule.category.kinds and rule.kind not in rule.category.kinds:
        errors['category'] = f'"{rule.category}" does not apply to {rule.get_kind_display().lower()}s.'
    if rule.assignment_group_id and not rule.assignment_group.active:
        errors['assignment_group'] = f'{rule.assignment_group} is inactive: choose an active group.'
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def rule_create(*, actor: Actor, **fields: Any) -> RoutingRule:
    """Add a routing rule; it applies to tickets opened from now on."""
    rule = RoutingRule(**fields)
    validate_rule(rule)
    rule.full_clean()
    rule.save()
    audit.record_created(rule, actor=actor, public=False)
    return rule


@transaction.atomic
def rule_update(*, actor: Actor, obj: RoutingRule, **fields: Any) -> RoutingRule:
    """Change a routing rule (its conditions, group, position or whether it is active)."""
    rule = RoutingRule.objects.select_for_update().get(pk=obj.pk)
    before = audit.snapshot(rule)
    for name, value in fields.items():
        setattr(rule, name, value)
    validate_rule(rule)
    rule.full_clean()
    rule.save()
    audit.record_changes(rule, before, actor=actor, public=False)
    return rule
