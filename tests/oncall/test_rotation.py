"""Rotation arithmetic (pure functions): one person per covered instant, shifts tiling the window, handovers at the
same local wall time across DST, later layers and overrides winning exactly where they cover."""

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from oncall import rotation
from oncall.rotation import Layer, Override

UTC = dt.UTC
ZONES = st.sampled_from(['Europe/London', 'America/New_York', 'UTC', 'Australia/Sydney'])
TIMES = st.builds(dt.time, st.integers(0, 23), st.sampled_from([0, 15, 30]))
STARTS = st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 12, 1)).map(
    lambda d: d.replace(tzinfo=UTC)
)


def layers_strategy():
    return st.builds(
        Layer,
        members=st.lists(st.sampled_from('abcde'), min_size=1, max_size=4).map(tuple),
        handoff=st.sampled_from(['daily', 'weekly']),
        handoff_time=TIMES,
        handoff_weekday=st.integers(0, 6),
        start=st.dates(min_value=dt.date(2025, 6, 1), max_value=dt.date(2025, 12, 31)),
    )


@settings(max_examples=40, deadline=None)
@given(layer=layers_strategy(), zone=ZONES, start=STARTS, days=st.integers(1, 10))
def test_a_24x7_layer_tiles_the_window_with_one_person_at_every_instant(layer, zone, start, days):
    zone = ZoneInfo(zone)
    end = start + dt.timedelta(days=days)
    shifts = rotation.shifts([layer], [], start, end, zone)
    assert shifts[0].start == start and shifts[-1].end == end
    for before, after in zip(shifts, shifts[1:], strict=False):
        assert before.end == after.start  # no gap, no overlap
        assert before.person != after.person or len(layer.members) == 1 or before.source != after.source
    for shift in shifts:
        middle = shift.start + (shift.end - shift.start) / 2
        assert rotation.who_at([layer], [], middle, zone)[0] == shift.person
        assert rotation.who_at([layer], [], shift.start, zone)[0] == shift.person


@settings(max_examples=30, deadline=None)
@given(
    zone=st.sampled_from(['Europe/London', 'America/New_York']),
    handoff_time=st.sampled_from([dt.time(9), dt.time(0, 30), dt.time(17, 45)]),
    weekly=st.booleans(),
)
def test_handovers_keep_their_local_wall_time_across_dst(zone, handoff_time, weekly):
    tz = ZoneInfo(zone)
    layer = Layer(
        members=('a', 'b', 'c'),
        handoff='weekly' if weekly else 'daily',
        handoff_time=handoff_time,
        handoff_weekday=6,  # Sunday: the day both zones change their clocks
        start=dt.date(2026, 1, 4),
    )
    for window_start in (dt.datetime(2026, 3, 1, tzinfo=UTC), dt.datetime(2026, 10, 10, tzinfo=UTC)):
        shifts = rotation.shifts([layer], [], window_start, window_start + dt.timedelta(days=35), tz)
        lengths = set()
        for shift in shifts[1:]:
            local = shift.start.astimezone(tz)
            assert (local.hour, local.minute) == (handoff_time.hour, handoff_time.minute)
        for shift in shifts[1:-1]:
            lengths.add(shift.end - shift.start)
        day = dt.timedelta(days=7 if weekly else 1)
        # One shift across the change is an hour shorter (spring) or longer (autumn); the rest are whole days.
        assert lengths <= {day, day - dt.timedelta(hours=1), day + dt.timedelta(hours=1)}
        assert len(lengths - {day}) == 1


def test_a_day_across_the_spring_change_in_london_lasts_23_hours():
    tz = ZoneInfo('Europe/London')
    layer = Layer(members=('a', 'b'), handoff='daily', handoff_time=dt.time(9), start=dt.date(2026, 3, 1))
    start = dt.datetime(2026, 3, 28, 9, tzinfo=UTC)  # 09:00 GMT, Saturday
    shifts = rotation.shifts([layer], [], start, start + dt.timedelta(days=2), tz)
    assert [s.end - s.start for s in shifts[:2]] == [dt.timedelta(hours=23), dt.timedelta(hours=24)]
    assert shifts[1].start == dt.datetime(2026, 3, 29, 8, tzinfo=UTC)  # 09:00 BST


@settings(max_examples=40, deadline=None)
@given(
    layer=layers_strategy(),
    zone=ZONES,
    start=STARTS,
    offset=st.integers(0, 72 * 60),
    length=st.integers(1, 48 * 60),
)
def test_an_override_replaces_exactly_its_window(layer, zone, start, offset, length):
    tz = ZoneInfo(zone)
    end = start + dt.timedelta(days=5)
    o_start = start + dt.timedelta(minutes=offset)
    override = Override('z', o_start, o_start + dt.timedelta(minutes=length))
    with_override = rotation.shifts([layer], [override], start, end, tz)
    covered = [s for s in with_override if s.person == 'z']
    assert len(covered) == 1
    assert covered[0].start == max(start, override.start) and covered[0].end == min(end, override.end)
    for moment in (override.start - dt.timedelta(seconds=1), override.end):
        if start <= moment < end:
            assert rotation.who_at([layer], [override], moment, tz) == rotation.who_at([layer], [], moment, tz)


def test_a_business_hours_layer_wins_over_the_24x7_one_where_it_covers():
    tz = ZoneInfo('Europe/London')
    base = Layer(members=('night',), handoff='weekly', name='24x7')
    office = Layer(
        members=('day1', 'day2'),
        handoff='daily',
        handoff_time=dt.time(9),
        days=frozenset(range(5)),
        from_time=dt.time(9),
        to_time=dt.time(17),
        name='Business hours',
    )
    monday_noon = dt.datetime(2026, 7, 6, 11, tzinfo=UTC)  # 12:00 BST
    assert rotation.who_at([base, office], [], monday_noon, tz)[0].startswith('day')
    assert rotation.who_at([base, office], [], monday_noon + dt.timedelta(hours=6), tz)[0] == 'night'
    saturday_noon = dt.datetime(2026, 7, 11, 11, tzinfo=UTC)
    assert rotation.who_at([base, office], [], saturday_noon, tz)[0] == 'night'
    shifts = rotation.shifts(
        [base, office], [], monday_noon - dt.timedelta(hours=12), monday_noon + dt.timedelta(days=1), tz
    )
    starts = [s.start.astimezone(tz).time() for s in shifts]
    assert dt.time(9) in starts and dt.time(17) in starts
    assert all(a.end == b.start for a, b in zip(shifts, shifts[1:], strict=False))


def test_nobody_before_the_rotation_starts_and_outside_restricted_hours():
    tz = ZoneInfo('UTC')
    layer = Layer(members=('a',), handoff='daily', start=dt.date(2026, 6, 1), from_time=dt.time(9), to_time=dt.time(17))
    assert rotation.who_at([layer], [], dt.datetime(2026, 5, 31, 12, tzinfo=UTC), tz) == (None, '')
    assert rotation.who_at([layer], [], dt.datetime(2026, 6, 2, 20, tzinfo=UTC), tz) == (None, '')
    shifts = rotation.shifts([layer], [], dt.datetime(2026, 6, 2, tzinfo=UTC), dt.datetime(2026, 6, 4, tzinfo=UTC), tz)
    assert [(s.start.hour, s.end.hour) for s in shifts] == [(9, 17), (9, 17)]
