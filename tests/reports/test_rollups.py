"""Daily rollups: recomputing is idempotent, late events re-roll the days they touch, and the rollup path
agrees with the live path on a desk of randomly driven tickets (for every measure, slice and breakdown)."""

from __future__ import annotations

import datetime as dt
import random

from django.test import TestCase, override_settings

from cmdb.choices import CIClass
from incidents import services as tickets
from incidents.choices import PendingReason, ResolutionCode
from incidents.models import Category
from itsm.audit import Actor
from itsm.choices import Impact, Role, Tier, Urgency
from reports import selectors, services
from reports.choices import Dimension, Interval, Source
from reports.engine import build_rows
from reports.models import COUNTER_FIELDS, DailyRollup
from reports.slices import Slice
from sla import services as sla_services
from sla.models import BusinessCalendar
from tests.cmdb.factories import make_ci
from tests.factories import SupportGroupFactory, make_user
from tests.sla.factories import frozen

UTC = dt.UTC
SYSTEM = Actor.system()
TOLERANCE = 0.091  # one duration bucket


def at(day: int, hour: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def rows_of(days) -> list[tuple]:
    fields = ('day', 'dimension', 'key', 'kind', 'priority', *COUNTER_FIELDS, 'accept_hist', 'resolve_hist')
    return list(DailyRollup.objects.filter(day__in=days).order_by(*fields[:5]).values_list(*fields))


def complete(ticket, actor):
    return tickets.ticket_complete(
        ticket=ticket, actor=actor, resolution_code=ResolutionCode.SOLVED_PERMANENTLY, resolution_notes='Done.'
    )


class SmallDesk(TestCase):
    """One group, one agent, an SLA on P3: enough to follow single tickets through late events."""

    @classmethod
    def setUpTestData(cls):
        cls.agent = make_user(Role.SERVICE_DESK_AGENT, username='ada')
        cls.caller = make_user(username='cal')
        cls.group = SupportGroupFactory(name='Desk', members=[cls.agent])
        sla_services.sla_create(
            actor=SYSTEM,
            name='P3',
            ticket_kind='incident',
            priority=3,
            response_minutes=60,
            resolution_minutes=480,
            calendar=BusinessCalendar.objects.builtin_24x7(),
        )

    def run_ticket(self, clock, opened: dt.datetime, *, hours: float = 2):
        desk = Actor(user=self.agent)
        clock.set(opened)
        ticket = tickets.ticket_create(actor=Actor(user=self.caller), caller=self.caller, short_description='x')
        ticket = tickets.ticket_assign(ticket=ticket, actor=desk, group=self.group, notify=False)
        clock.advance(minutes=10)
        ticket = tickets.ticket_accept(ticket=ticket, actor=desk)
        clock.set(opened + dt.timedelta(hours=hours))
        return complete(ticket, desk)

    def figures(self, slug, start, end, source):
        return selectors.measure(slug, Slice(start=start, end=end, source=source))

    def assert_paths_agree(self, start, end):
        for slug in ('mttr', 'volume', 'reopen_rate', 'fcr', 'sla_compliance', 'answer_rate', 'mtta'):
            live, rollup = self.figures(slug, start, end, Source.LIVE), self.figures(slug, start, end, Source.ROLLUP)
            self.assertEqual(rollup['source'], Source.ROLLUP)
            for name in ('count', 'mean_hours', 'percent', 'opened', 'completed', 'reopened', 'first_time'):
                self.assertEqual(live.get(name), rollup.get(name), f'{slug} {name}')
            self.assertEqual(
                [{k: v for k, v in p.items() if 'median' not in k and 'p90' not in k} for p in live['series']],
                [{k: v for k, v in p.items() if 'median' not in k and 'p90' not in k} for p in rollup['series']],
                slug,
            )

    def test_recomputing_a_day_is_idempotent(self):
        with frozen(at(2)) as clock:
            self.run_ticket(clock, at(2, 9))
            self.run_ticket(clock, at(2, 22), hours=5)  # completes on the 3rd
            days = [dt.date(2026, 3, 2), dt.date(2026, 3, 3)]
            services.rollup_recompute(days=days, as_of=at(4))
            first = rows_of(days)
            services.rollup_recompute(days=days, as_of=at(4))
            services.rollup_recompute(days=days[:1], as_of=at(4))
            self.assertEqual(rows_of(days), first)
            self.assertTrue(first)
            markers = DailyRollup.objects.filter(dimension=Dimension.DAY)
            self.assertEqual(sorted(markers.values_list('day', flat=True)), days)

    def test_first_refresh_rolls_every_day_then_only_what_changed(self):
        with frozen(at(2)) as clock:
            self.run_ticket(clock, at(2, 9))
            clock.set(at(6, 12))
            result = services.rollup_refresh(now=at(6, 12))
            self.assertTrue(result.full)
            self.assertEqual(result.days[0], dt.date(2026, 3, 2))
            self.assertEqual(result.days[-1], dt.date(2026, 3, 6))
            clock.set(at(6, 12, 10))
            again = services.rollup_refresh(now=at(6, 12, 10))
            self.assertFalse(again.full)
            # Nothing changed since: the ticket of the 2nd was last touched long ago.
            self.assertEqual((again.days, again.tickets), ([], 0))
            # The next day is marked as rolled up (it holds nothing yet), and the refresh's moment is its as-of.
            clock.set(at(7, 0, 30))
            later = services.rollup_refresh(now=at(7, 0, 30))
            self.assertEqual((later.days, later.tickets), ([dt.date(2026, 3, 7)], 0))
            markers = DailyRollup.objects.filter(dimension=Dimension.DAY)
            self.assertEqual(markers.order_by('-computed_at').first().computed_at, at(7, 0, 30))

    def test_a_late_reopen_re_rolls_the_day_the_completion_was_on(self):
        march = (dt.date(2026, 3, 1), dt.date(2026, 3, 20))
        with frozen(at(2)) as clock:
            ticket = self.run_ticket(clock, at(2, 9))
            clock.set(at(3, 12))  # the caller does not confirm: the ticket stays Completed
            services.rollup_refresh(now=at(3, 12))
            self.assertEqual(self.figures('mttr', *march, Source.ROLLUP)['count'], 1)
            # Ten days later the caller rejects the fix.
            clock.set(at(13, 9))
            ticket = tickets.ticket_reject(ticket=ticket, actor=Actor(user=self.caller), reason='Broken again')
            clock.set(at(20, 9))
            services.rollup_refresh(now=at(20, 9))
            day_2 = DailyRollup.objects.get(day=dt.date(2026, 3, 2), dimension=Dimension.ALL)
            self.assertEqual((day_2.opened, day_2.completed), (1, 0))
            self.assertEqual(self.figures('mttr', *march, Source.ROLLUP)['count'], 0)
            self.assert_paths_agree(*march)
            # Completed again on the 20th: counted there, as reopened, with all 18 days since it was opened.
            ticket = complete(ticket, Actor(user=self.agent))
            clock.set(at(20, 9, 30))
            services.rollup_refresh(now=at(20, 9, 30))
            mttr = self.figures('mttr', *march, Source.ROLLUP)
            self.assertEqual((mttr['count'], mttr['mean_hours']), (1, 18 * 24.0))
            self.assertEqual(self.figures('reopen_rate', *march, Source.ROLLUP)['percent'], 100.0)
            self.assert_paths_agree(*march)

    def test_a_backdated_import_re_rolls_the_day_it_was_opened(self):
        with frozen(at(10)) as clock:
            services.rollup_refresh(now=at(10))
            clock.set(at(10, 12))
            imported = tickets.ticket_create(
                actor=SYSTEM,
                caller=self.caller,
                short_description='From the old tool',
                opened_at=at(1, 8),
                channel='email',
            )
            services.rollup_refresh(now=at(10, 12))
            day_1 = DailyRollup.objects.get(day=dt.date(2026, 3, 1), dimension=Dimension.ALL)
            self.assertEqual((day_1.opened, day_1.priority), (1, imported.priority))
            self.assert_paths_agree(dt.date(2026, 3, 1), dt.date(2026, 3, 10))

    def test_a_priority_change_moves_the_ticket_between_rows(self):
        with frozen(at(2)) as clock:
            ticket = self.run_ticket(clock, at(2, 9))
            services.rollup_refresh(now=at(2, 12))
            clock.set(at(5, 9))
            tickets.ticket_override_priority(ticket=ticket, actor=Actor(user=self.agent), priority=1, reason='VIP')
            services.rollup_refresh(now=at(5, 9))
            rows = DailyRollup.objects.filter(day=dt.date(2026, 3, 2), dimension=Dimension.ALL)
            self.assertEqual([(r.priority, r.completed) for r in rows], [(1, 1)])

    def test_a_breach_found_by_the_sweep_re_rolls_its_day(self):
        with frozen(at(2)) as clock:
            clock.set(at(2, 9))
            tickets.ticket_create(actor=Actor(user=self.caller), caller=self.caller, short_description='Waiting')
            services.rollup_refresh(now=at(2, 9, 30))
            clock.set(at(9, 9))
            sla_services.sla_sweep(now=at(9, 9))
            services.rollup_refresh(now=at(9, 9, 5))
            day = DailyRollup.objects.get(day=dt.date(2026, 3, 2), dimension=Dimension.ALL)
            self.assertEqual((day.response_breached, day.resolution_breached, day.answered_late), (1, 1, 1))

    def test_days_not_rolled_up_yet_are_built_on_the_fly(self):
        with frozen(at(2)) as clock:
            self.run_ticket(clock, at(2, 9))
            clock.set(at(3, 9))
            result = self.figures('mttr', dt.date(2026, 3, 1), dt.date(2026, 3, 3), Source.ROLLUP)
            self.assertEqual((result['source'], result['count']), (Source.ROLLUP, 1))
            self.assertFalse(DailyRollup.objects.exists())

    def test_the_periodic_task(self):
        from reports.tasks import reports_tick_task

        with frozen(at(2)) as clock:
            self.run_ticket(clock, at(2, 9))
            clock.set(at(2, 23))
            message = reports_tick_task.delay().get()
        self.assertIn('days rolled up', message)
        self.assertTrue(DailyRollup.objects.filter(day=dt.date(2026, 3, 2), completed=1).exists())

    def test_the_beat_schedule_runs_it(self):
        from itsm.celery import app

        entry = app.conf.beat_schedule['reports-tick']
        self.assertEqual(entry['task'], 'reports.tasks.reports_tick_task')


class RandomDeskAgreementTests(TestCase):
    """About 80 tickets driven at random through every path, then every figure compared between paths."""

    @classmethod
    def setUpTestData(cls):
        rng = random.Random(20260302)
        always = BusinessCalendar.objects.builtin_24x7()
        agents = [make_user(Role.SERVICE_DESK_AGENT, username=f'agent{i}') for i in range(3)]
        engineers = [make_user(Role.L2_ENGINEER, username=f'eng{i}') for i in range(2)]
        callers = [make_user(username=f'caller{i}') for i in range(4)]
        l2 = SupportGroupFactory(name='L2', tier=Tier.L2, members=engineers)
        l1 = SupportGroupFactory(name='L1', tier=Tier.L1, members=agents, escalation_group=l2)
        other = SupportGroupFactory(name='Apps', tier=Tier.L2, members=engineers[:1])
        groups = {l1.pk: agents, l2.pk: engineers, other.pk: engineers[:1]}
        for priority in range(1, 5):
            sla_services.sla_create(
                actor=SYSTEM,
                name=f'P{priority}',
                ticket_kind='incident',
                priority=priority,
                response_minutes=30 * priority,
                resolution_minutes=240 * priority,
                calendar=always,
            )
        sla_services.ola_create(
            actor=SYSTEM,
            name='L1 OLA',
            support_group=l1,
            priority=None,
            accept_minutes=20,
            resolve_minutes=300,
            calendar=always,
        )
        services_ = [make_ci(CIClass.SERVICE, name) for name in ('Mail', 'VPN')]
        categories = [Category.objects.create(name=name) for name in ('Peripherals', 'Programs')]
        impacts = [Impact.HIGH, Impact.MEDIUM, Impact.LOW, Impact.NONE]
        urgencies = [Urgency.CRITICAL, Urgency.URGENT, Urgency.NORMAL, Urgency.NEGOTIATED]
        with frozen(at(2)) as clock:
            for number in range(80):
                opened = at(2) + dt.timedelta(minutes=rng.randrange(0, 9 * 24 * 60))
                clock.set(opened)
                caller = rng.choice(callers)
                ticket = tickets.ticket_create(
                    actor=Actor(user=caller),
                    caller=caller,
                    short_description=f'Random {number}',
                    notify=False,
                    kind='incident' if rng.random() < 0.85 else 'case',
                    impact=rng.choice(impacts),
                    urgency=rng.choice(urgencies),
                    channel=rng.choice(['portal', 'phone', 'email']),
                    service=rng.choice([*services_, None]),
                    category=rng.choice([*categories, None]),
                )
                if rng.random() < 0.1:
                    continue  # stays New
                group = rng.choice([l1, l1, other])
                desk = Actor(user=rng.choice(groups[group.pk]))
                clock.advance(minutes=rng.randrange(1, 90))
                ticket = tickets.ticket_assign(ticket=ticket, actor=desk, group=group, notify=False)
                if group == l1 and rng.random() < 0.25:
                    clock.advance(minutes=rng.randrange(5, 240))
                    ticket = tickets.ticket_escalate(ticket=ticket, actor=desk, reason='Deeper look')
                    group, desk = l2, Actor(user=rng.choice(engineers))
                if rng.random() < 0.1:
                    continue  # assigned, never accepted
                clock.advance(minutes=rng.randrange(1, 600))
                ticket = tickets.ticket_accept(ticket=ticket, actor=desk)
                if rng.random() < 0.3:
                    clock.advance(minutes=rng.randrange(10, 300))
                    ticket = tickets.ticket_pend(ticket=ticket, actor=desk, reason=PendingReason.CUSTOMER)
                    clock.advance(minutes=rng.randrange(60, 3000))
                    ticket = tickets.ticket_resume(ticket=ticket, actor=desk)
                if rng.random() < 0.15:
                    continue  # still being worked
                clock.advance(minutes=rng.randrange(10, 4000))
                ticket = complete(ticket, desk)
                if rng.random() < 0.2:
                    clock.advance(minutes=rng.randrange(60, 2000))
                    ticket = tickets.ticket_reject(ticket=ticket, actor=Actor(user=caller), reason='No')
                    clock.advance(minutes=rng.randrange(10, 2000))
                    ticket = complete(ticket, desk)
                if rng.random() < 0.5:
                    clock.advance(minutes=rng.randrange(10, 2000))
                    tickets.ticket_confirm(ticket=ticket, actor=Actor(user=caller))
            clock.set(at(16))
            sla_services.sla_sweep(now=at(16))
            services.rollup_refresh(now=at(16))
        cls.groups, cls.services, cls.categories = [l1, l2, other], services_, categories
        cls.agents = agents + engineers

    def setUp(self):
        clock = frozen(at(16))
        clock.__enter__()
        self.addCleanup(clock.__exit__, None, None, None)

    def compare(self, live, rollup, context, exact=True):
        if isinstance(live, dict):
            self.assertEqual(set(live), set(rollup), context)
            for name in live:
                if name in ('source', 'as_of'):
                    continue
                self.compare(live[name], rollup[name], f'{context}.{name}', exact)
        elif isinstance(live, list):
            self.assertEqual(len(live), len(rollup), context)
            for index, (a, b) in enumerate(zip(live, rollup, strict=True)):
                self.compare(a, b, f'{context}[{index}]', exact)
        elif not exact and context.endswith(('median_hours', 'p90_hours')) and live is not None:
            self.assertAlmostEqual(rollup, live, delta=TOLERANCE * live + 0.01, msg=context)
        else:
            self.assertEqual(live, rollup, context)

    def slices(self):
        base = Slice(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 14))
        yield base
        yield base.replace(interval=Interval.WEEK)
        yield base.replace(start=dt.date(2026, 3, 4), end=dt.date(2026, 3, 6))
        yield base.replace(priorities=(2, 3))
        yield base.replace(kind='case')
        yield base.replace(group=self.groups[0].pk)
        yield base.replace(group=0)
        yield base.replace(service=self.services[0].pk)
        yield base.replace(category=self.categories[1].pk)
        yield base.replace(channel='email')
        yield base.replace(agent=self.agents[0].pk, interval=Interval.MONTH)

    def test_every_measure_agrees(self):
        measures = (
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
        checked = 0
        # Exact percentiles (few tickets, the default here), then the histogram estimates used at scale.
        for limit in (50_000, 0):
            with override_settings(REPORTS_EXACT_PERCENTILES_UP_TO=limit):
                for slice_ in self.slices():
                    for slug in measures:
                        with self.subTest(limit=limit, slice=slice_, measure=slug):
                            live = selectors.measure(slug, slice_.replace(source=Source.LIVE))
                            rollup = selectors.measure(slug, slice_.replace(source=Source.ROLLUP))
                            self.assertEqual(rollup['source'], Source.ROLLUP)
                            self.compare(live, rollup, slug, exact=bool(limit))
                            checked += 1
        self.assertEqual(checked, 220)
        total = selectors.measure('volume', Slice(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 16)))
        self.assertEqual(total['opened'], 80)

    def test_breakdowns_agree(self):
        base = Slice(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 14))
        for by in ('priority', 'kind', 'group', 'service', 'category', 'channel', 'agent'):
            for slice_ in (base, base.replace(priorities=(3,))):
                with self.subTest(by=by, slice=slice_):
                    live = selectors.breakdown(slice_.replace(source=Source.LIVE), by)
                    rollup = selectors.breakdown(slice_.replace(source=Source.ROLLUP), by)
                    self.compare({r['key']: r['figures'] for r in live}, {r['key']: r['figures'] for r in rollup}, by)
        live = selectors.breakdown(base.replace(source=Source.LIVE), 'agreement', measures=('sla_compliance',))
        rollup = selectors.breakdown(base.replace(source=Source.ROLLUP), 'agreement', measures=('sla_compliance',))
        self.compare({r['key']: r['figures'] for r in live}, {r['key']: r['figures'] for r in rollup}, 'agreement')

    def test_a_limited_breakdown_is_the_head_of_the_whole_one(self):
        base = Slice(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 14))
        cases = [(by, {}) for by in ('service', 'agent', 'group', 'priority', 'channel')]
        cases.append(('agreement', {'measures': ('sla_compliance',)}))  # counters only: no histogram to read
        for by, options in cases:
            for source in (Source.LIVE, Source.ROLLUP):
                whole = selectors.breakdown(base.replace(source=source), by, **options)
                self.assertGreater(len(whole), 2, by)  # else the limits below would show nothing
                for limit in (1, 2, len(whole), len(whole) + 5):
                    with self.subTest(by=by, source=source, limit=limit):
                        head = selectors.breakdown(base.replace(source=source), by, limit=limit, **options)
                        self.assertEqual(head.total, len(whole))
                        self.assertEqual(head.limited, limit < len(whole))
                        self.assertEqual([r['key'] for r in head], [r['key'] for r in whole[:limit]])
                        self.compare([r['figures'] for r in head], [r['figures'] for r in whole[:limit]], by)
                        self.assertEqual([r['urls'] for r in head], [r['urls'] for r in whole[:limit]])

    def test_stored_rows_equal_rows_built_now(self):
        days = [dt.date(2026, 3, 2) + dt.timedelta(days=i) for i in range(15)]
        built = sorted(
            (r.day, r.dimension, r.key, r.kind, r.priority, *(getattr(r, f) for f in COUNTER_FIELDS))
            for r in build_rows(days, as_of=None)
        )
        stored = sorted(
            DailyRollup.objects.filter(day__in=days).values_list(
                'day', 'dimension', 'key', 'kind', 'priority', *COUNTER_FIELDS
            )
        )
        self.assertEqual(len(built), len(stored))
        for a, b in zip(built, stored, strict=True):
            self.assertEqual(a[:5], b[:5])
            for x, y in zip(a[5:], b[5:], strict=True):
                self.assertAlmostEqual(x, y, places=6)
