"""Change measures on a hand-built desk with known answers: the success rate, the emergency share, the changes
that caused incidents and the lead times, by week and with the group and service filters; in the metrics API and
on the change dashboard (with its query count), linked from the overview."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from django.urls import reverse

from changes import measures
from changes.choices import ChangeOutcome, ChangeState, ChangeType
from changes.models import Change, IncidentCause
from itsm import audit
from itsm.choices import Role, TimelineKind
from reports import registry
from reports.slices import Slice
from tests.base import ItsmTestCase
from tests.cmdb.factories import make_service
from tests.factories import SupportGroupFactory, make_ticket, make_user

from .factories import SYSTEM

S, T, OUT = ChangeState, ChangeType, ChangeOutcome
UTC = dt.UTC
FIRST, LAST = dt.date(2026, 2, 23), dt.date(2026, 3, 8)
RANGE = {'from': FIRST.isoformat(), 'to': LAST.isoformat(), 'interval': 'week'}
WEEKS = Slice(start=FIRST, end=LAST, interval='week')


def at(month: int, day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, 0, tzinfo=UTC)


class Desk:
    """Changes whose figures are worked out by hand in the tests below."""

    def __init__(self):
        self.group = SupportGroupFactory(name='Platform')
        self.service = make_service(name='Mail').ci
        # Closed with an outcome: c5 (backed out, 1 March), c3 (with issues, 4 March), c1 (5 March), c2 (failed, 6).
        # Lead times to authorised: c1 24 h, c2 48 h, c3 6 h, c5 24 h; c4 skips the CAB, scheduled after 2 h.
        # To closed: c1 72 h, c2 96 h, c3 24 h, c5 96 h.
        self.c1 = self.change(
            T.NORMAL,
            at(3, 2),
            S.CLOSED,
            authorized=at(3, 3),
            started=at(3, 4),
            closed=at(3, 5),
            outcome=OUT.SUCCESSFUL,
            group=self.group,
            service=True,
        )
        self.c2 = self.change(
            T.NORMAL, at(3, 2), S.CLOSED, authorized=at(3, 4), started=at(3, 5), closed=at(3, 6), outcome=OUT.FAILED
        )
        self.c3 = self.change(
            T.EMERGENCY,
            at(3, 3),
            S.CLOSED,
            authorized=at(3, 3, 18),
            started=at(3, 3, 20),
            closed=at(3, 4),
            outcome=OUT.SUCCESSFUL_WITH_ISSUES,
            service=True,
        )
        self.c4 = self.change(T.STANDARD, at(3, 4), S.IMPLEMENTATION, started=at(3, 6))
        audit.record(
            self.c4,
            actor=SYSTEM,
            kind=TimelineKind.TRANSITION,
            at=at(3, 4, 14),
            data={'action': 'schedule', 'from': S.ASSESSMENT, 'to': S.SCHEDULED},
        )
        self.c5 = self.change(
            T.NORMAL,
            at(2, 25),
            S.CLOSED,
            authorized=at(2, 26),
            started=at(2, 27),
            closed=at(3, 1),
            outcome=OUT.BACKED_OUT,
        )
        # Not raised: a draft, and a draft cancelled before submission; raised but cancelled later; rejected.
        self.c6 = self.change(T.EMERGENCY, at(3, 5), S.DRAFT)
        self.c7 = self.change(T.EMERGENCY, at(3, 5), S.CANCELLED, closed=at(3, 5, 13))
        audit.record(
            self.c7,
            actor=SYSTEM,
            kind=TimelineKind.TRANSITION,
            at=at(3, 5, 13),
            data={'action': 'cancel', 'from': S.DRAFT, 'to': S.CANCELLED},
        )
        self.c8 = self.change(T.NORMAL, at(3, 5), S.CANCELLED, closed=at(3, 6))
        self.c10 = self.change(T.EMERGENCY, at(3, 7), S.REJECTED, closed=at(3, 7, 15))
        # Outside the slice.
        self.c9 = self.change(
            T.NORMAL,
            at(1, 10),
            S.CLOSED,
            authorized=at(1, 11),
            started=at(1, 12),
            closed=at(1, 20),
            outcome=OUT.SUCCESSFUL,
        )
        # c2 caused two incidents, c3 one, c9 (outside) one.
        for change in (self.c2, self.c2, self.c3, self.c9):
            IncidentCause.objects.create(incident=make_ticket(), change=change)

    def change(
        self,
        change_type,
        opened,
        state,
        *,
        authorized=None,
        started=None,
        closed=None,
        outcome='',
        group=None,
        service=False,
    ) -> Change:
        change = Change.objects.create(
            short_description=f'{change_type} change opened {opened:%d %b}',
            change_type=change_type,
            state=state,
            opened_at=opened,
            authorized_at=authorized,
            actual_start=started,
            closed_at=closed,
            outcome=outcome,
            assignment_group=group,
        )
        if service:
            change.services.add(self.service)
        return change


class MeasureTests(ItsmTestCase):
    @classmethod
    def setUpTestData(cls):
        cls.desk = Desk()

    def test_success_rate(self):
        figures = measures.change_success_rate(WEEKS)
        self.assertEqual(
            {k: figures[k] for k in ('closed', 'succeeded', 'successful', 'failed', 'backed_out', 'percent')},
            {'closed': 4, 'succeeded': 2, 'successful': 1, 'failed': 1, 'backed_out': 1, 'percent': 50.0},
        )
        self.assertEqual(
            [(p['period'], p['closed'], p['percent']) for p in figures['series']],
            [('2026-02-23', 1, 0.0), ('2026-03-02', 3, 66.7)],
        )

    def test_emergency_share(self):
        figures = measures.emergency_share(WEEKS)
        self.assertEqual(
            {k: figures[k] for k in ('changes', 'emergency', 'normal', 'standard', 'percent')},
            {'changes': 7, 'emergency': 2, 'normal': 4, 'standard': 1, 'percent': 28.6},
        )
        self.assertEqual([(p['changes'], p['percent']) for p in figures['series']], [(1, 0.0), (6, 33.3)])

    def test_changes_causing_incidents(self):
        figures = measures.changes_causing_incidents(WEEKS)
        self.assertEqual(
            {k: figures[k] for k in ('implemented', 'caused', 'incidents', 'percent')},
            {'implemented': 5, 'caused': 2, 'incidents': 3, 'percent': 40.0},
        )
        self.assertEqual([(p['implemented'], p['caused']) for p in figures['series']], [(1, 0), (4, 2)])

    def test_lead_times(self):
        figures = measures.change_lead_time(WEEKS)
        self.assertEqual(figures['approval'], {'count': 5, 'mean_hours': 20.8, 'median_hours': 24.0, 'p90_hours': 38.4})
        self.assertEqual(figures['closure'], {'count': 4, 'mean_hours': 72.0, 'median_hours': 84.0, 'p90_hours': 96.0})
        first = figures['series'][0]
        self.assertEqual((first['approval']['mean_hours'], first['closure']['mean_hours']), (24.0, 96.0))

    def test_filters(self):
        by_group = WEEKS.replace(group=self.desk.group.pk)
        self.assertEqual(measures.change_success_rate(by_group)['closed'], 1)
        self.assertEqual(measures.change_success_rate(by_group)['percent'], 100.0)
        by_service = WEEKS.replace(service=self.desk.service.pk)
        self.assertEqual(measures.change_success_rate(by_service)['closed'], 2)
        self.assertEqual(measures.emergency_share(by_service)['percent'], 50.0)
        self.assertEqual(measures.change_lead_time(by_service)['approval']['count'], 2)
        no_group = WEEKS.replace(group=0)
        self.assertEqual(measures.change_success_rate(no_group)['closed'], 3)


class MetricsAPITests(ItsmTestCase):
    @classmethod
    def setUpTestData(cls):
        cls.desk = Desk()
        cls.manager = make_user(Role.CHANGE_MANAGER)

    def call(self, measure, params=None, user=None):
        client = self.api_client(user or self.manager)
        return client.get(reverse('api:metric-detail', args=[measure]), params or {})

    def test_each_measure_answers_with_its_definition(self):
        response = self.call('change_success_rate', RANGE)
        self.assertHttpStatus(response, 200)
        data = response.data
        self.assertEqual((data['measure'], data['closed'], data['percent']), ('change_success_rate', 4, 50.0))
        self.assertEqual(data['definition'], measures.MEASURES['change_success_rate'].definition)
        self.assertEqual(len(data['series']), 2)
        self.assertEqual(self.call('emergency_change_share', RANGE).data['percent'], 28.6)
        self.assertEqual(self.call('changes_causing_incidents', RANGE).data['incidents'], 3)
        self.assertEqual(self.call('change_lead_time', RANGE).data['approval']['mean_hours'], 20.8)
        filtered = self.call('change_success_rate', {**RANGE, 'service': self.desk.service.pk}).data
        self.assertEqual((filtered['closed'], filtered['filters']), (2, {'service': self.desk.service.pk}))

    def test_unsupported_filters_and_readers(self):
        response = self.call('change_success_rate', {**RANGE, 'priority': '1'})
        self.assertHttpStatus(response, 400)
        self.assertHttpStatus(self.call('change_lead_time', user=make_user(Role.REQUESTER)), 403)
        self.assertHttpStatus(self.call('change_lead_time', user=make_user(Role.SERVICE_DESK_AGENT)), 200)


class DashboardPageTests(ItsmTestCase):
    @classmethod
    def setUpTestData(cls):
        cls.desk = Desk()
        cls.manager = make_user(Role.CHANGE_MANAGER)

    def setUp(self):
        self.client.force_login(self.manager)

    def test_dashboard_shows_every_figure(self):
        response = self.client.get(reverse('changes:dashboard'), RANGE)
        self.assertHttpStatus(response, 200)
        figures = response.context['figures']
        self.assertEqual(figures['change_success_rate']['percent'], 50.0)
        self.assertEqual(figures['emergency_change_share']['percent'], 28.6)
        for chart in ('chart-change-success', 'chart-emergency-share', 'chart-changes-causing-incidents'):
            self.assertContains(response, f'{chart}-data')
        self.assertContains(response, '20.8')
        self.assertEqual([row['success']['period'] for row in response.context['trend']], ['2026-02-23', '2026-03-02'])

    def test_query_count_does_not_grow_with_changes(self):
        url = reverse('changes:dashboard')
        self.client.get(url, RANGE)
        before = self.count_queries(lambda: self.client.get(url, RANGE))
        Desk.change(
            self.desk,
            T.NORMAL,
            at(3, 3),
            S.CLOSED,
            authorized=at(3, 4),
            started=at(3, 5),
            closed=at(3, 6),
            outcome=OUT.SUCCESSFUL,
        )
        self.assertEqual(self.count_queries(lambda: self.client.get(url, RANGE)), before)

    def test_who_may_see_it_and_the_overview_links_it(self):
        self.client.force_login(make_user(Role.REQUESTER))
        self.assertHttpStatus(self.client.get(reverse('changes:dashboard')), 403)
        self.client.force_login(make_user(Role.MANAGER))
        overview = self.client.get(reverse('reports:overview'))
        self.assertContains(overview, reverse('changes:dashboard'))


def test_reports_imports_nothing_of_changes():
    """Change measures reach the metrics API through `reports.registry`: reports stays free of the changes app."""
    root = Path(__file__).resolve().parents[2] / 'reports'
    offending = [
        str(path.relative_to(root))
        for path in root.rglob('*.py')
        if re.search(r'^\s*(from|import)\s+changes\b', path.read_text(), flags=re.MULTILINE)
    ]
    assert offending == []
    assert set(measures.MEASURES) <= {m.slug for m in registry.registered()}
