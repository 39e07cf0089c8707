"""Histories say structured values in words: weekly hours, holidays, dates, yes/no and "empty", never Python reprs."""

import datetime as dt
import re

from django.template.loader import render_to_string
from django.test import override_settings
from django.urls import reverse

from itsm.audit import Actor, in_words
from itsm.choices import Role, TimelineKind
from itsm.selectors import timeline_for
from sla import services as sla_services
from tests.base import ItsmTestCase
from tests.factories import make_ticket
from tests.sla.factories import make_calendar

WEEKDAYS = ('mon', 'tue', 'wed', 'thu', 'fri')
REPR = re.compile(r'\[\'|\{\'|&#x27;\]|\[&#x27;|\{&#x27;|None|True|False')


def changes_html(html: str) -> str:
    """The before/after tables of a rendered timeline."""
    return ''.join(re.findall(r'<table class="pc-changes">.*?</table>', html, flags=re.S))


class InWordsTests(ItsmTestCase):
    def test_scalars(self):
        self.assertEqual(in_words(None), 'empty')
        self.assertEqual(in_words(''), 'empty')
        self.assertEqual(in_words([]), 'empty')
        self.assertEqual(in_words({}), 'empty')
        self.assertEqual(in_words(True), 'yes')
        self.assertEqual(in_words(False), 'no')
        self.assertEqual(in_words(3), '3')
        self.assertEqual(in_words('Printer jammed'), 'Printer jammed')

    def test_dates_and_times(self):
        self.assertEqual(in_words('2027-01-01'), '1 Jan 2027')
        self.assertEqual(in_words(dt.date(2027, 1, 1)), '1 Jan 2027')
        with override_settings(TIME_ZONE='UTC'):
            self.assertEqual(in_words('2026-12-05T14:05:00+00:00'), '5 Dec 2026 14:05 UTC')
        self.assertEqual(in_words('2027-13-45'), '2027-13-45', 'not a date: kept as written')

    def test_weekly_hours(self):
        hours = {day: ['08:00-18:00'] for day in WEEKDAYS}
        self.assertEqual(in_words(hours), 'Monday–Friday 08:00–18:00')
        hours['fri'] = ['08:00-12:00', '13:00-17:00']
        hours['sun'] = []
        self.assertEqual(in_words(hours), 'Monday–Thursday 08:00–18:00; Friday 08:00–12:00, 13:00–17:00; Sunday closed')
        self.assertEqual(
            in_words({'mon': ['08:00-18:00'], 'wed': ['08:00-18:00']}), 'Monday 08:00–18:00; Wednesday 08:00–18:00'
        )

    def test_holidays_and_other_mappings(self):
        holidays = [{'date': '2027-01-01', 'name': "New Year's Day"}, {'date': '2026-12-24'}]
        self.assertEqual(in_words(holidays), "1 Jan 2027 (New Year's Day); 24 Dec 2026")
        self.assertEqual(
            in_words({'from': 'new', 'due_at': None, 'paused': True}), 'From: new; Due at: empty; Paused: yes'
        )
        self.assertEqual(in_words(['Network', 'Printers']), 'Network, Printers')


class CalendarHistoryTests(ItsmTestCase):
    def setUp(self):
        self.admin = self.make_user(Role.ADMINISTRATOR)
        self.calendar = make_calendar(custom_holidays=[])

    def update(self, **fields):
        sla_services.calendar_update(calendar=self.calendar, actor=Actor(user=self.admin), **fields)

    def history(self) -> str:
        entries = timeline_for(self.calendar).filter(kind=TimelineKind.FIELD_CHANGE)
        return changes_html(render_to_string('includes/_timeline.html', {'timeline': entries, 'object': self.calendar}))

    def test_an_hours_change_reads_as_days_and_times(self):
        hours = {day: ['08:00-18:00'] for day in WEEKDAYS}
        hours['mon'] = ['09:00-17:00']
        self.update(hours=hours)
        html = self.history()
        self.assertIn('Monday–Friday 08:00–18:00', html)
        self.assertIn('Monday 09:00–17:00; Tuesday–Friday 08:00–18:00', html)
        self.assertNotRegex(html, REPR)

    def test_a_holiday_change_reads_as_dates_with_names(self):
        self.update(custom_holidays=[{'date': '2027-01-01', 'name': "New Year's Day"}])
        html = self.history()
        self.assertIn('empty', html)
        self.assertIn('1 Jan 2027 (New Year&#x27;s Day)', html)
        self.assertNotIn("'date'", html)
        self.assertNotRegex(html, REPR)

    def test_the_calendar_page_shows_the_history_in_words(self):
        self.update(custom_holidays=[{'date': '2027-01-01', 'name': 'Founders day'}])
        self.client.force_login(self.admin)
        response = self.client.get(reverse('sla:businesscalendar_detail', args=[self.calendar.pk]))
        self.assertHttpStatus(response, 200)
        html = changes_html(response.content.decode())
        self.assertIn('1 Jan 2027 (Founders day)', html)
        self.assertNotIn('date&#x27;', html)


class TicketHistoryTests(ItsmTestCase):
    def test_a_ticket_field_change_reads_in_words(self):
        from incidents import services as ticket_services

        agent = self.make_user(Role.SERVICE_DESK_AGENT)
        ticket = make_ticket()
        eta = dt.datetime(2027, 1, 4, 9, 30, tzinfo=dt.UTC)
        ticket_services.ticket_update(ticket=ticket, actor=Actor(user=agent), eta=eta, symptom='Paper jam')
        self.client.force_login(agent)
        with override_settings(TIME_ZONE='UTC'):
            response = self.client.get(ticket.get_absolute_url())
        self.assertHttpStatus(response, 200)
        html = changes_html(response.content.decode())
        self.assertIn('ETA', html)
        self.assertIn('4 Jan 2027 09:30', html)
        self.assertIn('Paper jam', html)
        self.assertIn('empty', html)
        self.assertNotIn('2027-01-04T09:30', html)
        self.assertNotRegex(html, REPR)
