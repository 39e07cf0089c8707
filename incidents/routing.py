"""Where a new ticket goes when nobody named a group: the routing rules (data, kept by administrators), then the
support group of the ticket's service.

A rule matches when every condition it sets holds (service, configuration item, category or subcategory, channel,
kind); a blank condition matches anything, so a rule without conditions is the default. The first active rule by
position wins. The rules are read once per process until one of them or a group changes (`itsm.snapshots`), so
routing a ticket asks the database nothing but the rules' version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from itsm import audit, snapshots
from itsm.audit import Actor
from itsm.models import SupportGroup

from .models import RoutingRule, Ticket

__all__ = [
    'Route',
    'active_rules',
    'matching_rule',
    'route',
    'route_for',
    'rule_create',
    'rule_update',
    'validate_rule',
]


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


def active_rules() -> list[RoutingRule]:
    """The active rules of active groups by position, with their groups, as this process holds them
    (`itsm.snapshots`: read again after any change to a rule or a group). Shared: read-only."""
    return snapshots.snapshot(
        snapshots.DESK_RULES,
        'routing-rules',
        lambda db: list(
            RoutingRule.objects.using(db)
            .filter(active=True, assignment_group__active=True)
            .select_related('assignment_group')
            .order_by('position', 'pk')
        ),
    )


def _blank_or_equal(condition, value) -> bool:
    """A rule's condition holds when it is blank or names the ticket's value."""
    return condition in (None, '') or condition == value


def matching_rule(ticket: Ticket) -> RoutingRule | None:
    """The first active rule (by position) whose conditions all hold for `ticket`, with its group."""
    categories = {pk for pk in (ticket.category_id, ticket.subcategory_id) if pk is not None}
    return next(
        (
            rule
            for rule in active_rules()
            if _blank_or_equal(rule.service_id, ticket.service_id)
            and _blank_or_equal(rule.ci_id, ticket.ci_id)
            and (rule.category_id is None or rule.category_id in categories)
            and _blank_or_equal(rule.channel, ticket.channel)
            and _blank_or_equal(rule.kind, ticket.kind)
        ),
        None,
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
