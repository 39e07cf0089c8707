"""The writes of outbound webhooks: subscriptions, queueing events, sending attempts, retries and disabling.

Sending happens outside any transaction: a worker claims an attempt with one conditional UPDATE (the delivery's
`next_attempt_at` moves forward by a lease, so a second worker, or the sweep, finds nothing to claim), POSTs, then
records the outcome. A failure schedules the next attempt with exponential backoff through `apply_async(countdown)`
and keeps `next_attempt_at`, so the beat sweep (`webhook_sweep`) sends it even if the queued message was lost.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from itsm import audit, notify, snapshots
from itsm.audit import Actor
from itsm.choices import TimelineKind
from itsm.errors import Conflict, NotAllowed
from itsm.oncommit import transaction_memo
from itsm.permissions import user_can

from . import destinations, events, selectors, signing
from .choices import OPEN_STATUSES, PING, DeliveryStatus, EventType
from .models import WebhookAttempt, WebhookDelivery, WebhookSubscription, new_secret

USER_AGENT = 'Pitcrew-Webhooks/1'
# How long a claimed attempt stays claimed before the sweep may try it again (the worker died mid-request).
LEASE = dt.timedelta(minutes=5)
EDITABLE = ('name', 'url', 'events', 'record_kinds', 'active', 'allow_private_destination', 'security_incidents')


# ------------------------------------------------------------------------------------------ subscriptions
def _is_admin(user) -> bool:
    return user is not None and user.has_role('administrator')


def _clean(
    subscription: WebhookSubscription, *, actor: Actor, before_private: bool, before_security: bool = False
) -> None:
    from sla.records import kind_choices

    errors: dict[str, list[str]] = {}
    if not isinstance(subscription.events, list) or not subscription.events:
        errors['events'] = ['Choose at least one event type.']
    else:
        unknown = sorted({str(e) for e in subscription.events} - set(EventType.values))
        if unknown:
            errors['events'] = [f'Unknown event type: {", ".join(unknown)}. Known: {", ".join(EventType.values)}.']
        subscription.events = [e for e in EventType.values if e in subscription.events]
    kinds = subscription.record_kinds or []
    if not isinstance(kinds, list):
        errors['record_kinds'] = ['Give a list of record kinds.']
    else:
        known = [value for value, _ in kind_choices()]
        unknown = sorted({str(k) for k in kinds} - set(known))
        if unknown:
            errors['record_kinds'] = [f'Unknown record kind: {", ".join(unknown)}. Known: {", ".join(known)}.']
        subscription.record_kinds = [k for k in known if k in kinds]
    if subscription.allow_private_destination and not before_private and not _is_admin(actor.user):
        errors['allow_private_destination'] = ['Only an administrator may allow private destinations.']
    if subscription.security_incidents and not before_security and not _is_admin(actor.user):
        errors['security_incidents'] = ['Only an administrator may clear a subscription for security incidents.']
    if errors:
        raise ValidationError(errors)
    subscription.full_clean(exclude=['owner'] if subscription.owner_id is None else None)
    destinations.validate_url(subscription.url, allow_private=subscription.allow_private_destination)


@transaction.atomic
def subscription_create(*, actor: Actor, owner=None, **fields: Any) -> WebhookSubscription:
    """A new subscription of `owner` (the actor by default); its secret is generated (read it from the result)."""
    fields = {name: value for name, value in fields.items() if name in EDITABLE}
    owner = owner if owner is not None and _is_admin(actor.user) else actor.user
    if owner is None:
        raise ValidationError({'owner': 'A subscription needs an owner.'})
    subscription = WebhookSubscription(owner=owner, **fields)
    _clean(subscription, actor=actor, before_private=False)
    subscription.save()
    audit.record_created(subscription, actor=actor, public=False)
    return subscription


@transaction.atomic
def subscription_update(*, subscription: WebhookSubscription, actor: Actor, **fields: Any) -> WebhookSubscription:
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    before = audit.snapshot(subscription)
    before_private = subscription.allow_private_destination
    before_security = subscription.security_incidents
    reenabled = fields.get('active') and not subscription.active
    for name, value in fields.items():
        if name in EDITABLE:
            setattr(subscription, name, value)
    if reenabled:
        subscription.consecutive_failures, subscription.disabled_at, subscription.disabled_reason = 0, None, ''
    _clean(subscription, actor=actor, before_private=before_private, before_security=before_security)
    subscription.save()
    audit.record_changes(subscription, before, actor=actor)
    return subscription


@transaction.atomic
def subscription_enable(*, subscription: WebhookSubscription, actor: Actor) -> WebhookSubscription:
    """Turn a disabled subscription on again (its failure count starts over)."""
    return subscription_update(subscription=subscription, actor=actor, active=True)


@transaction.atomic
def subscription_delete(*, subscription: WebhookSubscription, actor: Actor) -> None:
    audit.record(subscription, actor=actor, kind=TimelineKind.DELETED, message=f'{subscription} deleted')
    subscription.delete()


@transaction.atomic
def subscription_rotate_secret(*, subscription: WebhookSubscription, actor: Actor) -> WebhookSubscription:
    """A new secret (the old one stops signing at once); the history says it was rotated, never what it is."""
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    subscription.secret = new_secret()
    subscription.save(update_fields=['secret', 'updated_at'])
    audit.record(subscription, actor=actor, kind=TimelineKind.FIELD_CHANGE, message='Signing secret rotated')
    return subscription


def _disable(subscription: WebhookSubscription, *, reason: str, now: dt.datetime) -> None:
    """Turn the subscription off (in the caller's transaction), close its open deliveries and tell its owner."""
    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        active=False, disabled_at=now, disabled_reason=reason[:300], updated_at=now
    )
    snapshots.touch(snapshots.DESK_RULES)  # an update saves no row one by one: the interests' version moves here
    WebhookDelivery.objects.filter(subscription=subscription, status__in=OPEN_STATUSES).update(
        status=DeliveryStatus.FAILED, next_attempt_at=None, error='The subscription was disabled.'
    )
    audit.record(subscription, actor=Actor.system(), kind=TimelineKind.FIELD_CHANGE, message=f'Disabled: {reason}')
    pk = subscription.pk
    transaction.on_commit(lambda: _notice_task().delay(pk), robust=True)


