"""Sending: a real receiver on 127.0.0.1 that fails twice then succeeds, backoff, giving up, disabling with the owner
told, a success resetting the count, redelivery of the same payload, and one attempt per claim."""

import datetime as dt
import json

import pytest
from django.core import mail
from django.utils import timezone

from inbox.models import Notification
from itsm.audit import Actor
from itsm.choices import Role
from tests.factories import make_ticket, make_user
from tests.sla.factories import frozen
from webhooks import services, signing
from webhooks.choices import DeliveryStatus, EventType
from webhooks.models import WebhookDelivery, WebhookSubscription

from .factories import make_subscription

pytestmark = pytest.mark.django_db


def test_a_delivery_that_fails_twice_then_succeeds(receiver, django_capture_on_commit_callbacks, settings):
    settings.WEBHOOK_BACKOFF_SECONDS = 60
    server = receiver(500, 500, 200, bodies=[b'busy', b'still busy', b'<b>thanks</b>'])
    subscription = make_subscription(url=server.url, events=[EventType.RECORD_CREATED])
    start = timezone.now()
    with frozen(start) as clock, django_capture_on_commit_callbacks(execute=True):
        ticket = make_ticket(short_description='Mail server down')
    delivery = WebhookDelivery.objects.get(subscription=subscription)
    assert (delivery.status, delivery.attempts, delivery.last_response_code) == (DeliveryStatus.RETRYING, 1, 500)
    first_wait = delivery.next_attempt_at - start
    assert first_wait == dt.timedelta(seconds=60)

    # Not due yet: the sweep sends nothing (the queued retry ran at once in eager mode and found nothing either).
    assert services.webhook_sweep(now=start + dt.timedelta(seconds=59)) == 0
    with frozen(start + dt.timedelta(seconds=60)) as clock, django_capture_on_commit_callbacks(execute=True):
        assert services.webhook_sweep(now=clock.now) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.RETRYING, 2)
    second_wait = delivery.next_attempt_at - (start + dt.timedelta(seconds=60))
    assert second_wait == dt.timedelta(seconds=120) > first_wait

    with frozen(delivery.next_attempt_at) as clock, django_capture_on_commit_callbacks(execute=True):
        assert services.webhook_sweep(now=clock.now) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_response_code) == (DeliveryStatus.SUCCEEDED, 3, 200)
    assert delivery.delivered_at is not None and delivery.next_attempt_at is None
    assert delivery.response_excerpt == '<b>thanks</b>'

    log = list(delivery.attempt_log.order_by('number'))
    assert [(a.number, a.response_code, a.succeeded) for a in log] == [(1, 500, False), (2, 500, False), (3, 200, True)]
    assert log[1].at - log[0].at < log[2].at - log[1].at  # the waits grow
    assert [a.response_excerpt for a in log] == ['busy', 'still busy', '<b>thanks</b>']

    # Three identical bodies with the same event id, each signed when it was sent.
    assert len(server.requests) == 3
    assert {r.body for r in server.requests} == {delivery.body.encode()}
    assert {r.headers['Pitcrew-Delivery'] for r in server.requests} == {str(delivery.event_id)}
    last = server.requests[-1]
    assert last.headers['Pitcrew-Event'] == 'record.created'
    assert last.headers['User-Agent'] == 'Pitcrew-Webhooks/1'
    assert last.headers['Content-Type'] == 'application/json'
    assert signing.verify(subscription.secret, last.body, last.headers['Pitcrew-Signature'], now=clock.now.timestamp())
    assert json.loads(last.body)['record']['number'] == ticket.number
    subscription.refresh_from_db()
    assert subscription.consecutive_failures == 0  # the success reset the count


def test_a_claimed_attempt_is_not_sent_twice(receiver):
    server = receiver(200)
    subscription = make_subscription(url=server.url)
    delivery = services.subscription_ping(subscription=subscription, actor=Actor(user=subscription.owner))
    now = timezone.now()
    assert services.delivery_attempt(delivery_id=delivery.pk, now=now) is not None
    assert services.delivery_attempt(delivery_id=delivery.pk, now=now) is None
    assert services.webhook_sweep(now=now + dt.timedelta(hours=1)) == 0
    assert len(server.requests) == 1
    assert json.loads(server.requests[0].body)['type'] == 'ping'


def test_a_delivery_that_keeps_failing_gives_up_and_disables_the_subscription(
    receiver, django_capture_on_commit_callbacks, settings
):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    server = receiver(503)
    owner = make_user(Role.INTEGRATION, email='robot@example.com')
    subscription = make_subscription(owner=owner, url=server.url)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        delivery = services.subscription_ping(subscription=subscription, actor=Actor(user=owner))
    now = timezone.now()
    for _ in range(2):
        now += dt.timedelta(hours=7)
        with django_capture_on_commit_callbacks(execute=True):
            services.webhook_sweep(now=now)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.GAVE_UP, 3)
    subscription.refresh_from_db()
    assert not subscription.active and subscription.disabled_at is not None
    assert 'failed 3 times' in subscription.disabled_reason
    # The owner is told by e-mail and in their inbox.
    assert [m.to for m in mail.outbox] == [['robot@example.com']]
    assert subscription.name in mail.outbox[0].subject and 'disabled' in mail.outbox[0].subject
    assert subscription.get_absolute_url() in mail.outbox[0].body
    assert Notification.objects.filter(recipient=owner, label='Webhook disabled').count() == 1
    # Events no longer reach it.
    with django_capture_on_commit_callbacks(execute=True):
        make_ticket()
    assert WebhookDelivery.objects.filter(subscription=subscription).count() == 1
    assert len(server.requests) == 3


