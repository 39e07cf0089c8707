"""The admin site: mailboxes are configured there (the password never shown), the message log is read-only."""

from django.urls import reverse

from itsm.choices import Role, TimelineKind
from mailboxes.models import Mailbox
from tests.base import ItsmTestCase

from .factories import InboundMessageFactory, MailboxFactory


class MailboxAdminTests(ItsmTestCase):
    def setUp(self):
        self.admin = self.make_user(Role.ADMINISTRATOR, is_staff=True, is_superuser=True)
        self.client.force_login(self.admin)

    def form(self, **changes):
        data = {
            'name': 'Support',
            'address': 'support@example.org',
            'active': 'on',
            'host': 'imap.example.org',
            'port': '993',
            'security': 'imaps',
            'username': 'support',
            'password': '',
            'password_env': '',
            'folder': 'INBOX',
            'after_processing': 'seen',
            'move_to': '',
            'unknown_senders': 'create',
            'support_group': '',
            'service': '',
            'impact': '',
            'urgency': '',
        }
        return {**data, **changes}

    def test_pages_load_and_the_stored_password_is_never_shown(self):
        mailbox = MailboxFactory(password='hunter2-imap')
        InboundMessageFactory(mailbox=mailbox)
        for name, args in [
            ('admin:mailboxes_mailbox_changelist', []),
            ('admin:mailboxes_mailbox_add', []),
            ('admin:mailboxes_mailbox_change', [mailbox.pk]),
            ('admin:mailboxes_inboundmessage_changelist', []),
        ]:
            with self.subTest(page=name):
                response = self.client.get(reverse(name, args=args))
                self.assertHttpStatus(response, 200)
                self.assertNotIn('hunter2-imap', response.content.decode())
        page = self.client.get(reverse('admin:mailboxes_mailbox_change', args=[mailbox.pk])).content.decode()
        self.assertIn('type="password"', page)

    def test_add_and_edit_keep_the_password_and_reach_the_timeline(self):
        response = self.client.post(reverse('admin:mailboxes_mailbox_add'), self.form(password='first-secret'))
        self.assertHttpStatus(response, 302)
        mailbox = Mailbox.objects.get()
        self.assertEqual(mailbox.password, 'first-secret')
        self.assertTrue(self.timeline(mailbox, TimelineKind.CREATED).exists())
        url = reverse('admin:mailboxes_mailbox_change', args=[mailbox.pk])
        self.assertHttpStatus(self.client.post(url, self.form(folder='Desk')), 302)
        mailbox.refresh_from_db()
        self.assertEqual((mailbox.folder, mailbox.password), ('Desk', 'first-secret'))
        entry = self.timeline(mailbox, TimelineKind.FIELD_CHANGE).get()
        self.assertEqual([c['field'] for c in entry.changes], ['folder'])

    def test_a_mailbox_without_any_password_is_refused(self):
        response = self.client.post(reverse('admin:mailboxes_mailbox_add'), self.form())
        self.assertHttpStatus(response, 200)
        self.assertIn('Give a password or the environment variable', response.content.decode())
        self.assertFalse(Mailbox.objects.exists())

    def test_the_message_log_is_read_only(self):
        row = InboundMessageFactory()
        self.assertHttpStatus(self.client.get(reverse('admin:mailboxes_inboundmessage_add')), 403)
        response = self.client.post(reverse('admin:mailboxes_inboundmessage_delete', args=[row.pk]), {'post': 'yes'})
        self.assertHttpStatus(response, 403)
