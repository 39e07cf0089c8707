"""E-mail subscriptions: double opt-in, the update e-mails with RFC 8058 one-click unsubscribe, and the staff pages
and API that list subscribers."""

from __future__ import annotations

import datetime as dt
import re

from django.core import mail
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from itsm.choices import Role
from major_incidents.choices import UpdateAudience
from statuspage import services
from statuspage.models import Subscriber
from tests.base import APITestCases, ItsmTestCase, ViewTestCases
from tests.major_incidents.factories import UpdateFactory

from .factories import make_major, make_private_service, make_public_service, make_subscriber, post_public

LINK = re.compile(r'http://\S+/status/subscriptions/[^/\s]+/(confirm|unsubscribe)/')


def links(message) -> dict[str, str]:
    return {match.group(1): match.group(0) for match in LINK.finditer(message.body)}


def path_of(url: str) -> str:
    return '/' + url.split('/', 3)[3]


class SubscriptionJourneyTests(ItsmTestCase):
    def public_update_mails(self, major, body: str) -> list:
        mail.outbox.clear()
        with self.captureOnCommitCallbacks(execute=True):
            post_public(major, body=body)
        return [m for m in mail.outbox if body in m.body]

    def test_subscribe_confirm_receive_and_unsubscribe_in_one_click(self):
        ci = make_public_service('Student e-mail')
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(reverse('statuspage:subscribe'), {'email': 'Ada@Example.org'})
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'Check your inbox')
        (confirmation,) = mail.outbox
        self.assertEqual(confirmation.to, ['ada@example.org'])
        confirm_url = links(confirmation)['confirm']

        # A mail scanner opening the link confirms nothing; the button does.
        page = self.client.get(path_of(confirm_url))
        self.assertContains(page, 'Confirm your subscription')
        self.assertEqual(page['Cache-Control'], 'no-store')
        self.assertIsNone(Subscriber.objects.get().confirmed_at)
        self.assertContains(self.client.post(path_of(confirm_url)), 'You are subscribed')
        self.assertIsNotNone(Subscriber.objects.get().confirmed_at)

        major = make_major(services=[ci], public_title='E-mail delivery delayed')
        (update_mail,) = self.public_update_mails(major, 'Messages are queued.')
        self.assertEqual(update_mail.to, ['ada@example.org'])
        self.assertIn('E-mail delivery delayed', update_mail.subject)
        self.assertIn(reverse('statuspage:incident', args=[major.number]), update_mail.body)
        unsubscribe_url = links(update_mail)['unsubscribe']
        self.assertEqual(update_mail.extra_headers['List-Unsubscribe'], f'<{unsubscribe_url}>')
        self.assertEqual(update_mail.extra_headers['List-Unsubscribe-Post'], 'List-Unsubscribe=One-Click')

        # RFC 8058: the mail client POSTs to the URL, with no page, cookie or CSRF token.
        client = self.client_class(enforce_csrf_checks=True)
        response = client.post(path_of(unsubscribe_url), {'List-Unsubscribe': 'One-Click'})
        self.assertHttpStatus(response, 200)
        self.assertIsNotNone(Subscriber.objects.get().unsubscribed_at)
        self.assertEqual(self.public_update_mails(major, 'Relay restarted.'), [])

    def test_internal_and_recipient_updates_are_not_mailed_to_subscribers(self):
        ci = make_public_service()
        make_subscriber('reader@example.org')
        major = make_major(services=[ci])
        mail.outbox.clear()
        with self.captureOnCommitCallbacks(execute=True):
            UpdateFactory(major_incident=major, audience=UpdateAudience.INTERNAL, body='Internal only.')
            UpdateFactory(major_incident=major, audience=UpdateAudience.RECIPIENTS, body='Owners only.')
        self.assertFalse([m for m in mail.outbox if 'reader@example.org' in m.to])

    def test_subscribers_hear_of_their_services_or_of_all(self):
        mail_ci, wifi_ci = make_public_service(), make_public_service()
        everything = make_subscriber('all@example.org')
        mail_only = make_subscriber('mail@example.org', services_=[mail_ci])
        make_subscriber('wifi@example.org', services_=[wifi_ci])
        make_subscriber('waiting@example.org', confirmed=False)
        major = make_major(services=[mail_ci])
        sent = self.public_update_mails(major, 'Mail is slow.')
        self.assertEqual(sorted(m.to[0] for m in sent), sorted([everything.email, mail_only.email]))

    def test_each_subscriber_gets_one_mail_per_update_even_when_the_task_runs_again(self):
        ci = make_public_service()
        make_subscriber('once@example.org')
        major = make_major(services=[ci])
        self.assertEqual(len(self.public_update_mails(major, 'Once only.')), 1)
        update = major.updates.get(body='Once only.')
        self.assertEqual(services.send_update(update_id=update.pk), 0)

    def test_the_answer_is_the_same_for_new_waiting_and_subscribed_addresses(self):
        make_subscriber('known@example.org')
        make_subscriber('waiting@example.org', confirmed=False)
        pages = []
        for email in ('new@example.org', 'waiting@example.org', 'known@example.org'):
            response = self.client.post(reverse('statuspage:subscribe'), {'email': email})
            self.assertHttpStatus(response, 200)
            pages.append(response.content.decode().replace(email, 'ADDRESS'))
        self.assertEqual(len(set(pages)), 1)

    def test_confirmation_mail_is_sent_at_most_once_every_ten_minutes(self):
        for _ in range(3):
            with self.captureOnCommitCallbacks(execute=True):
                services.subscribe(email='busy@example.org')
        self.assertEqual(len(mail.outbox), 1)
        Subscriber.objects.update(confirmation_sent_at=timezone.now() - dt.timedelta(minutes=11))
        with self.captureOnCommitCallbacks(execute=True):
            services.subscribe(email='busy@example.org')
        self.assertEqual(len(mail.outbox), 2)

    def test_a_confirmed_address_is_told_it_is_subscribed_and_keeps_its_services(self):
        ci = make_public_service()
        subscriber = make_subscriber('kept@example.org', services_=[ci])
        Subscriber.objects.update(confirmation_sent_at=None)
        mail.outbox.clear()
        with self.captureOnCommitCallbacks(execute=True):
            services.subscribe(email='kept@example.org', services=[])
        (message,) = mail.outbox
        self.assertIn('already', message.subject)
        self.assertIn(subscriber.token, message.extra_headers['List-Unsubscribe'])
        self.assertEqual(list(subscriber.services.all()), [ci])

    def test_coming_back_after_unsubscribing_needs_a_new_confirmation(self):
        subscriber = make_subscriber('back@example.org')
        services.unsubscribe(subscriber=subscriber)
        Subscriber.objects.update(confirmation_sent_at=None)
        again = services.subscribe(email='back@example.org')
        self.assertIsNone(again.confirmed_at)
        self.assertIsNone(again.unsubscribed_at)
        self.assertNotEqual(again.token, subscriber.token)
        self.assertFalse(Subscriber.objects.confirmed().exists())

    def test_the_form_shows_errors_and_offers_only_public_services(self):
        public = make_public_service('Campus Wi-Fi')
        private = make_private_service('Payroll batch')
        page = self.client.get(reverse('statuspage:subscribe'))
        self.assertContains(page, 'Campus Wi-Fi')
        self.assertNotContains(page, 'Payroll batch')
        response = self.client.post(reverse('statuspage:subscribe'), {'email': 'not an address'})
        self.assertHttpStatus(response, 400)
        self.assertContains(response, 'is-invalid', status_code=400)
        response = self.client.post(
            reverse('statuspage:subscribe'), {'email': 'a@example.org', 'services': [private.pk]}
        )
        self.assertHttpStatus(response, 400)
        self.assertFalse(Subscriber.objects.exists())
        response = self.client.post(
            reverse('statuspage:subscribe'), {'email': 'a@example.org', 'services': [public.pk]}
        )
        self.assertHttpStatus(response, 200)
        self.assertEqual(list(Subscriber.objects.get().services.all()), [public])

    def test_unknown_tokens_are_not_found(self):
        for name in ('confirm', 'unsubscribe'):
            url = reverse(f'statuspage:{name}', args=['no-such-token'])
            self.assertHttpStatus(self.client.get(url), 404)
            self.assertHttpStatus(self.client.post(url, {'List-Unsubscribe': 'One-Click'}), 404)

    def test_the_unsubscribe_page_asks_before_unsubscribing(self):
        subscriber = make_subscriber('asked@example.org')
        url = reverse('statuspage:unsubscribe', args=[subscriber.token])
        self.assertContains(self.client.get(url), 'Stop e-mailing updates to asked@example.org?')
        self.assertIsNone(Subscriber.objects.get().unsubscribed_at)
        self.assertContains(self.client.post(url), 'You are unsubscribed')
        self.assertIsNotNone(Subscriber.objects.get().unsubscribed_at)


