"""Week and month rollups: each period's rows are its daily rows summed, kept with them in the same transaction;
figures over whole weeks and months read them and agree with the live path, as do the group × agent rows a team
dashboard reads."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.db import connection
from django.test import TestCase, override_settings
from django.test.utils import CaptureQueriesContext

from incidents import services as tickets
from incidents.choices import ResolutionCode
from itsm.audit import Actor
from itsm.choices import Impact, Role, Urgency
from reports import selectors, services
from reports.choices import Dimension, Interval, RollupPeriod, Source
from reports.engine import split_days
from reports.models import COUNTER_FIELDS, DailyRollup, PeriodRollup
from reports.slices import Slice, period_start
from sla import services as sla_services
from sla.models import BusinessCalendar
from tests.factories import SupportGroupFactory, make_user
from tests.sla.factories import frozen

SYSTEM = Actor.system()
UTC = dt.UTC
TODAY = dt.date(2026, 3, 10)
NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
MEASURES = (
    'mttr',
    'mtta',
    'sla_compliance',
    'ola_compliance',
    'fcr',
    'reopen_rate',
    'reassignment_rate',
    'volume',
    'answer_rate',
    'backlog',
)
# (opened, hours to completion or None, group index, agent index, priority-ish urgency)
TICKETS = [
    (dt.datetime(2026, 1, 5, 8, 0, tzinfo=UTC), 3, 0, 0, Urgency.URGENT),
    (dt.datetime(2026, 1, 20, 14, 0, tzinfo=UTC), 30, 1, 2, Urgency.NORMAL),
    # 23:30 UTC on 31 January is 00:30 on 1 February in Berlin: a February ticket there.
    (dt.datetime(2026, 1, 31, 23, 30, tzinfo=UTC), 5, 0, 1, Urgency.NORMAL),
    (dt.datetime(2026, 2, 14, 9, 0, tzinfo=UTC), 400, 0, 0, Urgency.CRITICAL),  # completed in March
    (dt.datetime(2026, 2, 27, 22, 0, tzinfo=UTC), 12, 1, 2, Urgency.NORMAL),  # completed across the month's end
    (dt.datetime(2026, 3, 2, 10, 0, tzinfo=UTC), 2, 0, 1, Urgency.URGENT),
    (dt.datetime(2026, 3, 6, 11, 0, tzinfo=UTC), None, 1, 2, Urgency.NORMAL),  # still open
    (dt.datetime(2026, 3, 9, 16, 0, tzinfo=UTC), 1, 0, 0, Urgency.NORMAL),
]


def period_sums(rows, interval=None, *, combine=False) -> dict[tuple, list]:
    """Counters and merged histograms per (period start, dimension, key, kind, priority): of period rows as stored,
    or of daily rows summed into the periods of `interval` (and over every kind and priority with `combine`)."""
    sums: dict[tuple, list] = {}
    for row in rows:
        start = row.start if interval is None else period_start(row.day, interval)
        cell = (row.kind, row.priority) if not combine else ('', 0)
        cell = sums.setdefault((start, row.dimension, row.key, *cell), [Counter(), Counter(), Counter()])
        cell[0].update({name: getattr(row, name) for name in COUNTER_FIELDS})
        cell[1].update({int(k): v for k, v in row.accept_hist.items()})
        cell[2].update({int(k): v for k, v in row.resolve_hist.items()})
    return {k: [+c for c in v] for k, v in sums.items() if any(+c for c in v)}


@override_settings(TIME_ZONE='Europe/Berlin')
class PeriodRollupTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.agents = [make_user(Role.SERVICE_DESK_AGENT, username=f'agent{i}') for i in range(2)]
        cls.agents.append(make_user(Role.L2_ENGINEER, username='engineer'))
        cls.caller = make_user(username='caller')
        cls.groups = [
            SupportGroupFactory(name='Desk', members=cls.agents[:2]),
            SupportGroupFactory(name='Servers', members=cls.agents[1:]),
        ]
        always = BusinessCalendar.objects.builtin_24x7()
        for priority in range(1, 5):
            sla_services.sla_create(
                actor=SYSTEM,
                name=f'P{priority}',
                ticket_kind='incident',
                priority=priority,
                response_minutes=30 * priority,
                resolution_minutes=360 * priority,
                calendar=always,
            )
        sla_services.ola_create(
            actor=SYSTEM,
            name='Desk OLA',
            support_group=cls.groups[0],
            priority=None,
            accept_minutes=30,
            resolve_minutes=600,
            calendar=always,
        )
        cls.tickets = []
        with frozen(TICKETS[0][0]) as clock:
            for number, (opened, hours, group, agent, urgency) in enumerate(TICKETS):
                clock.set(opened)
                ticket = tickets.ticket_create(
                    actor=Actor(user=cls.caller),
                    caller=cls.caller,
                    short_description=f'Ticket {number}',
                    impact=Impact.MEDIUM,
                    urgency=urgency,
                    notify=False,
                )
                worker = Actor(user=cls.agents[agent])
                ticket = tickets.ticket_assign(
                    ticket=ticket, actor=worker, group=cls.groups[group], assignee=cls.agents[agent], notify=False
                )
                clock.advance(minutes=20 + 7 * number)
                ticket = tickets.ticket_accept(ticket=ticket, actor=worker)
                if hours is not None:
                    clock.set(opened + dt.timedelta(hours=hours))
                    ticket = tickets.ticket_complete(
                        ticket=ticket,
                        actor=worker,
                        resolution_code=ResolutionCode.SOLVED_PERMANENTLY,
                        resolution_notes='Done.',
                    )
                cls.tickets.append(ticket)
            clock.set(NOW)
            sla_services.sla_sweep(now=NOW)
            services.rollup_refresh(now=NOW)

    def setUp(self):
        clock = frozen(NOW)
        clock.__enter__()
        self.addCleanup(clock.__exit__, None, None, None)

    def assert_periods_sum_days(self):
        daily = DailyRollup.objects.exclude(dimension=Dimension.DAY)
        for interval in RollupPeriod.values:
            with self.subTest(period=interval):
                stored = PeriodRollup.objects.filter(period=interval, combined=False)
                self.assertEqual(period_sums(stored), period_sums(daily, interval))
                combined = PeriodRollup.objects.filter(period=interval, combined=True)
                self.assertEqual(period_sums(combined), period_sums(daily, interval, combine=True))

    def assert_paths_agree(self, slice_: Slice, measures=MEASURES):
        for slug in measures:
            with self.subTest(slice=slice_, measure=slug):
                live = selectors.measure(slug, slice_.replace(source=Source.LIVE))
                rollup = selectors.measure(slug, slice_.replace(source=Source.ROLLUP))
                self.assertEqual(rollup['source'], Source.ROLLUP)
                for name in ('source', 'as_of'):
                    live.pop(name), rollup.pop(name)
                self.assertEqual(live, rollup)

    def test_each_week_and_month_is_its_days_summed(self):
        months = PeriodRollup.objects.filter(period=RollupPeriod.MONTH, combined=False)
        self.assertEqual(
            set(months.values_list('start', flat=True)), {dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1)}
        )
        weeks = set(PeriodRollup.objects.filter(period=RollupPeriod.WEEK).values_list('start', flat=True))
        self.assertTrue(weeks and all(start.weekday() == 0 for start in weeks), weeks)
        self.assert_periods_sum_days()
        # Berlin days: the ticket opened at 23:30 UTC on 31 January counts in February.
        rows = months.filter(dimension=Dimension.ALL)
        opened = {month: sum(r.opened for r in rows if r.start == month) for month in {r.start for r in rows}}
        self.assertEqual(opened, {dt.date(2026, 1, 1): 2, dt.date(2026, 2, 1): 3, dt.date(2026, 3, 1): 3})

    def test_figures_over_whole_periods_agree_with_the_tickets(self):
        slices = [
            Slice(start=dt.date(2026, 1, 1), end=TODAY, interval=Interval.MONTH),  # two whole months, this one
            Slice(start=dt.date(2026, 1, 15), end=TODAY, interval=Interval.MONTH),  # half of January in days
            Slice(start=dt.date(2026, 1, 1), end=dt.date(2026, 2, 28), interval=Interval.MONTH),
            Slice(start=dt.date(2026, 2, 1), end=dt.date(2026, 3, 31), interval=Interval.MONTH),
            Slice(start=dt.date(2026, 1, 1), end=TODAY, interval=Interval.WEEK),  # weeks read days
            Slice(start=dt.date(2026, 1, 1), end=TODAY, interval=Interval.MONTH, priorities=(2,)),
            Slice(start=dt.date(2026, 1, 1), end=TODAY, interval=Interval.MONTH, group=self.groups[0].pk),
            Slice(start=dt.date(2026, 1, 1), end=TODAY, interval=Interval.MONTH, agent=self.agents[2].pk),
        ]
        for slice_ in slices:
            self.assert_paths_agree(slice_)

    def test_breakdowns_over_whole_periods_read_the_period_rows(self):
        year = Slice(start=dt.date(2025, 12, 1), end=TODAY, interval=Interval.WEEK)
        for by in ('priority', 'group', 'agent', 'service'):
            with self.subTest(by=by), CaptureQueriesContext(connection) as queries:
                rollup = selectors.breakdown(year.replace(source=Source.ROLLUP), by)
                live = selectors.breakdown(year.replace(source=Source.LIVE), by)
                self.assertEqual({r['key']: r['figures'] for r in live}, {r['key']: r['figures'] for r in rollup})
            self.assertTrue(any('reports_periodrollup' in q['sql'] for q in queries.captured_queries), by)

    def test_group_and_agent_together(self):
        """A team dashboard's table by agent, and one agent's figures inside one group, come from rollups."""
        desk = self.groups[0]
        for slice_ in (
            Slice(start=dt.date(2026, 1, 1), end=TODAY, interval=Interval.MONTH, group=desk.pk),
            Slice(start=dt.date(2026, 2, 3), end=dt.date(2026, 3, 4), group=desk.pk),
            Slice(start=dt.date(2026, 1, 1), end=TODAY, group=0),
        ):
            with self.subTest(slice=slice_):
                live = selectors.breakdown(slice_.replace(source=Source.LIVE), 'agent')
                rollup = selectors.breakdown(slice_.replace(source=Source.ROLLUP), 'agent')
                self.assertEqual({r['key']: r['figures'] for r in live}, {r['key']: r['figures'] for r in rollup})
        desk_year = Slice(start=dt.date(2026, 1, 1), end=TODAY, group=desk.pk, source=Source.ROLLUP)
        self.assertEqual(
            {r['key'] for r in selectors.breakdown(desk_year, 'agent')},
            {str(self.agents[0].pk), str(self.agents[1].pk)},
        )
        one = Slice(
            start=dt.date(2026, 1, 1), end=TODAY, interval=Interval.MONTH, group=desk.pk, agent=self.agents[1].pk
        )
        self.assert_paths_agree(one)
        servers = Slice(start=dt.date(2026, 1, 1), end=TODAY, group=self.groups[1].pk)
        rows = selectors.breakdown(servers.replace(source=Source.ROLLUP), 'agent')
        self.assertEqual([(r['key'], r['figures']['volume']['opened']) for r in rows], [(str(self.agents[2].pk), 3)])

    def test_a_late_reopen_re_sums_the_month_it_left(self):
        def february():  # rows are replaced whole: looked up again by their cell
            return PeriodRollup.objects.get(
                period=RollupPeriod.MONTH,
                start=dt.date(2026, 2, 1),
                dimension=Dimension.ALL,
                kind='incident',
                priority=self.tickets[4].priority,
                combined=False,
            )

        # Completed in February: the ticket of 1 February (Berlin) and the one opened on 27 February.
        self.assertEqual(february().completed, 2)
        with frozen(NOW + dt.timedelta(minutes=5)):
            tickets.ticket_reject(ticket=self.tickets[4], actor=Actor(user=self.caller), reason='Still broken')
        services.rollup_refresh(now=NOW + dt.timedelta(minutes=10))
        self.assertEqual(february().completed, 1)
        self.assert_periods_sum_days()
        self.assert_paths_agree(Slice(start=dt.date(2026, 1, 1), end=TODAY, interval=Interval.MONTH))

    def test_recomputing_is_idempotent(self):
        def snapshot():
            fields = (
                'period',
                'start',
                'dimension',
                'key',
                'combined',
                'kind',
                'priority',
                *COUNTER_FIELDS,
                'accept_hist',
                'resolve_hist',
            )
            return list(PeriodRollup.objects.order_by(*fields[:7]).values_list(*fields))

        before = snapshot()
        days = [dt.date(2026, 2, 1) + dt.timedelta(days=i) for i in range(28)]
        services.rollup_recompute(days=days[:3])
        services.rollup_recompute(days=days)
        self.assertEqual(snapshot(), before)

    def test_the_rows_of_a_recompute_are_written_in_the_order_of_their_index(self):
        """A dimension's rows over a run of days or periods sit together: the order a dashboard reads them in."""
        days = [dt.date(2026, 2, 1) + dt.timedelta(days=i) for i in range(28)]
        services.rollup_recompute(days=days)
        daily = list(DailyRollup.objects.filter(day__in=days).order_by('pk'))
        periods = list(PeriodRollup.objects.filter(start__gte=days[0], start__lte=days[-1]).order_by('pk'))
        self.assertGreater(len({row.dimension for row in daily}), 3)
        self.assertGreater(len({(row.dimension, row.period) for row in periods}), 3)

        def daily_index(row):
            return row.dimension, row.day, row.key, row.kind, row.priority

        def period_index(row):
            return row.dimension, row.period, row.combined, row.start, row.key, row.kind, row.priority

        self.assertEqual([daily_index(r) for r in daily], sorted(daily_index(r) for r in daily))
        self.assertEqual([period_index(r) for r in periods], sorted(period_index(r) for r in periods))

    def test_split_days(self):
        """Whole months and weeks first, the days left over as ranges."""
        d = dt.date
        cases = [
            ((d(2026, 1, 1), d(2026, 3, 31)), {'month': [d(2026, 1, 1), d(2026, 2, 1), d(2026, 3, 1)], 'week': []}, []),
            # 2 January 2026 is a Friday: two days, then Mondays until February.
            (
                (d(2026, 1, 2), d(2026, 3, 31)),
                {'month': [d(2026, 2, 1), d(2026, 3, 1)], 'week': [d(2026, 1, 5), d(2026, 1, 12), d(2026, 1, 19)]},
                [(d(2026, 1, 2), d(2026, 1, 4)), (d(2026, 1, 26), d(2026, 1, 31))],
            ),
            # March runs to today (the 10th) and on: whole.
            ((d(2026, 3, 1), d(2026, 3, 20)), {'month': [d(2026, 3, 1)], 'week': []}, []),
            ((d(2026, 3, 1), TODAY), {'month': [d(2026, 3, 1)], 'week': []}, []),
            # Ending before today: March is partial; the week of 2 March is whole, that of 9 March holds today.
            (
                (d(2026, 2, 1), d(2026, 3, 9)),
                {'month': [d(2026, 2, 1)], 'week': [d(2026, 3, 2)]},
                [(d(2026, 3, 1), d(2026, 3, 1)), (d(2026, 3, 9), d(2026, 3, 9))],
            ),
            ((d(2026, 2, 3), d(2026, 2, 5)), {'month': [], 'week': []}, [(d(2026, 2, 3), d(2026, 2, 5))]),
        ]
        for (start, end), periods, days in cases:
            with self.subTest(start=start, end=end):
                self.assertEqual(split_days(Slice(start=start, end=end), TODAY, ['month', 'week']), (periods, days))
        # A trend by week reads whole weeks only (months do not fall on week boundaries), by day neither.
        weeks, left = split_days(Slice(start=d(2026, 2, 1), end=d(2026, 2, 28)), TODAY, ['week'])
        self.assertEqual(
            (weeks['week'][0], weeks['week'][-1], left),
            (d(2026, 2, 2), d(2026, 2, 16), [(d(2026, 2, 1), d(2026, 2, 1)), (d(2026, 2, 23), d(2026, 2, 28))]),
        )
        self.assertEqual(
            split_days(Slice(start=d(2026, 2, 1), end=d(2026, 2, 2)), TODAY, []), ({}, [(d(2026, 2, 1), d(2026, 2, 2))])
        )

    def test_days_before_the_first_ticket_need_no_rollup(self):
        """Two years back from today, ten months before the first ticket: still read from the rollups."""
        slice_ = Slice(start=dt.date(2024, 3, 11), end=TODAY, interval=Interval.MONTH)
        self.assertEqual(selectors.measure('mttr', slice_)['source'], Source.ROLLUP)
        self.assert_paths_agree(slice_, measures=('mttr', 'volume', 'sla_compliance'))

    def test_exact_percentiles_depend_on_the_days_not_the_filter(self):
        """Sorting a filtered slice's durations reads through every duration of its days: over a busy range the
        histogram answers even when the filter leaves few."""

        def sorted_from_tickets(slice_) -> bool:
            with CaptureQueriesContext(connection) as queries:
                figures = selectors.measure('mttr', slice_.replace(source=Source.ROLLUP))
            self.assertEqual(figures['source'], Source.ROLLUP)
            return any(
                'percentile_cont' in q['sql'] or 'ROW_NUMBER() OVER' in q['sql'] for q in queries.captured_queries
            )

        servers = Slice(start=dt.date(2026, 1, 1), end=TODAY, group=self.groups[1].pk)
        completed = selectors.measure('mttr', servers.replace(start=dt.date(2026, 1, 1)))['count']
        every = selectors.measure('mttr', Slice(start=dt.date(2026, 1, 1), end=TODAY))['count']
        self.assertEqual((completed, every), (2, 7))
        with override_settings(REPORTS_EXACT_PERCENTILES_UP_TO=7):
            self.assertTrue(sorted_from_tickets(servers))
        with override_settings(REPORTS_EXACT_PERCENTILES_UP_TO=6):
            self.assertFalse(sorted_from_tickets(servers))
            # A shorter range holds fewer: sorted again.
            self.assertTrue(sorted_from_tickets(servers.replace(start=dt.date(2026, 2, 1))))