def _notice_task():
    from .tasks import disabled_notice_task

    return disabled_notice_task


def disabled_notice(*, subscription_id: int) -> notify.Message | None:
    """Tell the owner (e-mail and inbox) that their subscription was disabled, and why."""
    subscription = WebhookSubscription.objects.select_related('owner').filter(pk=subscription_id).first()
    if subscription is None or subscription.active or not subscription.owner.is_active:
        return None
    owner = subscription.owner
    return notify.deliver(
        subscription,
        'disabled',
        [owner.email] if owner.email else [],
        label='Webhook disabled',
        subject=f'Webhook “{subscription.name}” disabled: {subscription.disabled_reason}'[:200],
        extra={notify.PEOPLE_KEY: [owner.pk]},
        context={'subscription': subscription},
    )


# --------------------------------------------------------------------------------------------- events
def _body(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(',', ':'), ensure_ascii=False)


def _queue(deliveries: list[WebhookDelivery]) -> None:
    ids = [delivery.pk for delivery in deliveries]

    def send():
        from .tasks import deliver_task

        for pk in ids:
            deliver_task.delay(pk)

    if ids:
        # Robust: a delivery the broker cannot take now is sent by the beat sweep; the change itself stands.
        transaction.on_commit(send, robust=True)


def enqueue_event(
    record, event_type: str, *, actor, details: dict | None = None, batch: dict | None = None
) -> list[WebhookDelivery]:
    """Store one delivery of `event_type` on `record` for each active subscription that wants it and whose owner
    may read the record; the sending is queued after commit. An event about a restricted record (a security
    incident) goes only to subscriptions an administrator cleared for them (`security_incidents`).

    `batch`, a dict shared by the events of one batch in one transaction (the SLA sweep's announcements), keeps the
    subscriptions read for the first event, so a batch reads them once."""
    kind = events.record_kind(record)
    if not selectors.anyone_wants(str(event_type), kind):
        return []
    restricted = bool(getattr(record, 'is_restricted', False))
    if batch is None:
        subscriptions = transaction_memo('webhooks:active-subscriptions', selectors.active_subscriptions)
    else:
        if 'webhook_subscriptions' not in batch:
            batch['webhook_subscriptions'] = selectors.active_subscriptions()
        subscriptions = batch['webhook_subscriptions']
    wanted = [
        s
        for s in subscriptions
        if s.wants(str(event_type), kind)
        and (s.security_incidents or not restricted)
        and s.owner.is_active
        and user_can(s.owner, type(record), 'view')
    ]
    if not wanted:
        return []
    event_id = uuid.uuid4()
    data = events.payload(str(event_type), record, actor=actor, event_id=event_id, **(details or {}))
    body, now = _body(data), timezone.now()
    rows = [
        WebhookDelivery(
            subscription=s,
            event_type=str(event_type),
            event_id=event_id,
            payload=data,
            body=body,
            next_attempt_at=now,
            created_at=now,
        )
        for s in wanted
    ]
    deliveries = WebhookDelivery.objects.bulk_create(rows)
    _queue(deliveries)
    return deliveries


