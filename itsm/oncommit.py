"""`on_commit_once`: a callback queued for after the commit once per key, however often a transaction asks;
`transaction_memo`: a value read once per transaction, however often it is asked for; `task_after_commit`: a
Celery task sent after the commit, the transaction's tasks in one message.

One transaction often fires several hooks for one record (a create is `created`, then `transitioned` when
routing assigns it): work they each queue for after the commit, such as refreshing the record's prediction,
needs doing once. The key is looked up among the callbacks queued in the atomic blocks still open around the
call (the same block, or one that encloses it), so a callback dropped with a rolled-back savepoint no longer
counts, and outside a transaction (autocommit) the callback runs at once, as `transaction.on_commit` runs it.
Blocks that were opened and closed one after the other inside a test case's transaction (which never commits)
each queue their own, as the separate transactions they stand for would.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable

from django.db import transaction

__all__ = ['on_commit_once', 'task_after_commit', 'transaction_forget', 'transaction_memo']

logger = logging.getLogger(__name__)


class _Keyed:
    """The callback with its key, as the transaction holds it."""

    def __init__(self, key: Hashable, func: Callable[[], object]):
        self.key, self.func = key, func
        # Django names a robust callback that failed by its `__qualname__` when it logs the failure.
        self.__qualname__ = getattr(func, '__qualname__', type(func).__qualname__)

    def __call__(self) -> None:
        self.func()


def on_commit_once(key: Hashable, func: Callable[[], object], *, robust: bool = False, using: str | None = None):
    """Queue `func` for after the current transaction commits, unless a callback with `key` already is."""
    connection = transaction.get_connection(using)
    if connection.in_atomic_block:
        open_blocks = set(connection.savepoint_ids)
        for savepoints, callback, _ in connection.run_on_commit:
            if isinstance(callback, _Keyed) and callback.key == key and savepoints <= open_blocks:
                return
    transaction.on_commit(_Keyed(key, func), using=using, robust=robust)


class _Memo:
    """Values read in one atomic block. It is held as a callback that does nothing, so the transaction forgets it
    when it commits or rolls back, and a savepoint rolled back takes what was read inside it along."""

    __slots__ = ('values',)

    def __init__(self):
        self.values: dict[Hashable, object] = {}

    def __call__(self) -> None:
        pass


def transaction_memo(key: Hashable, load: Callable[[], object], *, using: str | None = None):
    """`load()`, once per transaction and `key`: a read that every hook of one change asks for (the webhook
    subscriptions, for a create's `created` and its routing's `transitioned`). Outside a transaction it is read
    each time. A value read in an enclosing block is reused; a new one is kept with the innermost block, so a
    savepoint rolled back takes it along. Blocks that were opened and closed one after the other count apart, as
    for `on_commit_once`."""
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block:
        return load()
    open_blocks = set(connection.savepoint_ids)
    innermost = None
    for savepoints, callback, _ in connection.run_on_commit:
        if isinstance(callback, _Memo) and savepoints <= open_blocks:
            if key in callback.values:
                return callback.values[key]
            if savepoints == open_blocks:
                innermost = callback
    if innermost is None:
        innermost = _Memo()
        transaction.on_commit(innermost, using=using)
    innermost.values[key] = value = load()
    return value


def transaction_forget(key: Hashable, *, using: str | None = None) -> None:
    """Drop what `transaction_memo` keeps under `key` in the current transaction: it is read again when next
    asked for (after a write that changed it)."""
    for _, callback, _ in transaction.get_connection(using).run_on_commit:
        if isinstance(callback, _Memo):
            callback.values.pop(key, None)


def task_after_commit(key: Hashable, task, *args, using: str | None = None) -> None:
    """Send Celery `task` with `args` once the transaction commits, once per `key` however often it asks.

    The tasks one transaction queues leave in one message to the broker, `itsm.tasks.run_tasks_task`, which runs
    them one after the other: a routed create's notifications and its prediction cost one publish, not two (each
    is a few tenths of a millisecond of the request). A lone task is sent as itself. `args` are read at the
    commit, so a list the transaction goes on filling leaves whole. The change has committed by then: a broker
    that cannot take the message is logged, never raised, and the sweeps redo what the tasks would have done.
    Outside a transaction the task is sent at once. Only for tasks that may run inside another one (no retry
    policy of their own: a failure is logged and the others still run)."""
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block:
        _send_tasks({key: (task, args)})
        return
    queued = transaction_memo('oncommit:tasks', dict, using=using)
    if key in queued:
        return
    queued[key] = (task, args)
    on_commit_once('oncommit:send-tasks', lambda: _send_tasks(queued), robust=True, using=using)


def _send_tasks(queued: dict[Hashable, tuple]) -> None:
    calls = list(queued.values())
    try:
        if len(calls) == 1:
            task, args = calls[0]
            task.delay(*args)
        else:
            from .tasks import run_tasks_task

            run_tasks_task.delay([[task.name, list(args)] for task, args in calls])
    except Exception:
        logger.exception('Could not send %s after the commit', ', '.join(task.name for task, _ in calls))
