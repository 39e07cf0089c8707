"""A refresh by difference ends with the rows a full rebuild writes: after random reopens, reassignments,
priority changes, completions, breaches, deletions and a person's erasure, the day, week and month rows equal
those rebuilt from scratch, and a refresh's cost follows the tickets that changed, not the days they span."""

from __future__ import annotations

import json
import random

from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from incidents import services as tickets
from incidents.choices import TicketState
from incidents.models import Ticket
from itsm import services as people
from itsm.audit import Actor
from itsm.choices import Role
from itsm.models import User
from reports import services
from reports.contributions import decode, encode
from reports.models import COUNTER_FIELDS, DailyRollup, PeriodRollup, RollupContribution
from sla import services as sla_services
from sla.models import SlaClock
from tests.factories import make_user
from tests.reports import test_rollups
from tests.reports.test_rollups import at, complete
from tests.sla.factories import frozen

FLOATS = ('accept_seconds', 'resolve_seconds')


def stored_rows() -> dict[tuple, tuple]:
    """Every rollup row by its cell, with its counters and histograms (durations rounded to the microsecond)."""
    rows = {}
    daily = ('day', 'dimension', 'key', 'kind', 'priority')
    periodic = ('period', 'start', 'combined', 'dimension', 'key', 'kind', 'priority')
    values = (*COUNTER_FIELDS, 'accept_hist', 'resolve_hist')
    for model, cell in ((DailyRollup, daily), (PeriodRollup, periodic)):
        for row in model.objects.values_list(*cell, *values):
            counters = tuple(
                round(v, 6) if name in FLOATS else v for name, v in zip(COUNTER_FIELDS, row[len(cell) :], strict=False)
            )
            histograms = tuple({k: v for k, v in h.items() if v} for h in row[-2:])
            rows[(model.__name__, *row[: len(cell)])] = (*counters, *histograms)
    return rows