class SubscriberStaffTests(ItsmTestCase):
    def setUp(self):
        self.subscriber = make_subscriber('staff-view@example.org', services_=[make_public_service('Student e-mail')])

    def test_incident_managers_list_read_and_delete(self):
        self.client.force_login(self.make_user(Role.INCIDENT_MANAGER))
        response = self.client.get(reverse('statuspage:subscriber_list'))
        self.assertContains(response, 'staff-view@example.org')
        self.assertContains(response, 'Confirmed')
        response = self.client.get(reverse('statuspage:subscriber_detail', args=[self.subscriber.pk]))
        self.assertContains(response, 'staff-view@example.org')
        response = self.client.post(reverse('statuspage:subscriber_delete', args=[self.subscriber.pk]))
        self.assertHttpStatus(response, 302)
        self.assertFalse(Subscriber.objects.exists())

    def test_agents_read_but_do_not_delete_and_requesters_see_nothing(self):
        self.client.force_login(self.make_user(Role.SERVICE_DESK_AGENT))
        self.assertHttpStatus(self.client.get(reverse('statuspage:subscriber_list')), 200)
        delete = reverse('statuspage:subscriber_delete', args=[self.subscriber.pk])
        self.assertHttpStatus(self.client.post(delete), 403)
        self.client.force_login(self.make_user(Role.REQUESTER))
        self.assertHttpStatus(self.client.get(reverse('statuspage:subscriber_list')), 403)
        self.client.logout()
        self.assertHttpStatus(self.client.get(reverse('statuspage:subscriber_list')), 302)
        self.assertTrue(Subscriber.objects.exists())

    def test_list_page_query_count_does_not_grow(self):
        self.client.force_login(self.make_user(Role.INCIDENT_MANAGER))
        url = reverse('statuspage:subscriber_list')
        self.client.get(url)
        small = self.count_queries(lambda: self.client.get(url))
        for n in range(5):
            make_subscriber(f'more{n}@example.org', services_=[make_public_service()])
        self.assertEqual(small, self.count_queries(lambda: self.client.get(url)))