@transaction.atomic
def subscription_ping(*, subscription: WebhookSubscription, actor: Actor) -> WebhookDelivery:
    """Send a `ping` event to the subscription now (to test the receiver and its signature check)."""
    if not subscription.active:
        raise Conflict('The subscription is disabled: enable it before testing it.', code='disabled')
    event_id = uuid.uuid4()
    data = events.payload(
        PING, None, actor=actor, event_id=event_id, subscription={'id': subscription.pk, 'name': subscription.name}
    )
    now = timezone.now()
    delivery = WebhookDelivery.objects.create(
        subscription=subscription,
        event_type=PING,
        event_id=event_id,
        payload=data,
        body=_body(data),
        next_attempt_at=now,
        created_at=now,
    )
    _queue([delivery])
    return delivery


@transaction.atomic
def delivery_redeliver(*, delivery: WebhookDelivery, actor: Actor) -> WebhookDelivery:
    """Send a delivery's payload again, byte for byte and with its event id, as a new delivery."""
    subscription = delivery.subscription
    if (
        actor.user is not None
        and not WebhookSubscription.objects.visible_to(actor.user).filter(pk=subscription.pk).exists()
    ):
        raise NotAllowed('Only the owner of the subscription or an administrator may redeliver.')
    if not subscription.active:
        raise Conflict('The subscription is disabled: enable it before redelivering.', code='disabled')
    now = timezone.now()
    again = WebhookDelivery.objects.create(
        subscription=subscription,
        event_type=delivery.event_type,
        event_id=delivery.event_id,
        payload=delivery.payload,
        body=delivery.body,
        redelivery_of=delivery,
        next_attempt_at=now,
        created_at=now,
    )
    audit.record(
        subscription,
        actor=actor,
        kind=TimelineKind.FIELD_CHANGE,
        message=f'Redelivery of {delivery.event_type} {delivery.event_id} requested',
    )
    _queue([again])
    return again


# ------------------------------------------------------------------------------------------------ sending
def backoff(attempts: int) -> dt.timedelta:
    """Wait after the `attempts`-th failure: the base, doubled each time, capped."""
    seconds = settings.WEBHOOK_BACKOFF_SECONDS * 2 ** max(0, attempts - 1)
    return dt.timedelta(seconds=min(seconds, settings.WEBHOOK_BACKOFF_MAX_SECONDS))


def headers(delivery: WebhookDelivery, secret: str, *, now: dt.datetime) -> dict[str, str]:
    return {
        'Content-Type': 'application/json',
        'User-Agent': USER_AGENT,
        'Pitcrew-Event': delivery.event_type,
        'Pitcrew-Delivery': str(delivery.event_id),
        signing.SIGNATURE_HEADER: signing.sign(secret, delivery.body.encode(), now=now.timestamp()),
    }