class RefreshByDifferenceTests(TestCase):
    """The random desk of `test_rollups`, rolled up at 16 March, then worked on again."""

    setUpTestData = classmethod(test_rollups.RandomDeskAgreementTests.setUpTestData.__func__)

    def change_at_random(self, seed: int, day: int) -> set[int]:
        rng = random.Random(seed)
        changed: set[int] = set()
        agents = list(User.objects.filter(username__startswith='agent').order_by('pk'))
        with frozen(at(day, 10)) as clock:
            for ticket in Ticket.objects.order_by('pk'):
                roll = rng.random()
                clock.advance(minutes=rng.randrange(1, 30))
                actor = Actor(user=ticket.assignee or agents[0])
                if ticket.state == TicketState.COMPLETED and roll < 0.3:
                    tickets.ticket_reject(ticket=ticket, actor=Actor(user=ticket.caller), reason='Still broken')
                elif ticket.state == TicketState.ASSIGNED and roll < 0.4:
                    others = [g for g in self.groups if g.pk != ticket.assignment_group_id]
                    tickets.ticket_assign(ticket=ticket, actor=actor, group=rng.choice(others), notify=False)
                elif ticket.state == TicketState.ACCEPTED and roll < 0.4:
                    complete(ticket, actor)
                elif roll < 0.55 and ticket.state != TicketState.CLOSED:
                    priority = rng.choice([p for p in range(1, 5) if p != ticket.priority])
                    tickets.ticket_override_priority(ticket=ticket, actor=actor, priority=priority, reason='Re-rated')
                elif roll < 0.6:
                    Ticket.objects.filter(pk=ticket.pk).delete()
                else:
                    continue
                changed.add(ticket.pk)
            clock.set(at(day + 1, 9))
            sla_services.sla_sweep(now=at(day + 1, 9))
            caller = User.objects.filter(username__startswith='caller').order_by('pk').first()
            people.user_erase(user=caller, actor=Actor(user=make_user(Role.ADMINISTRATOR, username=f'admin{seed}')))
        return changed

    def test_a_refresh_by_difference_equals_a_full_rebuild(self):
        for seed, day in ((1, 16), (2, 18)):
            with self.subTest(seed=seed):
                changed = self.change_at_random(seed, day)
                self.assertGreater(len(changed), 10)
                with frozen(at(day + 1, 10)):
                    result = services.rollup_refresh(now=at(day + 1, 10))
                    self.assertFalse(result.full)
                    self.assertGreaterEqual(result.tickets, len(changed) // 2)
                    refreshed = stored_rows()
                    services.rollup_rebuild()
                    rebuilt = stored_rows()
                self.assertEqual(set(refreshed), set(rebuilt))
                for cell, values in rebuilt.items():
                    self.assertEqual(refreshed[cell], values, cell)

    def test_a_full_rebuild_writes_the_rows_the_bases_grouped_by_day_give(self):
        # The full rebuild sums the tickets' contributions; recomputing days groups the bases in SQL instead.
        self.change_at_random(3, 16)
        with frozen(at(17, 10)):
            result = services.rollup_rebuild()
            from_contributions = stored_rows()
            services.rollup_rebuild(start=result.days[0], end=result.days[-1])
            from_bases = stored_rows()
        self.assertGreater(len(from_contributions), 1000)
        self.assertEqual(set(from_contributions), set(from_bases))
        for cell, values in from_bases.items():
            self.assertEqual(from_contributions[cell], values, cell)

    def test_a_deleted_tickets_contribution_is_taken_away(self):
        ticket = Ticket.objects.filter(state=TicketState.CLOSED).order_by('pk').first()
        day = ticket.completed_at.date()
        before = DailyRollup.objects.get(day=day, dimension='all', kind=ticket.kind, priority=ticket.priority)
        Ticket.objects.filter(pk=ticket.pk).delete()
        with frozen(at(16, 10)):
            services.rollup_refresh(now=at(16, 10))
        self.assertFalse(RollupContribution.objects.filter(ticket_id=ticket.pk).exists())
        after = DailyRollup.objects.filter(day=day, dimension='all', kind=ticket.kind, priority=ticket.priority)
        self.assertEqual(sum(r.completed for r in after), before.completed - 1)
        self.assertFalse(SlaClock.objects.filter(object_id=ticket.pk, content_type__model='ticket').exists())

    def test_a_refresh_reads_only_the_cells_the_changed_tickets_count_in(self):
        ticket = Ticket.objects.filter(state=TicketState.COMPLETED).order_by('pk').first()
        with frozen(at(16, 10)):
            tickets.ticket_override_priority(
                ticket=ticket, actor=Actor(user=ticket.assignee), priority=1 if ticket.priority != 1 else 2, reason='x'
            )
            with CaptureQueriesContext(connection) as one:
                result = services.rollup_refresh(now=at(16, 10))
        self.assertEqual(result.tickets, 1)
        # Contributions (six bases), the rows of the cells touched per dimension and period, writes: no query per
        # day, and none reads a whole day's tickets.
        self.assertLess(len(one.captured_queries), 90)
        self.assertLessEqual(len(result.days), 6)


class EncodingTests(TestCase):
    def test_contributions_read_back_as_written(self):
        keys = ['8', '19004', '49', 'monitoring', '91']
        entries = [
            [0, 739591, 'incident', 3, keys, None, [1]],
            [2, 739592, 'incident', 3, keys, 86, [1, 101691.25, 1, 0, 0, 0]],
            [3, 739591, 'incident', 3, [*keys, '4'], None, [1, 0, 0, 0]],  # an SLA clock: the agreement added
            [4, 739591, 'incident', 3, ['2', *keys[1:]], None, [1, 0]],  # an OLA clock: the group that held it
            [5, 739591, 'case', 2, keys, None, [1, 0]],  # read a moment after a change of kind
        ]
        self.assertEqual(decode(encode(entries)), entries)
        self.assertEqual(decode(encode([])), [])
        self.assertLess(len(encode(entries)), len(json.dumps(entries)) * 0.7)
