"""Reads of outbound webhooks shared by the pages and the API (constant queries whatever the row count)."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import WebhookAttempt, WebhookDelivery, WebhookSubscription


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
