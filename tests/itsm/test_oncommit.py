"""Work queued for after the commit once per key (`itsm.oncommit.on_commit_once`), and values read once per
transaction (`transaction_memo`)."""

import contextlib
import logging

from django.db import transaction
from django.test import TransactionTestCase

from itsm.oncommit import on_commit_once, transaction_forget, transaction_memo
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


class TransactionMemoTests(ItsmTestCase):
    def counting_loader(self, reads: list):
        def load():
            reads.append(1)
            return len(reads)

        return load

    def test_read_once_per_key_in_a_transaction_and_again_in_the_next(self):
        reads, others = [], []
        with transaction.atomic():
            values = [transaction_memo('subscriptions', self.counting_loader(reads)) for _ in range(3)]
            with transaction.atomic():  # a block inside shares the enclosing block's memo
                values.append(transaction_memo('subscriptions', self.counting_loader(reads)))
            transaction_memo('another key', self.counting_loader(others))
        self.assertEqual((values, len(reads), len(others)), ([1, 1, 1, 1], 1, 1))
        with transaction.atomic():
            self.assertEqual(transaction_memo('subscriptions', self.counting_loader(reads)), 2)

    def test_what_was_read_in_a_rolled_back_savepoint_is_read_again(self):
        reads, others = [], []
        with transaction.atomic():
            transaction_memo('groups', self.counting_loader(others))  # the enclosing block keeps a value first
            with contextlib.suppress(RuntimeError), transaction.atomic():
                transaction_memo('subscriptions', self.counting_loader(reads))
                raise RuntimeError('undo')
            self.assertEqual(transaction_memo('subscriptions', self.counting_loader(reads)), 2)
            self.assertEqual(transaction_memo('groups', self.counting_loader(others)), 1)

    def test_a_forgotten_key_is_read_again(self):
        reads = []
        with transaction.atomic():
            transaction_memo('token', self.counting_loader(reads))
            with transaction.atomic():
                transaction_forget('token')  # from inside a block: the enclosing block's value goes too
            self.assertEqual(transaction_memo('token', self.counting_loader(reads)), 2)


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

    def test_a_robust_callback_that_fails_after_a_real_commit_is_logged_by_its_name(self):
        def refresh_prediction():
            raise ConnectionError('broker down')

        with self.assertLogs('django.db.backends.base', logging.ERROR) as logged, transaction.atomic():
            on_commit_once('key', refresh_prediction, robust=True)
        self.assertIn('refresh_prediction', logged.output[0])

    def test_in_autocommit_a_memo_reads_each_time(self):
        reads = []
        for _ in range(2):
            transaction_memo('key', lambda: reads.append(1))
        self.assertEqual(len(reads), 2)
