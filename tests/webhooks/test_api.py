"""`/api/v1/webhooks/` and `/api/v1/webhook-deliveries/`: generic CRUD tests, the secret answered once, malformed
input refused with nothing written, SSRF refusals, who may do what, and owners seeing only their own."""

import pytest
from django.urls import reverse

from itsm.audit import Actor
from itsm.choices import Role
from itsm.models import TimelineEntry
from tests.base import APITestCases, ItsmTestCase
from webhooks import services
from webhooks.choices import DeliveryStatus
from webhooks.models import WebhookDelivery, WebhookSubscription

from .factories import PUBLIC_URL, make_subscription


def messages(errors) -> list[str]:
    """Every message of an error answer, however nested (a list's item errors come by index)."""
    if isinstance(errors, dict):
        return [m for value in errors.values() for m in messages(value)]
    if isinstance(errors, list):
        return [m for value in errors for m in messages(value)]
    return [str(errors)] if str(errors) else []


class WebhookSubscriptionAPITests(APITestCases.ModelAPITestCase):
    model = WebhookSubscription
    basename = 'webhooksubscription'
    view_roles = (Role.ADMINISTRATOR,)
    write_roles = (Role.ADMINISTRATOR,)
    read_only_roles = (Role.SERVICE_DESK_AGENT,)
    update_data = {'name': 'Renamed hook', 'events': ['record.created', 'sla.breached']}
    read_only_fields = {'consecutive_failures': 99, 'secret': 'whsec_mine', 'disabled_reason': 'mine'}

    def make_object(self, **kwargs):
        return make_subscription(**kwargs)

    def create_data(self):
        return {'name': 'Chat bridge', 'url': PUBLIC_URL, 'events': ['record.created', 'record.commented']}

    def filter_cases(self):
        on = make_subscription(name='Alpha', events=['record.created'])
        off = make_subscription(name='Beta', active=False, events=['sla.breached'])
        return [
            ({'active': 'true'}, [on]),
            ({'active': 'false'}, [off]),
            ({'q': 'alph'}, [on]),
            ({'event': 'sla.breached'}, [off]),
        ]


