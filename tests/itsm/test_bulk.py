"""Inserting many rows at once (`itsm.bulk.insert_rows`): COPY on PostgreSQL, `bulk_create` on SQLite, the same rows
either way."""

import datetime as dt
import threading

from django.db import IntegrityError, connection, transaction
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from itsm.bulk import insert_rows
from itsm.models import SupportGroup
from reports.choices import Dimension, RollupPeriod
from reports.models import DailyRollup, PeriodRollup
from tests.base import ItsmTestCase
from tests.factories import make_user

AWKWARD = 'tab\there, line\nbreak, back\\slash, carriage\rreturn, “quotes” and ünïcode'
AWKWARD_KEY = 'a\tb\nc\\d\re “ü”'  # the key column holds 40 characters


def _daily(key: str, **fields) -> DailyRollup:
    values = {
        'day': dt.date(2026, 3, 29),
        'dimension': Dimension.SERVICE,
        'key': key,
        'kind': 'incident',
        'priority': 2,
        'computed_at': dt.datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=dt.UTC),
        'opened': 7,
        'accept_seconds': 1234.567891,
        'resolve_seconds': 0.1 + 0.2,
        'accept_hist': {'12': 3, '0': 1},
        'resolve_hist': {'40': 2, 'note': AWKWARD},
    }
    return DailyRollup(**{**values, **fields})


def _insert_instances(model, objs) -> int:
    """Insert unsaved instances through `insert_rows`, with every column they set but the primary key."""
    columns = [f.attname for f in model._meta.concrete_fields if not f.primary_key]
    return insert_rows(model, columns, ([getattr(obj, name) for name in columns] for obj in objs))


def _stored(model, **lookup) -> dict:
    row = model_to_dict(model.objects.get(**lookup))
    row.pop('id')
    return row


class BulkInsertTests(ItsmTestCase):
    def test_rows_read_back_as_bulk_create_writes_them(self):
        inserted = _insert_instances(DailyRollup, [_daily(AWKWARD_KEY), _daily('second', kind='', priority=0)])
        self.assertEqual(inserted, 2)
        DailyRollup.objects.bulk_create([_daily('by bulk_create')])
        ours, theirs = _stored(DailyRollup, key=AWKWARD_KEY), _stored(DailyRollup, key='by bulk_create')
        self.assertEqual(ours.pop('key'), AWKWARD_KEY)
        theirs.pop('key')
        self.assertEqual(ours, theirs)
        self.assertEqual(ours['resolve_hist']['note'], AWKWARD)
        self.assertEqual(ours['resolve_seconds'], 0.1 + 0.2)  # every digit of a float survives the text form
        self.assertEqual(ours['computed_at'], dt.datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=dt.UTC))
        self.assertEqual(_stored(DailyRollup, key='second')['kind'], '')

    def test_booleans_and_dates_of_another_model(self):
        rows = [
            PeriodRollup(
                period=RollupPeriod.WEEK,
                start=dt.date(2026, 3, 23),
                combined=combined,
                dimension=Dimension.ALL,
                key='',
                kind='',
                priority=0,
                computed_at=timezone.now(),
                opened=count,
            )
            for combined, count in ((True, 5), (False, 3))
        ]
        _insert_instances(PeriodRollup, rows)
        stored = dict(PeriodRollup.objects.values_list('combined', 'opened'))
        self.assertEqual(stored, {True: 5, False: 3})
        self.assertEqual(set(PeriodRollup.objects.values_list('start', flat=True)), {dt.date(2026, 3, 23)})

    def test_the_database_numbers_the_rows_and_creation_times_are_set(self):
        manager = make_user()
        before = timezone.now()
        insert_rows(SupportGroup, ('name', 'manager_id'), [(f'Team {n}', manager.pk) for n in range(3)])
        groups = list(SupportGroup.objects.filter(name__startswith='Team ').order_by('name'))
        self.assertEqual([g.name for g in groups], ['Team 0', 'Team 1', 'Team 2'])
        self.assertEqual(len({g.pk for g in groups}), 3)
        self.assertTrue(all(g.manager_id == manager.pk for g in groups))
        self.assertTrue(all(g.created_at >= before and g.updated_at >= before for g in groups))

    def test_the_rows_belong_to_the_callers_transaction(self):
        with self.assertRaises(RuntimeError), transaction.atomic():
            _insert_instances(DailyRollup, [_daily('rolled back')])
            self.assertTrue(DailyRollup.objects.filter(key='rolled back').exists())
            raise RuntimeError('undo')
        self.assertFalse(DailyRollup.objects.filter(key='rolled back').exists())

    def test_nothing_to_insert_costs_nothing(self):
        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(_insert_instances(DailyRollup, []), 0)
        self.assertEqual(len(queries.captured_queries), 0)

    def test_many_rows_go_in_chunks(self):
        from itsm import bulk

        rows = [_daily(f'row {n}') for n in range(25)]
        original, bulk.CHUNK = bulk.CHUNK, 10
        try:
            with CaptureQueriesContext(connection) as queries:
                _insert_instances(DailyRollup, rows)
        finally:
            bulk.CHUNK = original
        self.assertEqual(DailyRollup.objects.filter(key__startswith='row ').count(), 25)
        self.assertEqual(len(queries.captured_queries), 3)  # three COPYs, or three INSERTs of at most 10


