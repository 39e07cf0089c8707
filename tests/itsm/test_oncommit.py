"""Work queued for after the commit once per key (`itsm.oncommit.on_commit_once`), values read once per
transaction (`transaction_memo`), and a transaction's Celery tasks sent in one message (`task_after_commit`)."""

import contextlib
import logging
from unittest import mock

from django.db import transaction
from django.test import TransactionTestCase

from itsm.oncommit import on_commit_once, task_after_commit, transaction_forget, transaction_memo
from itsm.tasks import run_tasks_task
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


class _Task:
    """Stands for a Celery task at the edge: its name, and what `delay` was given."""

    def __init__(self, name: str, fail: Exception | None = None):
        self.name, self.fail, self.sent = name, fail, []

    def delay(self, *args):
        if self.fail is not None:
            raise self.fail
        self.sent.append(args)


class TaskAfterCommitTests(ItsmTestCase):
    def setUp(self):
        self.batches = []
        batch = mock.patch('itsm.tasks.run_tasks_task.delay', side_effect=lambda calls: self.batches.append(calls))
        batch.start()
        self.addCleanup(batch.stop)

    def test_a_transactions_tasks_leave_in_one_message_once_per_key_with_their_arguments_at_the_commit(self):
        notify, refresh = _Task('app.notify'), _Task('app.refresh')
        with self.captureOnCommitCallbacks(execute=True), transaction.atomic():
            ids = [1]
            task_after_commit('notify', notify, ids)
            task_after_commit(('refresh', 7), refresh, 7)
            task_after_commit(('refresh', 7), refresh, 7)  # asked again: once
            ids.append(2)  # read at the commit
            self.assertEqual(self.batches, [])
        self.assertEqual(self.batches, [[['app.notify', [[1, 2]]], ['app.refresh', [7]]]])
        self.assertEqual((notify.sent, refresh.sent), ([], []))

    def test_a_lone_task_is_sent_as_itself_and_outside_a_transaction_at_once(self):
        refresh = _Task('app.refresh')
        with self.captureOnCommitCallbacks(execute=True), transaction.atomic():
            task_after_commit(('refresh', 7), refresh, 7)
        self.assertEqual(refresh.sent, [(7,)])
        with mock.patch.object(transaction.get_connection(), 'in_atomic_block', False):
            task_after_commit(('refresh', 8), refresh, 8)
        self.assertEqual(refresh.sent, [(7,), (8,)])
        self.assertEqual(self.batches, [])

    def test_nothing_leaves_when_the_transaction_rolls_back(self):
        refresh = _Task('app.refresh')
        with (
            self.captureOnCommitCallbacks(execute=True) as callbacks,
            contextlib.suppress(RuntimeError),
            transaction.atomic(),
        ):
            task_after_commit(('refresh', 7), refresh, 7)
            raise RuntimeError('the change failed')
        self.assertEqual((callbacks, refresh.sent, self.batches), ([], [], []))

    def test_a_broker_that_refuses_is_logged_and_the_commit_stands(self):
        refresh = _Task('app.refresh', fail=ConnectionError('broker down'))
        with (
            self.assertLogs('itsm.oncommit', logging.ERROR) as logs,
            self.captureOnCommitCallbacks(execute=True),
            transaction.atomic(),
        ):
            task_after_commit(('refresh', 7), refresh, 7)
        self.assertIn('Could not send app.refresh after the commit', logs.output[0])
        self.assertIn('broker down', '\n'.join(logs.output))


class RunTasksTaskTests(ItsmTestCase):
    def test_each_task_runs_in_turn_and_one_that_fails_leaves_the_others_to_run(self):
        with self.assertLogs('itsm.tasks', logging.ERROR) as logs:
            outcome = run_tasks_task([['itsm.tasks.no_such_task', []], ['itsm.tasks.ping', []]])
        self.assertEqual(outcome, 'itsm.tasks.no_such_task: failed; itsm.tasks.ping: done')
        self.assertIn('itsm.tasks.no_such_task', logs.output[0])