def test_consecutive_failures_across_deliveries_disable_and_a_success_resets(
    receiver, django_capture_on_commit_callbacks, settings
):
    settings.WEBHOOK_DISABLE_AFTER = 3
    server = receiver(500, 200, 500)
    subscription = make_subscription(url=server.url, events=[EventType.RECORD_CREATED])
    with django_capture_on_commit_callbacks(execute=True):
        make_ticket()  # 500
    subscription.refresh_from_db()
    assert subscription.consecutive_failures == 1
    with django_capture_on_commit_callbacks(execute=True):
        make_ticket()  # 200
    subscription.refresh_from_db()
    assert subscription.consecutive_failures == 0 and subscription.active
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            make_ticket()  # 500 from now on
    subscription.refresh_from_db()
    assert not subscription.active
    assert '3 failed attempts in a row' in subscription.disabled_reason
    # Its deliveries still waiting for a retry (the first one and the last three) are closed.
    assert not WebhookDelivery.objects.filter(subscription=subscription, status__in=['pending', 'retrying']).exists()
    assert WebhookDelivery.objects.filter(subscription=subscription, status=DeliveryStatus.FAILED).count() == 4

    # Enabled again, it starts over.
    services.subscription_enable(subscription=subscription, actor=Actor(user=subscription.owner))
    subscription.refresh_from_db()
    assert subscription.active and subscription.consecutive_failures == 0 and subscription.disabled_at is None


def test_redelivery_sends_the_same_payload_again(receiver, django_capture_on_commit_callbacks):
    server = receiver(200)
    subscription = make_subscription(url=server.url, events=[EventType.RECORD_CREATED])
    with django_capture_on_commit_callbacks(execute=True):
        make_ticket()
    original = WebhookDelivery.objects.get(subscription=subscription)
    with django_capture_on_commit_callbacks(execute=True):
        again = services.delivery_redeliver(delivery=original, actor=Actor(user=subscription.owner))
    again.refresh_from_db()
    assert again.pk != original.pk and again.redelivery_of == original
    assert again.status == DeliveryStatus.SUCCEEDED
    assert (again.event_id, again.body) == (original.event_id, original.body)
    assert server.requests[0].body == server.requests[1].body
    assert server.requests[1].headers['Pitcrew-Delivery'] == str(original.event_id)


def test_a_redirect_is_not_followed(receiver, django_capture_on_commit_callbacks):
    server = receiver(302)
    subscription = make_subscription(url=server.url)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = services.subscription_ping(subscription=subscription, actor=Actor(user=subscription.owner))
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.RETRYING and delivery.last_response_code == 302
    assert 'Redirects are not followed' in delivery.error
    assert len(server.requests) == 1


def test_a_destination_that_became_private_is_refused_at_send_time(django_capture_on_commit_callbacks, monkeypatch):
    subscription = make_subscription()
    # DNS now answers with a private address: nothing is sent, the attempt says why.
    monkeypatch.setattr('webhooks.destinations.resolve_host', lambda host, port: ['10.1.2.3'])
    with django_capture_on_commit_callbacks(execute=True):
        delivery = services.subscription_ping(subscription=subscription, actor=Actor(user=subscription.owner))
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.RETRYING and delivery.last_response_code is None
    assert '10.1.2.3 is a private address' in delivery.error


def test_a_subscription_disabled_by_hand_sends_nothing(receiver, django_capture_on_commit_callbacks):
    server = receiver(200)
    subscription = make_subscription(url=server.url)
    delivery = services.subscription_ping(subscription=subscription, actor=Actor(user=subscription.owner))
    WebhookSubscription.objects.filter(pk=subscription.pk).update(active=False)
    assert services.delivery_attempt(delivery_id=delivery.pk) is None
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 0
    assert server.requests == []


def test_the_answer_is_read_up_to_one_kilobyte(receiver, django_capture_on_commit_callbacks):
    server = receiver(200, bodies=[b'x' * 5000 + b'\x00'])
    subscription = make_subscription(url=server.url)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = services.subscription_ping(subscription=subscription, actor=Actor(user=subscription.owner))
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.response_excerpt == 'x' * 1024


def test_a_receiver_slower_than_the_timeout_fails_the_attempt(receiver, django_capture_on_commit_callbacks, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    server = receiver(200)
    server.delay = 3
    subscription = make_subscription(url=server.url)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = services.subscription_ping(subscription=subscription, actor=Actor(user=subscription.owner))
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.RETRYING and delivery.last_response_code is None
    assert 'timed out' in delivery.error.lower()
    assert 900 <= delivery.duration_ms < 2900
