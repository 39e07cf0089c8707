"""Where reads go when a read replica is configured (itsm.replica, itsm.db_routers, the middleware), without one
running: the replica's reachability is stubbed here; tests/ops/test_read_replica.py runs a real one."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.db import OperationalError, transaction
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import resolve

from incidents.models import Ticket
from itsm import replica
from itsm.db_routers import PrimaryReplicaRouter
from itsm.middleware import ReplicaReadsMiddleware
from itsm.models import ApiToken


@pytest.fixture
def with_replica(monkeypatch):
    """A replica configured (never connected to: its health is stubbed as good unless a test says otherwise)."""
    monkeypatch.setattr(replica, 'configured', lambda: True)
    health = {'available': True, 'checks': 0}

    def available():
        health['checks'] += 1
        return health['available']

    monkeypatch.setattr(replica, 'available', available)
    return health


def test_without_a_replica_every_read_is_the_primary_s():
    assert not replica.configured()
    with replica.replica_reads():
        assert replica.read_alias(Ticket) == 'default'


def test_reads_go_to_the_replica_only_inside_a_scope(with_replica):
    router = PrimaryReplicaRouter()
    assert router.db_for_read(Ticket) == 'default'
    with replica.replica_reads():
        assert router.db_for_read(Ticket) == 'replica'
        # Sessions and API tokens never lag: a new sign-in or token works at once.
        assert router.db_for_read(Session) == 'default'
        assert router.db_for_read(ApiToken) == 'default'
    assert router.db_for_read(Ticket) == 'default'


@pytest.mark.django_db(transaction=True)
def test_reads_in_a_transaction_go_to_the_primary(with_replica):
    router = PrimaryReplicaRouter()
    with replica.replica_reads():
        with transaction.atomic():
            assert router.db_for_read(Ticket) == 'default'
        assert router.db_for_read(Ticket) == 'replica'


def test_after_a_write_the_scope_reads_from_the_primary(with_replica):
    router = PrimaryReplicaRouter()
    with replica.replica_reads():
        # Bookkeeping writes of primary-only models leave the scope reading the replica.
        assert router.db_for_write(ApiToken) == 'default'
        assert router.db_for_read(Ticket) == 'replica'
        assert router.db_for_write(Ticket) == 'default'
        assert router.db_for_read(Ticket) == 'default'
    with replica.replica_reads():
        assert router.db_for_read(Ticket) == 'replica'


def test_an_unavailable_replica_sends_reads_to_the_primary(with_replica):
    with_replica['available'] = False
    with replica.replica_reads():
        assert replica.read_alias(Ticket) == 'default'


def test_the_replica_is_never_migrated_and_rows_of_both_relate():
    router = PrimaryReplicaRouter()
    assert router.allow_migrate('replica', 'incidents') is False
    assert router.allow_migrate('default', 'incidents') is None
    read_here, read_there = Ticket(), Ticket()
    read_here._state.db, read_there._state.db = 'default', 'replica'
    assert router.allow_relation(read_here, read_there) is True


def test_health_verdicts_are_remembered_for_the_retry_interval(settings, monkeypatch):
    settings.REPLICA_RETRY_SECONDS = 60
    attempts = []
    monkeypatch.setattr(replica, '_connection_works', lambda: attempts.append(1) or False)
    replica.reset_health()
    try:
        assert replica.available() is False
        assert replica.available() is False
        assert len(attempts) == 1, 'a replica found unreachable is not tried again within REPLICA_RETRY_SECONDS'
        monkeypatch.setattr(replica, '_connection_works', lambda: True)
        monkeypatch.setattr(replica, '_replay_lag', lambda: 120.0)
        replica.reset_health()
        settings.REPLICA_MAX_LAG_SECONDS = 30
        assert replica.available() is False, 'a replica too far behind is left alone'
        monkeypatch.setattr(replica, '_replay_lag', lambda: 0.2)
        replica.reset_health()
        assert replica.available() is True
    finally:
        replica.reset_health()


@pytest.mark.parametrize(
    ('path', 'expected'),
    [
        ('/api/v1/incidents/', True),
        ('/api/v1/groups/', True),
        ('/reports/', True),
        ('/reports/export/tickets.csv', True),
        ('/live/', True),
        ('/reports/schedules/add/', False),
        ('/login/', False),
        ('/health/', False),
    ],
)
def test_the_views_that_read_from_the_replica(path, expected):
    assert ReplicaReadsMiddleware.reads_from_replica(resolve(path)) is expected


def scopes_seen(method: str, path: str, **headers) -> list[bool]:
    """Whether the view of one request ran in a replica scope, through the middleware as Django calls it
    (`__call__` around the handler, which calls `process_view` and then the view)."""
    seen = []

    def handler(request):
        middleware.process_view(request, handler, (), {})
        seen.append(replica._scope.get() is not None)
        return HttpResponse('answer')

    request = getattr(RequestFactory(), method.lower())(path, **headers)
    request.resolver_match = resolve(path)
    middleware = ReplicaReadsMiddleware(handler)
    assert middleware(request).content == b'answer'
    assert replica._scope.get() is None, 'the scope ends with the request'
    return seen


def test_the_middleware_opens_a_scope_for_safe_requests_to_listed_views(with_replica, settings):
    assert scopes_seen('GET', '/api/v1/incidents/') == [True]
    assert scopes_seen('GET', '/login/') == [False]
    assert scopes_seen('POST', '/api/v1/incidents/') == [False]


def test_a_client_reads_from_the_primary_right_after_its_write(with_replica, settings):
    settings.REPLICA_PIN_SECONDS = 30
    auth = {'HTTP_AUTHORIZATION': 'Bearer pc_writer'}
    assert scopes_seen('POST', '/api/v1/incidents/', **auth) == [False]
    assert scopes_seen('GET', '/api/v1/incidents/', **auth) == [False]
    # Another client is not pinned by it.
    assert scopes_seen('GET', '/api/v1/incidents/', HTTP_AUTHORIZATION='Bearer pc_reader') == [True]


def test_without_a_replica_the_middleware_does_nothing(settings):
    assert scopes_seen('GET', '/api/v1/incidents/') == [False]


@pytest.mark.parametrize(('replica_failed', 'answers', 'status'), [(True, [True, False], 200), (False, [True], 500)])
def test_a_request_whose_replica_failed_midway_is_answered_from_the_primary(
    with_replica, monkeypatch, replica_failed, answers, status
):
    monkeypatch.setattr(replica, 'failed_during_use', lambda: replica_failed)
    scopes = []

    def handler(request):
        middleware.process_view(request, handler, (), {})
        in_scope = replica._scope.get() is not None
        scopes.append(in_scope)
        # The view fails while it reads from the replica, and works on the primary.
        return HttpResponse(status=500 if in_scope else 200)

    request = RequestFactory().get('/api/v1/incidents/')
    request.resolver_match = resolve('/api/v1/incidents/')
    middleware = ReplicaReadsMiddleware(handler)
    assert middleware(request).status_code == status
    assert scopes == answers


class FakeReplicaConnection:
    """Django's connection wrapper as far as itsm.replica uses it: a server that answers or not."""

    def __init__(self, *, up: bool, lag: float | None = 0.0, errors_occurred: bool = False):
        self.up, self.lag, self.errors_occurred = up, lag, errors_occurred
        self.connection = object() if up else None
        self.closed = 0

    def close_if_health_check_failed(self):
        pass

    def ensure_connection(self):
        if not self.up:
            raise OperationalError('connection refused')

    def is_usable(self):
        return self.up

    def close(self):
        self.closed += 1

    def cursor(self):
        if not self.up:
            raise OperationalError('server closed the connection unexpectedly')
        return FakeCursor(self.lag)


