"""Tokens and sessions end: a new password or "sign out everywhere" revokes the person's API tokens and ends their
other sessions; nobody else's are touched."""

from django.test import Client
from django.urls import reverse

from itsm import tokens
from itsm.audit import Actor
from itsm.choices import Role
from itsm.models import ApiToken, TimelineEntry
from tests.base import ItsmTestCase

PASSWORD = 'correct horse battery staple 42'


class SessionsAndTokensEndTests(ItsmTestCase):
    def setUp(self):
        self.person = self.make_user(Role.SERVICE_DESK_AGENT, username='pat')
        self.person.set_password(PASSWORD)
        self.person.save()
        self.other = self.make_user(Role.SERVICE_DESK_AGENT, username='quinn')
        self.mine, self.key = tokens.token_create(user=self.person, actor=Actor(user=self.person), name='script')
        self.theirs, self.their_key = tokens.token_create(user=self.other, actor=Actor(user=self.other), name='x')

    def signed_in(self, person=None) -> Client:
        client = Client()
        self.assertTrue(client.login(username=(person or self.person).username, password=PASSWORD))
        return client

    def api_answers(self, key: str) -> int:
        return Client().get('/api/v1/incidents/', headers={'Authorization': f'Bearer {key}'}).status_code

    def test_a_new_password_revokes_the_tokens_and_ends_other_sessions(self):
        laptop, phone = self.signed_in(), self.signed_in()
        self.assertEqual(self.api_answers(self.key), 200)
        new = 'another long passphrase 77'
        response = laptop.post(
            reverse('itsm:password_change'),
            {'old_password': PASSWORD, 'new_password1': new, 'new_password2': new},
        )
        self.assertRedirects(response, reverse('itsm:password_change_done'))
        self.assertEqual(self.api_answers(self.key), 401)
        self.assertEqual(self.api_answers(self.their_key), 200)
        self.assertEqual(laptop.get(reverse('itsm:profile')).status_code, 200, 'the session that changed it stays')
        self.assertEqual(phone.get(reverse('itsm:profile')).status_code, 302, 'other sessions end')
        entry = TimelineEntry.objects.for_object(self.person).filter(message__contains='revoked:').get()
        self.assertEqual(entry.message, '1 API token revoked: the password was changed')

    def test_sign_out_everywhere_ends_every_session_and_revokes_the_tokens(self):
        laptop, phone = self.signed_in(), self.signed_in()
        colleague = Client()
        colleague.force_login(self.other)
        self.assertEqual(laptop.get(reverse('itsm:sign_out_everywhere')).status_code, 405, 'POST only')
        response = laptop.post(reverse('itsm:sign_out_everywhere'))
        self.assertRedirects(response, reverse('itsm:login'), fetch_redirect_response=False)
        for client in (laptop, phone):
            self.assertEqual(client.get(reverse('itsm:profile')).status_code, 302)
        self.assertEqual(colleague.get(reverse('itsm:profile')).status_code, 200)
        self.assertEqual(self.api_answers(self.key), 401)
        self.assertEqual(self.api_answers(self.their_key), 200)
        self.assertIsNotNone(ApiToken.objects.get(pk=self.mine.pk).revoked_at)
        # Signing in again works, and the new session lasts.
        fresh = self.signed_in()
        self.assertEqual(fresh.get(reverse('itsm:profile')).status_code, 200)
        self.assertTrue(TimelineEntry.objects.for_object(self.person).filter(message='Signed out everywhere').exists())

    def test_anonymous_visitors_cannot_sign_anyone_out(self):
        response = Client().post(reverse('itsm:sign_out_everywhere'))
        self.assertEqual(response.status_code, 302)
        self.assertEqual(self.api_answers(self.key), 200)
