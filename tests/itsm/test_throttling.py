"""Throttling: 429 with an integer Retry-After and {"detail", "code": "throttled", "retry_after"}; per person, per
token and for the password exchange, with low rates from the settings; the window counting under them."""

import copy
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.core.cache import cache, close_caches
from django.test import Client, override_settings
from django.urls import reverse

from itsm import tokens
from itsm.api.throttling import WindowCounter
from itsm.audit import Actor
from itsm.choices import Role
from tests.base import ItsmTestCase

GROUPS = reverse('api:supportgroup-list')


def rates(**low) -> dict:
    framework = copy.deepcopy(settings.REST_FRAMEWORK)
    framework['DEFAULT_THROTTLE_RATES'] = {**framework['DEFAULT_THROTTLE_RATES'], **low}
    return framework


class ThrottlingTests(ItsmTestCase):
    def setUp(self):
        cache.clear()
        self.agent = self.make_user(Role.SERVICE_DESK_AGENT, username='agent', password='Agent-Pass-77')

    def assertThrottled(self, response):
        self.assertHttpStatus(response, 429)
        retry_after = response['Retry-After']
        self.assertRegex(retry_after, r'^[1-9][0-9]*$')
        body = response.json()
        self.assertEqual(body['code'], 'throttled')
        self.assertEqual(body['retry_after'], int(retry_after))
        self.assertLessEqual(body['retry_after'], 60)
        self.assertIn(retry_after, body['detail'])

    def test_a_person_over_their_rate_gets_429_with_retry_after(self):
        with override_settings(REST_FRAMEWORK=rates(user='2/minute')):
            self.client.force_login(self.agent)
            for _ in range(2):
                self.assertHttpStatus(self.client.get(GROUPS), 200)
            self.assertThrottled(self.client.get(GROUPS))
            other = Client()
            other.force_login(self.make_user(Role.SERVICE_DESK_AGENT))
            self.assertHttpStatus(other.get(GROUPS), 200)  # counted per person

    def test_each_token_has_its_own_rate(self):
        actor = Actor(user=self.agent, channel='api')
        _, first = tokens.token_create(user=self.agent, actor=actor, name='one')
        _, second = tokens.token_create(user=self.agent, actor=actor, name='two')
        with override_settings(REST_FRAMEWORK=rates(token='1/minute')):
            self.assertHttpStatus(self.client.get(GROUPS, headers={'Authorization': f'Bearer {first}'}), 200)
            self.assertThrottled(self.client.get(GROUPS, headers={'Authorization': f'Bearer {first}'}))
            self.assertHttpStatus(self.client.get(GROUPS, headers={'Authorization': f'Bearer {second}'}), 200)
            self.client.force_login(self.agent)
            self.assertHttpStatus(self.client.get(GROUPS), 200)  # the session is not a token

    def test_the_password_exchange_is_throttled(self):
        url = reverse('api:token')
        with override_settings(REST_FRAMEWORK=rates(login='1/minute')):
            self.client.post(url, {'username': 'agent', 'password': 'wrong'}, 'application/json')
            self.assertThrottled(
                self.client.post(url, {'username': 'agent', 'password': 'Agent-Pass-77'}, 'application/json')
            )

    def test_a_new_x_forwarded_for_each_time_does_not_escape_the_throttle(self):
        url = reverse('api:token')
        with override_settings(REST_FRAMEWORK=rates(login='2/minute')):
            for attempt in range(2):
                self.client.post(
                    url, {'username': 'agent', 'password': 'wrong'}, 'application/json',
                    headers={'X-Forwarded-For': f'203.0.113.{attempt}'},
                )  # fmt: skip
            self.assertThrottled(
                self.client.post(
                    url,
                    {'username': 'agent', 'password': 'wrong'},
                    'application/json',
                    headers={'X-Forwarded-For': '203.0.113.77'},
                )  # fmt: skip
            )

    def test_anonymous_callers_are_throttled(self):
        url = reverse('api:schema') + '?format=json'  # open to anonymous callers
        with override_settings(REST_FRAMEWORK=rates(anon='1/minute')):
            self.assertHttpStatus(self.client.get(url), 200)
            self.assertThrottled(self.client.get(url))

    def test_a_throttled_post_is_not_stored_for_its_idempotency_key(self):
        self.client.force_login(self.agent)
        headers = {'Idempotency-Key': 'throttled-1'}
        with override_settings(REST_FRAMEWORK=rates(user='1/minute')):
            self.client.get(GROUPS)
            self.assertThrottled(
                self.client.post('/api/v1/incidents/', {'short_description': 'x'}, 'application/json', headers=headers)
            )
        cache.clear()
        response = self.client.post(
            '/api/v1/incidents/', {'short_description': 'x'}, 'application/json', headers=headers
        )
        self.assertHttpStatus(response, 201)
        self.assertNotIn('Idempotent-Replayed', response)


