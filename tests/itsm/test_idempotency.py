"""Idempotency-Key on API POSTs: replay of the first answer, 422 on a reused key, 409 while running, expiry, and
the same behaviour on generic viewsets, record actions and plain APIViews."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.urls import include, path
from django.utils import timezone
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.models import Ticket
from itsm import tokens
from itsm.api import idempotency
from itsm.audit import Actor
from itsm.choices import Role
from itsm.models import IdempotencyKey
from tests.base import ItsmTestCase
from tests.factories import make_group_with_agent, make_ticket, make_user

INCIDENTS = '/api/v1/incidents/'
CALLS = []


class EchoView(APIView):
    """A plain APIView (no viewset, no model): counts its runs; `fail` makes it crash."""

    permission_classes = [IsAuthenticated]

    def post(self, request):
        CALLS.append(request.data)
        if request.data.get('fail'):
            raise RuntimeError('boom')
        return Response({'run': len(CALLS)}, status=201, headers={'Location': f'/api/v1/echo/{len(CALLS)}/'})


urlpatterns = [path('api/v1/echo/', EchoView.as_view()), path('', include('itsm.urls'))]


def key_header(key: str) -> dict:
    return {'Idempotency-Key': key}


class IdempotencyTests(ItsmTestCase):
    def setUp(self):
        self.agent = self.make_user(Role.SERVICE_DESK_AGENT)
        self.client.force_login(self.agent)
        CALLS.clear()

    def post(self, url, data, key='k-1', client=None, **headers):
        return (client or self.client).post(url, data, 'application/json', headers={**key_header(key), **headers})

    def test_same_key_and_body_replays_the_first_answer_without_running_again(self):
        first = self.post(INCIDENTS, {'short_description': 'VPN down'})
        self.assertHttpStatus(first, 201)
        self.assertNotIn('Idempotent-Replayed', first)
        again = self.post(INCIDENTS, {'short_description': 'VPN down'})
        self.assertEqual(again.status_code, 201)
        self.assertEqual(again['Idempotent-Replayed'], 'true')
        self.assertEqual(again.json(), first.json())
        self.assertEqual(again['Content-Type'], first['Content-Type'])
        self.assertEqual(Ticket.objects.count(), 1)

    def test_same_key_with_another_body_or_path_is_a_422(self):
        self.assertHttpStatus(self.post(INCIDENTS, {'short_description': 'VPN down'}), 201)
        other_body = self.post(INCIDENTS, {'short_description': 'Mail down'})
        self.assertHttpStatus(other_body, 422)
        self.assertEqual(other_body.json()['code'], 'idempotency_key_reused')
        other_path = self.post('/api/v1/cases/', {'short_description': 'VPN down'})
        self.assertHttpStatus(other_path, 422)
        self.assertEqual(Ticket.objects.count(), 1)

    def test_keys_belong_to_each_person(self):
        self.assertHttpStatus(self.post(INCIDENTS, {'short_description': 'VPN down'}), 201)
        other = Client()
        other.force_login(self.make_user(Role.SERVICE_DESK_AGENT))
        response = self.post(INCIDENTS, {'short_description': 'VPN down'}, client=other)
        self.assertHttpStatus(response, 201)
        self.assertNotIn('Idempotent-Replayed', response)
        self.assertEqual(Ticket.objects.count(), 2)

    def test_the_key_follows_the_person_across_credentials(self):
        self.assertHttpStatus(self.post(INCIDENTS, {'short_description': 'VPN down'}), 201)
        _, key = tokens.token_create(user=self.agent, actor=Actor(user=self.agent, channel='api'), name='s')
        replay = self.post(INCIDENTS, {'short_description': 'VPN down'}, client=Client(), Authorization=f'Bearer {key}')
        self.assertEqual(replay['Idempotent-Replayed'], 'true')
        self.assertEqual(Ticket.objects.count(), 1)

    def test_malformed_keys_are_a_400_and_nothing_is_written(self):
        for key in ('x' * 256, '   '):
            with self.subTest(length=len(key)):
                response = self.post(INCIDENTS, {'short_description': 'VPN down'}, key=key)
                self.assertHttpStatus(response, 400)
                self.assertEqual(response.json()['code'], 'invalid_idempotency_key')
        self.assertFalse(Ticket.objects.exists())
        self.assertFalse(IdempotencyKey.objects.exists())
        self.assertHttpStatus(self.post(INCIDENTS, {'short_description': 'VPN down'}, key='x' * 255), 201)

    def test_a_4xx_answer_is_replayed_too(self):
        first = self.post(INCIDENTS, {'impact': 'nonsense'})
        self.assertHttpStatus(first, 400)
        again = self.post(INCIDENTS, {'impact': 'nonsense'})
        self.assertEqual((again.status_code, again['Idempotent-Replayed']), (400, 'true'))
        self.assertEqual(again.json(), first.json())

    def test_a_request_still_running_is_a_409_and_an_abandoned_one_is_taken_over(self):
        body = b'{"short_description": "VPN down"}'
        digest = idempotency.request_hash(_FakeRequest('POST', INCIDENTS, body))
        row = IdempotencyKey.objects.create(user=self.agent, key='k-1', request_hash=digest, created_at=timezone.now())
        running = self.client.post(INCIDENTS, body, 'application/json', headers=key_header('k-1'))
        self.assertHttpStatus(running, 409)
        self.assertEqual(running.json()['code'], 'idempotency_key_in_use')
        self.assertFalse(Ticket.objects.exists())
        IdempotencyKey.objects.filter(pk=row.pk).update(created_at=timezone.now() - dt.timedelta(minutes=10))
        self.assertHttpStatus(self.client.post(INCIDENTS, body, 'application/json', headers=key_header('k-1')), 201)

    def test_keys_expire_after_the_window(self):
        self.assertHttpStatus(self.post(INCIDENTS, {'short_description': 'VPN down'}), 201)
        IdempotencyKey.objects.update(created_at=timezone.now() - dt.timedelta(hours=25))
        again = self.post(INCIDENTS, {'short_description': 'VPN down'})
        self.assertHttpStatus(again, 201)
        self.assertNotIn('Idempotent-Replayed', again)
        self.assertEqual(Ticket.objects.count(), 2)
        self.assertEqual(IdempotencyKey.objects.count(), 1)  # the expired row was purged on the way

    @override_settings(IDEMPOTENCY_KEY_HOURS=1)
    def test_the_window_is_a_setting(self):
        self.assertHttpStatus(self.post(INCIDENTS, {'short_description': 'VPN down'}), 201)
        IdempotencyKey.objects.update(created_at=timezone.now() - dt.timedelta(minutes=61))
        self.assertNotIn('Idempotent-Replayed', self.post(INCIDENTS, {'short_description': 'VPN down'}))

    def test_record_actions_are_idempotent(self):
        group, agent = make_group_with_agent()
        ticket = make_ticket(group=group, agent=agent, state='assigned')
        self.client.force_login(agent)
        url = f'/api/v1/incidents/{ticket.number}/accept/'
        first = self.post(url, {})
        self.assertHttpStatus(first, 200)
        again = self.post(url, {})
        self.assertEqual((again.status_code, again['Idempotent-Replayed']), (200, 'true'))
        self.assertEqual(again['ETag'], first['ETag'])
        self.assertEqual(self.timeline(ticket, 'transition').filter(data__to='accepted').count(), 1)

    def test_comments_are_posted_once(self):
        ticket = make_ticket()
        url = f'/api/v1/incidents/{ticket.number}/comments/'
        self.assertHttpStatus(self.post(url, {'body': 'On my way'}), 201)
        self.assertEqual(self.post(url, {'body': 'On my way'})['Idempotent-Replayed'], 'true')
        self.assertEqual(self.timeline(ticket, 'comment').count(), 1)

    def test_without_the_header_nothing_changes(self):
        for _ in range(2):
            self.assertHttpStatus(
                self.client.post(INCIDENTS, {'short_description': 'VPN down'}, 'application/json'), 201
            )
        self.assertEqual(Ticket.objects.count(), 2)
        self.assertFalse(IdempotencyKey.objects.exists())

    def test_anonymous_requests_are_passed_through(self):
        response = Client().post(INCIDENTS, {'short_description': 'x'}, 'application/json', headers=key_header('a'))
        self.assertHttpStatus(response, 401)
        self.assertFalse(IdempotencyKey.objects.exists())


@override_settings(ROOT_URLCONF='tests.itsm.test_idempotency')
class PlainApiViewTests(ItsmTestCase):
    def setUp(self):
        self.client.force_login(self.make_user(Role.SERVICE_DESK_AGENT))
        CALLS.clear()

    def post(self, data, key='echo-1'):
        return self.client.post('/api/v1/echo/', data, 'application/json', headers=key_header(key))

    def test_plain_api_views_replay_status_body_and_location(self):
        first = self.post({'a': 1})
        self.assertHttpStatus(first, 201)
        again = self.post({'a': 1})
        self.assertEqual((again.status_code, again.json(), again['Location']), (201, {'run': 1}, '/api/v1/echo/1/'))
        self.assertEqual(len(CALLS), 1)

    def test_a_5xx_answer_is_not_stored_and_the_key_can_be_retried(self):
        self.assertEqual(self.post({'fail': True}).status_code, 500)
        self.assertFalse(IdempotencyKey.objects.exists())
        self.assertEqual(self.post({'fail': True}).status_code, 500)
        self.assertEqual(len(CALLS), 2)


class _FakeRequest:
    def __init__(self, method, path_, body):
        self.method, self._path, self.body = method, path_, body

    def get_full_path(self):
        return self._path


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_parallel_pair_with_one_key_creates_one_ticket():
    """Two connections post the same key at the same moment: one runs, the other is told so (409) or replayed."""
    agent = make_user(Role.SERVICE_DESK_AGENT)
    _, key = tokens.token_create(user=agent, actor=Actor(user=agent, channel='api'), name='parallel')
    workers = 2
    barrier = threading.Barrier(workers)
    answers, errors = [], []

    def work():
        try:
            client = Client()
            barrier.wait()
            response = client.post(
                INCIDENTS,
                {'short_description': 'Parallel VPN outage'},
                'application/json',
                headers={'Authorization': f'Bearer {key}', **key_header('parallel-1')},
            )
            answers.append((response.status_code, response.get('Idempotent-Replayed')))
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert Ticket.objects.filter(short_description='Parallel VPN outage').count() == 1
    statuses = sorted(status for status, _ in answers)
    assert statuses in ([201, 201], [201, 409]), answers
    assert IdempotencyKey.objects.get(key='parallel-1').status == 201
