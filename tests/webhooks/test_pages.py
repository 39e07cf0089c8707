"""Pages: generic list/detail/add/edit/delete tests, the secret shown once, the delivery log and a delivery's
attempts (escaped), the one-click actions, who sees what, the menu item, and constant query counts."""

import pytest
from django.urls import reverse

from itsm.audit import Actor
from itsm.choices import Role
from tests.base import ItsmTestCase, ViewTestCases
from webhooks import services
from webhooks.choices import DeliveryStatus
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription

from .factories import PUBLIC_URL, make_subscription

pytestmark = pytest.mark.django_db


class WebhookSubscriptionViewTests(ViewTestCases.ModelViewTestCase):
    model = WebhookSubscription
    view_roles = (Role.ADMINISTRATOR,)
    write_roles = (Role.ADMINISTRATOR,)
    read_only_roles = (Role.SERVICE_DESK_AGENT,)

    def make_object(self, **kwargs):
        return make_subscription(**kwargs)

    def form_data(self):
        return {'name': 'Chat bridge', 'url': PUBLIC_URL, 'events': ['record.created', 'sla.breached'], 'active': 'on'}

    def edit_data(self, obj):
        return {'name': 'Chat bridge (new)', 'url': PUBLIC_URL, 'events': ['record.commented'], 'active': 'on'}


