"""Password guessing: attempts are limited per account and per client address, on the sign-in page and the API's
token exchange alike; a forged X-Forwarded-For does not reset the count."""

import time

from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from itsm.choices import Role
from itsm.signin import client_address
from tests.base import ItsmTestCase

PASSWORD = 'correct horse battery staple 42'


class SignInGuardTests(ItsmTestCase):
    def setUp(self):
        self.person = self.make_user(Role.SERVICE_DESK_AGENT, username='pat')
        self.person.set_password(PASSWORD)
        self.person.save()

    def page_sign_in(self, password, *, address='10.0.0.1', username='pat'):
        client = Client(REMOTE_ADDR=address)
        response = client.post(reverse('itsm:login'), {'username': username, 'password': password})
        return response, client

    def token(self, password, *, address='10.0.0.1', forwarded=None, username='pat'):
        headers = {'X-Forwarded-For': forwarded} if forwarded else {}
        return Client(REMOTE_ADDR=address).post(
            reverse('api:token'),
            {'username': username, 'password': password},
            content_type='application/json',
            headers=headers,
        )

    def test_the_page_refuses_the_account_after_five_failures_even_with_the_right_password(self):
        for _ in range(5):
            response, _ = self.page_sign_in('wrong')
            self.assertContains(response, 'Please enter a correct username and password')
        for address in ('10.0.0.1', '10.9.9.9'):  # the account is held, wherever the next try comes from
            response, client = self.page_sign_in(PASSWORD, address=address)
            self.assertContains(response, 'Too many failed sign-ins for this account or from your address.')
            self.assertNotIn('_auth_user_id', client.session)
        other = self.make_user(Role.SERVICE_DESK_AGENT, username='quinn')
        other.set_password(PASSWORD)
        other.save()
        response, client = self.page_sign_in(PASSWORD, username='quinn')
        self.assertHttpStatus(response, 302)  # another account from the same address still signs in

    def test_a_good_sign_in_clears_the_accounts_count(self):
        for _ in range(4):
            self.page_sign_in('wrong')
        response, _ = self.page_sign_in(PASSWORD)
        self.assertHttpStatus(response, 302)
        for _ in range(4):
            self.page_sign_in('wrong')
        response, _ = self.page_sign_in(PASSWORD)
        self.assertHttpStatus(response, 302)

    def test_a_new_x_forwarded_for_each_time_does_not_reset_the_api_count(self):
        for attempt in range(5):
            response = self.token('wrong', forwarded=f'203.0.113.{attempt}')
            self.assertHttpStatus(response, 400)
        response = self.token(PASSWORD, forwarded='203.0.113.99')
        self.assertHttpStatus(response, 429)
        self.assertEqual(response.json()['code'], 'too_many_attempts')
        self.assertGreater(int(response['Retry-After']), 0)

    @override_settings(SIGNIN_ADDRESS_FAILURES=3)
    def test_one_address_guessing_many_accounts_is_held(self):
        for name in ('ann', 'bob', 'cy'):
            self.assertHttpStatus(self.token('wrong', username=name), 400)
        self.assertHttpStatus(self.token(PASSWORD), 429)  # the right password of another account, same address
        self.assertHttpStatus(self.token(PASSWORD, address='10.0.0.2'), 200)

    @override_settings(SIGNIN_ACCOUNT_FAILURES=2, SIGNIN_FAILURE_WINDOW_SECONDS=5)
    def test_the_hold_ends_with_the_window(self):
        # The window opens during the first try: a window of seconds lets a slow machine ask again inside it, and
        # the wait is counted from the end of that try, so the window has surely closed when it is over.
        self.token('wrong')
        first_try_ended = time.monotonic()
        self.token('wrong')
        self.assertHttpStatus(self.token(PASSWORD), 429)
        time.sleep(max(0.0, first_try_ended + 5.2 - time.monotonic()))
        self.assertHttpStatus(self.token(PASSWORD), 200)

    def test_client_address_trusts_only_the_configured_proxies(self):
        request = RequestFactory().get('/', REMOTE_ADDR='10.0.0.5', HTTP_X_FORWARDED_FOR='1.1.1.1, 198.51.100.7')
        with override_settings(TRUSTED_PROXY_COUNT=0):
            self.assertEqual(client_address(request), '10.0.0.5')
        with override_settings(TRUSTED_PROXY_COUNT=1):
            self.assertEqual(
                client_address(request), '198.51.100.7'
            )  # what our proxy saw; 1.1.1.1 is the client's claim
        with override_settings(TRUSTED_PROXY_COUNT=3):
            self.assertEqual(client_address(request), '10.0.0.5')  # fewer hops than proxies: the header is not ours
