"""Every measure on hand-built tickets with known answers: pauses, a reopen, a reassignment, a ticket crossing
midnight, still-open tickets and breaches. Each figure is checked on the live path and on the rollup path."""

from __future__ import annotations

from django.test import TestCase, override_settings

from reports import selectors, services
from reports.choices import Interval, Source
from reports.slices import Slice
from tests.sla.factories import frozen

from .scenario import EXPECTED, FIRST_DAY, LAST_DAY, NOW, build_desk

SOURCES = (Source.LIVE, Source.ROLLUP)


class HandBuiltDeskTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.world = build_desk()
        with frozen(NOW):
            services.rollup_refresh(now=NOW)

    def setUp(self):
        clock = frozen(NOW)
        clock.__enter__()
        self.addCleanup(clock.__exit__, None, None, None)

    def slice(self, source, **kwargs) -> Slice:
        return Slice(start=FIRST_DAY, end=LAST_DAY, interval=Interval.DAY, source=source, **kwargs)

    def measure(self, slug, source, **kwargs):
        result = selectors.measure(slug, self.slice(source, **kwargs))
        self.assertEqual(result['source'], source)
        return result

    def test_mttr_counts_completed_tickets_only_with_pauses_and_reopens(self):
        for source in SOURCES:
            with self.subTest(source=source):
                result = self.measure('mttr', source)
                expected = EXPECTED['mttr']
                self.assertEqual(result['count'], expected['count'])
                self.assertEqual(result['mean_hours'], expected['mean_hours'])
                series = [(p['count'], p['mean_hours']) for p in result['series']]
                self.assertEqual(series, [(n, mean) for n, mean, _, _ in EXPECTED['mttr_series']])
                # Small enough to sort: the rollup path takes exact percentiles from the tickets too.
                self.assertEqual(result['median_hours'], expected['median_hours'])
                self.assertEqual(result['p90_hours'], expected['p90_hours'])
                self.assertEqual(
                    [(p['median_hours'], p['p90_hours']) for p in result['series']],
                    [(med, p90) for _, _, med, p90 in EXPECTED['mttr_series']],
                )

    @override_settings(REPORTS_EXACT_PERCENTILES_UP_TO=0)
    def test_rollup_percentiles_from_histograms(self):
        """At scale the rollups estimate percentiles from their histograms: within one bucket (9.1 %)."""
        result = self.measure('mttr', Source.ROLLUP)
        expected = EXPECTED['mttr']
        self.assertEqual((result['count'], result['mean_hours']), (expected['count'], expected['mean_hours']))
        self.assertAlmostEqual(result['median_hours'], expected['median_hours'], delta=0.091 * 8.0)
        self.assertAlmostEqual(result['p90_hours'], expected['p90_hours'], delta=0.091 * 21.9)
        self.assertNotEqual(result['median_hours'], expected['median_hours'])
        for point, (_, _, median, p90) in zip(result['series'], EXPECTED['mttr_series'], strict=True):
            if median is not None:
                self.assertAlmostEqual(point['median_hours'], median, delta=0.091 * median)
                self.assertAlmostEqual(point['p90_hours'], p90, delta=0.091 * p90)

    def test_mtta(self):
        for source in SOURCES:
            with self.subTest(source=source):
                result = self.measure('mtta', source)
                self.assertEqual(result['count'], EXPECTED['mtta']['count'])
                self.assertEqual(result['mean_hours'], EXPECTED['mtta']['mean_hours'])
                self.assertEqual(result['median_hours'], EXPECTED['mtta']['median_hours'])
                self.assertEqual(result['p90_hours'], EXPECTED['mtta']['p90_hours'])

    def test_rates(self):
        for source in SOURCES:
            for slug in ('fcr', 'reopen_rate', 'reassignment_rate', 'answer_rate'):
                with self.subTest(source=source, measure=slug):
                    result = self.measure(slug, source)
                    for name, value in EXPECTED[slug].items():
                        self.assertEqual(result[name], value, name)

    def test_sla_compliance_per_target_and_per_agreement(self):
        for source in SOURCES:
            with self.subTest(source=source):
                result = self.measure('sla_compliance', source)
                self.assertEqual(result['response'], EXPECTED['sla_response'])
                self.assertEqual(result['resolution'], EXPECTED['sla_resolution'])
                self.assertEqual(result['percent'], 66.7)
                per_day = [(p['overall']['met'], p['overall']['breached']) for p in result['series']]
                self.assertEqual(per_day, EXPECTED['sla_series'])
                [agreement] = result['agreements']
                self.assertEqual(agreement['label'], 'P3 incidents')
                self.assertEqual(agreement['figures']['sla_compliance']['overall']['total'], 12)

    def test_ola_compliance_per_group(self):
        for source in SOURCES:
            with self.subTest(source=source):
                result = self.measure('ola_compliance', source)
                for name, value in EXPECTED['ola'].items():
                    self.assertEqual(result[name], value)
                groups = {row['label']: row['figures']['ola_compliance'] for row in result['groups']}
                self.assertEqual(groups['Service Desk']['percent'], 77.8)

    def test_volume_and_backlog(self):
        for source in SOURCES:
            with self.subTest(source=source):
                volume = self.measure('volume', source)
                self.assertEqual((volume['opened'], volume['completed']), (6, 4))
                self.assertEqual([(p['opened'], p['completed']) for p in volume['series']], EXPECTED['volume_series'])
                backlog = self.measure('backlog', source)
                self.assertEqual(backlog['count'], EXPECTED['backlog'])
                self.assertEqual([p['backlog'] for p in backlog['series']], EXPECTED['backlog_series'])
                buckets = {b['key']: b['count'] for b in backlog['buckets']}
                self.assertEqual(buckets, {'lt1d': 0, '1to3d': 0, '3to7d': 0, '7to30d': 2, 'gt30d': 0})

    def test_answer_rate_by_day_opened(self):
        for source in SOURCES:
            with self.subTest(source=source):
                result = self.measure('answer_rate', source)
                self.assertEqual([p['percent'] for p in result['series']], EXPECTED['answer_series'])

    def test_breakdowns_by_group_and_agent(self):
        for source in SOURCES:
            with self.subTest(source=source):
                rows = selectors.breakdown(self.slice(source), 'group', measures=('mttr',))
                mttr = {row['label']: row['figures']['mttr'] for row in rows}
                self.assertEqual(mttr['Service Desk']['count'], 3)
                self.assertEqual(mttr['Service Desk']['mean_hours'], 13.0)
                self.assertEqual(mttr['Network']['mean_hours'], 6.0)
                rows = selectors.breakdown(self.slice(source), 'agent', measures=('volume', 'mttr'))
                agents = {row['label']: row['figures'] for row in rows}
                self.assertEqual(agents['Alice Agent']['mttr']['count'], 3)
                self.assertEqual(agents['Bob Engineer']['mttr']['mean_hours'], 6.0)
                self.assertEqual(agents['Unassigned']['volume']['opened'], 1)

    def test_filters(self):
        for source in SOURCES:
            with self.subTest(source=source):
                desk = self.measure('mttr', source, group=self.world.desk.pk)
                self.assertEqual((desk['count'], desk['mean_hours']), (3, 13.0))
                none = self.measure('volume', source, group=0)
                self.assertEqual(none['opened'], 1)  # T6, never assigned
                p1 = self.measure('volume', source, priorities=(1,))
                self.assertEqual(p1['opened'], 0)
                agent = self.measure('mttr', source, agent=self.world.bob.pk)
                self.assertEqual(agent['count'], 1)

    def test_weekly_interval_crossing_weeks(self):
        for source in SOURCES:
            with self.subTest(source=source):
                weekly = Slice(start=FIRST_DAY.replace(day=1), end=LAST_DAY, interval=Interval.WEEK, source=source)
                result = selectors.measure('volume', weekly)
                # 1 March is a Sunday: its week starts 23 February and holds nothing.
                self.assertEqual([p['period'] for p in result['series']], ['2026-03-01', '2026-03-02'])
                self.assertEqual([p['opened'] for p in result['series']], [0, 6])

    def test_open_tickets_never_count_in_mttr(self):
        for source in SOURCES:
            with self.subTest(source=source):
                rows = selectors.tickets_behind('mttr', self.slice(source))
                numbers = set(rows.values_list('number', flat=True))
                self.assertEqual(
                    numbers, {self.world.t1.number, self.world.t2.number, self.world.t3.number, self.world.t4.number}
                )