class WebhookPageTests(ItsmTestCase):
    def setUp(self):
        self.owner = self.make_user(Role.INTEGRATION, username='robot')
        self.client.force_login(self.owner)

    def test_the_secret_is_shown_once_after_creation_and_rotation(self):
        response = self.client.post(
            reverse('webhooks:webhooksubscription_add'),
            {'name': 'Bridge', 'url': PUBLIC_URL, 'events': ['record.created'], 'active': 'on'},
            follow=True,
        )
        self.assertHttpStatus(response, 200)
        subscription = WebhookSubscription.objects.get(name='Bridge')
        self.assertEqual(subscription.owner, self.owner)
        self.assertContains(response, subscription.secret)
        again = self.client.get(subscription.get_absolute_url())
        self.assertNotContains(again, subscription.secret)
        response = self.client.post(reverse('webhooks:webhooksubscription_rotate', args=[subscription.pk]), follow=True)
        subscription.refresh_from_db()
        self.assertContains(response, subscription.secret)
        self.assertNotContains(self.client.get(subscription.get_absolute_url()), subscription.secret)

    def test_the_private_destination_box_is_for_administrators_only(self):
        response = self.client.get(reverse('webhooks:webhooksubscription_add'))
        self.assertNotContains(response, 'allow_private_destination')
        self.client.force_login(self.make_user(Role.ADMINISTRATOR))
        response = self.client.get(reverse('webhooks:webhooksubscription_add'))
        self.assertContains(response, 'allow_private_destination')

    def test_a_refused_destination_is_shown_on_the_form(self):
        response = self.client.post(
            reverse('webhooks:webhooksubscription_add'),
            {'name': 'Metadata', 'url': 'http://169.254.169.254/latest/', 'events': ['record.created']},
        )
        self.assertHttpStatus(response, 200)
        self.assertContains(response, '169.254.169.254 is a link-local address')
        self.assertFalse(WebhookSubscription.objects.exists())

    def test_delivery_log_and_attempts_show_the_answer_escaped(self):
        subscription = make_subscription(owner=self.owner)
        delivery = services.subscription_ping(subscription=subscription, actor=Actor(user=self.owner))
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=1,
            at=delivery.created_at,
            response_code=500,
            response_excerpt='<script>alert(1)</script>',
            error='HTTP 500',
        )
        WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.RETRYING, attempts=1)
        page = self.client.get(subscription.get_absolute_url())
        self.assertContains(page, reverse('webhooks:delivery_detail', args=[delivery.pk]))
        self.assertContains(page, 'Retrying')
        detail = self.client.get(reverse('webhooks:delivery_detail', args=[delivery.pk]))
        self.assertHttpStatus(detail, 200)
        self.assertContains(detail, '&lt;script&gt;alert(1)&lt;/script&gt;')
        self.assertNotContains(detail, '<script>alert(1)</script>')
        response = self.client.post(reverse('webhooks:delivery_redeliver', args=[delivery.pk]))
        self.assertHttpStatus(response, 302)
        self.assertEqual(WebhookDelivery.objects.filter(redelivery_of=delivery).count(), 1)

    def test_test_ping_and_enable_again(self):
        subscription = make_subscription(owner=self.owner)
        response = self.client.post(reverse('webhooks:webhooksubscription_test', args=[subscription.pk]))
        self.assertHttpStatus(response, 302)
        self.assertTrue(WebhookDelivery.objects.filter(subscription=subscription, event_type='ping').exists())
        WebhookSubscription.objects.filter(pk=subscription.pk).update(
            active=False, disabled_reason='10 failed attempts in a row', consecutive_failures=10
        )
        page = self.client.get(subscription.get_absolute_url())
        self.assertContains(page, '10 failed attempts in a row')
        self.assertContains(page, reverse('webhooks:webhooksubscription_enable', args=[subscription.pk]))
        self.client.post(reverse('webhooks:webhooksubscription_enable', args=[subscription.pk]))
        subscription.refresh_from_db()
        self.assertTrue(subscription.active)
        self.assertEqual(subscription.consecutive_failures, 0)

    def test_owners_see_only_their_own(self):
        mine = make_subscription(owner=self.owner, name='Mine')
        theirs = make_subscription(name='Theirs')
        delivery = services.subscription_ping(subscription=theirs, actor=Actor(user=theirs.owner))
        listing = self.client.get(reverse('webhooks:webhooksubscription_list'))
        self.assertContains(listing, 'Mine')
        self.assertNotContains(listing, 'Theirs')
        self.assertHttpStatus(self.client.get(theirs.get_absolute_url()), 404)
        self.assertHttpStatus(self.client.get(reverse('webhooks:webhooksubscription_edit', args=[theirs.pk])), 404)
        self.assertHttpStatus(self.client.get(reverse('webhooks:delivery_detail', args=[delivery.pk])), 404)
        self.assertHttpStatus(self.client.post(reverse('webhooks:delivery_redeliver', args=[delivery.pk])), 404)
        self.assertHttpStatus(self.client.get(mine.get_absolute_url()), 200)

    def test_requesters_and_agents_are_refused_and_see_no_menu_item(self):
        subscription = make_subscription()
        delivery = services.subscription_ping(subscription=subscription, actor=Actor(user=subscription.owner))
        urls = [
            reverse('webhooks:webhooksubscription_list'),
            reverse('webhooks:webhooksubscription_add'),
            subscription.get_absolute_url(),
            reverse('webhooks:delivery_detail', args=[delivery.pk]),
        ]
        for role in (Role.REQUESTER, Role.SERVICE_DESK_AGENT):
            self.client.force_login(self.make_user(role))
            for url in urls:
                with self.subTest(role=role, url=url):
                    self.assertHttpStatus(self.client.get(url), 403)
            home = self.client.get(reverse('itsm:home'), follow=True)
            self.assertNotContains(home, reverse('webhooks:webhooksubscription_list'))
        self.client.force_login(self.owner)
        home = self.client.get(reverse('itsm:home'), follow=True)
        self.assertContains(home, reverse('webhooks:webhooksubscription_list'))

    def test_detail_page_queries_do_not_grow_with_deliveries(self):
        subscription = make_subscription(owner=self.owner)
        url = subscription.get_absolute_url()

        def add(count):
            for _ in range(count):
                delivery = services.subscription_ping(subscription=subscription, actor=Actor(user=self.owner))
                WebhookAttempt.objects.create(delivery=delivery, number=1, at=delivery.created_at, response_code=200)

        add(2)
        self.client.get(url)
        small = self.count_queries(lambda: self.assertHttpStatus(self.client.get(url), 200))
        add(8)
        large = self.count_queries(lambda: self.assertHttpStatus(self.client.get(url), 200))
        self.assertEqual(small, large)
        delivery = WebhookDelivery.objects.filter(subscription=subscription).first()
        detail = reverse('webhooks:delivery_detail', args=[delivery.pk])
        few = self.count_queries(lambda: self.assertHttpStatus(self.client.get(detail), 200))
        for number in range(2, 9):
            WebhookAttempt.objects.create(delivery=delivery, number=number, at=delivery.created_at, response_code=500)
        many = self.count_queries(lambda: self.assertHttpStatus(self.client.get(detail), 200))
        self.assertEqual(few, many)
