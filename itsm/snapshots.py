"""Reference data read once per process and version: the desk's rules every new ticket consults (the priority
matrix, SLAs, OLAs, routing rules, and the calendars and groups they name), and which webhook subscriptions want
which events (an app's model registers by subclassing `ReferenceData`; the core names none of them).

Opening a ticket asks each of them once; as ORM queries that was four reads, most of their cost building the SQL.
Here each is read once and kept in the process under a version token. Every save or delete of a row they hold
(`ReferenceData`) stores a new random token for its snapshot, in the transaction of the change. A reader asks for
the token (one row by its key, once per transaction) and reuses what it read under the same token, else reads
again. So what a process holds under a token is the data as that token's change left it, or newer:

- a change any process commits is seen by every process from its next transaction on (nothing to expire, no shared
  cache to drop: the token is in the database the rows are in);
- a transaction that changed the data sees its own token, so it reads its own uncommitted rows; if it rolls back,
  that token is never committed and nobody else asks for it; the tokens are random, so no later change reuses it.

Writes that bypass `Model.save` and `delete` (`QuerySet.update`, `bulk_create`, raw SQL) must call `touch` after.
The migration that made the table stored a first token, for the rows earlier migrations seeded.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TypeVar

from django.db import connections, models, router, transaction

from .oncommit import transaction_forget, transaction_memo

DESK_RULES = 'desk-rules'

T = TypeVar('T')
_held: dict[tuple[str, str, str], tuple[str, object]] = {}  # (database, snapshot, part) -> (token, value)


class ReferenceVersion(models.Model):
    """The current version token of one snapshot's rows."""

    name = models.CharField(max_length=40, primary_key=True)
    token = models.CharField(max_length=32)

    class Meta:
        app_label = 'itsm'

    def __str__(self) -> str:
        return f'{self.name}: {self.token}'


def touch(name: str, *, using: str | None = None) -> None:
    """Give snapshot `name` a new version in the current transaction (or at once, in autocommit)."""
    alias = using or router.db_for_write(ReferenceVersion)
    ReferenceVersion.objects.using(alias).bulk_create(
        [ReferenceVersion(name=name, token=uuid.uuid4().hex)],
        update_conflicts=True,
        unique_fields=['name'],
        update_fields=['token'],
    )
    transaction_forget(_token_key(alias, name), using=alias)


def snapshot(name: str, part: str, load: Callable[[str], T]) -> T:
    """`load(database)` once per version of snapshot `name` (`part` tells apart the lists it holds). The value is
    shared by every caller in the process: treat it as read-only."""
    alias = router.db_for_read(ReferenceVersion)
    token = transaction_memo(_token_key(alias, name), lambda: _token(alias, name), using=alias)
    key = (alias, name, part)
    held = _held.get(key)
    if held is not None and held[0] == token:
        return held[1]
    value = load(alias)
    _held[key] = (token, value)
    return value


def forget_all() -> None:
    """Drop what this process holds (tests, whose rolled-back data leave no token behind)."""
    _held.clear()


def _token_key(alias: str, name: str) -> tuple[str, str, str]:
    return ('snapshot-token', alias, name)


def _token(alias: str, name: str) -> str:
    table = connections[alias].ops.quote_name(ReferenceVersion._meta.db_table)
    with connections[alias].cursor() as cursor:
        cursor.execute(f'SELECT token FROM {table} WHERE name = %s', [name])  # noqa: S608 (a quoted table name)
        row = cursor.fetchone()
    return row[0] if row else ''


class ReferenceData(models.Model):
    """A table one of the snapshots holds: each save and delete gives the snapshot a new version, in the same
    transaction as the change."""

    snapshot_name = DESK_RULES

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        using = kwargs.get('using') or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using, savepoint=False):
            super().save(*args, **kwargs)
            touch(self.snapshot_name, using=using)

    def delete(self, *args, **kwargs):
        using = kwargs.get('using') or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using, savepoint=False):
            deleted = super().delete(*args, **kwargs)
            touch(self.snapshot_name, using=using)
        return deleted