class SubscriberApiTests(ItsmTestCase):
    def setUp(self):
        self.ci = make_public_service()
        self.subscriber = make_subscriber('api@example.org', services_=[self.ci])

    def test_incident_managers_read_and_delete(self):
        client = self.api_client(self.make_user(Role.INCIDENT_MANAGER))
        response = client.get(reverse('api:subscriber-list'))
        self.assertHttpStatus(response, 200)
        (row,) = response.data['results']
        self.assertEqual(row['email'], 'api@example.org')
        self.assertEqual(row['services'], [self.ci.number])
        self.assertEqual(row['standing'], 'Confirmed')
        response = client.get(reverse('api:subscriber-list'), {'email': 'nobody@example.org'})
        self.assertEqual(response.data['count'], 0)
        self.assertHttpStatus(client.delete(reverse('api:subscriber-detail', args=[self.subscriber.pk])), 204)
        self.assertFalse(Subscriber.objects.exists())

    def test_nobody_creates_or_edits_through_the_api(self):
        client = self.api_client(self.make_user(Role.INCIDENT_MANAGER))
        self.assertHttpStatus(client.post(reverse('api:subscriber-list'), {'email': 'x@example.org'}), 405)
        url = reverse('api:subscriber-detail', args=[self.subscriber.pk])
        self.assertHttpStatus(client.patch(url, {'email': 'x@example.org'}), 405)

    def test_refusals(self):
        self.assertHttpStatus(self.api_client().get(reverse('api:subscriber-list')), 401)
        response = self.api_client(self.make_user(Role.REQUESTER)).get(reverse('api:subscriber-list'))
        self.assertHttpStatus(response, 403)
        agent = self.api_client(self.make_user(Role.SERVICE_DESK_AGENT))
        self.assertHttpStatus(agent.get(reverse('api:subscriber-list')), 200)
        self.assertHttpStatus(agent.delete(reverse('api:subscriber-detail', args=[self.subscriber.pk])), 403)
        self.assertTrue(Subscriber.objects.exists())

    def test_list_query_count_does_not_grow(self):
        client = self.api_client(self.make_user(Role.INCIDENT_MANAGER))
        url = reverse('api:subscriber-list')
        client.get(url)
        small = self.count_queries(lambda: client.get(url))
        for _ in range(5):
            make_subscriber(services_=[make_public_service()])
        self.assertEqual(small, self.count_queries(lambda: client.get(url)))


