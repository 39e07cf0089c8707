"""Business time: hand-computed cases across nights, weekends, holidays and DST, then Hypothesis properties."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sla.business_time import (
    Schedule,
    add_business_time,
    business_seconds_between,
    business_time_between,
    parse_hours,
    weekly_minutes,
)
from sla.models import BusinessCalendar
from tests.sla.factories import BERLIN, berlin, make_calendar

H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)
OFFICE_HOURS = {day: ['08:00-18:00'] for day in ('mon', 'tue', 'wed', 'thu', 'fri')}
EVERY_DAY = ('mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun')


def office(**kwargs) -> Schedule:
    kwargs.setdefault('timezone', 'Europe/Berlin')
    kwargs.setdefault('country', 'DE')
    return Schedule.from_hours(kwargs.pop('hours', OFFICE_HOURS), **kwargs)


def daily(interval: str, timezone: str = 'Europe/Berlin') -> Schedule:
    return Schedule.from_hours({day: [interval] for day in EVERY_DAY}, timezone=timezone)


# ------------------------------------------------------------------------------------ hand-computed cases
ADD_CASES = [
    # (what, start, business time, due)
    ('same afternoon', berlin(2026, 3, 3, 9), 4 * H, berlin(2026, 3, 3, 13)),
    ('over the night', berlin(2026, 3, 3, 17), 2 * H, berlin(2026, 3, 4, 9)),
    ('started at night', berlin(2026, 3, 3, 20), 30 * M, berlin(2026, 3, 4, 8, 30)),
    ('over the weekend', berlin(2026, 3, 6, 17, 30), H, berlin(2026, 3, 9, 8, 30)),
    ('exactly to closing time, not the next morning', berlin(2026, 3, 2, 8), 10 * H, berlin(2026, 3, 2, 18)),
    ('a whole working week', berlin(2026, 3, 2, 8), 50 * H, berlin(2026, 3, 6, 18)),
    ('Good Friday and Easter Monday', berlin(2026, 4, 2, 17), 4 * H, berlin(2026, 4, 7, 11)),
    ('Christmas Eve to after Boxing Day', berlin(2026, 12, 24, 17), 2 * H, berlin(2026, 12, 28, 9)),
    ('over the spring-forward weekend', berlin(2026, 3, 27, 17), 2 * H, berlin(2026, 3, 30, 9)),
    ('over the fall-back weekend', berlin(2026, 10, 23, 17, 15), 3 * H, berlin(2026, 10, 26, 10, 15)),
]


@pytest.mark.parametrize(('what', 'start', 'amount', 'due'), ADD_CASES, ids=[c[0] for c in ADD_CASES])
def test_office_hours_hand_computed(what, start, amount, due):
    calendar = office()
    assert add_business_time(calendar, start, amount) == due
    assert business_time_between(calendar, start, due) == amount


def test_nothing_to_add_is_the_start_itself_even_out_of_hours():
    calendar = office()
    assert add_business_time(calendar, berlin(2026, 3, 2, 6), 0) == berlin(2026, 3, 2, 6)
    assert add_business_time(calendar, berlin(2026, 3, 2, 6), 1) == berlin(2026, 3, 2, 8, 0, 1)


def test_split_shift_skips_the_lunch_break():
    calendar = office(hours={'mon': ['08:00-12:00', '13:00-17:00']})
    assert add_business_time(calendar, berlin(2026, 3, 2, 11, 30), H) == berlin(2026, 3, 2, 13, 30)
    assert business_time_between(calendar, berlin(2026, 3, 2, 7), berlin(2026, 3, 2, 20)) == 8 * H


def test_regional_holidays_follow_the_subdivision():
    # Epiphany (6 January) is a holiday in Bavaria, not in Berlin.
    start = berlin(2026, 1, 5, 17)
    assert add_business_time(office(subdivision='BY'), start, 2 * H) == berlin(2026, 1, 7, 9)
    assert add_business_time(office(subdivision='BE'), start, 2 * H) == berlin(2026, 1, 6, 9)


def test_observed_holidays_in_new_york():
    # 4 July 2026 is a Saturday: Friday 3 July is the observed holiday.
    new_york = ZoneInfo('America/New_York')
    calendar = Schedule.from_hours(
        {d: ['09:00-17:00'] for d in EVERY_DAY[:5]}, timezone='America/New_York', country='US'
    )
    start = dt.datetime(2026, 7, 2, 16, tzinfo=new_york)
    assert add_business_time(calendar, start, 2 * H) == dt.datetime(2026, 7, 6, 10, tzinfo=new_york)


def test_custom_holidays_close_the_day():
    calendar = office(country='', custom=[dt.date(2026, 3, 3)])
    assert add_business_time(calendar, berlin(2026, 3, 2, 17), 2 * H) == berlin(2026, 3, 4, 9)


def test_round_the_clock_counts_real_hours_across_dst():
    calendar = daily('00:00-24:00')
    assert calendar.always_open
    # Clocks go forward at 02:00 on 29 March 2026: four real hours after 23:00 is 04:00 summer time.
    assert add_business_time(calendar, berlin(2026, 3, 28, 23), 4 * H) == berlin(2026, 3, 29, 4)
    # The same with holidays (so not the fast path): local days of 23 and 25 hours.
    with_holiday = Schedule.from_hours(
        {d: ['00:00-24:00'] for d in EVERY_DAY}, timezone='Europe/Berlin', custom=[dt.date(2026, 1, 1)]
    )
    assert not with_holiday.always_open
    assert business_time_between(with_holiday, berlin(2026, 3, 29), berlin(2026, 3, 30)) == 23 * H
    assert business_time_between(with_holiday, berlin(2026, 10, 25), berlin(2026, 10, 26)) == 25 * H
    assert add_business_time(with_holiday, berlin(2026, 3, 28, 23), 4 * H) == berlin(2026, 3, 29, 4)


def test_night_shift_is_three_hours_in_spring_and_five_in_autumn():
    calendar = daily('01:00-05:00')
    assert business_time_between(calendar, berlin(2026, 3, 29), berlin(2026, 3, 30)) == 3 * H
    assert business_time_between(calendar, berlin(2026, 10, 25), berlin(2026, 10, 26)) == 5 * H
    assert business_time_between(calendar, berlin(2026, 3, 28), berlin(2026, 3, 29)) == 4 * H
    # 3 h 30 on the spring night: the 3 hours of that night, then 30 minutes the next.
    assert add_business_time(calendar, berlin(2026, 3, 29), 3.5 * H) == berlin(2026, 3, 30, 1, 30)


def test_thirty_minute_dst_of_lord_howe():
    lord_howe = ZoneInfo('Australia/Lord_Howe')
    calendar = daily('00:00-24:00', timezone='Australia/Lord_Howe')
    schedule = Schedule.from_hours(
        {d: ['00:00-24:00'] for d in EVERY_DAY}, timezone='Australia/Lord_Howe', custom=[dt.date(2020, 1, 1)]
    )
    # Clocks go back by 30 minutes at 02:00 on 5 April 2026.
    day, next_day = dt.datetime(2026, 4, 5, tzinfo=lord_howe), dt.datetime(2026, 4, 6, tzinfo=lord_howe)
    assert business_time_between(schedule, day, next_day) == dt.timedelta(hours=24, minutes=30)
    assert business_time_between(calendar, day, next_day) == dt.timedelta(hours=24, minutes=30)


def test_pauses_are_left_out():
    calendar = office()
    start, end = berlin(2026, 3, 2, 8), berlin(2026, 3, 2, 18)
    pauses = [(berlin(2026, 3, 2, 10), berlin(2026, 3, 2, 11)), (berlin(2026, 3, 2, 17), berlin(2026, 3, 3, 9))]
    assert business_time_between(calendar, start, end, exclude=pauses) == 8 * H
    # 8 hours from Monday 08:00 without those pauses: Monday gives 8 h by 17:00, minus... the second pause
    # begins at 17:00, so the 8th hour ends exactly then.
    assert add_business_time(calendar, start, 8 * H, exclude=pauses) == berlin(2026, 3, 2, 17)
    assert add_business_time(calendar, start, 9 * H, exclude=pauses) == berlin(2026, 3, 3, 10)


def test_between_is_negative_backwards_and_seconds_are_floats():
    calendar = office()
    assert business_time_between(calendar, berlin(2026, 3, 2, 12), berlin(2026, 3, 2, 10)) == -2 * H
    assert business_seconds_between(calendar, berlin(2026, 3, 2, 10), berlin(2026, 3, 2, 10, 0, 30)) == 30.0


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match='aware'):
        add_business_time(office(), dt.datetime(2026, 3, 2, 9), 60)


def test_hours_are_checked():
    assert parse_hours(['13:00-17:00', '08:00-12:00']) == [(480, 720), (780, 1020)]
    for bad in (['8-18'], ['18:00-08:00'], ['08:00-12:00', '11:00-13:00'], ['25:00-26:00'], ['00:00-24:30']):
        with pytest.raises(ValueError):
            parse_hours(bad)
    with pytest.raises(ValueError, match='working time'):
        Schedule.from_hours({}, timezone='UTC')


# ---------------------------------------------------------------------------------------- the model side
@pytest.mark.django_db
def test_calendar_records_compile_and_validate():
    calendar = make_calendar(holiday_subdivision='BE', custom_holidays=['2026-03-03'])
    assert calendar.custom_holidays == [{'date': '2026-03-03', 'name': ''}]
    assert add_business_time(calendar, berlin(2026, 3, 2, 17), 2 * H) == berlin(2026, 3, 4, 9)
    assert calendar.hours_text == 'Mon–Fri 08:00-18:00'
    assert BusinessCalendar.objects.builtin_24x7().hours_text == 'Around the clock'
    bad = BusinessCalendar(name='Bad', timezone='Mars/Olympus', hours={'mon': ['9-5']}, holiday_country='XX')
    with pytest.raises(ValidationError) as error:
        bad.full_clean()
    assert set(error.value.message_dict) >= {'timezone', 'hours', 'holiday_country'}


@pytest.mark.django_db
def test_a_changed_calendar_is_compiled_again():
    calendar = make_calendar()
    assert add_business_time(calendar, berlin(2026, 3, 2, 17), 2 * H) == berlin(2026, 3, 3, 9)
    calendar.hours = {day: ['07:00-18:00'] for day in EVERY_DAY[:5]}
    calendar.save()
    assert add_business_time(calendar, berlin(2026, 3, 2, 17), 2 * H) == berlin(2026, 3, 3, 8)


# ------------------------------------------------------------------------------------------- properties
ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'America/Santiago']


@st.composite
def day_intervals(draw) -> list[str]:
    cuts = sorted(draw(st.sets(st.integers(min_value=0, max_value=1440), max_size=6)))
    cuts = cuts[: len(cuts) // 2 * 2]
    return [
        f'{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}' for a, b in zip(cuts[::2], cuts[1::2], strict=True)
    ]


@st.composite
def schedules(draw) -> Schedule:
    hours = {day: draw(day_intervals()) for day in EVERY_DAY}
    # Agreements must fit in five years of the calendar's working time (the model checks it): an hour a week
    # carries the 20,000-minute targets drawn here.
    assume(weekly_minutes(hours) >= 60)
    country = draw(st.sampled_from(['', '', 'DE', 'US']))
    custom = draw(st.lists(st.dates(dt.date(2025, 1, 1), dt.date(2028, 12, 31)), max_size=5))
    return Schedule.from_hours(hours, timezone=draw(st.sampled_from(ZONES)), country=country, custom=custom)


instants = st.datetimes(
    min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2028, 6, 30), timezones=st.just(dt.UTC)
).map(lambda moment: moment.replace(microsecond=0))
minutes = st.integers(min_value=0, max_value=20_000)
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])


@PROPERTY
@given(schedules(), instants, minutes)
def test_adding_n_minutes_then_measuring_gives_n_back(schedule, start, n):
    due = add_business_time(schedule, start, n * 60)
    assert due >= start
    assert business_time_between(schedule, start, due) == dt.timedelta(minutes=n)


@PROPERTY
@given(schedules(), instants, minutes, minutes)
def test_adding_in_two_steps_is_adding_once(schedule, start, n, m):
    once = add_business_time(schedule, start, (n + m) * 60)
    assert add_business_time(schedule, add_business_time(schedule, start, n * 60), m * 60) == once
    assert add_business_time(schedule, start, n * 60) <= once


@PROPERTY
@given(schedules(), instants, st.lists(st.integers(min_value=0, max_value=30 * 24 * 60), min_size=2, max_size=2))
def test_measuring_is_additive_and_never_more_than_wall_time(schedule, start, offsets):
    a = start
    b = a + dt.timedelta(minutes=min(offsets))
    c = a + dt.timedelta(minutes=max(offsets))
    ab, bc, ac = (business_time_between(schedule, x, y) for x, y in ((a, b), (b, c), (a, c)))
    assert ab + bc == ac
    assert dt.timedelta(0) <= ac <= c - a


@PROPERTY
@given(instants, minutes, st.sampled_from(ZONES))
def test_round_the_clock_is_wall_time(start, n, zone):
    schedule = Schedule.from_hours({d: ['00:00-24:00'] for d in EVERY_DAY}, timezone=zone, custom=[dt.date(2020, 1, 1)])
    assert add_business_time(schedule, start, n * 60) == start + dt.timedelta(minutes=n)


@PROPERTY
@given(schedules(), instants, minutes)
def test_a_due_time_is_the_earliest_instant(schedule, start, n):
    assume(n > 0)
    due = add_business_time(schedule, start, n * 60)
    one_second_earlier = due - dt.timedelta(seconds=1)
    assert business_time_between(schedule, start, max(start, one_second_earlier)) < dt.timedelta(minutes=n)


def test_berlin_zone_is_the_one_the_factories_use():
    assert berlin(2026, 7, 1, 12).utcoffset() == dt.timedelta(hours=2)
    assert BERLIN.key == 'Europe/Berlin'


@pytest.mark.django_db
def test_agreements_must_fit_in_a_few_years_of_their_calendar():
    from tests.sla.factories import make_sla

    sparse = make_calendar('Sparse', hours={'mon': ['09:00-10:00']}, holiday_country='')
    make_sla(priority=3, response=60, resolution=52 * 5 * 60, calendar=sparse)
    with pytest.raises(ValidationError) as error:
        make_sla(priority=2, response=60, resolution=52 * 5 * 60 + 1, calendar=sparse)
    assert 'more than 5 years of working time' in error.value.message_dict['resolution_minutes'][0]
