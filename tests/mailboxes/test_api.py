"""`/api/v1/mailboxes/` (administrators; the password is write-only) and `/api/v1/inbound-messages/` (read-only log)."""

from django.urls import reverse

from itsm.choices import Role
from mailboxes.choices import AfterProcessing, Outcome, Security
from mailboxes.models import InboundMessage, Mailbox
from tests.base import APITestCases, ItsmTestCase
from tests.factories import SupportGroupFactory

from .factories import InboundMessageFactory, MailboxFactory


class MailboxAPITests(APITestCases.ModelAPITestCase):
    model = Mailbox
    basename = 'mailbox'
    view_roles = (Role.ADMINISTRATOR,)
    write_roles = (Role.ADMINISTRATOR,)
    denied_roles = (Role.INCIDENT_MANAGER,)
    update_data = {'folder': 'Support', 'after_processing': AfterProcessing.MOVE, 'move_to': 'Done'}
    read_only_fields = {'last_error': 'written by the poller', 'last_polled_at': '2026-01-01T00:00:00Z'}

    def make_object(self, **kwargs):
        return MailboxFactory(**kwargs)

    def create_data(self):
        return {
            'name': 'Support',
            'address': 'support@example.org',
            'host': 'imap.example.org',
            'port': 143,
            'security': Security.STARTTLS,
            'username': 'support',
            'password_env': 'SUPPORT_IMAP_PASSWORD',
            'folder': 'INBOX',
            'unknown_senders': 'refuse',
            'impact': 'low',
        }

    def filter_cases(self):
        plain = self.make_object(name='Local relay', security=Security.PLAIN, active=False)
        tls = self.make_object(name='Support TLS')
        return [
            ({'name': 'relay'}, [plain]),
            ({'active': 'false'}, [plain]),
            ({'security': Security.IMAPS}, [tls]),
        ]

    def test_the_password_is_written_but_never_returned(self):
        admin = self.writer()
        data = {**self.create_data(), 'password': 'hunter2-imap', 'password_env': ''}
        response = self.api_client(admin).post(self.list_url(), data, format='json')
        self.assertHttpStatus(response, 201)
        self.assertNotIn('password', response.data)
        self.assertTrue(response.data['has_password'])
        mailbox = Mailbox.objects.get(pk=response.data['id'])
        self.assertEqual(mailbox.password, 'hunter2-imap')
        detail = self.api_client(admin).get(self.detail_url(mailbox))
        self.assertNotIn('hunter2-imap', detail.content.decode())
        self.assertNotIn('hunter2-imap', str(list(self.timeline(mailbox).values_list('changes', 'message'))))
        # A PATCH without the password keeps it.
        self.api_client(admin).patch(self.detail_url(mailbox), {'folder': 'Desk'}, format='json')
        mailbox.refresh_from_db()
        self.assertEqual((mailbox.folder, mailbox.password), ('Desk', 'hunter2-imap'))

    def test_a_mailbox_needs_a_password_or_its_variable_and_a_folder_to_move_to(self):
        data = {**self.create_data(), 'password_env': '', 'after_processing': AfterProcessing.MOVE}
        response = self.api_client(self.writer()).post(self.list_url(), data, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('password', str(response.data))
        self.assertIn('move_to', str(response.data))
        self.assertFalse(Mailbox.objects.exists())

    def test_group_and_service_are_named(self):
        group = SupportGroupFactory(name='Printing')
        data = {**self.create_data(), 'support_group': 'Printing', 'service': 'CI9999999'}
        response = self.api_client(self.writer()).post(self.list_url(), data, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('service', response.data.get('errors', response.data))
        data['service'] = None
        response = self.api_client(self.writer()).post(self.list_url(), data, format='json')
        self.assertHttpStatus(response, 201)
        self.assertEqual(Mailbox.objects.get().support_group, group)
        self.assertEqual(response.data['support_group'], 'Printing')


class InboundMessageAPITests(ItsmTestCase):
    """The message log: staff who lead the desk read it, nobody writes it through the API."""

    url = reverse('api:inboundmessage-list')

    def test_desk_staff_read_the_log_and_filter_it(self):
        opened = InboundMessageFactory(record_number='INC0001001')
        failed = InboundMessageFactory(mailbox=opened.mailbox, outcome=Outcome.FAILED, reason='Broken charset')
        client = self.api_client(self.make_user(Role.SERVICE_DESK_AGENT))
        response = client.get(self.url)
        self.assertHttpStatus(response, 200)
        self.assertEqual({row['id'] for row in response.data['results']}, {opened.pk, failed.pk})
        row = client.get(reverse('api:inboundmessage-detail', args=[failed.pk])).data
        self.assertEqual(
            (row['outcome'], row['reason'], row['mailbox']), ('failed', 'Broken charset', opened.mailbox.name)
        )
        for params, expected in [
            ({'outcome': 'failed'}, {failed.pk}),
            ({'record_number': 'inc0001001'}, {opened.pk}),
            ({'sender': 'ADA@example.com'}, {opened.pk, failed.pk}),
            ({'mailbox': opened.mailbox.pk}, {opened.pk, failed.pk}),
        ]:
            with self.subTest(params=params):
                self.assertEqual({r['id'] for r in client.get(self.url, params).data['results']}, expected)

    def test_requesters_and_anonymous_are_refused(self):
        InboundMessageFactory()
        self.assertHttpStatus(self.api_client().get(self.url), 401)
        self.assertHttpStatus(self.api_client(self.make_user(Role.REQUESTER)).get(self.url), 403)
        self.assertHttpStatus(self.api_client(self.make_user(Role.L3_ENGINEER)).get(self.url), 403)

    def test_nobody_writes_the_log(self):
        row = InboundMessageFactory()
        client = self.api_client(self.make_user(Role.ADMINISTRATOR))
        detail = reverse('api:inboundmessage-detail', args=[row.pk])
        self.assertHttpStatus(client.post(self.url, {'sender': 'x@example.com'}, format='json'), 405)
        self.assertHttpStatus(client.patch(detail, {'outcome': 'opened'}, format='json'), 405)
        self.assertHttpStatus(client.delete(detail), 405)
        self.assertTrue(InboundMessage.objects.filter(pk=row.pk).exists())

    def test_list_query_count_does_not_grow_with_rows(self):
        client = self.api_client(self.make_user(Role.INCIDENT_MANAGER))
        mailbox = MailboxFactory()
        for _ in range(2):
            InboundMessageFactory(mailbox=mailbox)
        client.get(self.url)
        small = self.count_queries(lambda: self.assertHttpStatus(client.get(self.url), 200))
        for _ in range(8):
            InboundMessageFactory(mailbox=MailboxFactory())
        large = self.count_queries(lambda: self.assertHttpStatus(client.get(self.url), 200))
        self.assertEqual(small, large)
