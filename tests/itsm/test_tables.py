"""Cells drawn in Python write the HTML the templates they replace write, and a table draws without a query."""

from unittest import mock

from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext

from incidents import selectors
from incidents.choices import PRIORITY_COLOURS, STATE_COLOURS, TicketState
from incidents.views import cells
from incidents.views.tickets import TICKET_COLUMNS
from itsm import tables
from itsm.views.generic import Column
from tests.base import ItsmTestCase
from tests.factories import make_group_with_agent, make_ticket


class CellHtmlTests(ItsmTestCase):
    def setUp(self):
        self.desk, self.agent = make_group_with_agent(name='Service Desk')

    def test_badges_match_their_templates(self):
        for text, color, icon in (('Open', 'green', ''), ('<b>x</b>', '', 'alert'), ('Done', 'secondary', 'check')):
            with self.subTest(text=text):
                expected = render_to_string('includes/_badge.html', {'text': text, 'color': color, 'icon': icon})
                self.assertEqual(tables.badge_html(text, color, icon), expected)

    def test_priority_and_state_badges_match_their_templates(self):
        ticket = make_ticket(state=TicketState.ACCEPTED, group=self.desk, agent=self.agent)
        for priority in (0, 1, 2, 4):
            with self.subTest(priority=priority):
                expected = render_to_string(
                    'incidents/_priority.html', {'priority': priority, 'priority_colours': PRIORITY_COLOURS}
                )
                self.assertEqual(cells.priority_badge(priority), expected)
        expected = render_to_string('incidents/_state.html', {'ticket': ticket, 'state_colours': STATE_COLOURS})
        self.assertEqual(cells.state_badge(ticket), expected)

    def test_sla_badges_match_the_sla_template(self):
        from sla.badges import Badge

        badges = [
            Badge(1, 'Resolution', '2h 5m left', 'green', 'running', 'clock', 'Due <soon>', due='2027-01-01T10:00'),
            Badge(2, 'Response', 'overdue 1h', 'red', 'breached', 'alarm', 'Missed', risk='high'),
        ]
        with mock.patch('sla.badges.badges_for', return_value=badges):
            drawn = cells.sla_badge_list([], None)
        self.assertEqual(drawn, render_to_string('sla/_badge_list.html', {'badges': badges, 'script': False}))

    def test_escaping_is_djangos(self):
        self.assertEqual(
            cells.format_html('<a title="{}">{}</a>', '"Tom" & <Jerry>', "it's"),
            ('<a title="&quot;Tom&quot; &amp; &lt;Jerry&gt;">it&#x27;s</a>'),
        )

    def test_a_ticket_table_draws_without_a_query(self):
        for _ in range(3):
            make_ticket(state=TicketState.ACCEPTED, group=self.desk, agent=self.agent)
        tickets = list(selectors.ticket_list().order_by('pk')[:50])
        columns = [c.bind(type(tickets[0]), selectors.ticket_list()) for c in [*TICKET_COLUMNS, Column('kind')]]
        from django.db import connection

        with CaptureQueriesContext(connection) as queries:
            rows = tables.table_rows(tickets, columns)
        self.assertEqual(len(queries.captured_queries), 0)
        self.assertEqual(len(rows), 3)
        self.assertIn(tickets[0].number, rows[0])
