"""Dashboard figures on hand-built data: volume per day, MTTR and breaches in the period beside the same length of
time just before it; the page and the overview cost the same number of queries whatever the incidents."""

import datetime as dt

from django.urls import reverse

from hypercare import selectors
from incidents.models import Ticket
from itsm.choices import Role
from sla.models import SlaClock
from tests.base import ItsmTestCase
from tests.factories import make_ticket
from tests.sla.factories import all_priorities, frozen

from .factories import make_period, service_ci

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
START = NOW - dt.timedelta(days=4)  # 6 March 12:00; the baseline is 2 March 12:00 to 6 March 12:00


def at(day, hour):
    return dt.datetime(2026, 3, day, hour, 0, tzinfo=dt.UTC)


class DashboardTests(ItsmTestCase):
    def incident(self, opened_at, *, hours=None, breached=False, service=None, kind='incident'):
        ticket = make_ticket(service=service or self.service, kind=kind)
        completed = opened_at + dt.timedelta(hours=hours) if hours is not None else None
        Ticket.objects.filter(pk=ticket.pk).update(opened_at=opened_at, completed_at=completed)
        if breached:
            updated = SlaClock.objects.for_record(ticket).update(breached_at=opened_at + dt.timedelta(hours=1))
            self.assertTrue(updated, 'the ticket needs a clock to breach')
        return ticket

    def setUp(self):
        all_priorities()
        self.service = service_ci()

    def build(self):
        with self.settings(TIME_ZONE='UTC'), frozen(NOW):
            self.incident(at(3, 9), hours=10)  # baseline, lines up with 7 March
            self.incident(at(5, 20))  # baseline, open, lines up with 9 March
            self.incident(at(2, 11), hours=1)  # before the baseline: left out
            self.period = make_period(self.service, starts_at=START, ends_at=NOW + dt.timedelta(days=10))
            self.incident(at(6, 13), hours=2)
            self.incident(at(6, 15), hours=4)
            self.incident(at(8, 10), breached=True)
            self.incident(at(7, 10), service=service_ci())  # another service
            self.incident(at(7, 11), kind='case')  # not an incident

    def test_figures_against_the_weeks_before(self):
        self.build()
        with self.settings(TIME_ZONE='UTC'):
            board = selectors.dashboard(self.period, now=NOW)
        current, baseline = board.current, board.baseline
        self.assertEqual([d.day for d in current.days], [6, 7, 8, 9, 10])
        self.assertEqual(current.per_day, [2, 0, 1, 0, 0])
        self.assertEqual(baseline.per_day, [0, 1, 0, 1, 0])
        self.assertEqual((current.volume, current.resolved, current.mttr_hours, current.breaches), (3, 2, 3.0, 1))
        self.assertEqual((baseline.volume, baseline.resolved, baseline.mttr_hours, baseline.breaches), (2, 1, 10.0, 0))
        self.assertEqual(board.tagged, 3, 'the three incidents opened on the service in the period')
        rows = {row['label']: (row['current'], row['baseline']) for row in board.comparison()}
        self.assertEqual(rows['Incidents per day'], (0.6, 0.4))
        self.assertEqual(rows['Breach rate'], (33.3, 0.0))
        chart = board.chart()
        self.assertEqual(chart['labels'][0], '2026-03-06')
        self.assertEqual([d['data'] for d in chart['datasets']], [[2, 0, 1, 0, 0], [0, 1, 0, 1, 0]])

    def test_a_scheduled_period_has_no_figures_yet(self):
        period = make_period(self.service, starts_at=NOW + dt.timedelta(days=300), ends_at=NOW + dt.timedelta(days=310))
        board = selectors.dashboard(period)
        self.assertFalse(board.started)
        self.assertEqual(board.comparison(), [])

    def test_pages_cost_the_same_queries_whatever_the_incidents(self):
        period = make_period(self.service)
        self.client.force_login(self.make_user(Role.INCIDENT_MANAGER))
        detail, overview = period.get_absolute_url(), reverse('hypercare:hypercareperiod_list')
        make_ticket(service=self.service)
        self.client.get(detail)
        small = [self.count_queries(lambda url=url: self.client.get(url)) for url in (detail, overview)]
        for _ in range(4):
            make_ticket(service=self.service)
        make_period(service_ci())
        large = [self.count_queries(lambda url=url: self.client.get(url)) for url in (detail, overview)]
        self.assertEqual(small, large)
        response = self.client.get(detail)
        self.assertContains(response, 'data-testid="hypercare-figures"')
        self.assertContains(response, 'hypercare-volume-data')
