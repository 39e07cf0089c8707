"""`/api/v1/metrics/{measure}/` on the hand-built desk, its parameters and errors; scheduled and kept reports
through the generic API tests."""

from __future__ import annotations

from django.urls import reverse

from itsm.audit import Actor
from itsm.choices import Role
from reports import registry, services
from reports.measures import API_MEASURES
from reports.models import Report, ReportSchedule
from tests.base import APITestCases
from tests.factories import make_user
from tests.sla.factories import frozen

from .scenario import FIRST_DAY, LAST_DAY, NOW
from .test_views import DashboardTestCase

RANGE = {'from': FIRST_DAY.isoformat(), 'to': LAST_DAY.isoformat()}
SYSTEM = Actor.system()


def metric_url(measure: str) -> str:
    return reverse('api:metric-detail', args=[measure])


class MetricsAPITests(DashboardTestCase):
    def call(self, measure, params=None, user=None):
        client = self.api_client(user or self.manager)
        return client.get(metric_url(measure), params or {})

    def test_mttr_shape_and_figures(self):
        response = self.call('mttr', {**RANGE, 'interval': 'day'})
        self.assertHttpStatus(response, 200)
        data = response.data
        self.assertLessEqual({'count', 'mean_hours', 'median_hours', 'p90_hours', 'series'}, set(data))
        self.assertEqual((data['count'], data['mean_hours']), (4, 11.25))
        self.assertAlmostEqual(data['median_hours'], 8.0, delta=0.8)
        self.assertEqual(
            [p['period'] for p in data['series']], ['2026-03-02', '2026-03-03', '2026-03-04', '2026-03-05']
        )
        self.assertEqual([p['count'] for p in data['series']], [2, 1, 1, 0])
        self.assertEqual(data['source'], 'rollup')
        live = self.call('mttr', {**RANGE, 'source': 'live'}).data
        self.assertEqual((live['median_hours'], live['p90_hours'], live['source']), (8.0, 21.9, 'live'))

    def test_defaults_to_the_last_30_days_up_to_today(self):
        data = self.call('volume').data
        self.assertEqual((data['from'], data['to']), ('2026-02-19', '2026-03-20'))
        self.assertEqual((data['opened'], data['completed']), (6, 4))

    def test_every_measure_answers(self):
        for measure in API_MEASURES:
            with self.subTest(measure=measure):
                response = self.call(measure, {**RANGE, 'interval': 'week'})
                self.assertHttpStatus(response, 200)
                self.assertEqual(response.data['measure'], measure)
                self.assertTrue(response.data['definition'])
                self.assertEqual(len(response.data['series']), 1)

    def test_filters(self):
        desk = self.world.desk
        cases = [
            ({'group': desk.pk}, 3),
            ({'group': 'service desk'}, 3),
            ({'group': 'none'}, 0),
            ({'priority': 'P3'}, 4),
            ({'priority': '0,1'}, 0),
            ({'agent': 'bob'}, 1),
            ({'channel': 'portal'}, 4),
            ({'channel': 'phone'}, 0),
            ({'kind': 'case'}, 0),
        ]
        for params, count in cases:
            for source in ('rollup', 'live'):
                with self.subTest(params=params, source=source):
                    response = self.call('mttr', {**RANGE, **params, 'source': source})
                    self.assertHttpStatus(response, 200)
                    self.assertEqual(response.data['count'], count)

    def test_bad_parameters_are_named(self):
        cases = [
            ({'from': '2026-13-01'}, 'from'),
            ({'to': 'yesterday'}, 'to'),
            ({'from': '2026-03-05', 'to': '2026-03-01'}, 'from'),
            ({'interval': 'year'}, 'interval'),
            ({'priority': '9'}, 'priority'),
            ({'group': 'No such group'}, 'group'),
            ({'service': 'CI9999999'}, 'service'),
            ({'category': 'Nope'}, 'category'),
            ({'channel': 'fax'}, 'channel'),
            ({'agent': 'nobody'}, 'agent'),
            ({'prio': '1'}, 'prio'),
            ({'source': 'cache'}, 'source'),
            # The calendar's ends: arithmetic on them overflowed (a 500) before days were bounded.
            ({'from': '9999-12-31'}, 'from'),
            ({'to': '0001-01-01'}, 'to'),
            ({'from': '0001-01-01', 'to': '9999-12-31'}, 'from'),
        ]
        for params, name in cases:
            with self.subTest(params=params):
                response = self.call('mttr', params)
                self.assertHttpStatus(response, 400)
                self.assertIn(name, response.data)
                self.assertIsInstance(response.data[name], list)

    def test_rollups_cannot_combine_two_dimensions(self):
        params = {**RANGE, 'group': self.world.desk.pk, 'channel': 'phone'}
        self.assertHttpStatus(self.call('mttr', {**params, 'source': 'rollup'}), 400)
        auto = self.call('mttr', params)
        live = self.call('mttr', {**params, 'source': 'live'})
        self.assertEqual(auto.data['source'], 'live')
        self.assertEqual(auto.data['count'], live.data['count'])

    def test_rollups_hold_group_and_agent_together(self):
        params = {**RANGE, 'group': self.world.desk.pk, 'agent': 'alice'}
        rollup = self.call('mttr', {**params, 'source': 'rollup'})
        live = self.call('mttr', {**params, 'source': 'live'})
        self.assertEqual((rollup.data['source'], rollup.data['count']), ('rollup', 3))
        self.assertEqual(rollup.data['mean_hours'], live.data['mean_hours'])
        self.assertEqual([p['count'] for p in rollup.data['series']], [p['count'] for p in live.data['series']])

    def test_unknown_measure(self):
        response = self.call('speed')
        self.assertHttpStatus(response, 404)
        self.assertEqual(response.data['code'], 'not_found')
        self.assertIn('mttr', response.data['detail'])

    def test_who_may_read_metrics(self):
        self.assertHttpStatus(self.api_client().get(metric_url('mttr')), 401)
        response = self.call('mttr', user=self.world.alice)
        self.assertHttpStatus(response, 403)
        self.assertEqual(response.data['code'], 'permission_denied')
        self.assertHttpStatus(self.call('mttr', user=make_user(Role.INTEGRATION)), 200)

    def test_measure_list(self):
        response = self.api_client(self.manager).get(reverse('api:metric-list'))
        self.assertHttpStatus(response, 200)
        # The desk's measures, then those other apps register (problem management's).
        registered = [m.slug for m in registry.registered()]
        self.assertEqual([m['measure'] for m in response.data['measures']], [*API_MEASURES, *registered])

    def test_sla_and_backlog_payloads(self):
        sla = self.call('sla_compliance', RANGE).data
        self.assertEqual(sla['response']['percent'], 66.7)
        self.assertEqual(sla['agreements'][0]['figures']['sla_compliance']['overall']['breached'], 4)
        backlog = self.call('backlog', RANGE).data
        self.assertEqual(backlog['count'], 2)
        self.assertEqual([b['count'] for b in backlog['buckets']], [0, 0, 0, 2, 0])


