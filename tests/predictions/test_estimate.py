"""The estimation arithmetic on its own: quantiles, levels, conditional quantiles (no database)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from predictions import estimate

HOUR = 3600.0


def values(**overrides):
    base = {'kind': 'incident', 'priority': 3, 'category': 1, 'service': 2, 'group': 3, 'channel': 'portal'}
    return base | overrides


def test_quantiles_of_one_to_ten_hours():
    summary = estimate.summarise([h * HOUR for h in range(1, 11)])
    assert summary.samples == 10
    assert summary.p10 == pytest.approx(1.9 * HOUR)
    assert summary.p50 == pytest.approx(5.5 * HOUR)
    assert summary.p90 == pytest.approx(9.1 * HOUR)


def test_levels_drop_channel_group_service_category_in_turn():
    rows = [(values(), 1 * HOUR)] * 3 + [(values(group=9, channel='email'), 5 * HOUR)] * 4
    profiles = estimate.group(sorted(rows, key=lambda row: row[1]))
    assert profiles[('channel', ('incident', 3, 1, 2, 3, 'portal'))].samples == 3
    assert profiles[('service', ('incident', 3, 1, 2))].samples == 7
    assert profiles[('all', ('incident',))].samples == 7

    found = estimate.choose(profiles, values(), minimum=3)
    assert (found.level, found.samples, found.expected) == ('channel', 3, HOUR)
    found = estimate.choose(profiles, values(), minimum=4)  # three of its own group: the service level serves
    assert (found.level, found.samples) == ('service', 7)
    found = estimate.choose(profiles, values(priority=1, category=None), minimum=4)  # only the kind matches
    assert (found.level, found.samples) == ('all', 7)
    found = estimate.choose(profiles, values(), minimum=50)  # nothing has enough: the kind's profile anyway
    assert (found.level, found.samples) == ('all', 7)
    assert estimate.choose(profiles, values(kind='case'), minimum=1) is None


def test_conditional_quantiles_look_only_at_longer_durations():
    summary = estimate.summarise([h * HOUR for h in range(1, 11)])
    assert estimate.conditional(summary, 0, 0.5) == summary.p50
    later = estimate.conditional(summary, 5.5 * HOUR, 0.5)  # half are shorter: the median of the upper half
    assert later == pytest.approx(summary.at(0.75))
    assert estimate.conditional(summary, 20 * HOUR, 0.9) == 20 * HOUR  # beyond anything seen: now


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(min_value=0, max_value=1e7), min_size=1, max_size=40),
    st.floats(min_value=0, max_value=2e7),
)
def test_conditional_band_is_ordered_and_never_before_the_elapsed_time(durations, elapsed):
    summary = estimate.summarise(sorted(durations))
    low, mid, high = (estimate.conditional(summary, elapsed, q) for q in (0.1, 0.5, 0.9))
    assert elapsed <= low <= mid <= high
