"""`/health/`: 200 when the database, cache and broker answer; 503 naming the failing dependency otherwise."""

import socket

import pytest
from django.db import OperationalError
from django.urls import reverse

from itsm.celery import app
from itsm.views import health

pytestmark = pytest.mark.django_db


def get_health(client):
    response = client.get(reverse('health'), secure=True)
    assert response['Content-Type'] == 'application/json'
    assert 'no-cache' in response['Cache-Control']
    return response, response.json()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def test_healthy(client):
    response, body = get_health(client)
    assert response.status_code == 200, body
    assert body['status'] == 'ok'
    assert body['checks'] == {'database': 'ok', 'cache': 'ok', 'broker': 'ok'}


def test_needs_no_login(client, django_user_model):
    assert not django_user_model.objects.exists()
    response, _ = get_health(client)
    assert response.status_code == 200


@pytest.mark.parametrize('failing', ['database', 'cache', 'broker'])
def test_a_failing_dependency_makes_it_unavailable(client, monkeypatch, failing):
    def fail():
        raise OperationalError('connection refused by 10.0.0.5')

    monkeypatch.setitem(health.CHECKS, failing, fail)
    response, body = get_health(client)
    assert response.status_code == 503
    assert body['status'] == 'unavailable'
    assert body['checks'][failing] == 'error: OperationalError'
    assert all(value == 'ok' for name, value in body['checks'].items() if name != failing)
    # The reason is logged, not published: no host names or messages in the public answer.
    assert '10.0.0.5' not in response.content.decode()


def test_unreachable_broker(client, monkeypatch):
    """A real connection attempt to a loopback port where nothing listens."""
    monkeypatch.setitem(app.conf, 'broker_url', f'redis://127.0.0.1:{closed_port()}/0')
    response, body = get_health(client)
    assert response.status_code == 503
    assert body['checks']['broker'].startswith('error: ')
    assert body['checks']['database'] == 'ok'


class RefusingConnection:
    def cursor(self):
        raise OperationalError('could not connect to server')


def test_unreachable_database(client, monkeypatch):
    """The real database check, on a connection that fails."""
    monkeypatch.setattr(health, 'connection', RefusingConnection())
    response, body = get_health(client)
    assert response.status_code == 503
    assert body['checks']['database'] == 'error: OperationalError'
