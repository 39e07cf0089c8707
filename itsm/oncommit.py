"""`on_commit_once`: a callback queued for after the commit once per key, however often a transaction asks.

One transaction often fires several hooks for one record (a create is `created`, then `transitioned` when
routing assigns it): work they each queue for after the commit, such as refreshing the record's prediction,
needs doing once. The key is looked up among the callbacks queued in the atomic blocks still open around the
call (the same block, or one that encloses it), so a callback dropped with a rolled-back savepoint no longer
counts, and outside a transaction (autocommit) the callback runs at once, as `transaction.on_commit` runs it.
Blocks that were opened and closed one after the other inside a test case's transaction (which never commits)
each queue their own, as the separate transactions they stand for would.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from django.db import transaction

__all__ = ['on_commit_once']


class _Keyed:
    """The callback with its key, as the transaction holds it."""

    __slots__ = ('func', 'key')

    def __init__(self, key: Hashable, func: Callable[[], object]):
        self.key, self.func = key, func

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
