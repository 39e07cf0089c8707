"""Problem measures on a hand-built desk with known answers: open problems by age and priority, time to root
cause, incidents per problem, incidents with a known error or problem, recurrence after closure; in the metrics
API, on the problems dashboard (with its drill-down) and its query count."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from django.urls import reverse

from incidents import services as ticket_services
from incidents.models import Ticket
from itsm.choices import Role
from problems import measures, services
from problems.choices import ProblemState
from problems.models import KnownError, KnownErrorUse, Problem, ProblemIncident
from reports import registry
from reports.slices import Slice
from tests.base import ItsmTestCase
from tests.cmdb.factories import make_ci, make_service
from tests.factories import make_user
from tests.sla.factories import frozen

from .factories import SYSTEM, drive, make_category, make_problem_manager

S = ProblemState
UTC = dt.UTC
NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
FIRST, LAST = dt.date(2026, 3, 1), dt.date(2026, 3, 20)
RANGE = {'from': FIRST.isoformat(), 'to': LAST.isoformat()}


def at(month: int, day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, 0, tzinfo=UTC)


class Desk:
    """Problems and incidents whose figures are worked out by hand in the tests below."""

    def __init__(self):
        self.manager = make_problem_manager()
        self.c1, self.c2 = make_category('Network'), make_category('Email')
        self.ci1, self.ci2, self.ci3 = make_ci(), make_ci(), make_ci()
        self.svc1 = make_service().ci
        with frozen(NOW - dt.timedelta(days=200)) as clock:
            # Open problems: A (2 days old, new), B (10, assessed), H (11, fix in progress), C (45, analysing),
            # D (200, fix in progress). E resolved, F and F2 closed, G cancelled: none of them open.
            self.a = self.problem(NOW - dt.timedelta(days=2), clock, state=S.NEW)
            self.b = self.problem(NOW - dt.timedelta(days=10), clock, state=S.ASSESSED)
            self.c = self.problem(NOW - dt.timedelta(days=45), clock, state=S.ROOT_CAUSE_ANALYSIS, category=self.c1)
            # Root causes found: D long before the slice; E after 24 h, F after 60 h, H after 12 h.
            self.d = self.problem(NOW - dt.timedelta(days=200), clock, found=NOW - dt.timedelta(days=190))
            self.e = self.problem(at(3, 2), clock, found=at(3, 3), state=S.RESOLVED)
            self.f = self.problem(at(3, 1), clock, found=at(3, 4, 0), state=S.CLOSED, closed=at(3, 5), category=self.c1)
            self.f.cis.add(self.ci1)
            self.f.services.add(self.svc1)
            self.f2 = self.problem(at(2, 10), clock, found=at(2, 15), state=S.CLOSED, closed=at(3, 8))
            self.f2.cis.add(self.ci2)
            self.h = self.problem(at(3, 9), clock, found=at(3, 10, 0))
            self.g = self.problem(at(3, 5), clock, state=S.CANCELLED)
        self.ke = KnownError.objects.create(title='VPN drops', symptoms='Drops every hour', workaround='Reconnect')
        # Incidents of the slice: i1..i7 linked to problems (i7 to the cancelled G), i1 and i8 with a known error.
        self.i = {}
        self.i[1] = self.incident(at(3, 2), problem=self.e, known_error=True)
        self.i[2] = self.incident(at(3, 2), problem=self.e)
        self.i[3] = self.incident(at(3, 3), problem=self.e)
        self.i[4] = self.incident(at(3, 1), problem=self.f)
        self.i[5] = self.incident(at(3, 4), problem=self.f)
        self.i[6] = self.incident(at(3, 17), problem=self.a)
        self.i[7] = self.incident(at(3, 5), problem=self.g)
        # After F closed (5 March, noon): i8 on its CI and i9 on its service recur (category Network); i10 has
        # another category, i11 came before the closure, i12 is on another CI.
        self.i[8] = self.incident(at(3, 6), known_error=True, ci=self.ci1, category=self.c1)
        self.i[9] = self.incident(at(3, 12), service=self.svc1, category=self.c1)
        self.i[10] = self.incident(at(3, 13), ci=self.ci1, category=self.c2)
        self.i[11] = self.incident(at(3, 4), ci=self.ci1, category=self.c1)
        self.i[12] = self.incident(at(3, 14), ci=self.ci3, category=self.c1)
        # Outside the figures: a case with a known error, and an incident before the slice.
        self.case = self.incident(at(3, 10), kind='case', known_error=True)
        self.before = self.incident(at(2, 20), problem=self.f2)

    def problem(self, opened_at, clock, *, state=S.FIX_IN_PROGRESS, found=None, closed=None, **fields) -> Problem:
        clock.set(opened_at)
        problem = services.problem_create(actor=SYSTEM, short_description='Failure', opened_at=opened_at, **fields)
        if state == S.NEW:
            return problem
        if found is not None:
            clock.set(found)
            problem = drive(problem, S.FIX_IN_PROGRESS, owner=self.manager)
            if state in (S.RESOLVED, S.CLOSED):
                problem = services.problem_resolve(problem=problem, actor=SYSTEM, resolution='Fixed.')
            if state == S.CLOSED:
                clock.set(closed)
                problem = services.problem_close(problem=problem, actor=SYSTEM)
            return Problem.objects.get(pk=problem.pk)
        return drive(problem, state, owner=self.manager)

    def incident(self, opened_at, *, problem=None, known_error=False, kind='incident', **fields) -> Ticket:
        ticket = open_incident(opened_at, kind=kind, **fields)
        if problem is not None:
            ProblemIncident.objects.create(problem=problem, incident=ticket)
        if known_error:
            KnownErrorUse.objects.create(known_error=self.ke, incident=ticket)
        return ticket


def open_incident(opened_at, *, kind='incident', **fields) -> Ticket:
    """A ticket opened at `opened_at` (backdated as imports do, which only the system may)."""
    caller = make_user(Role.REQUESTER)
    return ticket_services.ticket_create(
        actor=SYSTEM, kind=kind, caller=caller, short_description='VPN drops', opened_at=opened_at, **fields
    )


def march(**kwargs) -> Slice:
    return Slice(start=FIRST, end=LAST, **kwargs)


class MeasureTests(ItsmTestCase):
    @classmethod
    def setUpTestData(cls):
        cls.desk = Desk()

    def test_the_desk_is_as_described(self):
        states = dict(Problem.objects.values_list('pk', 'state'))
        desk = self.desk
        self.assertEqual(
            [states[p.pk] for p in (desk.a, desk.b, desk.c, desk.d, desk.e, desk.f, desk.f2, desk.g, desk.h)],
            [S.NEW, S.ASSESSED, S.ROOT_CAUSE_ANALYSIS, S.FIX_IN_PROGRESS, S.RESOLVED, S.CLOSED, S.CLOSED, S.CANCELLED]
            + [S.FIX_IN_PROGRESS],
        )
        self.assertEqual(Problem.objects.get(pk=desk.f.pk).closed_at, at(3, 5))
        self.assertEqual(Problem.objects.get(pk=desk.h.pk).root_cause_found_at, at(3, 10, 0))

    def test_open_problems_by_age_and_priority(self):
        data = measures.open_problems(march(), now=NOW)
        self.assertEqual(data['count'], 5)
        self.assertEqual([b['count'] for b in data['bands']], [1, 2, 1, 0, 1])
        self.assertEqual([b['key'] for b in data['bands']], ['lt7d', '7to30d', '30to90d', '90to180d', 'gt180d'])
        # Each cell counts the band's problems of that priority.
        priorities = dict(Problem.objects.values_list('pk', 'priority'))
        desk = self.desk
        expected = {}
        for band, problems in (('lt7d', [desk.a]), ('7to30d', [desk.b, desk.h]), ('30to90d', [desk.c]),
                               ('gt180d', [desk.d])):  # fmt: skip
            for problem in problems:
                expected[(band, priorities[problem.pk])] = expected.get((band, priorities[problem.pk]), 0) + 1
        cells = {(b['key'], c['priority']): c['count'] for b in data['bands'] for c in b['by_priority'] if c['count']}
        self.assertEqual(cells, expected)
        self.assertEqual(sum(p['count'] for p in data['by_priority']), 5)

    def test_open_problems_drill_down_to_each_band(self):
        slice_ = march()
        self.assertEqual(
            set(measures.problems_behind('open_problems', slice_, part='7to30d', now=NOW)), {self.desk.b, self.desk.h}
        )
        self.assertEqual(len(measures.problems_behind('open_problems', slice_, now=NOW)), 5)

    def test_time_to_root_cause(self):
        data = measures.time_to_root_cause(march(interval='week'))
        self.assertEqual((data['count'], data['mean_hours'], data['median_hours']), (3, 32.0, 24.0))
        self.assertEqual(data['p90_hours'], 52.8)
        self.assertEqual(
            [p['period'] for p in data['series']], ['2026-03-01', '2026-03-02', '2026-03-09', '2026-03-16']
        )
        self.assertEqual([p['count'] for p in data['series']], [0, 2, 1, 0])
        self.assertEqual([p['mean_hours'] for p in data['series']], [None, 42.0, 12.0, None])
        behind = measures.problems_behind('time_to_root_cause', march())
        self.assertEqual(set(behind), {self.desk.e, self.desk.f, self.desk.h})

    def test_incidents_per_problem(self):
        data = measures.incidents_per_problem(march())
        # Opened in March and not cancelled: A (1 incident), B (0), E (3), F (2), H (0).
        self.assertEqual(
            (data['problems'], data['incidents'], data['per_problem'], data['median'], data['most']), (5, 6, 1.2, 1, 3)
        )

    def test_share_of_incidents_with_a_known_error_or_problem(self):
        data = measures.known_error_share(march(interval='week'))
        self.assertEqual(
            (data['incidents'], data['known_error'], data['problem'], data['either'], data['percent']),
            (12, 2, 7, 8, 66.7),
        )
        self.assertEqual([p['incidents'] for p in data['series']], [1, 7, 3, 1])
        self.assertEqual([p['either'] for p in data['series']], [1, 6, 0, 1])
        behind = measures.incidents_behind(march(), part='known_error')
        self.assertEqual({t.pk for t in behind}, {self.desk.i[1].pk, self.desk.i[8].pk})

    def test_share_filtered_by_category(self):
        data = measures.known_error_share(march(category=self.desk.c1.pk))
        self.assertEqual((data['incidents'], data['known_error'], data['either'], data['percent']), (4, 1, 1, 25.0))

    def test_recurrence_after_closure(self):
        data = measures.recurrence(march())
        self.assertEqual((data['closed'], data['recurred'], data['incidents'], data['percent']), (2, 1, 2, 50.0))
        self.assertEqual(list(measures.problems_behind('recurrence', march(), part='recurred')), [self.desk.f])
        _problems, found = measures._recurrences(march())
        self.assertEqual({t.pk for t in found[self.desk.f.pk]}, {self.desk.i[8].pk, self.desk.i[9].pk})

    def test_recurrence_counts_only_within_30_days(self):
        with frozen(at(4, 30)):
            # Not linked to anything: a recurrence is read from the CI, the category and the time.
            late = open_incident(self.desk.f.closed_at + dt.timedelta(days=31), ci=self.desk.ci1)
        Ticket.objects.filter(pk=late.pk).update(category=self.desk.c1)
        self.assertEqual(measures.recurrence(march())['incidents'], 2)
        Ticket.objects.filter(pk=late.pk).update(opened_at=self.desk.f.closed_at + dt.timedelta(days=29))
        self.assertEqual(measures.recurrence(march())['incidents'], 3)

    def test_priority_filter_reads_the_problem(self):
        priority = Problem.objects.get(pk=self.desk.c.pk).priority
        others = Problem.objects.filter(state__in=measures.OPEN_STATES, priority=priority).count()
        data = measures.open_problems(march(priorities=(priority,)), now=NOW)
        self.assertEqual(data['count'], others)
        self.assertTrue(
            all(c['count'] == 0 for b in data['bands'] for c in b['by_priority'] if c['priority'] != priority)
        )

    def test_service_filter_reads_the_problems_services(self):
        data = measures.recurrence(march(service=self.desk.svc1.pk))
        self.assertEqual((data['closed'], data['recurred']), (1, 1))


class MetricsAPITests(ItsmTestCase):
    @classmethod
    def setUpTestData(cls):
        cls.desk = Desk()

    def call(self, measure, params=None, user=None):
        client = self.api_client(user or self.desk.manager)
        return client.get(reverse('api:metric-detail', args=[measure]), params or {})

    def test_measures_answer_with_their_definition(self):
        response = self.call('time_to_root_cause', {**RANGE, 'interval': 'week'})
        self.assertHttpStatus(response, 200)
        data = response.data
        self.assertEqual((data['measure'], data['count'], data['mean_hours']), ('time_to_root_cause', 3, 32.0))
        self.assertEqual(data['definition'], measures.MEASURES['time_to_root_cause'].definition)
        self.assertEqual((data['from'], data['to'], data['interval']), ('2026-03-01', '2026-03-20', 'week'))
        self.assertEqual(len(data['series']), 4)
        for slug in measures.MEASURES:
            with self.subTest(measure=slug):
                self.assertHttpStatus(self.call(slug, RANGE), 200)

    def test_share_and_recurrence_figures(self):
        share = self.call('known_error_share', RANGE).data
        self.assertEqual((share['incidents'], share['either'], share['percent']), (12, 8, 66.7))
        recurrence = self.call('recurrence', {**RANGE, 'category': self.desk.c1.pk}).data
        self.assertEqual((recurrence['closed'], recurrence['recurred']), (1, 1))
        self.assertEqual(recurrence['filters'], {'category': self.desk.c1.pk})

    def test_bad_and_unsupported_parameters_are_400s(self):
        response = self.call('incidents_per_problem', {'from': '2026-13-01'})
        self.assertHttpStatus(response, 400)
        self.assertIn('from', response.data)
        response = self.call('incidents_per_problem', {'channel': 'phone'})
        self.assertHttpStatus(response, 400)
        self.assertIn('cannot be filtered by channel', str(response.data['channel']))
        self.assertHttpStatus(self.call('incidents_per_problem', {'colour': 'red'}), 400)

    def test_who_may_read_them(self):
        url = reverse('api:metric-detail', args=['open_problems'])
        self.assertHttpStatus(self.api_client().get(url), 401)
        self.assertHttpStatus(self.call('open_problems', user=make_user(Role.REQUESTER)), 403)
        self.assertHttpStatus(self.call('open_problems', user=make_user(Role.INTEGRATION)), 200)
        self.assertHttpStatus(self.call('open_problems', user=make_user(Role.SERVICE_DESK_AGENT)), 200)

    def test_listed_with_the_desk_measures(self):
        response = self.api_client(make_user(Role.MANAGER)).get(reverse('api:metric-list'))
        self.assertHttpStatus(response, 200)
        slugs = [m['measure'] for m in response.data['measures']]
        # After the desk's, in their order (other apps' registered measures may come before or after them).
        self.assertEqual([slug for slug in slugs if slug in measures.MEASURES], list(measures.MEASURES))
        self.assertLess(slugs.index('mttr'), slugs.index(next(iter(measures.MEASURES))))
        self.assertIn('mttr', slugs)


class DashboardPageTests(ItsmTestCase):
    @classmethod
    def setUpTestData(cls):
        cls.desk = Desk()

    def setUp(self):
        self.client.force_login(self.desk.manager)

    def test_dashboard_shows_every_figure_with_links_behind(self):
        with frozen(NOW):
            response = self.client.get(reverse('problems:dashboard'), RANGE)
        self.assertHttpStatus(response, 200)
        figures = response.context['figures']
        self.assertEqual(figures['open_problems']['count'], 5)
        self.assertEqual(figures['recurrence']['recurred'], 1)
        self.assertContains(response, 'Open problems by age and priority')
        self.assertContains(response, figures['open_problems']['bands'][1]['url'].replace('&', '&amp;'))
        self.assertContains(response, 'chart-time-to-root-cause-data')
        self.assertContains(response, '66.7')
        # Weekly trends unless a day-by-day one is asked for.
        self.assertEqual([row['rca']['period'] for row in response.context['trend']][:2], ['2026-03-01', '2026-03-02'])
        daily = self.client.get(reverse('problems:dashboard'), {**RANGE, 'interval': 'day'})
        self.assertEqual(len(daily.context['trend']), 20)

    def test_drill_down_lists_the_problems_behind(self):
        url = measures.drill_url('recurrence', march(), part='recurred')
        response = self.client.get(url)
        self.assertHttpStatus(response, 200)
        self.assertEqual(list(response.context['rows']), [self.desk.f])
        self.assertContains(response, self.desk.f.number)
        self.assertNotContains(response, self.desk.f2.number)

    def test_drill_down_to_incidents(self):
        response = self.client.get(measures.drill_url('known_error_share', march(), part='known_error'))
        self.assertHttpStatus(response, 200)
        self.assertEqual({t.pk for t in response.context['rows']}, {self.desk.i[1].pk, self.desk.i[8].pk})

    def test_unknown_measure_or_part_is_404(self):
        url = reverse('problems:dashboard_drilldown')
        self.assertHttpStatus(self.client.get(url, {'measure': 'speed'}), 404)
        self.assertHttpStatus(self.client.get(url, {'measure': 'open_problems', 'part': 'ancient'}), 404)

    def test_bad_dates_are_named_not_500(self):
        response = self.client.get(reverse('problems:dashboard'), {'from': 'yesterday'})
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'Give a date as YYYY-MM-DD.')

    def test_requesters_are_refused(self):
        self.client.force_login(make_user(Role.REQUESTER))
        self.assertHttpStatus(self.client.get(reverse('problems:dashboard')), 403)
        self.assertHttpStatus(self.client.get(measures.drill_url('open_problems', march())), 403)

    def test_user_content_is_escaped(self):
        Problem.objects.filter(pk=self.desk.f.pk).update(short_description='<script>alert(1)</script>')
        response = self.client.get(measures.drill_url('recurrence', march(), part='recurred'))
        self.assertNotContains(response, '<script>alert(1)</script>')
        self.assertContains(response, '&lt;script&gt;')

    def test_query_counts_do_not_grow_with_problems_or_incidents(self):
        dashboard = reverse('problems:dashboard')
        drill = measures.drill_url('open_problems', march())
        small = self.count_queries(lambda: self.client.get(dashboard, RANGE))
        small_drill = self.count_queries(lambda: self.client.get(drill))
        with frozen(at(3, 15)) as clock:
            for day in (3, 7, 11):
                problem = self.desk.problem(at(3, day), clock, found=at(3, day + 1), state=S.CLOSED, closed=at(3, 15))
                problem.cis.add(self.desk.ci3)
                for _ in range(3):
                    ProblemIncident.objects.create(problem=problem, incident=open_incident(at(3, day)))
                self.desk.problem(at(3, day), clock)
        self.assertEqual(self.count_queries(lambda: self.client.get(dashboard, RANGE)), small)
        self.assertEqual(self.count_queries(lambda: self.client.get(drill)), small_drill)

    def test_overview_links_to_the_dashboard(self):
        self.client.force_login(make_user(Role.MANAGER))
        response = self.client.get(reverse('reports:overview'), RANGE)
        self.assertContains(response, f'{reverse("problems:dashboard")}?from=2026-03-01')


def test_reports_imports_nothing_of_problems():
    """Problem measures reach the metrics API through `reports.registry`: reports stays free of the problems app."""
    root = Path(__file__).resolve().parents[2] / 'reports'
    offending = [
        str(path.relative_to(root))
        for path in root.rglob('*.py')
        if re.search(r'^\s*(from|import)\s+problems\b', path.read_text(), flags=re.MULTILINE)
    ]
    assert offending == []
    assert set(measures.MEASURES) <= {m.slug for m in registry.registered()}
