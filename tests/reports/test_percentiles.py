"""Median and p90: percentile_cont on PostgreSQL, window functions elsewhere, and the histogram estimate of the
rollups, all against a plain-Python definition of the continuous percentile."""

from __future__ import annotations

import datetime as dt
import math
import random

import pytest
from django.db import connection
from django.test import TestCase
from hypothesis import given, settings
from hypothesis import strategies as st

from incidents.models import Ticket
from reports import engine
from reports.choices import Interval, Source
from reports.counters import BASES, BUCKET_RATIO, bucket_bounds, bucket_of, percentile_from_histogram
from reports.engine import build_rows
from reports.slices import Slice
from tests.factories import make_user

UTC = dt.UTC
START = dt.datetime(2026, 3, 2, tzinfo=UTC)


def percentile_cont(values: list[float], fraction: float) -> float:
    """The SQL standard's continuous percentile: linear interpolation between the closest ranks."""
    ordered = sorted(values)
    rank = fraction * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (rank - low) * (ordered[high] - ordered[low])


class PercentilePathsTests(TestCase):
    """Completed tickets with known durations over three weeks, some groups of one, ties and long tails."""

    @classmethod
    def setUpTestData(cls):
        caller = make_user()
        rng = random.Random(7)
        cls.durations: dict[dt.date, list[float]] = {}
        rows = []
        for day in range(21):
            count = 1 if day % 7 == 3 else rng.randrange(0, 9)
            for _ in range(count):
                opened = START + dt.timedelta(days=day, minutes=rng.randrange(0, 600))
                seconds = rng.choice([3600.0, 7200.0, rng.uniform(30, 500_000), rng.lognormvariate(9, 1.5)])
                completed = opened + dt.timedelta(seconds=seconds)
                rows.append(
                    Ticket(
                        short_description='p',
                        caller=caller,
                        state='completed',
                        opened_at=opened,
                        completed_at=completed,
                    )
                )
                delta = (completed - opened).total_seconds()
                cls.durations.setdefault(completed.date() - dt.timedelta(days=completed.weekday()), []).append(delta)
        for ticket in rows:
            ticket.save()
        cls.all = [d for values in cls.durations.values() for d in values]

    def slice(self, **kwargs):
        return Slice(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31), interval=Interval.WEEK, **kwargs)

    def test_window_functions_match_the_definition(self):
        by_week = engine.live_percentiles_by_window(self.slice(), 'resolve', by=('period',))
        self.assertEqual(set(by_week), {(week,) for week in self.durations})
        for (week,), (median, p90) in by_week.items():
            values = self.durations[week]
            self.assertAlmostEqual(median, percentile_cont(values, 0.5), places=3)
            self.assertAlmostEqual(p90, percentile_cont(values, 0.9), places=3)
        [(median, p90)] = engine.live_percentiles_by_window(self.slice(), 'resolve').values()
        self.assertAlmostEqual(median, percentile_cont(self.all, 0.5), places=3)
        self.assertAlmostEqual(p90, percentile_cont(self.all, 0.9), places=3)

    def test_live_path_matches_the_definition(self):
        figures = engine.compute(self.slice(source=Source.LIVE), ['completed'], by=('period',), durations=['resolve'])
        for (week,), counters in figures.groups.items():
            values = self.durations[week]
            self.assertAlmostEqual(counters.percentile('resolve', 0.5), percentile_cont(values, 0.5), places=3)
            self.assertAlmostEqual(counters.percentile('resolve', 0.9), percentile_cont(values, 0.9), places=3)

    @pytest.mark.postgres
    def test_percentile_cont_and_window_functions_agree_on_postgresql(self):
        self.assertEqual(connection.vendor, 'postgresql')
        cont = engine.compute(self.slice(source=Source.LIVE), ['completed'], by=('period',), durations=['resolve'])
        window = engine.live_percentiles_by_window(self.slice(), 'resolve', by=('period',))
        self.assertEqual(set(cont.groups), set(window))
        for key, (median, p90) in window.items():
            exact = cont.groups[key].exact['resolve']
            self.assertAlmostEqual(exact[0.5], median, places=6)
            self.assertAlmostEqual(exact[0.9], p90, places=6)

    def test_sql_buckets_are_python_buckets(self):
        rows = build_rows([dt.date(2026, 3, 2) + dt.timedelta(days=i) for i in range(30)], as_of=None)
        from_sql = {}
        for row in rows:
            if row.dimension == 'all':
                for bucket, count in row.resolve_hist.items():
                    from_sql[int(bucket)] = from_sql.get(int(bucket), 0) + count
        base = BASES['completed']
        seconds = base.queryset().annotate(s=base.seconds()).values_list('s', flat=True)
        from_python = {}
        for value in seconds:
            from_python[bucket_of(value)] = from_python.get(bucket_of(value), 0) + 1
        self.assertEqual(from_sql, from_python)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(min_value=0, max_value=3e7, allow_nan=False), min_size=1, max_size=300),
    st.sampled_from([0.5, 0.9, 0.1, 0.99]),
)
def test_histogram_estimate_is_within_one_bucket(values, fraction):
    histogram: dict[int, int] = {}
    for value in values:
        histogram[bucket_of(value)] = histogram.get(bucket_of(value), 0) + 1
    exact = percentile_cont(values, fraction)
    estimate = percentile_from_histogram(histogram, fraction)
    # Under a minute everything shares one bucket: the error there is at most that minute.
    assert abs(estimate - exact) <= (BUCKET_RATIO - 1) * exact + 60 + 1e-6


def test_buckets_tile_the_line():
    for index in range(1, 200):
        low, high = bucket_bounds(index)
        assert bucket_of(low * 1.0000001) == index
        assert bucket_of(high * 0.9999999) == index
        assert high / low == pytest.approx(BUCKET_RATIO)
    assert bucket_of(59.9) == 0
