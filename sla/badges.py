"""What an SLA badge says and how it is coloured: time left to the due time (wall clock, so it can count down
live), or overdue; paused clocks show business time left; stopped clocks show met or missed by how much."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from .choices import SLA_KINDS, ClockKind, ClockState
from .models import SlaClock, format_minutes

__all__ = ['Badge', 'badge_for', 'badges_for', 'format_duration']

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


def _local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime('%Y-%m-%d %H:%M')


def badge_for(clock: SlaClock, *, now: dt.datetime | None = None) -> Badge:
    now = now or timezone.now()
    label = ClockKind(clock.kind).label
    target = f'{format_minutes(clock.target_minutes)} on {clock.calendar.name}'
    common = {'clock_id': clock.pk, 'label': label, 'icon': ICONS.get(clock.kind, 'clock'), 'state': clock.state}
    if clock.stopped_at is not None:
        if clock.breached:
            late = (clock.elapsed - clock.target).total_seconds()
            text = f'missed by {format_duration(late)}' if late > 0 else 'missed'
            return Badge(text=text, color='red', title=f'{clock.name}: target {target} missed', **common)
        return Badge(text='met', color='teal', title=f'{clock.name}: met within {target}', **common)
    if clock.run_started_at is None:
        remaining = clock.remaining_at(now).total_seconds()
        if remaining <= 0:
            text, color = f'paused · overdue {format_duration(remaining)}', 'red'
        else:
            text, color = f'paused · {format_duration(remaining)} left', 'secondary'
        return Badge(
            text=text,
            color=color,
            title=f'{clock.name}: paused; {format_duration(max(remaining, 0))} of business time left of {target}',
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
    return [badge_for(clock, now=now) for clock in shown]
