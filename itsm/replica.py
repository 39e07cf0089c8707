"""Which reads may go to the read replica (`DATABASE_REPLICA_URL`), and whether the replica is fit to serve them.

Reads go to the replica only inside a replica scope: a safe-method request to a view in `REPLICA_READ_VIEWS`
(`itsm.middleware.ReplicaReadsMiddleware`), or a `replica_reads()` block in a task. Within a scope a read still goes
to the primary when it runs in a transaction on the primary (`transaction.atomic`, `select_for_update`), after the
scope wrote anything (the rest of it reads what it wrote), or for the models that must never lag (sessions, API
tokens, idempotency keys). Writes always go to the primary (`itsm.db_routers`).

The replica serves a scope only while it answers: each request or task checks its connection once (a failed
connection check or connect, bounded by `REPLICA_CONNECT_TIMEOUT`, sends the reads to the primary), and every
`REPLICA_RETRY_SECONDS` the process measures how far the replica's replay is behind: past `REPLICA_MAX_LAG_SECONDS`,
or unreachable, it is left alone until the next measurement. That verdict is kept per process on purpose: each web
or worker process finds out by itself, at the cost of one connection attempt, and nothing is shared that could
keep a recovered replica out of use.
"""

from __future__ import annotations

import contextlib
import logging
import time
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

logger = logging.getLogger(__name__)

PRIMARY = DEFAULT_DB_ALIAS
REPLICA = 'replica'
# Read on the primary even in a replica scope: a lagging copy would sign people out or refuse a token just made.
PRIMARY_ONLY_MODELS = frozenset({'sessions.Session', 'itsm.ApiToken', 'itsm.IdempotencyKey'})

# How far the replica's replay is behind the WAL it received (0 when it has replayed all of it; NULL on a primary).
LAG_SQL = (
    'SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 '
    'ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END'
)


@dataclass
class Scope:
    """One request's or task's permission to read from the replica, withdrawn by its first write."""

    wrote: bool = False


_scope: ContextVar[Scope | None] = ContextVar('replica_scope', default=None)


@dataclass
class Health:
    """The process's last verdict on the replica: usable or not, until `next_check` (monotonic seconds)."""

    usable: bool = True
    next_check: float = 0.0


_health = Health()


def configured() -> bool:
    return REPLICA in settings.DATABASES


@contextlib.contextmanager
def replica_reads():
    """Reads within the block may be served by the replica (report and export tasks); no-op without one."""
    if not configured():
        yield
        return
    token = enter_scope()
    try:
        yield
    finally:
        leave_scope(token)


def enter_scope():
    """Open a replica scope for the rest of the current request; give the token back to `leave_scope`."""
    return _scope.set(Scope())


def leave_scope(token) -> None:
    _scope.reset(token)


def note_write(model=None) -> None:
    """A write in the current scope: its later reads go to the primary, so it reads what it wrote. Writes of the
    primary-only models (a token's last use, a session) change nothing the scope reads elsewhere."""
    scope = _scope.get()
    if scope is not None and (model is None or model._meta.label not in PRIMARY_ONLY_MODELS):
        scope.wrote = True


def read_alias(model=None) -> str:
    """The alias a read of `model` goes to now."""
    scope = _scope.get()
    if scope is None or scope.wrote:
        return PRIMARY
    if model is not None and model._meta.label in PRIMARY_ONLY_MODELS:
        return PRIMARY
    if connections[PRIMARY].in_atomic_block:
        return PRIMARY
    return REPLICA if available() else PRIMARY


def available() -> bool:
    """The replica may serve reads: not judged unfit in the last REPLICA_RETRY_SECONDS, and this thread's
    connection to it works (checked once per request or task, like Django's own health check)."""
    now = time.monotonic()
    if now < _health.next_check and not _health.usable:
        return False
    if not _connection_works():
        _judge(False, now, 'unreachable')
        return False
    if now >= _health.next_check:
        lag = _replay_lag()
        if lag is None:
            _judge(False, now, 'unreachable')
            return False
        _judge(lag <= settings.REPLICA_MAX_LAG_SECONDS, now, f'{lag:.1f} s behind')
    return _health.usable


def failed_during_use() -> bool:
    """The replica's connection reported an error since the request or task began (the server died, the network
    cut it, or a query was cancelled by a conflict with recovery): True, so the caller may run its reads again on
    the primary. A connection that no longer works is closed and the replica left alone for REPLICA_RETRY_SECONDS."""
    if not configured():
        return False
    connection = connections[REPLICA]
    if not connection.errors_occurred:
        return False
    if connection.connection is None or not connection.is_usable():
        with contextlib.suppress(DatabaseError):
            connection.close()
        _judge(False, time.monotonic(), 'its connection failed while in use')
    return True


def reset_health() -> None:
    """Forget the verdict: the next read checks the replica again (tests, and after an operator's repair)."""
    _health.usable, _health.next_check = True, 0.0


def _judge(usable: bool, now: float, reason: str) -> None:
    if _health.usable and not usable:
        logger.warning('read replica not used for %s s: %s', settings.REPLICA_RETRY_SECONDS, reason)
    elif usable and not _health.usable:
        logger.info('read replica in use again')
    _health.usable, _health.next_check = usable, now + settings.REPLICA_RETRY_SECONDS


def _connection_works() -> bool:
    connection = connections[REPLICA]
    try:
        connection.close_if_health_check_failed()
        connection.ensure_connection()
    except DatabaseError:
        with contextlib.suppress(DatabaseError):
            connection.close()
        return False
    return True


def _replay_lag() -> float | None:
    """Seconds the replica's replay is behind (0 on a server that is not replaying), None when the query fails."""
    connection = connections[REPLICA]
    try:
        with connection.cursor() as cursor:
            cursor.execute(LAG_SQL)
            (lag,) = cursor.fetchone()
    except DatabaseError:
        with contextlib.suppress(DatabaseError):
            connection.close()
        return None
    return float(lag or 0)
