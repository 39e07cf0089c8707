"""How the import behaves around the data: gzip, updates, resuming after a failure, bad input, the progress bar."""

from __future__ import annotations

import gzip
import io
import shutil
import tempfile
from pathlib import Path
from unittest import mock

from django.core.management.base import OutputWrapper
from django.db import OperationalError

from imports import services
from imports.management.commands.import_incidents import ProgressBar, format_duration
from incidents.models import Ticket
from itsm.choices import TimelineKind
from itsm.models import SupportGroup, TimelineEntry, User
from reports.choices import Dimension
from reports.models import DailyRollup
from sla.models import SlaClock
from tests.base import ItsmTestCase

from .helpers import SERVICENOW_EXCERPT, run_import, utc

FORMAT = ('--format', 'servicenow-event-log', '--no-progress')
HEADER, *ROWS = SERVICENOW_EXCERPT.read_text().splitlines()


class TTYStringIO(io.StringIO):
    def isatty(self) -> bool:
        return True


class ImportBehaviourTests(ItsmTestCase):
    def folder(self) -> Path:
        folder = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, folder)
        return folder

    def write(self, lines: list[str], name: str = 'log.csv') -> Path:
        path = self.folder() / name
        path.write_text('\n'.join(lines) + '\n')
        return path

    def test_gzipped_file_imports_like_the_plain_one(self):
        path = self.folder() / 'incident_event_log.csv.gz'
        with open(SERVICENOW_EXCERPT, 'rb') as source, gzip.open(path, 'wb') as target:
            shutil.copyfileobj(source, target)
        out, _, error = run_import(path, *FORMAT)
        self.assertIsNone(error)
        self.assertIn('58 rows, 11 tickets', out)
        self.assertIn('created 11', out)
        # The same rows, plain: nothing to do.
        out, _, _ = run_import(SERVICENOW_EXCERPT, *FORMAT)
        self.assertIn('unchanged 11', out)

    def test_new_events_in_the_source_update_the_ticket_and_extend_its_history(self):
        run_import(SERVICENOW_EXCERPT, *FORMAT)
        ticket = Ticket.objects.get(source_number='INC0028089')
        entries = self.timeline(ticket).count()
        # The caller rejected the resolution after closure in this (made-up) later export: one more event.
        last = ROWS[-1].split(',')
        last[1], last[2], last[4], last[5], last[13] = 'Active', 'true', '1', '6', '22/6/2016 09:00'
        out, _, error = run_import(self.write([HEADER, *ROWS, ','.join(last)]), *FORMAT)
        self.assertIsNone(error)
        self.assertIn('created 0 · updated 1 · unchanged 10 · failed 0', out)
        ticket.refresh_from_db()
        self.assertEqual((ticket.state, ticket.reopen_count), ('accepted', 1))
        self.assertEqual((ticket.completed_at, ticket.closed_at, ticket.resolved_by), (None, None, None))
        self.assertEqual(ticket.source_data['events'], 5)
        self.assertFalse(SlaClock.objects.filter(ticket=ticket).exists())  # no verdict while it is open again
        new = list(self.timeline(ticket).order_by('id'))[entries:]
        self.assertEqual([e.kind for e in new], [TimelineKind.IMPORT, TimelineKind.IMPORT])
        self.assertEqual((new[0].at, new[0].message), (utc('2016-06-22 09:00'), 'ServiceNow: Closed → Active'))
        self.assertTrue(new[1].message.startswith('Updated from ServiceNow INC0028089'))
        changed = {c['field'] for c in new[1].changes}
        self.assertLessEqual({'state', 'reopen_count', 'completed_at', 'closed_at'}, changed)

    def test_a_failed_batch_leaves_nothing_behind_and_a_rerun_resumes(self):
        create = services.Writer._create
        calls = []

        def failing(writer, plans):
            calls.append([p.key for p in plans])
            if len(calls) == 2:
                raise OperationalError('the database went away')
            return create(writer, plans)

        with mock.patch.object(services.Writer, '_create', failing):
            out, _, error = run_import(SERVICENOW_EXCERPT, *FORMAT, '--batch-size', '3')
        self.assertIn('The database failed', str(error))
        self.assertIn('run the same command to resume', str(error))
        self.assertEqual(calls[1], ['INC0000347', 'INC0000388', 'INC0000822'])
        # The first batch is there whole; nothing of the second: no ticket, person, group or history.
        self.assertEqual(
            sorted(Ticket.objects.values_list('source_number', flat=True)), ['INC0000045', 'INC0000062', 'INC0000137']
        )
        self.assertFalse(User.objects.filter(external_id='servicenow:Resolver 184').exists())
        self.assertFalse(SupportGroup.objects.filter(name='Group 30').exists())
        self.assertEqual(TimelineEntry.objects.filter(kind=TimelineKind.IMPORT).count(), 4 + 8 + 4 + 3)
        self.assertTrue(DailyRollup.objects.filter(dimension=Dimension.DAY, day='2016-02-29').exists())

        out, _, error = run_import(SERVICENOW_EXCERPT, *FORMAT, '--batch-size', '3')
        self.assertIsNone(error)
        self.assertIn('created 8 · updated 0 · unchanged 3 · failed 0', out)
        self.assertEqual(Ticket.objects.count(), 11)

    def test_a_ticket_that_cannot_be_written_fails_alone(self):
        fields = services.Writer._fields

        def failing(writer, plan):
            if plan.key == 'INC0000388':
                raise ValueError('simulated fault')
            return fields(writer, plan)

        with mock.patch.object(services.Writer, '_fields', failing):
            out, _, error = run_import(SERVICENOW_EXCERPT, *FORMAT)
        self.assertIn('1 ticket(s) not imported', str(error))
        self.assertIn('created 10 · updated 0 · unchanged 0 · failed 1', out)
        self.assertIn('line 23: INC0000388 not imported: ValueError: simulated fault', out)
        self.assertFalse(Ticket.objects.filter(source_number='INC0000388').exists())
        self.assertFalse(User.objects.filter(external_id='servicenow:Resolver 216').exists())

        out, _, error = run_import(SERVICENOW_EXCERPT, *FORMAT)
        self.assertIsNone(error)
        self.assertIn('created 1 · updated 0 · unchanged 10 · failed 0', out)

    def test_interrupted_import_keeps_what_was_written(self):
        create = services.Writer._create
        calls = []

        def interrupted(writer, plans):
            calls.append(1)
            if len(calls) == 2:
                raise KeyboardInterrupt
            return create(writer, plans)

        with mock.patch.object(services.Writer, '_create', interrupted):
            _, _, error = run_import(SERVICENOW_EXCERPT, *FORMAT, '--batch-size', '5')
        self.assertIn('Interrupted', str(error))
        self.assertEqual(Ticket.objects.count(), 5)

    def test_rows_of_a_ticket_must_be_consecutive(self):
        rows_045 = [r for r in ROWS if r.startswith('INC0000045')]
        rows_062 = [r for r in ROWS if r.startswith('INC0000062')]
        out, _, error = run_import(self.write([HEADER, *rows_045[:2], *rows_062, *rows_045[2:]]), *FORMAT)
        self.assertIsNone(error)
        self.assertIn('line 12: INC0000045: number "INC0000045" appeared earlier in the file', out)
        self.assertIn('line 13: INC0000045', out)
        self.assertIn('created 2', out)
        ticket = Ticket.objects.get(source_number='INC0000045')
        self.assertEqual(ticket.source_data['events'], 2)

    def test_unreadable_rows_are_reported_and_skipped(self):
        rows = [r for r in ROWS if r.startswith('INC0000045')]
        broken_cells = rows[1].rsplit(',', 1)[0]  # one value short
        bad_date = rows[2].replace('29/2/2016 11:29,Phone', '2016-02-29 11:29,Phone')
        path = self.write([HEADER, rows[0], broken_cells, bad_date, rows[3]])
        path.write_bytes(path.read_bytes() + rows[3].replace('Closed', 'Clos\xe9d').encode('latin-1') + b'\n')
        out, _, error = run_import(path, *FORMAT)
        self.assertIsNone(error)
        self.assertIn('line 3: has 35 values where the header has 36 columns.', out)
        self.assertIn('line 4: INC0000045: sys_updated_at: "2016-02-29 11:29" is not a date and time like', out)
        self.assertIn('line 6: is not valid utf-8 text.', out)
        self.assertIn('3 bad row(s) skipped', out)
        self.assertEqual(Ticket.objects.get(source_number='INC0000045').source_data['events'], 2)

    def test_a_ticket_without_any_good_row_fails(self):
        row = ROWS[0].replace(',New,', ',Unknown,')
        out, _, error = run_import(self.write([HEADER, row]), *FORMAT)
        self.assertIn('1 ticket(s) not imported', str(error))
        self.assertIn('line 2: INC0000045 not imported: none of its rows could be imported.', out)
        self.assertFalse(Ticket.objects.exists())

    def test_file_without_a_column_the_mapping_reads(self):
        header = HEADER.replace('incident_state', 'state')
        _, _, error = run_import(self.write([header, ROWS[0]]), *FORMAT)
        self.assertIn('line 1: the mapping reads column(s) the file lacks: "incident_state" (fields.state)', str(error))

    def test_missing_file_and_unknown_format(self):
        _, _, error = run_import(self.folder() / 'nope.csv', *FORMAT)
        self.assertIn('no such file', str(error))
        _, _, error = run_import(SERVICENOW_EXCERPT, '--format', 'remedy')
        self.assertIn(
            'No shipped mapping "remedy": choose one of jira-service-management, servicenow-event-log', str(error)
        )

    def test_progress_bar_only_on_a_terminal(self):
        from django.core.management import call_command

        tty = TTYStringIO()
        call_command(
            'import_incidents',
            str(SERVICENOW_EXCERPT),
            '--format',
            'servicenow-event-log',
            stdout=io.StringIO(),
            stderr=tty,
        )
        self.assertIn('\rImporting servicenow-event-log', tty.getvalue())
        self.assertIn('100.0%', tty.getvalue())
        self.assertIn('tickets/s, ETA 0:00', tty.getvalue())
        quiet = TTYStringIO()
        call_command(
            'import_incidents',
            str(SERVICENOW_EXCERPT),
            '--format',
            'servicenow-event-log',
            '--no-progress',
            stdout=io.StringIO(),
            stderr=quiet,
        )
        self.assertEqual(quiet.getvalue(), '')

    def test_progress_bar_draws_rate_and_eta(self):
        stream = io.StringIO()
        bar = ProgressBar(OutputWrapper(stream), 'Importing x', enabled=True)
        result = services.ImportResult(path='x', mapping='x', rows=100, tickets=40)
        result.started -= 10  # ten seconds in
        bar(result, 250, 1000)
        self.assertIn(
            '\rImporting x  25.0% [######------------------] 100 rows, 40 tickets, 4 tickets/s, ETA 0:30',
            stream.getvalue(),
        )
        bar.finish()
        self.assertTrue(stream.getvalue().endswith('\n'))
        self.assertEqual(
            [format_duration(75), format_duration(3725), format_duration(None)], ['1:15', '1:02:05', '--:--']
        )

    def test_no_task_is_queued(self):
        with mock.patch('celery.app.task.Task.apply_async') as queued:
            _, _, error = run_import(SERVICENOW_EXCERPT, *FORMAT)
        self.assertIsNone(error)
        queued.assert_not_called()