class NoDeskWrites:
    """People subscribe themselves on the public page and confirm by e-mail: the desk reads and removes subscribers,
    it never signs an address up nor edits one (405 in the API, no add or edit page)."""

    def test_create_writes_record_and_timeline(self):
        response = self.api_client(self.writer()).post(self.list_url(), {'email': 'x@example.org'}, format='json')
        self.assertHttpStatus(response, 405)
        self.assertFalse(Subscriber.objects.filter(email='x@example.org').exists())

    def test_create_without_permission_is_forbidden(self):
        response = self.api_client(self.user_without('add')).post(self.list_url(), {}, format='json')
        self.assertHttpStatus(response, 405)

    def test_create_rejects_malformed_json(self):
        response = self.api_client(self.writer()).post(self.list_url(), '{"x', content_type='application/json')
        self.assertHttpStatus(response, 405)

    def test_update_records_field_changes(self):
        obj = self.make_object()
        before = Subscriber.objects.filter(pk=obj.pk).values().get()
        response = self.api_client(self.writer()).patch(self.detail_url(obj), {'email': 'y@example.org'}, format='json')
        self.assertHttpStatus(response, 405)
        self.assertEqual(Subscriber.objects.filter(pk=obj.pk).values().get(), before)

    def test_read_only_fields_are_not_writable(self):
        self.test_update_records_field_changes()


class SubscriberGenericAPITests(NoDeskWrites, APITestCases.ModelAPITestCase):
    model = Subscriber
    basename = 'subscriber'
    view_roles = (Role.SERVICE_DESK_AGENT,)
    write_roles = (Role.INCIDENT_MANAGER,)
    denied_roles = (Role.REQUESTER,)

    def make_object(self, **kwargs):
        return make_subscriber(services_=[make_public_service()])

    def filter_cases(self):
        first, second = self.make_object(), self.make_object()
        return [({'email': first.email}, [first]), ({'email': second.email}, [second])]


class SubscriberGenericPageTests(ViewTestCases.ModelViewTestCase):
    model = Subscriber
    view_roles = (Role.SERVICE_DESK_AGENT,)
    write_roles = (Role.INCIDENT_MANAGER,)
    denied_roles = (Role.REQUESTER,)

    def make_object(self, **kwargs):
        return make_subscriber(services_=[make_public_service()])

    def assert_no_desk_page(self, action: str):
        with self.assertRaises(NoReverseMatch):
            self.url(action, self.make_object() if action == 'edit' else None)
        # The way in is the public form, which only asks for a confirmation.
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(reverse('statuspage:subscribe'), {'email': f'{action}@example.org'})
        self.assertHttpStatus(response, 200)
        self.assertIsNone(Subscriber.objects.get(email=f'{action}@example.org').confirmed_at)

    def test_add(self):
        self.assert_no_desk_page('add')

    def test_add_without_permission_is_forbidden(self):
        self.assert_no_desk_page('add')

    def test_add_invalid_keeps_input_and_shows_errors(self):
        response = self.client.post(reverse('statuspage:subscribe'), {'email': 'nope'})
        self.assertHttpStatus(response, 400)
        self.assertEqual(response.context['form']['email'].value(), 'nope')
        self.assertContains(response, 'is-invalid', status_code=400)

    def test_edit(self):
        self.assert_no_desk_page('edit')

    def test_edit_without_permission_is_forbidden(self):
        self.assert_no_desk_page('edit')