class WebhookAPIBehaviourTests(ItsmTestCase):
    def setUp(self):
        self.client_user = self.make_user(Role.INTEGRATION, username='robot')
        self.api = self.api_client(self.client_user)

    def test_the_secret_is_answered_on_creation_and_rotation_only(self):
        response = self.api.post(
            reverse('api:webhooksubscription-list'),
            {'name': 'Bridge', 'url': PUBLIC_URL, 'events': ['record.created']},
            format='json',
        )
        self.assertHttpStatus(response, 201)
        subscription = WebhookSubscription.objects.get(pk=response.data['id'])
        self.assertEqual(response.data['secret'], subscription.secret)
        self.assertTrue(subscription.secret.startswith('whsec_'))
        self.assertEqual(subscription.owner, self.client_user)
        detail = reverse('api:webhooksubscription-detail', args=[subscription.pk])
        self.assertNotIn('secret', self.api.get(detail).data)
        self.assertNotIn('secret', self.api.get(reverse('api:webhooksubscription-list')).data['results'][0])
        rotated = self.api.post(reverse('api:webhooksubscription-rotate-secret', args=[subscription.pk]))
        self.assertHttpStatus(rotated, 200)
        self.assertNotEqual(rotated.data['secret'], response.data['secret'])
        subscription.refresh_from_db()
        self.assertEqual(subscription.secret, rotated.data['secret'])
        # The history says it was set and rotated, never what it is.
        history = ' '.join(str(e.changes) + e.message for e in TimelineEntry.objects.for_object(subscription))
        self.assertIn('rotated', history)
        self.assertNotIn(response.data['secret'], history)
        self.assertNotIn(rotated.data['secret'], history)

    def test_malformed_subscriptions_are_refused_with_nothing_written(self):
        url = reverse('api:webhooksubscription-list')
        cases = [
            ({'name': 'x', 'url': PUBLIC_URL, 'events': ['record.exploded']}, 'events'),
            ({'name': 'x', 'url': PUBLIC_URL, 'events': []}, 'events'),
            ({'name': 'x', 'url': PUBLIC_URL, 'events': 'record.created'}, 'events'),
            ({'name': 'x', 'url': 'not a url', 'events': ['record.created']}, 'url'),
            ({'name': 'x', 'url': 'ftp://93.184.215.14/x', 'events': ['record.created']}, 'url'),
            (
                {'name': 'x', 'url': PUBLIC_URL, 'events': ['record.created'], 'record_kinds': ['spaceship']},
                'record_kinds',
            ),
            ({'url': PUBLIC_URL, 'events': ['record.created']}, 'name'),
            ({'name': 'x', 'url': 'http://127.0.0.1:8080/x', 'events': ['record.created']}, 'url'),
        ]
        entries = TimelineEntry.objects.count()
        for data, field in cases:
            with self.subTest(data=data):
                response = self.api.post(url, data, format='json')
                self.assertHttpStatus(response, 400)
                self.assertIn(field, response.data)
                self.assertTrue(messages(response.data[field]), response.data)
        self.assertFalse(WebhookSubscription.objects.exists())
        self.assertEqual(TimelineEntry.objects.count(), entries)
        response = self.api.post(url, data='{"name": "x", "events": [', content_type='application/json')
        self.assertHttpStatus(response, 400)
        self.assertEqual(response.data['code'], 'parse_error')
        self.assertFalse(WebhookSubscription.objects.exists())

    def test_private_destinations_need_an_administrator(self):
        url = reverse('api:webhooksubscription-list')
        data = {'name': 'Local', 'url': 'http://127.0.0.1:9000/hook', 'events': ['record.created']}
        response = self.api.post(url, {**data, 'allow_private_destination': True}, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('Only an administrator', response.data['allow_private_destination'][0])
        admin = self.api_client(self.make_user(Role.ADMINISTRATOR))
        response = admin.post(url, {**data, 'allow_private_destination': True}, format='json')
        self.assertHttpStatus(response, 201)
        # The owner may edit the rest, but not take the allowance off and on again by themselves.
        subscription = WebhookSubscription.objects.get(pk=response.data['id'])
        self.assertTrue(subscription.allow_private_destination)

    def test_requesters_and_agents_are_refused(self):
        make_subscription(owner=self.client_user)
        for role in (Role.REQUESTER, Role.SERVICE_DESK_AGENT, Role.L2_ENGINEER):
            with self.subTest(role=role):
                client = self.api_client(self.make_user(role))
                self.assertHttpStatus(client.get(reverse('api:webhooksubscription-list')), 403)
                self.assertHttpStatus(client.get(reverse('api:webhookdelivery-list')), 403)
                response = client.post(
                    reverse('api:webhooksubscription-list'),
                    {'name': 'x', 'url': PUBLIC_URL, 'events': ['record.created']},
                    format='json',
                )
                self.assertHttpStatus(response, 403)
        self.assertEqual(WebhookSubscription.objects.count(), 1)

    def test_owners_see_only_their_own_and_administrators_all(self):
        mine = make_subscription(owner=self.client_user)
        theirs = make_subscription()
        services.subscription_ping(subscription=mine, actor=Actor(user=self.client_user))
        other_delivery = services.subscription_ping(subscription=theirs, actor=Actor(user=theirs.owner))
        listed = self.api.get(reverse('api:webhooksubscription-list')).data['results']
        self.assertEqual([row['id'] for row in listed], [mine.pk])
        self.assertHttpStatus(self.api.get(reverse('api:webhooksubscription-detail', args=[theirs.pk])), 404)
        response = self.api.patch(
            reverse('api:webhooksubscription-detail', args=[theirs.pk]), {'name': 'Mine now'}, format='json'
        )
        self.assertHttpStatus(response, 404)
        self.assertHttpStatus(self.api.post(reverse('api:webhooksubscription-test', args=[theirs.pk])), 404)
        deliveries = self.api.get(reverse('api:webhookdelivery-list')).data['results']
        self.assertEqual({row['subscription'] for row in deliveries}, {mine.pk})
        redeliver = reverse('api:webhookdelivery-redeliver', args=[other_delivery.pk])
        self.assertHttpStatus(self.api.post(redeliver), 404)
        admin = self.api_client(self.make_user(Role.ADMINISTRATOR))
        listed = admin.get(reverse('api:webhooksubscription-list')).data['results']
        self.assertEqual({row['id'] for row in listed}, {mine.pk, theirs.pk})

    def test_test_ping_and_redeliver_actions(self):
        subscription = make_subscription(owner=self.client_user)
        response = self.api.post(reverse('api:webhooksubscription-test', args=[subscription.pk]))
        self.assertHttpStatus(response, 202)
        self.assertEqual(response.data['event_type'], 'ping')
        delivery = WebhookDelivery.objects.get(pk=response.data['id'])
        detail = self.api.get(reverse('api:webhookdelivery-detail', args=[delivery.pk]))
        self.assertHttpStatus(detail, 200)
        self.assertEqual(detail.data['payload']['type'], 'ping')
        self.assertIn('attempt_log', detail.data)
        again = self.api.post(reverse('api:webhookdelivery-redeliver', args=[delivery.pk]))
        self.assertHttpStatus(again, 202)
        self.assertEqual(again.data['redelivery_of'], delivery.pk)
        self.assertEqual(again.data['event_id'], str(delivery.event_id))
        filtered = self.api.get(
            reverse('api:webhookdelivery-list'), {'status': DeliveryStatus.PENDING, 'page_size': 50}
        )
        self.assertHttpStatus(filtered, 200)
        # Disabled: no ping, no redelivery (409 saying why).
        services.subscription_update(subscription=subscription, actor=Actor(user=self.client_user), active=False)
        response = self.api.post(reverse('api:webhooksubscription-test', args=[subscription.pk]))
        self.assertHttpStatus(response, 409)
        self.assertEqual(response.data['code'], 'disabled')
        self.assertHttpStatus(self.api.post(reverse('api:webhookdelivery-redeliver', args=[delivery.pk])), 409)

    def test_unknown_filters_are_refused(self):
        response = self.api.get(reverse('api:webhookdelivery-list'), {'colour': 'red'})
        self.assertHttpStatus(response, 400)
        self.assertIn('colour', response.data)

    def test_delivery_list_query_count_does_not_grow(self):
        subscription = make_subscription(owner=self.client_user)
        for _ in range(2):
            services.subscription_ping(subscription=subscription, actor=Actor(user=self.client_user))
        url = reverse('api:webhookdelivery-list')
        self.api.get(url)
        small = self.count_queries(lambda: self.assertHttpStatus(self.api.get(url), 200))
        for _ in range(6):
            services.subscription_ping(subscription=subscription, actor=Actor(user=self.client_user))
        large = self.count_queries(lambda: self.assertHttpStatus(self.api.get(url), 200))
        self.assertEqual(small, large)


pytestmark = pytest.mark.django_db