class FakeCursor:
    def __init__(self, lag):
        self.lag = lag

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, sql):
        assert sql == replica.LAG_SQL

    def fetchone(self):
        return (self.lag,)


@pytest.fixture
def fake_replica(monkeypatch, settings):
    """Swap the replica's connection for a fake one; the primary's stays the real one."""
    from django.db import connections

    settings.REPLICA_RETRY_SECONDS, settings.REPLICA_MAX_LAG_SECONDS = 60, 30
    monkeypatch.setattr(replica, 'configured', lambda: True)
    fakes = {}

    class Connections:
        def __getitem__(self, alias):
            return fakes[alias] if alias == 'replica' else connections[alias]

    monkeypatch.setattr(replica, 'connections', Connections())
    replica.reset_health()
    yield fakes
    replica.reset_health()


@pytest.mark.parametrize(('up', 'lag', 'expected'), [(True, 0.0, True), (True, None, True), (True, 45.0, False)])
def test_a_reachable_replica_serves_unless_it_lags_too_far(fake_replica, up, lag, expected):
    fake_replica['replica'] = FakeReplicaConnection(up=up, lag=lag)
    assert replica.available() is expected


def test_an_unreachable_replica_is_closed_and_left_alone(fake_replica):
    fake_replica['replica'] = down = FakeReplicaConnection(up=False)
    assert replica.available() is False
    assert down.closed == 1
    # Even once it is back, it is not tried again before REPLICA_RETRY_SECONDS have passed.
    fake_replica['replica'] = FakeReplicaConnection(up=True)
    assert replica.available() is False


def test_a_replica_that_failed_in_use_is_reported_and_closed_when_dead(fake_replica):
    fake_replica['replica'] = healthy = FakeReplicaConnection(up=True)
    assert replica.failed_during_use() is False
    # A cancelled query on a working connection: retry on the primary, keep using the replica.
    fake_replica['replica'] = cancelled = FakeReplicaConnection(up=True, errors_occurred=True)
    assert replica.failed_during_use() is True
    assert cancelled.closed == 0 and replica.available() is True
    fake_replica['replica'] = dead = FakeReplicaConnection(up=False, errors_occurred=True)
    assert replica.failed_during_use() is True
    assert dead.closed == 1
    fake_replica['replica'] = healthy
    assert replica.available() is False
