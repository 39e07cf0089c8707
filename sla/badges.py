"""What an SLA badge says and how it is coloured: time left to the due time (wall clock, so it can count down
live), or overdue; paused clocks show business time left; stopped clocks show met or missed by how much."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from itsm.timezones import format_datetime

from . import business_time
from .choices import SLA_KINDS, ClockKind, ClockState
from .models import SlaClock, format_minutes

__all__ = [
    'Badge',
    'badge_for',
    'badges_for',
    'counts_business_hours',
    'forecast_badge',
    'format_business',
    'format_clock_time',
    'format_duration',
    'format_target',
]

ICONS = {
    ClockKind.RESPONSE: 'message-bolt',
    ClockKind.RESOLUTION: 'tool',
    ClockKind.OLA_ACCEPT: 'hand-grab',
    ClockKind.OLA_RESOLVE: 'users-group',
}


@dataclass(frozen=True)
class Badge:
    clock_id: int
    label: str
    text: str
    color: str
    state: str
    icon: str
    title: str
    due: str = ''
    risk: str = ''


def format_duration(seconds: float) -> str:
    """5400 → '1h 30m', 200000 → '2d 7h', 95 → '1m 35s' (seconds only under ten minutes)."""
    seconds = int(abs(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f'{days}d {hours}h' if hours else f'{days}d'
    if hours:
        return f'{hours}h {minutes:02d}m'
    if minutes >= 10:
        return f'{minutes}m'
    return f'{minutes}m {secs:02d}s' if minutes else f'{secs}s'


def counts_business_hours(calendar) -> bool:
    """Whether durations on `calendar` are business hours: any calendar but one open every hour of every day
    without holidays (whose durations are plain calendar time, '1d 6h')."""
    if calendar is None:
        return False
    always = all(calendar.hours.get(day) == ['00:00-24:00'] for day in business_time.DAY_KEYS)
    return not (always and not calendar.holiday_country and not calendar.custom_holidays)


def format_business(seconds: float) -> str:
    """Business time in words: 108000 → '30 business hours', 8100 → '2 business hours 15 min',
    3600 → '1 business hour', 1500 → '25 business minutes'."""
    minutes = int(abs(seconds)) // 60
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return f'{minutes} business minute{"" if minutes == 1 else "s"}'
    text = f'{hours:,} business hour{"" if hours == 1 else "s"}'
    return f'{text} {minutes} min' if minutes else text


def format_clock_time(seconds: float, calendar) -> str:
    """A duration counted on `calendar`: business hours on a business calendar, '1d 6h' round the clock."""
    return format_business(seconds) if counts_business_hours(calendar) else format_duration(seconds)


def format_target(minutes: int | None, calendar) -> str:
    """A target in minutes of `calendar`'s time: '30 business hours', or '1d 6h' on a round-the-clock calendar."""
    if minutes is None:
        return ''
    return format_business(minutes * 60) if counts_business_hours(calendar) else format_minutes(minutes)


def _local(moment: dt.datetime) -> str:
    return format_datetime(moment)


def badge_for(clock: SlaClock, *, now: dt.datetime | None = None) -> Badge:
    now = now or timezone.now()
    label = ClockKind(clock.kind).label
    calendar = clock.calendar
    target = f'{format_target(clock.target_minutes, calendar)} on {calendar.name}'
    common = {'clock_id': clock.pk, 'label': label, 'icon': ICONS.get(clock.kind, 'clock'), 'state': clock.state}
    if clock.stopped_at is not None:
        if clock.breached:
            late = (clock.elapsed - clock.target).total_seconds()
            text = f'missed by {format_clock_time(late, calendar)}' if late > 0 else 'missed'
            return Badge(text=text, color='red', title=f'{clock.name}: target {target} missed', **common)
        return Badge(text='met', color='teal', title=f'{clock.name}: met within {target}', **common)
    if clock.run_started_at is None:
        remaining = clock.remaining_at(now).total_seconds()
        if remaining <= 0:
            text, color = f'paused · overdue {format_clock_time(remaining, calendar)}', 'red'
        else:
            text, color = f'paused · {format_clock_time(remaining, calendar)} left', 'secondary'
        return Badge(
            text=text,
            color=color,
            title=f'{clock.name}: paused; {format_clock_time(max(remaining, 0), calendar)} left of {target}',
            **{**common, 'state': ClockState.PAUSED if not clock.breached else ClockState.BREACHED},
        )
    due = clock.due_at or clock.instant_of(clock.target)
    left = (due - now).total_seconds()
    risk = clock.risk_at
    if left < 0 or clock.breached:
        text, color = f'overdue {format_duration(left)}', 'red'
    else:
        warned = clock.warned_at is not None or (risk is not None and risk <= now)
        text, color = f'{format_duration(left)} left', 'orange' if warned else 'green'
    return Badge(
        text=text,
        color=color,
        title=f'{clock.name}: due {_local(due)} ({target})',
        due=due.isoformat(),
        risk=risk.isoformat() if risk else '',
        **common,
    )


def badges_for(clocks, *, now: dt.datetime | None = None, include_stopped: bool = False) -> list[Badge]:
    """Badges of a record's open clocks; with `include_stopped`, or when none is open, its stopped ones too."""
    clocks = list(clocks)
    shown = [c for c in clocks if c.stopped_at is None]
    if include_stopped:
        shown = clocks
    elif not shown:
        shown = [c for c in clocks if c.kind in SLA_KINDS]
    now = now or timezone.now()
    return [badge_for(clock, now=now) for clock in shown]


@dataclass(frozen=True)
class ForecastBadge:
    """ "Likely to breach" on a queue row or the SLA panel, with the queue forecast's reason."""

    clock_id: int
    label: str
    text: str
    title: str
    reason: str = ''


def forecast_badge(clocks, *, now: dt.datetime | None = None) -> ForecastBadge | None:
    """The queue forecast's warning for a record (from its prefetched clocks; no query): the flagged open clock
    due first, or None."""
    from .forecast import forecast_text

    flagged = [c for c in clocks if c.likely_to_breach and c.forecast_at is not None]
    if not flagged:
        return None
    clock = min(flagged, key=lambda c: (c.due_at is None, c.due_at or c.forecast_at))
    reason = forecast_text(clock, now=now)
    return ForecastBadge(
        clock_id=clock.pk,
        label=ClockKind(clock.kind).label,
        text='likely to breach',
        title=f'{clock.name}: {reason} (expected {_local(clock.forecast_at)})',
        reason=reason,
    )
