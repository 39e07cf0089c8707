"""Tickets the source closed without ever recording a resolution time: closed without resolution, they have no
completion time and count nowhere in MTTR (not with their closing or opening time as a completion); the summary
and the ticket's import entry say so."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import tempfile
from pathlib import Path

from imports.mapping import shipped_mapping
from imports.plans import build_ticket
from imports.reader import SourceFile
from incidents.models import Ticket
from itsm.choices import TimelineKind
from reports import selectors as report_selectors
from reports.slices import Slice
from tests.base import ItsmTestCase

from .helpers import JSM_EXPORT, run_import, utc

JSM = ('--format', 'jira-service-management', '--no-progress')
SERVICENOW = ('--format', 'servicenow-event-log', '--no-progress')
JSM_COLUMNS = next(csv.reader(io.StringIO(JSM_EXPORT.read_text(encoding='utf-8-sig'))))


def issue(**values: str) -> str:
    """One row of a Jira Service Management export with the given columns filled in."""
    row = io.StringIO()
    csv.writer(row, lineterminator='').writerow([values.get(column, '') for column in JSM_COLUMNS])
    return row.getvalue()


HEADER = ','.join(JSM_COLUMNS)
COMMON = {'Issue Type': 'Incident', 'Priority': 'Medium', 'Reporter': 'Ana Reyes', 'Custom field (Team)': 'Messaging'}
ISSUES = [
    # Resolved at 12:00 after opening at 09:00: three hours.
    issue(
        **COMMON,
        **{'Issue key': 'OPS-1', 'Summary': 'Mail slow', 'Status': 'Closed', 'Assignee': 'Eli Novak'},
        **{'Created': '2024-03-04 09:00', 'Resolved': '2024-03-04 12:00', 'Resolution': 'Done'},
    ),
    # Closed (cancelled) without a resolution time: one row per ticket, nothing to time it by.
    issue(
        **COMMON,
        **{'Issue key': 'OPS-2', 'Summary': 'Duplicate report', 'Status': 'Canceled'},
        **{'Created': '2024-03-04 09:05'},
    ),
    # Resolved (awaiting the caller) at 16:00: six hours.
    issue(
        **COMMON,
        **{'Issue key': 'OPS-3', 'Summary': 'Printer fixed', 'Status': 'Resolved', 'Assignee': 'Eli Novak'},
        **{'Created': '2024-03-04 10:00', 'Resolved': '2024-03-04 16:00', 'Resolution': 'Done'},
    ),
]
LOG_HEADER = (
    'number,incident_state,active,reassignment_count,reopen_count,sys_mod_count,made_sla,caller_id,opened_by,'
    'opened_at,sys_created_by,sys_created_at,sys_updated_by,sys_updated_at,contact_type,location,category,'
    'subcategory,u_symptom,cmdb_ci,impact,urgency,priority,assignment_group,assigned_to,knowledge,'
    'u_priority_confirmation,notify,problem_id,rfc,vendor,caused_by,closed_code,resolved_by,resolved_at,closed_at'
)


def log_row(number: str, state: str, updated: str, resolved_at: str = '?') -> str:
    return (
        f'{number},{state},true,0,0,1,true,Caller 1,Opened by 1,1/3/2016 09:00,Created by 1,1/3/2016 09:00,'
        f'Updated by 1,{updated},Phone,Location 1,Category 1,Subcategory 1,Symptom 1,?,2 - Medium,2 - Medium,'
        f'3 - Moderate,Group 1,Resolver 1,false,false,Do Not Notify,?,?,?,?,code 1,Resolved by 1,{resolved_at},'
        '3/3/2016 09:00'
    )


class ClosedWithoutResolutionTests(ItsmTestCase):
    def write(self, lines: list[str], name: str = 'export.csv') -> Path:
        folder = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, folder)
        path = folder / name
        path.write_text('\n'.join(lines) + '\n')
        return path

    def test_one_row_per_ticket_closed_without_a_resolution_time(self):
        out, _, error = run_import(self.write([HEADER, *ISSUES]), *JSM)
        self.assertIsNone(error)
        self.assertIn('1 closed without resolution (the source recorded no resolution time)', out)
        done, cancelled, resolved = (Ticket.objects.get(source_number=f'OPS-{n}') for n in (1, 2, 3))
        self.assertEqual((done.state, done.completed_at), ('closed', utc('2024-03-04 12:00')))
        self.assertEqual(cancelled.state, 'closed')
        self.assertIsNone(cancelled.completed_at)
        self.assertIsNotNone(cancelled.closed_at)
        self.assertEqual(resolved.completed_at, utc('2024-03-04 16:00'))
        entry = self.timeline(cancelled, TimelineKind.IMPORT).last()
        self.assertIn('without recording a resolution time', entry.message)
        self.assertTrue(entry.data['closed_without_resolution'])
        self.assertFalse(self.timeline(done, TimelineKind.IMPORT).last().data['closed_without_resolution'])
        # MTTR counts the two resolved tickets (3 h and 6 h), not the cancelled one with a duration of nothing.
        march = Slice(start=dt.date(2024, 3, 1), end=dt.date(2024, 3, 31))
        mttr = report_selectors.measure('mttr', march)
        self.assertEqual((mttr['count'], mttr['mean_hours']), (2, 4.5))
        # A second run over the same file changes nothing, and says nothing about it.
        out, _, _ = run_import(self.write([HEADER, *ISSUES]), *JSM)
        self.assertNotIn('closed without resolution', out)

    def test_event_log_closed_straight_from_active(self):
        rows = [
            # Resolved, then closed: the resolution is when it was resolved, though resolved_at is missing.
            log_row('INC1', 'Active', '1/3/2016 10:00'),
            log_row('INC1', 'Resolved', '1/3/2016 15:00'),
            log_row('INC1', 'Closed', '3/3/2016 09:00'),
            # Closed straight from Active, no resolved_at: closed without resolution.
            log_row('INC2', 'Active', '1/3/2016 10:00'),
            log_row('INC2', 'Closed', '1/3/2016 10:07'),
        ]
        out, _, error = run_import(self.write([LOG_HEADER, *rows]), *SERVICENOW)
        self.assertIsNone(error)
        self.assertIn('1 closed without resolution', out)
        resolved, closed = Ticket.objects.get(source_number='INC1'), Ticket.objects.get(source_number='INC2')
        self.assertEqual(resolved.completed_at, utc('2016-03-01 15:00'))
        self.assertEqual(
            (closed.state, closed.completed_at, closed.closed_at), ('closed', None, utc('2016-03-03 09:00'))
        )
        mttr = report_selectors.measure('mttr', Slice(start=dt.date(2016, 3, 1), end=dt.date(2016, 3, 31)))
        self.assertEqual((mttr['count'], mttr['mean_hours']), (1, 6.0))

    def test_the_plan_says_so(self):
        mapping = shipped_mapping('jira-service-management')
        with SourceFile(self.write([HEADER, *ISSUES]), mapping) as source:
            plans = [build_ticket(mapping, t, on_bad_row=self.fail) for t in source.tickets(self.fail)]
        self.assertEqual(
            [(p.key, p.closed_without_resolution) for p in plans], [('OPS-1', False), ('OPS-2', True), ('OPS-3', False)]
        )
        self.assertIsNone(plans[1].values['completed_at'])
