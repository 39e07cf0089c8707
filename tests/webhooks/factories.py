"""Test data of outbound webhooks, made through the services."""

from __future__ import annotations

from itsm.audit import Actor
from itsm.choices import Role
from tests.factories import make_user
from webhooks import services
from webhooks.choices import EventType
from webhooks.models import WebhookSubscription

# A public address literal: needs no DNS, passes the destination rules, never contacted by the tests that use it.
PUBLIC_URL = 'https://93.184.215.14/pitcrew-hooks'
ALL_EVENTS = list(EventType.values)


def make_subscription(*, owner=None, url: str = PUBLIC_URL, events=None, **fields) -> WebhookSubscription:
    """A subscription of `owner` (a new integration client by default). A URL on 127.0.0.1 is allowed as a
    private destination by an administrator, as the local receivers of the tests need."""
    owner = owner or make_user(Role.INTEGRATION)
    fields.setdefault('name', f'Hook {WebhookSubscription.objects.count() + 1}')
    private = fields.pop('allow_private_destination', '://127.0.0.1' in url or '://[::1]' in url)
    admin = make_user(Role.ADMINISTRATOR) if private else None
    subscription = services.subscription_create(
        actor=Actor(user=owner),
        owner=owner,
        url=url if not private else PUBLIC_URL,
        events=list(events or ALL_EVENTS),
        **fields,
    )
    if private:
        subscription = services.subscription_update(
            subscription=subscription, actor=Actor(user=admin), url=url, allow_private_destination=True
        )
    return subscription
