"""Work queued for after the commit once per key (`itsm.oncommit.on_commit_once`)."""

import contextlib

from django.db import transaction
from django.test import TransactionTestCase

from itsm.oncommit import on_commit_once
from tests.base import ItsmTestCase


class OnCommitOnceTests(ItsmTestCase):
    def test_one_callback_per_key_in_a_transaction(self):
        ran = []
        with self.captureOnCommitCallbacks(execute=True), transaction.atomic():
            for _ in range(3):
                on_commit_once(('refresh', 1), lambda: ran.append(1))
            on_commit_once(('refresh', 2), lambda: ran.append(2))
            with transaction.atomic():  # a block inside: the enclosing block's callback stands
                on_commit_once(('refresh', 1), lambda: ran.append('inner'))
            self.assertEqual(ran, [])  # nothing before the commit
        self.assertEqual(ran, [1, 2])

    def test_blocks_one_after_the_other_are_transactions_of_their_own(self):
        ran = []
        with self.captureOnCommitCallbacks(execute=True):
            for n in range(2):
                with transaction.atomic():
                    on_commit_once('key', lambda n=n: ran.append(n))
        self.assertEqual(ran, [0, 1])

    def test_a_callback_dropped_with_its_savepoint_no_longer_counts(self):
        ran = []
        with self.captureOnCommitCallbacks(execute=True):
            _queue_then_roll_back(lambda: ran.append('rolled back'))
            on_commit_once('key', lambda: ran.append('kept'))
        self.assertEqual(ran, ['kept'])

    def test_a_rolled_back_block_runs_none(self):
        ran = []
        with self.captureOnCommitCallbacks(execute=True):
            _queue_then_roll_back(lambda: ran.append('never'))
        self.assertEqual(ran, [])


def _queue_then_roll_back(func) -> None:
    """Queue `func` under 'key' in a block that then rolls back."""
    with contextlib.suppress(RuntimeError), transaction.atomic():
        on_commit_once('key', func)
        raise RuntimeError('undo')


class OutsideTransactionTests(TransactionTestCase):
    def test_in_autocommit_each_call_runs_at_once(self):
        ran = []
        on_commit_once('key', lambda: ran.append(1))
        on_commit_once('key', lambda: ran.append(2))
        self.assertEqual(ran, [1, 2])