class InsertRowsTests(ItsmTestCase):
    def test_plain_rows_and_the_fields_left_out(self):
        at = timezone.now()
        columns = ('day', 'dimension', 'key', 'priority', 'opened', 'computed_at')
        rows = ((dt.date(2026, 4, n), Dimension.CHANNEL, f'channel {n}', 1, n, at) for n in (1, 2))
        self.assertEqual(insert_rows(DailyRollup, columns, rows), 2)
        stored = DailyRollup.objects.order_by('day')
        self.assertEqual([(r.key, r.opened) for r in stored], [('channel 1', 1), ('channel 2', 2)])
        first = stored[0]
        # Left out: each gets its field's default.
        self.assertEqual((first.kind, first.accepted, first.accept_seconds, first.accept_hist), ('', 0, 0, {}))

    def test_times_set_on_save_are_filled_when_left_out(self):
        before = timezone.now()
        insert_rows(SupportGroup, ('name',), [('Night shift',)])
        group = SupportGroup.objects.get(name='Night shift')
        self.assertGreaterEqual(group.created_at, before)
        self.assertGreaterEqual(group.updated_at, before)

    def test_unknown_columns_and_missing_values_are_refused_before_writing(self):
        with self.assertRaisesMessage(ValueError, 'DailyRollup has no column colour'):
            insert_rows(DailyRollup, ('day', 'colour'), [])
        with self.assertRaisesMessage(ValueError, 'DailyRollup: computed_at, day cannot be left out (no default)'):
            insert_rows(DailyRollup, ('dimension',), [(Dimension.ALL,)])
        self.assertFalse(DailyRollup.objects.exists())


class CopiesBesideTheCallerTests(ItsmTestCase):
    """`copies_beside_the_caller`: on PostgreSQL a thread runs the COPYs in the caller's transaction while the caller
    goes on; elsewhere the block changes nothing. Either way the caller sees the same rows and the same errors."""

    def many_rows(self, count: int, prefix: str):
        return (_daily(f'{prefix} {n}') for n in range(count))

    def test_statements_after_an_insert_see_its_rows(self):
        from itsm import bulk

        original, bulk.CHUNK = bulk.CHUNK, 100
        try:
            with transaction.atomic(), bulk.copies_beside_the_caller():
                self.assertEqual(_insert_instances(DailyRollup, self.many_rows(1050, 'row')), 1050)
                # The count waits for the eleven COPYs before it.
                self.assertEqual(DailyRollup.objects.filter(key__startswith='row ').count(), 1050)
                _insert_instances(DailyRollup, self.many_rows(5, 'more'))
        finally:
            bulk.CHUNK = original
        self.assertEqual(DailyRollup.objects.filter(key__startswith='more ').count(), 5)

    def test_the_copies_run_beside_the_caller_on_postgresql_and_stop_with_the_block(self):
        from itsm.bulk import copies_beside_the_caller

        def copy_threads():
            return [t for t in threading.enumerate() if t.name == 'bulk-copy']

        with copies_beside_the_caller():
            _insert_instances(DailyRollup, [_daily('beside')])
            self.assertEqual(len(copy_threads()), 1 if connection.vendor == 'postgresql' else 0)
            with copies_beside_the_caller():  # nested: the outer block's thread serves
                self.assertEqual(len(copy_threads()), 1 if connection.vendor == 'postgresql' else 0)
        self.assertEqual(copy_threads(), [])
        self.assertTrue(DailyRollup.objects.filter(key='beside').exists())

    def test_a_refused_row_raises_the_databases_error_and_nothing_is_kept(self):
        from itsm.bulk import copies_beside_the_caller

        with self.assertRaises(IntegrityError), transaction.atomic(), copies_beside_the_caller():
            _insert_instances(DailyRollup, self.many_rows(3, 'kept'))
            _insert_instances(DailyRollup, [_daily('refused', opened=-1)])  # opened >= 0 is checked
            DailyRollup.objects.count()
        self.assertFalse(DailyRollup.objects.filter(key__startswith='kept ').exists())

    def test_an_error_of_the_caller_ends_the_block_and_the_thread(self):
        from itsm.bulk import copies_beside_the_caller

        with self.assertRaises(RuntimeError), transaction.atomic(), copies_beside_the_caller():
            _insert_instances(DailyRollup, [_daily('undone')])
            raise RuntimeError('undo')
        self.assertFalse([t for t in threading.enumerate() if t.name == 'bulk-copy'])
        self.assertFalse(DailyRollup.objects.filter(key='undone').exists())
