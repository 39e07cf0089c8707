"""A one-row-per-ticket export (Jira Service Management layout, tests/imports/data/jsm_export.csv): current
values only, no history. Rows 2-3 are one quoted record (a two-line description)."""

from __future__ import annotations

from django.core import mail

from incidents.models import Ticket
from itsm.choices import TimelineKind
from itsm.models import SupportGroup
from sla.models import SlaClock
from tests.base import ItsmTestCase

from .helpers import JSM_EXPORT, run_import, utc

FORMAT = ('--format', 'jira-service-management', '--no-progress')


class OneRowPerTicketTests(ItsmTestCase):
    @classmethod
    def setUpTestData(cls):
        mail.outbox = []
        cls.out, cls.err, cls.error = run_import(JSM_EXPORT, *FORMAT)
        cls.outbox = list(mail.outbox)

    def ticket(self, key: str) -> Ticket:
        return Ticket.objects.get(source_system='jsm', source_number=key)

    def test_summary_with_bad_rows_and_failed_tickets(self):
        self.assertIn('7 rows, 7 tickets', self.out)
        self.assertIn('created 5 · updated 0 · unchanged 0 · failed 2', self.out)
        self.assertIn('line 7: ITSM-105: Status: "Blocked" is not in the value map of fields.state', self.out)
        self.assertIn('line 9: ITSM-107: Created: "31/Feb/24 9:00 AM" is not a date and time like', self.out)
        self.assertIn('2 ticket(s) not imported', str(self.error))

    def test_open_tickets_keep_their_state(self):
        vpn = self.ticket('ITSM-101')
        self.assertEqual((vpn.state, vpn.assignment_group.name, vpn.priority), ('assigned', 'Network Team', 2))
        self.assertEqual((vpn.impact, vpn.urgency, vpn.priority_override_reason), ('medium', 'urgent', ''))
        self.assertEqual(vpn.description, 'Since Monday the VPN client disconnects\nabout once an hour.')
        self.assertEqual((vpn.opened_at, vpn.assigned_at, vpn.accepted_at), (utc('2024-03-04 09:15'),) * 2 + (None,))
        self.assertEqual((vpn.category.name, vpn.channel), ('VPN', 'portal'))
        self.assertEqual(
            vpn.source_data,
            {'request_type': 'Report a problem', 'labels': 'vpn', 'updated': '2024-03-04T09:20:00+00:00', 'events': 0},
        )
        printer = self.ticket('ITSM-102')
        self.assertEqual(
            (printer.state, printer.assignee.first_name, printer.channel), ('accepted', 'Dee Okafor', 'email')
        )
        self.assertIn(printer.assignee, SupportGroup.objects.get(name='Desktop Support').members.all())
        # E-mail without impact or urgency is P4 by the matrix; the export says Medium (P3), which is kept.
        self.assertEqual(printer.priority, 3)
        self.assertIn('the matrix gives P4', printer.priority_override_reason)
        laptop = self.ticket('ITSM-103')
        self.assertEqual((laptop.kind, laptop.state, laptop.pending_reason), ('case', 'pending', 'customer'))
        self.assertRegex(laptop.number, r'^CS\d{7}$')

    def test_finished_tickets_with_resolution_and_sla_verdict(self):
        mail_ticket = self.ticket('ITSM-104')
        self.assertEqual((mail_ticket.state, mail_ticket.priority), ('closed', 1))
        self.assertEqual(
            (mail_ticket.resolution_code, mail_ticket.resolution_notes),
            ('solved_permanently', 'Queue on the relay cleared.'),
        )
        self.assertEqual(
            (mail_ticket.completed_at, mail_ticket.closed_at), (utc('2024-03-07 09:35'), utc('2024-03-07 09:35'))
        )
        login = self.ticket('ITSM-106')
        self.assertEqual((login.state, login.resolution_code), ('completed', 'solved_workaround'))
        self.assertEqual(login.completed_at, utc('2024-03-11 16:30'))  # the second date format
        states = dict(SlaClock.objects.values_list('ticket__source_number', 'state'))
        self.assertEqual(states, {'ITSM-104': 'met', 'ITSM-106': 'breached'})
        self.assertFalse(SlaClock.objects.filter(stopped_at__isnull=True).exists())
        self.assertEqual(self.outbox, [])

    def test_no_history_but_one_import_entry_each(self):
        for key in ('ITSM-101', 'ITSM-102', 'ITSM-103', 'ITSM-104', 'ITSM-106'):
            entries = list(self.timeline(self.ticket(key)))
            self.assertEqual([e.kind for e in entries], [TimelineKind.IMPORT])
            self.assertIn(f'Imported from Jira Service Management {key} (1 source row from line', entries[0].message)

    def test_rerun_changes_nothing(self):
        out, _, error = run_import(JSM_EXPORT, *FORMAT)
        self.assertIn('created 0 · updated 0 · unchanged 5 · failed 2', out)
        self.assertIn('2 ticket(s) not imported', str(error))
        self.assertEqual(Ticket.objects.count(), 5)
