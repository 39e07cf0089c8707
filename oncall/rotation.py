"""Rotation arithmetic: who is on call at an instant, and the shifts over a window. Pure functions, no database.

A schedule is ordered layers plus overrides. A layer hands over daily or weekly at a wall time of the schedule's
zone (09:00 stays 09:00 local across a DST change, so a shift across it lasts 23 or 25 hours); its members take
turns in order from the first handover on or after its start date. A layer may be restricted to weekdays and hours
(a business-hours layer over a 24x7 one); where several layers cover an instant the later one wins. An override
replaces whoever is on call for its window (the latest override wins where two overlap).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

UTC = dt.UTC
DAILY, WEEKLY = 'daily', 'weekly'


@dataclass(frozen=True)
class Layer:
    members: tuple[Hashable, ...]
    handoff: str = WEEKLY
    handoff_time: dt.time = dt.time(9, 0)
    handoff_weekday: int = 0  # Monday; weekly layers only
    start: dt.date = dt.date(2020, 1, 6)
    days: frozenset[int] = frozenset()  # weekdays covered (0 = Monday); empty: every day
    from_time: dt.time | None = None  # hours covered on those days; None: the whole day
    to_time: dt.time | None = None
    name: str = ''


@dataclass(frozen=True)
class Override:
    person: Hashable
    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class Shift:
    person: Hashable
    start: dt.datetime
    end: dt.datetime
    source: str = field(default='', compare=False)  # the layer's name, or 'override'


def local(date: dt.date, time: dt.time, zone: ZoneInfo) -> dt.datetime:
    """The UTC instant of a wall time (a time skipped by a DST change counts from the offset before it)."""
    return dt.datetime.combine(date, time, tzinfo=zone).astimezone(UTC)


def first_handoff_date(layer: Layer) -> dt.date:
    if layer.handoff == DAILY:
        return layer.start
    return layer.start + dt.timedelta(days=(layer.handoff_weekday - layer.start.weekday()) % 7)


def shift_index(layer: Layer, at: dt.datetime, zone: ZoneInfo) -> int | None:
    """How many handovers of `layer` happened before `at` (None before the first one)."""
    day = at.astimezone(zone).date()
    if at < local(day, layer.handoff_time, zone):
        day -= dt.timedelta(days=1)
    first = first_handoff_date(layer)
    days = (day - first).days
    if days < 0:
        return None
    return days if layer.handoff == DAILY else days // 7


def covers(layer: Layer, at: dt.datetime, zone: ZoneInfo) -> bool:
    """Whether `at` falls in the layer's restriction (its weekdays and hours, in local time)."""
    moment = at.astimezone(zone)
    if layer.days and moment.weekday() not in layer.days:
        return False
    if layer.from_time is not None and layer.to_time is not None:
        return layer.from_time <= moment.time().replace(tzinfo=None) < layer.to_time
    return True


def layer_person(layer: Layer, at: dt.datetime, zone: ZoneInfo) -> Hashable | None:
    if not layer.members or not covers(layer, at, zone):
        return None
    index = shift_index(layer, at, zone)
    return None if index is None else layer.members[index % len(layer.members)]


def who_at(
    layers: Sequence[Layer], overrides: Sequence[Override], at: dt.datetime, zone: ZoneInfo
) -> tuple[Hashable | None, str]:
    """(person, source) on call at `at`: the latest override covering it, else the last layer covering it."""
    for override in reversed(overrides):
        if override.start <= at < override.end:
            return override.person, 'override'
    for layer in reversed(layers):
        person = layer_person(layer, at, zone)
        if person is not None:
            return person, layer.name
    return None, ''


def _boundaries(layers: Sequence[Layer], overrides: Sequence[Override], start, end, zone: ZoneInfo) -> list:
    """Every instant in [start, end) where the answer of `who_at` may change, and `start` itself."""
    points = {start}
    first_day = start.astimezone(zone).date() - dt.timedelta(days=1)
    last_day = end.astimezone(zone).date() + dt.timedelta(days=1)
    day = first_day
    while day <= last_day:
        times = {dt.time(0, 0)}
        for layer in layers:
            times.add(layer.handoff_time)
            if layer.from_time is not None and layer.to_time is not None:
                times.update((layer.from_time, layer.to_time))
        points.update(local(day, time, zone) for time in times)
        day += dt.timedelta(days=1)
    for override in overrides:
        points.update((override.start, override.end))
    return sorted(p for p in points if start <= p < end)


def shifts(
    layers: Sequence[Layer], overrides: Sequence[Override], start: dt.datetime, end: dt.datetime, zone: ZoneInfo
) -> list[Shift]:
    """The shifts between `start` and `end`, in order: consecutive time with the same person is one shift, and
    time nobody covers is left out."""
    points = [*_boundaries(layers, overrides, start, end, zone), end]
    result: list[Shift] = []
    for begin, finish in zip(points, points[1:], strict=False):
        person, source = who_at(layers, overrides, begin, zone)
        if person is None:
            continue
        previous = result[-1] if result else None
        if previous is not None and previous.person == person and previous.end == begin:
            result[-1] = Shift(person, previous.start, finish, previous.source)
        else:
            result.append(Shift(person, begin, finish, source))
    return result
