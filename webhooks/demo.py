"""Demo webhooks: the monitoring bot's chat bridge, pointed at a local port where nothing listens, with its test ping
tried once and then switched off, so its page shows a delivery log and the "enable again" button.

Idempotent: nothing is added while the demo subscription exists. Needs the core demo people.
"""

from __future__ import annotations

from itsm.audit import Actor
from itsm.choices import Channel
from itsm.models import User

from . import services
from .choices import EventType
from .models import WebhookSubscription

NAME = 'Chat bridge (demo)'
# Port 9 (discard) on this machine: an administrator allowed the private destination; nothing answers there.
URL = 'http://127.0.0.1:9/pitcrew-demo'


def load(log=print) -> None:
    if WebhookSubscription.objects.filter(name=NAME).exists():
        return
    admin = User.objects.filter(username='admin').first()
    bot = User.objects.filter(username='monitoring').first()
    if admin is None or bot is None:
        log('webhooks: the core demo people are missing, nothing loaded')
        return
    actor = Actor(user=admin, channel=Channel.UI)
    subscription = services.subscription_create(
        actor=actor,
        owner=bot,
        name=NAME,
        url=URL,
        events=[EventType.RECORD_CREATED, EventType.RECORD_TRANSITIONED, EventType.SLA_BREACHED],
        allow_private_destination=True,
    )
    ping = services.subscription_ping(subscription=subscription, actor=actor)
    services.delivery_attempt(delivery_id=ping.pk)
    services.subscription_update(subscription=subscription, actor=actor, active=False)
    log(f'webhooks: {NAME} (disabled; its test ping found no receiver)')
