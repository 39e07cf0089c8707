"""MTTR and MTTA answer from one source: between two rollup refreshes the count, mean, median and p90 of one answer
all come from the tickets (small sets) or all from the rollups (large sets), never the count and mean from rollups a
refresh behind and the percentiles from the tickets as they are now."""

from __future__ import annotations

import datetime as dt
import statistics

from django.test import TestCase, override_settings

from incidents.models import Ticket
from reports import selectors, services
from reports.choices import Interval, Source
from reports.slices import Slice
from tests.factories import make_user

UTC = dt.UTC
MARCH = [dt.date(2026, 3, day) for day in range(1, 11)]
STATISTICS = ('count', 'mean_hours', 'median_hours', 'p90_hours')


def at(day: int, hour: float) -> dt.datetime:
    return dt.datetime(2026, 3, day, tzinfo=UTC) + dt.timedelta(hours=hour)


class StaleRollupTests(TestCase):
    """Four tickets completed on 2 March after 2, 4, 6 and 10 hours, rolled up; then, before the next refresh, the
    2-hour one is reopened and completed again 34 hours after it was opened, and a fifth is completed."""

    @classmethod
    def setUpTestData(cls):
        caller = make_user()
        cls.tickets = []
        for hours in (2, 4, 6, 10):
            ticket = Ticket(
                short_description=f'{hours} h',
                caller=caller,
                state='completed',
                opened_at=at(2, 0),
                accepted_at=at(2, hours / 4),
                completed_at=at(2, hours),
            )
            ticket.save()
            cls.tickets.append(ticket)
        services.rollup_recompute(days=MARCH, as_of=at(10, 0))
        # Since the last refresh: a reopen completed again later, and a new completion.
        Ticket.objects.filter(pk=cls.tickets[0].pk).update(completed_at=at(3, 10), reopen_count=1)
        late = Ticket(
            short_description='5 h',
            caller=caller,
            state='completed',
            opened_at=at(4, 0),
            accepted_at=at(4, 3),
            completed_at=at(4, 5),
        )
        late.save()

    def slice(self, **kwargs) -> Slice:
        return Slice(start=MARCH[0], end=MARCH[-1], interval=Interval.DAY, **kwargs)

    def answers(self, slug: str, **kwargs):
        return selectors.measure(slug, self.slice(**kwargs)), selectors.measure(slug, self.slice(source=Source.LIVE))

    def test_mttr_statistics_agree_with_the_live_set(self):
        answer, live = self.answers('mttr')
        self.assertEqual(answer['source'], Source.ROLLUP)  # the rollups answer the slice…
        durations = [(t.completed_at - t.opened_at).total_seconds() / 3600 for t in Ticket.objects.all()]
        self.assertEqual(sorted(durations), [4, 5, 6, 10, 34])
        # …and every statistic of the duration is the live set's.
        self.assertEqual({k: answer[k] for k in STATISTICS}, {k: live[k] for k in STATISTICS})
        self.assertEqual(answer['count'], 5)
        self.assertEqual(answer['mean_hours'], round(statistics.mean(durations), 2))
        self.assertEqual(answer['median_hours'], 6)
        self.assertLessEqual(answer['p90_hours'], max(durations))
        series = [{k: p[k] for k in ('period', *STATISTICS)} for p in answer['series']]
        self.assertEqual(series, [{k: p[k] for k in ('period', *STATISTICS)} for p in live['series']])
        by_day = {p['period']: p['count'] for p in answer['series'] if p['count']}
        self.assertEqual(by_day, {'2026-03-02': 3, '2026-03-03': 1, '2026-03-04': 1})

    def test_mtta_statistics_agree_with_the_live_set(self):
        answer, live = self.answers('mtta')
        self.assertEqual({k: answer[k] for k in STATISTICS}, {k: live[k] for k in STATISTICS})
        self.assertEqual(answer['count'], 5)

    def test_breakdown_agrees_with_the_live_set(self):
        rows = selectors.breakdown(self.slice(), 'priority', measures=('mttr',))
        live = selectors.breakdown(self.slice(source=Source.LIVE), 'priority', measures=('mttr',))
        self.assertEqual(
            [{k: r['figures']['mttr'][k] for k in STATISTICS} for r in rows],
            [{k: r['figures']['mttr'][k] for k in STATISTICS} for r in live],
        )

    @override_settings(REPORTS_EXACT_PERCENTILES_UP_TO=0)
    def test_large_sets_answer_every_statistic_from_the_rollups(self):
        answer = selectors.measure('mttr', self.slice())
        # The rollups hold the four tickets as they were at the refresh: count, mean and percentiles all theirs.
        self.assertEqual(answer['count'], 4)
        self.assertEqual(answer['mean_hours'], 5.5)
        self.assertLessEqual(answer['p90_hours'], 10 * 1.091)
        self.assertGreaterEqual(answer['p90_hours'], 6)
