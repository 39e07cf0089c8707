"""Web and worker processes share no local state: what one process counts, stores, claims or invalidates, another
sees. Each test acts in this process and asks a second Python process (its own cache client, its own database
connection, the production settings with this test's database and Redis) what it sees, as a second gunicorn
worker or a Celery worker would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import cache
from django.test import RequestFactory
from rest_framework.request import Request

from incidents.priority import compute_priority
from incidents.services import priority_matrix_set
from itsm import signin
from itsm.api.throttling import AnonRateThrottle
from itsm.audit import Actor
from tests.servers import app_environment

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
OTHER_PROCESS = """
import json, sys
import django
django.setup()
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import cache
from django.test import RequestFactory
from rest_framework.request import Request
from incidents.priority import compute_priority
from itsm import signin
from itsm.api.throttling import AnonRateThrottle

asked = json.loads(sys.argv[1])
request = RequestFactory().post('/login/', REMOTE_ADDR=asked['address'])
_, refusal = signin.sign_in(request, asked['username'], 'wrong password')
throttled = Request(RequestFactory().get('/api/v1/incidents/', REMOTE_ADDR=asked['address']))
print(json.dumps({
    'signin_refused': refusal is not None,
    'throttle_allows': AnonRateThrottle().allow_request(throttled, None),
    'session': SessionStore(session_key=asked['session']).load(),
    'claimed': cache.add(asked['lock'], 'other process', 60),
    'priority': compute_priority('high', 'critical'),
}))
"""


def ask_other_process(tmp_path, **asked) -> dict:
    env = app_environment(tmp_path, API_THROTTLE_ANON='3/minute', SIGNIN_ACCOUNT_FAILURES='5')
    result = subprocess.run(
        [sys.executable, '-c', OTHER_PROCESS, json.dumps(asked)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_limits_sessions_claims_and_reference_data_are_seen_by_another_process(tmp_path, settings):
    settings.SIGNIN_ACCOUNT_FAILURES = 5
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, 'DEFAULT_THROTTLE_RATES': {'anon': '3/minute'}}
    address, username = '198.51.100.7', 'shared-state-guess'
    factory = RequestFactory()

    # Sign-in guard: this process uses up the account's attempts (the limit is 5).
    for _ in range(5):
        user, refusal = signin.sign_in(factory.post('/login/', REMOTE_ADDR=address), username, 'wrong password')
        assert (user, refusal) == (None, None)
    # API rate limit: this process makes the 3 anonymous requests a minute the address may make.
    throttled = Request(factory.get('/api/v1/incidents/', REMOTE_ADDR=address))
    assert all(AnonRateThrottle().allow_request(throttled, None) for _ in range(3))
    # A session started here.
    session = SessionStore()
    session['signed_in_on'] = 'web-1'
    session.create()
    # A once-only claim (the kind a sweep or a mail task takes) held here.
    lock = 'shared-state:claim'
    assert cache.add(lock, 'this process', 60)
    # Reference data cached here, then changed: the change drops the shared copy for every process.
    assert compute_priority('high', 'critical') == 1
    priority_matrix_set(actor=Actor.system(), cells=[('high', 'critical', 0)])

    seen = ask_other_process(tmp_path, address=address, username=username, session=session.session_key, lock=lock)

    assert seen['signin_refused'], 'the other process let a sixth guess through'
    assert seen['throttle_allows'] is False, 'the other process allowed a fourth request in the minute'
    assert seen['session'] == {'signed_in_on': 'web-1'}
    assert seen['claimed'] is False, 'the other process took a claim this one holds'
    assert seen['priority'] == 0, 'the other process computed priorities from a stale matrix'
