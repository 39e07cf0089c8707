"""One attempt per claim on real parallel PostgreSQL connections: workers and sweeps racing for the same due
deliveries send each exactly once."""

from unittest import mock

import pytest
from django.utils import timezone

from itsm.audit import Actor
from tests.concurrency import run_in_parallel
from webhooks import services
from webhooks.choices import DeliveryStatus
from webhooks.models import WebhookAttempt, WebhookDelivery

from .factories import make_subscription

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_parallel_workers_and_sweeps_send_each_delivery_once(receiver):
    server = receiver(200)
    subscription = make_subscription(url=server.url)
    # The broker lost the queued messages: the deliveries wait, due, for whoever claims them first.
    with mock.patch('webhooks.tasks.deliver_task.delay'):
        deliveries = [
            services.subscription_ping(subscription=subscription, actor=Actor(user=subscription.owner))
            for _ in range(5)
        ]
    assert server.requests == []
    now = timezone.now()
    workers = [
        (lambda pk=delivery.pk: services.delivery_attempt(delivery_id=pk, now=now))
        for delivery in deliveries
        for _ in range(3)
    ]
    sweeps = [lambda: services.webhook_sweep(now=now) for _ in range(3)]
    results = run_in_parallel(workers + sweeps)
    assert [r for r in results if r[0] == 'error'] == []
    assert len(server.requests) == 5
    assert sorted(r.headers['Pitcrew-Delivery'] for r in server.requests) == sorted(str(d.event_id) for d in deliveries)
    assert set(WebhookDelivery.objects.values_list('status', 'attempts')) == {(DeliveryStatus.SUCCEEDED, 1)}
    assert WebhookAttempt.objects.count() == 5
