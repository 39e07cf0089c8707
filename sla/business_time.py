"""Business time: how much working time lies between two instants, and when N working seconds after an
instant run out, on a calendar of weekly hours in a time zone minus public and custom holidays.

Working hours are local wall-clock intervals (`08:00-18:00`, `00:00-24:00`) of each weekday. Each local day
is turned into real (UTC) windows, so the arithmetic is exact across nights, weekends, holidays and daylight
saving changes: 01:00-05:00 on the night clocks go forward is three real hours, on the night they go back
five. Local times that do not exist (inside the spring-forward gap) follow PEP 495 (`fold=0`).

Everything works on aware datetimes and `timedelta`s, so it is exact to the microsecond:
`business_time_between(c, a, add_business_time(c, a, n)) == n` for every calendar, instant and n >= 0.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_package

__all__ = [
    'DAY_KEYS',
    'Schedule',
    'add_business_time',
    'business_seconds_between',
    'business_time_between',
    'country_holidays',
    'parse_hours',
    'weekly_minutes',
]

UTC = dt.UTC
ZERO = dt.timedelta(0)
ONE_DAY = dt.timedelta(days=1)
DAY_KEYS = ('mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun')
MINUTES_PER_DAY = 24 * 60
# How far ahead a due time is looked for. Agreements are checked to fit well within it (see `weekly_minutes`).
MAX_DAYS = 10 * 366
INTERVAL = re.compile(r'^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$')

Window = tuple[dt.datetime, dt.datetime]


class Schedule:
    """A compiled calendar: per-weekday intervals in minutes, a zone, holidays. Cheap to query repeatedly:
    the real windows of each local day are computed once and kept."""

    __slots__ = ('_days', 'always_open', 'country', 'custom', 'subdivision', 'tz', 'weekly')

    def __init__(
        self,
        *,
        timezone: str = 'UTC',
        weekly: Sequence[Sequence[tuple[int, int]]],
        country: str = '',
        subdivision: str = '',
        custom: Iterable[dt.date] = (),
    ):
        if len(weekly) != 7:
            raise ValueError('weekly needs seven days, Monday first')
        self.tz = ZoneInfo(timezone)
        self.weekly = tuple(tuple(sorted((int(a), int(b)) for a, b in day)) for day in weekly)
        if not any(self.weekly):
            raise ValueError('a calendar needs some working time in its week')
        self.country = country or ''
        self.subdivision = subdivision or ''
        self.custom = frozenset(custom)
        self.always_open = (
            all(day == ((0, MINUTES_PER_DAY),) for day in self.weekly) and not self.country and not self.custom
        )
        self._days: dict[dt.date, tuple[Window, ...]] = {}

    @classmethod
    def from_hours(cls, hours: dict[str, list[str]], **kwargs) -> Schedule:
        """From the stored form `{"mon": ["08:00-12:00", "13:00-17:00"], ...}` (missing days are closed)."""
        return cls(weekly=[parse_hours(hours.get(key, [])) for key in DAY_KEYS], **kwargs)

    def is_holiday(self, day: dt.date) -> bool:
        if day in self.custom:
            return True
        return bool(self.country) and day in country_holidays(self.country, self.subdivision, day.year)

    def local_date(self, moment: dt.datetime) -> dt.date:
        return moment.astimezone(self.tz).date()

    def _utc(self, day: dt.date, minute: int) -> dt.datetime:
        if minute >= MINUTES_PER_DAY:
            day, minute = day + ONE_DAY, minute - MINUTES_PER_DAY
        local = dt.datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=self.tz)
        return local.astimezone(UTC)

    def day_start(self, day: dt.date) -> dt.datetime:
        return self._utc(day, 0)

    def windows(self, day: dt.date) -> tuple[Window, ...]:
        """The working windows of one local day as ordered, non-overlapping UTC intervals."""
        cached = self._days.get(day)
        if cached is not None:
            return cached
        result: list[Window] = []
        if not self.is_holiday(day):
            floor = None
            for start, end in self.weekly[day.weekday()]:
                begin, finish = self._utc(day, start), self._utc(day, end)
                if floor is not None and begin < floor:
                    begin = floor  # only in a spring-forward gap can a later local time map earlier
                if finish > begin:
                    result.append((begin, finish))
                    floor = finish
        if len(self._days) > 4096:
            self._days.clear()
        windows = self._days[day] = tuple(result)
        return windows


@lru_cache(maxsize=256)
def country_holidays(country: str, subdivision: str, year: int) -> frozenset[dt.date]:
    """Public holidays of a country (and optional subdivision) in one year, from the `holidays` package."""
    return frozenset(holidays_package.country_holidays(country, subdiv=subdivision or None, years=year))


def parse_hours(intervals: Iterable[str]) -> list[tuple[int, int]]:
    """`["08:00-12:00", "13:00-24:00"]` → `[(480, 720), (780, 1440)]`; ValueError naming what is wrong."""
    parsed = []
    for text in intervals:
        match = INTERVAL.match(str(text))
        if not match:
            raise ValueError(f'"{text}" is not an interval like 08:00-18:00')
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
            raise ValueError(f'"{text}" is not a time of day (00:00 to 24:00)')
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if end <= start:
            raise ValueError(f'"{text}" ends before it starts (split intervals that cross midnight)')
        parsed.append((start, end))
    parsed.sort()
    for (_, end), (start, _) in zip(parsed, parsed[1:], strict=False):
        if start < end:
            raise ValueError('intervals of a day must not overlap')
    return parsed


def weekly_minutes(hours: dict[str, list[str]]) -> int:
    """Working minutes in a week of the stored hours (holidays aside)."""
    return sum(end - start for key in DAY_KEYS for start, end in parse_hours(hours.get(key, [])))


def format_hours(intervals: Iterable[tuple[int, int]]) -> list[str]:
    return [f'{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}' for a, b in intervals]


def validate_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f'"{name}" is not a known time zone (for example Europe/Berlin)') from None
    return name


def _schedule(calendar) -> Schedule:
    return calendar if isinstance(calendar, Schedule) else calendar.schedule()


def _as_delta(amount: float | dt.timedelta) -> dt.timedelta:
    return amount if isinstance(amount, dt.timedelta) else dt.timedelta(seconds=amount)


def _as_utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError('business time needs aware datetimes')
    return moment.astimezone(UTC)


def _without(begin: dt.datetime, end: dt.datetime, exclude: Sequence[Window]):
    """The parts of [begin, end) outside the (sorted, non-overlapping) `exclude` intervals."""
    for ex_start, ex_end in exclude:
        if ex_end <= begin:
            continue
        if ex_start >= end:
            break
        if ex_start > begin:
            yield begin, ex_start
        begin = max(begin, ex_end)
        if begin >= end:
            return
    if begin < end:
        yield begin, end


def _normalise(exclude: Iterable[Window]) -> list[Window]:
    return sorted((_as_utc(a), _as_utc(b)) for a, b in exclude if b > a)


def add_business_time(
    calendar, start: dt.datetime, amount: float | dt.timedelta, *, exclude: Iterable[Window] = ()
) -> dt.datetime:
    """The earliest instant at which `amount` (seconds or a timedelta) of working time after `start` has
    passed. Time inside `exclude` intervals (a clock's pauses) does not count."""
    schedule = _schedule(calendar)
    remaining = _as_delta(amount)
    start = _as_utc(start)
    if remaining <= ZERO:
        return start
    excluded = _normalise(exclude)
    if schedule.always_open and not excluded:
        return start + remaining
    day = schedule.local_date(start)
    for _ in range(MAX_DAYS):
        for window_start, window_end in schedule.windows(day):
            if window_end <= start:
                continue
            for begin, end in _without(max(window_start, start), window_end, excluded):
                if end - begin >= remaining:
                    return begin + remaining
                remaining -= end - begin
        day += ONE_DAY
    raise ValueError(f'no working time on this calendar within {MAX_DAYS} days')


def business_time_between(calendar, start: dt.datetime, end: dt.datetime, *, exclude: Iterable[Window] = ()):
    """Working time from `start` to `end` as a timedelta (negative when `end` is earlier)."""
    schedule = _schedule(calendar)
    start, end = _as_utc(start), _as_utc(end)
    if end < start:
        return -business_time_between(schedule, end, start, exclude=exclude)
    excluded = _normalise(exclude)
    if schedule.always_open and not excluded:
        return end - start
    total = ZERO
    day = schedule.local_date(start)
    while schedule.day_start(day) < end:
        for window_start, window_end in schedule.windows(day):
            begin, finish = max(window_start, start), min(window_end, end)
            if finish > begin:
                for a, b in _without(begin, finish, excluded):
                    total += b - a
        day += ONE_DAY
    return total


def business_seconds_between(calendar, start: dt.datetime, end: dt.datetime, *, exclude: Iterable[Window] = ()):
    """Working seconds from `start` to `end` (a float, exact to the microsecond)."""
    return business_time_between(calendar, start, end, exclude=exclude).total_seconds()