def _claim(delivery_id: int, *, now: dt.datetime) -> WebhookDelivery | None:
    """Take the next attempt of a due delivery, or None when it is not due or another worker took it."""
    claimed = WebhookDelivery.objects.filter(pk=delivery_id, status__in=OPEN_STATUSES, next_attempt_at__lte=now).update(
        attempts=F('attempts') + 1, next_attempt_at=now + LEASE
    )
    if not claimed:
        return None
    return WebhookDelivery.objects.select_related('subscription__owner').get(pk=delivery_id)


def delivery_attempt(*, delivery_id: int, now: dt.datetime | None = None) -> WebhookDelivery | None:
    """Send one attempt of a delivery if it is due; record it, then succeed, schedule a retry or give up."""
    now = now or timezone.now()
    delivery = _claim(delivery_id, now=now)
    if delivery is None:
        return None
    subscription = delivery.subscription
    if not subscription.active:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.FAILED,
            next_attempt_at=None,
            attempts=F('attempts') - 1,
            error='The subscription was disabled.',
        )
        return None
    response = destinations.post(
        subscription.url,
        delivery.body.encode(),
        headers(delivery, subscription.secret, now=now),
        allow_private=subscription.allow_private_destination,
    )
    return _record(delivery, response, now=now)


@transaction.atomic
def _record(delivery: WebhookDelivery, response: destinations.Response, *, now: dt.datetime) -> WebhookDelivery:
    subscription = WebhookSubscription.objects.select_for_update().get(pk=delivery.subscription_id)
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=delivery.attempts,
        at=now,
        response_code=response.status,
        duration_ms=response.duration_ms,
        response_excerpt=response.excerpt,
        error=response.error,
        succeeded=response.ok,
    )
    delivery.last_response_code = response.status
    delivery.duration_ms = response.duration_ms
    delivery.response_excerpt = response.excerpt
    delivery.error = response.error
    if response.ok:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = DeliveryStatus.SUCCEEDED, now, None
        if subscription.consecutive_failures:
            WebhookSubscription.objects.filter(pk=subscription.pk).update(consecutive_failures=0)
    else:
        failures = subscription.consecutive_failures + 1
        WebhookSubscription.objects.filter(pk=subscription.pk).update(consecutive_failures=failures)
        if delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
            delivery.status, delivery.next_attempt_at = DeliveryStatus.GAVE_UP, None
        else:
            delivery.status, delivery.next_attempt_at = DeliveryStatus.RETRYING, now + backoff(delivery.attempts)
        reason = ''
        if delivery.status == DeliveryStatus.GAVE_UP:
            reason = f'a delivery failed {delivery.attempts} times ({response.error or "no answer"})'
        elif failures >= settings.WEBHOOK_DISABLE_AFTER:
            reason = f'{failures} failed attempts in a row ({response.error or "no answer"})'
        delivery.save()
        if reason and subscription.active:
            _disable(subscription, reason=reason, now=now)
        elif delivery.status == DeliveryStatus.RETRYING:
            pk, countdown = delivery.pk, max(0, int((delivery.next_attempt_at - now).total_seconds()))
            transaction.on_commit(lambda: _retry(pk, countdown), robust=True)
        delivery.refresh_from_db()
        return delivery
    delivery.save()
    return delivery


def _retry(delivery_id: int, countdown: int) -> None:
    from .tasks import deliver_task

    deliver_task.apply_async((delivery_id,), countdown=countdown)


def webhook_sweep(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Send the attempts that are due but whose queued message never ran (lost, or the worker died); returns
    how many were sent. Claims make it safe beside the workers and another sweep."""
    now = now or timezone.now()
    due = list(
        WebhookDelivery.objects.filter(status__in=OPEN_STATUSES, next_attempt_at__lte=now)
        .order_by('next_attempt_at')
        .values_list('pk', flat=True)[:limit]
    )
    return sum(1 for pk in due if delivery_attempt(delivery_id=pk, now=now) is not None)
