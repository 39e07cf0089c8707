"""Reads of outbound webhooks shared by the pages and the API (constant queries whatever the row count)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from itsm import snapshots

from .models import WebhookAttempt, WebhookDelivery, WebhookSubscription, wants_event


def subscriptions_for(user) -> QuerySet[WebhookSubscription]:
    return WebhookSubscription.objects.visible_to(user).select_related('owner')


def deliveries_for(user) -> QuerySet[WebhookDelivery]:
    """Deliveries of the subscriptions `user` may see (their own; administrators all)."""
    visible = WebhookSubscription.objects.visible_to(user).values('pk')
    return (
        WebhookDelivery.objects.filter(subscription__in=visible).select_related('subscription').defer('payload', 'body')
    )


def attempts_of(delivery: WebhookDelivery) -> QuerySet[WebhookAttempt]:
    return WebhookAttempt.objects.filter(delivery=delivery).order_by('number')


# ------------------------------------------------------------------------------------------- events
@dataclass(frozen=True)
class Interest:
    """What one active subscription asks for, as the desk's snapshot keeps it."""

    events: frozenset[str]
    record_kinds: frozenset[str]

    def wants(self, event_type: str, kind: str | None) -> bool:
        return wants_event(self.events, self.record_kinds, event_type, kind)


def subscription_interests() -> tuple[Interest, ...]:
    """What the active subscriptions want, read once per process and version of the desk's rules
    (`itsm.snapshots`): saving or deleting a subscription, or disabling one, gives them a new version."""
    return snapshots.snapshot(snapshots.DESK_RULES, 'webhook-interests', _stored_interests)


def _stored_interests(alias: str) -> tuple[Interest, ...]:
    rows = WebhookSubscription.objects.using(alias).filter(active=True).values_list('events', 'record_kinds')
    return tuple(
        Interest(frozenset(map(str, events or ())), frozenset(map(str, kinds or ()))) for events, kinds in rows
    )


def anyone_wants(event_type: str, kind: str | None) -> bool:
    """Whether an active subscription may want this event (the snapshot may be a change behind: the rows read
    next decide)."""
    return any(interest.wants(event_type, kind) for interest in subscription_interests())


def active_subscriptions() -> list[WebhookSubscription]:
    """Every active subscription with its owner, as stored now: read when an event interests one of them, once per
    transaction."""
    return list(WebhookSubscription.objects.filter(active=True).select_related('owner'))