def _manager():
    return make_user(Role.MANAGER)


class ReportScheduleAPITests(APITestCases.ModelAPITestCase):
    model = ReportSchedule
    basename = 'reportschedule'
    view_roles = (Role.INCIDENT_MANAGER,)
    write_roles = (Role.MANAGER,)
    denied_roles = (Role.SERVICE_DESK_AGENT,)
    update_data = {'name': 'Monthly MTTR', 'frequency': 'monthly'}
    read_only_fields = {'last_run_at': '2001-01-01T00:00:00Z'}

    def make_object(self, **kwargs):
        kwargs.setdefault('name', 'Weekly MTTR')
        return services.schedule_create(actor=SYSTEM, owner=_manager(), **kwargs)

    def create_data(self):
        return {'name': 'Weekly MTTR', 'owner': _manager().username, 'slices': ['priority', 'group']}

    def filter_cases(self):
        weekly = self.make_object(name='Desk weekly')
        monthly = self.make_object(name='Board monthly', frequency='monthly')
        return [({'frequency': 'monthly'}, [monthly]), ({'q': 'desk'}, [weekly])]

    def test_create_sets_the_next_send_time(self):
        with frozen(NOW):  # a Friday
            response = self.api_client(self.writer()).post(self.list_url(), self.create_data(), format='json')
        self.assertHttpStatus(response, 201)
        self.assertEqual(response.data['next_run_at'], '2026-03-23T07:00:00Z')

    def test_slices_are_checked(self):
        data = {**self.create_data(), 'slices': ['colour']}
        response = self.api_client(self.writer()).post(self.list_url(), data, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('slices', response.data)


class ReportAPITests(APITestCases.ModelAPITestCase):
    model = Report
    basename = 'report'
    view_roles = (Role.INCIDENT_MANAGER,)
    write_roles = (Role.MANAGER,)
    denied_roles = (Role.SERVICE_DESK_AGENT,)
    update_data = {'title': 'March MTTR', 'notes': 'For the review board'}
    read_only_fields = {'period_start': '2001-01-01'}

    def make_object(self, **kwargs):
        return services.report_generate(
            actor=SYSTEM, period_start=FIRST_DAY, period_end=LAST_DAY, slices=['priority'], **kwargs
        )

    def create_data(self):
        return {
            'period_start': '2026-03-02',
            'period_end': '2026-03-08',
            'slices': ['priority'],
            'filters': {'priority': '3'},
        }

    def filter_cases(self):
        first = self.make_object(title='Desk weekly')
        second = self.make_object(title='Board monthly')
        return [({'q': 'board'}, [second]), ({'q': 'desk'}, [first])]

    def test_generated_report_holds_figures_and_csv(self):
        response = self.api_client(self.writer()).post(self.list_url(), self.create_data(), format='json')
        self.assertHttpStatus(response, 201)
        self.assertEqual(response.data['filters'], {'priority': '3'})
        self.assertIn('count', response.data['summary'])
        csv_response = self.api_client(self.writer())
        csv_response.force_login(self.writer())
        self.assertHttpStatus(csv_response.get(response.data['csv_url']), 200)

    def test_bad_filters_are_named(self):
        data = {**self.create_data(), 'filters': {'group': 'No such group'}}
        response = self.api_client(self.writer()).post(self.list_url(), data, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('group', response.data)
        data = {**self.create_data(), 'filters': {'colour': 'red'}}
        self.assertHttpStatus(self.api_client(self.writer()).post(self.list_url(), data, format='json'), 400)

    def test_figures_cannot_be_edited(self):
        report = self.make_object()
        client = self.api_client(self.writer())
        response = client.patch(self.detail_url(report), {'period_end': '2030-01-01', 'title': 'New'}, format='json')
        self.assertHttpStatus(response, 200)
        report.refresh_from_db()
        self.assertEqual((report.period_end, report.title), (LAST_DAY, 'New'))
