"""Durations counted on business calendars read as business hours ("30 business hours"); round-the-clock durations
keep the compact calendar form ("1d 6h"): targets, time used, time left and missed-by, on pages, badges and
e-mails."""

from django.core import mail
from django.template import Context, Template
from django.urls import reverse

from incidents import services as tickets
from itsm.audit import Actor
from itsm.choices import Role
from sla import services as sla_services
from sla.badges import badge_for, counts_business_hours, format_business, format_clock_time, format_target
from sla.models import ServiceLevelAgreement
from tests.base import ItsmTestCase
from tests.factories import make_group_with_agent, make_ticket
from tests.sla.factories import all_priorities, always, berlin, frozen, make_calendar


def render(source: str, **context) -> str:
    return Template('{% load sla %}' + source).render(Context(context))


class FormatTests(ItsmTestCase):
    def test_business_time_in_words(self):
        cases = {
            0: '0 business minutes',
            60: '1 business minute',
            25 * 60: '25 business minutes',
            3600: '1 business hour',
            2 * 3600 + 15 * 60: '2 business hours 15 min',
            30 * 3600: '30 business hours',
            1234 * 3600: '1,234 business hours',
            -90 * 60: '1 business hour 30 min',
        }
        for seconds, text in cases.items():
            self.assertEqual(format_business(seconds), text)

    def test_business_calendars_say_business_hours_and_round_the_clock_ones_keep_days(self):
        office, round_the_clock = make_calendar(), always()
        self.assertTrue(counts_business_hours(office))
        self.assertFalse(counts_business_hours(round_the_clock))
        self.assertEqual(format_target(1800, office), '30 business hours')
        self.assertEqual(format_target(1800, round_the_clock), '1d 6h')
        self.assertEqual(format_clock_time(8100, office), '2 business hours 15 min')
        self.assertEqual(format_clock_time(8100, round_the_clock), '2h 15m')
        self.assertEqual(render('{{ m|sla_target:c }}', m=135, c=office), '2 business hours 15 min')
        self.assertEqual(render('{{ m|sla_target:c }}', m=135, c=round_the_clock), '2h 15m')
        self.assertEqual(render('{{ m|sla_target }}', m=135), '2h 15m')

    def test_every_hour_open_but_with_holidays_is_a_business_calendar(self):
        every_hour = {day: ['00:00-24:00'] for day in ('mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun')}
        self.assertFalse(counts_business_hours(make_calendar('Plain', hours=every_hour, holiday_country='')))
        self.assertTrue(counts_business_hours(make_calendar('Closed on holidays', hours=every_hour)))


class ClockTests(ItsmTestCase):
    def setUp(self):
        self.office = make_calendar()
        all_priorities(response=60, resolution=1800, calendar=self.office)
        self.group, self.agent = make_group_with_agent()

    def test_panel_and_badges_of_a_business_hours_clock(self):
        with frozen(berlin(2026, 3, 2, 9)) as now:  # Monday 09:00, the office is open
            ticket = make_ticket(state='assigned', group=self.group, agent=self.agent)
            now.advance(minutes=30)
            tickets.ticket_accept(ticket=ticket, actor=Actor(user=self.agent))
            now.advance(hours=2, minutes=15)
            html = render('{% sla_panel t %}', t=ticket)
            resolution = ticket.sla_clocks.select_related('calendar').get(kind='resolution')
            tickets.ticket_pend(ticket=ticket, actor=Actor(user=self.agent), reason='customer')
            resolution.refresh_from_db()
            paused = badge_for(resolution)
        self.assertIn('30 business hours on Office', html)
        self.assertIn('2 business hours 45 min (9 %)', html)  # used since 09:00, accepted at 09:30
        self.assertNotIn('1d 6h', html)
        self.assertEqual(paused.text, 'paused · 27 business hours 15 min left')
        self.assertIn('27 business hours 15 min left of 30 business hours on Office', paused.title)

    def test_a_missed_target_says_by_how_many_business_hours(self):
        with frozen(berlin(2026, 3, 2, 9)) as now:
            ticket = make_ticket(state='assigned', group=self.group, agent=self.agent)
            now.advance(hours=3, minutes=15)
            tickets.ticket_accept(ticket=ticket, actor=Actor(user=self.agent))
            response = ticket.sla_clocks.select_related('calendar').get(kind='response')
        self.assertEqual(badge_for(response).text, 'missed by 2 business hours 15 min')

    def test_round_the_clock_clocks_keep_the_calendar_form(self):
        ServiceLevelAgreement.objects.update(calendar=always())
        with frozen(berlin(2026, 3, 2, 9)) as now:
            ticket = make_ticket(state='accepted', group=self.group, agent=self.agent)
            now.advance(hours=2)
            html = render('{% sla_panel t %}', t=ticket)
        self.assertIn('1d 6h on 24×7', html.replace('24x7', '24×7'))
        self.assertIn('2h 00m', html)
        self.assertNotIn('business hour', html)

    def test_agreement_pages_show_targets_in_business_hours(self):
        self.client.force_login(self.make_user(Role.SERVICE_OWNER))
        listing = self.client.get(reverse('sla:servicelevelagreement_list'))
        self.assertContains(listing, '30 business hours')
        self.assertContains(listing, '1 business hour')
        agreement = ServiceLevelAgreement.objects.get(priority=3)
        detail = self.client.get(agreement.get_absolute_url())
        self.assertContains(detail, '30 business hours')

    def test_warning_e_mails_give_the_target_in_business_hours(self):
        self.group.email = 'desk@example.com'
        self.group.save()
        with frozen(berlin(2026, 3, 2, 9)) as now:
            make_ticket(state='accepted', group=self.group, agent=self.agent)
            mail.outbox.clear()
            now.set(berlin(2026, 3, 4, 17))  # Wednesday 17:00: 28 of the 30 business hours used
            with self.captureOnCommitCallbacks(execute=True):
                sla_services.sla_sweep()
        bodies = [m.body for m in mail.outbox if 'SLA warning' in m.subject]
        self.assertTrue(bodies)
        for body in bodies:
            self.assertIn('Target: 30 business hours on the Office calendar', body)