class CountingThrottle(WindowCounter):
    """A throttle of a fixed rate and key, on a clock the test sets (`now`)."""

    def __init__(self, rate: str, key: str, clock: list[float]):
        self.rate = rate
        self.num_requests, self.duration = self.parse_rate(rate)
        self.fixed_key = key
        self.timer = lambda: clock[0]

    def get_cache_key(self, request, view):
        return self.fixed_key


class WindowCounterTests(ItsmTestCase):
    """The counting itself, on a clock the test sets: a minute's window starts at a multiple of 60 s."""

    def setUp(self):
        self.clock = [6_000_030.0]  # half way through a window
        self.key = f'throttle_test_{uuid.uuid4().hex}'

    def throttle(self, rate: str) -> CountingThrottle:
        return CountingThrottle(rate, self.key, self.clock)

    def test_the_rate_is_let_in_and_the_next_request_refused(self):
        allowed = [self.throttle('4/minute').allow_request(None, None) for _ in range(5)]
        self.assertEqual(allowed, [True, True, True, True, False])
        refused = self.throttle('4/minute')
        self.assertFalse(refused.allow_request(None, None))
        # This window alone is full: its 4 requests weigh 3 (one request's room) 15 s into the next one.
        self.assertEqual(refused.wait(), 30 + 15)

    def test_the_previous_window_weighs_by_the_share_still_within_one_period(self):
        for _ in range(4):
            self.assertTrue(self.throttle('4/minute').allow_request(None, None))
        self.clock[0] += 45  # 15 s into the next window: the 4 weigh 3
        self.assertTrue(self.throttle('4/minute').allow_request(None, None))
        refused = self.throttle('4/minute')
        self.assertFalse(refused.allow_request(None, None))
        # 3 + 1 now; one more fits when the old 4 weigh 2, at 30 s into the window.
        self.assertEqual(refused.wait(), 15)
        self.clock[0] += 15
        self.assertTrue(self.throttle('4/minute').allow_request(None, None))
        self.assertFalse(self.throttle('4/minute').allow_request(None, None))

    def test_refused_requests_are_not_counted(self):
        self.assertTrue(self.throttle('1/minute').allow_request(None, None))
        for _ in range(10):
            self.assertFalse(self.throttle('1/minute').allow_request(None, None))
        self.clock[0] += 90  # the one request is a whole period old
        self.assertTrue(self.throttle('1/minute').allow_request(None, None))

    def test_the_wait_is_never_more_than_one_period(self):
        self.clock[0] = 6_000_000.0  # the very start of a window
        self.assertTrue(self.throttle('1/minute').allow_request(None, None))
        refused = self.throttle('1/minute')
        self.assertFalse(refused.allow_request(None, None))
        self.assertEqual(refused.wait(), 60)

    def test_a_rate_of_none_refuses_everything_and_waits_a_period(self):
        refused = self.throttle('0/minute')
        self.assertFalse(refused.allow_request(None, None))
        self.assertEqual(refused.wait(), 60)

    def test_parallel_requests_are_each_counted_once(self):
        """Eight threads, each with its own cache connection, ask 25 times at once: exactly the rate is let in (a
        read-modify-write of a shared list would lose some and let more in)."""
        rate, threads, asks = 50, 8, 25
        start = threading.Barrier(threads)

        def knock(_):
            start.wait()
            try:
                return sum(self.throttle(f'{rate}/minute').allow_request(None, None) for _ in range(asks))
            finally:
                close_caches()

        with ThreadPoolExecutor(threads) as pool:
            self.assertEqual(sum(pool.map(knock, range(threads))), rate)
