"""Predictive SLA warnings: will a ticket be finished before its resolution clock runs out, given the open tickets
ahead of it in its support group's queue and how many tickets the group has been completing?

For each support group:

- **throughput** = records it completed over the last `SLA_FORECAST_WINDOW_HOURS` business hours of its calendar
  (the calendar of the group's OLA, else round the clock), per business hour, never below
  `SLA_FORECAST_MIN_RATE` (an idle group does not divide by zero);
- each open record it holds has a **position**: the open records ahead of it in the queue's working order (nearest
  SLA due first, then priority, then oldest: the queue page's order);
- its **forecast** = now + (position + 1) / throughput business hours, or (position + ½) / throughput when someone
  is already working it (an assignee and past acceptance).

A running resolution clock (the SLA's, or the group's OLA resolve clock) whose forecast lands after its due time
will probably breach: the clock is flagged (`forecast_warned_at`, with the forecast, position and throughput shown
on the queue rows and the SLA panel), a timeline entry is written and the assignee (or the group) is told once.
The flag is claimed with a conditional UPDATE (`forecast_warned_at IS NULL`), so overlapping runs warn once. It is
cleared when the forecast lands `SLA_FORECAST_CLEAR_MINUTES` or more before the due time (the margin stops a
ticket hovering around its due time from warning on every run), or when the clock stops, pauses or breaches; a
cleared clock that crosses again warns again.

`queue_forecast` runs from beat (`sla-queue-forecast`) in a constant number of queries per record kind and group
(queue, clocks, calendars, one count per calendar), plus a few per new warning. The arithmetic (`position_order`,
`throughput`, `expected_hours`, `judge`) is plain functions so the backtest (`bench/queue_forecast_backtest.py`)
replays history through the same rules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from itsm import audit, notify
from itsm.audit import Actor
from itsm.choices import Channel, TimelineKind
from itsm.models import SupportGroup
from itsm.timezones import format_datetime

from . import business_time, records, selectors
from .choices import ClockKind
from .models import BusinessCalendar, OperationalLevelAgreement, SlaClock

__all__ = [
    'FORECAST_EVENT',
    'ForecastResult',
    'QueueEntry',
    'Verdict',
    'expected_hours',
    'forecast_text',
    'judge',
    'position_order',
    'queue_forecast',
    'throughput',
    'window_start',
]

FORECAST_EVENT = 'sla_forecast'
RESOLUTION_KINDS = (ClockKind.RESOLUTION, ClockKind.OLA_RESOLVE)
# How far back a window of business hours may reach on a calendar with long closures.
LOOKBACK_LIMIT = dt.timedelta(days=60)
# A flagged clock's shown figures are rewritten when the forecast moves by this much or the position changes.
REWRITE_SHIFT = dt.timedelta(minutes=5)


def window_hours() -> float:
    return float(settings.SLA_FORECAST_WINDOW_HOURS)


def min_rate() -> float:
    return float(settings.SLA_FORECAST_MIN_RATE)


def clear_margin() -> dt.timedelta:
    return dt.timedelta(minutes=settings.SLA_FORECAST_CLEAR_MINUTES)


#
# The arithmetic
#


@dataclass(frozen=True)
class QueueEntry:
    """One open record in a group's queue, as the queue orders it."""

    pk: int
    due_at: dt.datetime | None  # its nearest SLA due (None: no counting clock, so last)
    priority: int
    opened_at: dt.datetime
    worked: bool = False  # someone has taken it on


def _order_key(entry: QueueEntry) -> tuple:
    # None sorts last, as `order_by_nearest_due` does (nulls last).
    return (entry.due_at is None, entry.due_at or entry.opened_at, entry.priority, entry.opened_at, entry.pk)


def position_order(entries: Iterable[QueueEntry]) -> list[QueueEntry]:
    """A group's open records in the queue's working order: nearest due, highest priority, oldest, then number."""
    return sorted(entries, key=_order_key)


def throughput(completed: int, hours: float, *, floor: float | None = None) -> float:
    """Records completed per business hour over a window of `hours` business hours, never below `floor`."""
    floor = min_rate() if floor is None else floor
    if hours <= 0:
        return floor
    return max(completed / hours, floor)


def expected_hours(position: int, rate: float, *, worked: bool = False) -> float:
    """Business hours until a record at `position` (0: first in the queue) is done at `rate` per hour: the records
    ahead of it, then itself (half of one when it is already being worked)."""
    return (position + (0.5 if worked else 1.0)) / rate


def add_hours(calendar, start: dt.datetime, hours: float) -> dt.datetime:
    """`start` plus business `hours` on `calendar` (plain hours without one)."""
    if calendar is None:
        return start + dt.timedelta(hours=hours)
    return business_time.add_business_time(calendar, start, dt.timedelta(hours=hours))


def window_start(calendar, now: dt.datetime, hours: float) -> tuple[dt.datetime, float]:
    """The instant `hours` business hours before `now` on `calendar` and the business hours really covered (fewer
    when the calendar was closed for longer than `LOOKBACK_LIMIT`)."""
    wanted = dt.timedelta(hours=hours)
    if calendar is None or calendar.schedule().always_open:
        return now - wanted, hours
    earliest = now - LOOKBACK_LIMIT
    # Whole days back until enough working time is covered, then bisect within the last day (to the second).
    low = now
    while low > earliest:
        candidate = max(low - dt.timedelta(days=1), earliest)
        if business_time.business_time_between(calendar, candidate, now) >= wanted:
            break
        low = candidate
    else:
        return earliest, business_time.business_seconds_between(calendar, earliest, now) / 3600
    high, low = low, max(low - dt.timedelta(days=1), earliest)
    while high - low > dt.timedelta(seconds=1):
        middle = low + (high - low) / 2
        if business_time.business_time_between(calendar, middle, now) >= wanted:
            low = middle
        else:
            high = middle
    return low, hours


@dataclass(frozen=True)
class Verdict:
    """What the forecast says about one clock: `expected` completion; `warn` (it will probably breach), `clear`
    (comfortably in time: a flag is lifted), or neither (close to due: a flag stays as it is)."""

    expected: dt.datetime
    warn: bool
    clear: bool


def judge(expected: dt.datetime, due: dt.datetime, *, margin: dt.timedelta | None = None) -> Verdict:
    margin = clear_margin() if margin is None else margin
    return Verdict(expected=expected, warn=expected > due, clear=expected <= due - margin)


def _hours_text(delta: dt.timedelta) -> str:
    hours = delta.total_seconds() / 3600
    if abs(hours) < 1:
        return f'{max(0, round(delta.total_seconds() / 60))} min'
    return f'{hours:.0f} h' if abs(hours) >= 10 else f'{hours:.1f} h'.replace('.0 h', ' h')


def forecast_text(clock: SlaClock, *, now: dt.datetime | None = None) -> str:
    """'12 ahead, 1.5/h completed: due in 3 h, expected in 8 h' for a flagged clock ('' otherwise)."""
    if not clock.likely_to_breach or clock.forecast_at is None:
        return ''
    now = now or timezone.now()
    rate = clock.forecast_rate or 0
    rate_text = f'{rate:.1f}' if rate >= 0.1 else f'{rate:.2f}'
    due = clock.due_at
    due_text = ('overdue' if due <= now else f'due in {_hours_text(due - now)}') if due else 'paused'
    expected = clock.forecast_at
    expected_text = f'expected in {_hours_text(expected - now)}' if expected > now else 'expected now'
    return f'{clock.forecast_ahead or 0} ahead, {rate_text}/h completed: {due_text}, {expected_text}'


#
# The run
#


@dataclass
class ForecastResult:
    groups: int = 0
    clocks: int = 0
    likely: int = 0
    warned: int = 0
    cleared: int = 0
    skipped_groups: int = 0
    warned_clocks: list[int] = field(default_factory=list)

    def __str__(self) -> str:
        skipped = f', {self.skipped_groups} groups busy in another run' if self.skipped_groups else ''
        return (
            f'{self.clocks} clocks in {self.groups} group queues: {self.likely} likely to breach, '
            f'{self.warned} warned, {self.cleared} cleared{skipped}'
        )


def _candidates() -> Q:
    """Running resolution clocks that have not breached: the ones a queue forecast can warn about."""
    return Q(
        kind__in=RESOLUTION_KINDS,
        stopped_at__isnull=True,
        run_started_at__isnull=False,
        breached_at__isnull=True,
        due_at__isnull=False,
    )


def _group_calendars(group_ids: Sequence[int]) -> dict[int, BusinessCalendar]:
    """Each group's calendar: its OLA's (the one for every priority first), else round the clock."""
    found: dict[int, BusinessCalendar] = {}
    olas = (
        OperationalLevelAgreement.objects.filter(active=True, support_group_id__in=group_ids)
        .select_related('calendar')
        .order_by('support_group_id', F('priority').asc(nulls_first=True))
    )
    for ola in olas:
        found.setdefault(ola.support_group_id, ola.calendar)
    missing = [g for g in group_ids if g not in found]
    if missing:
        always = BusinessCalendar.objects.builtin_24x7()
        found.update(dict.fromkeys(missing, always))
    return found


def _completion_field(model) -> str:
    names = {f.name for f in model._meta.concrete_fields}
    return 'completed_at' if 'completed_at' in names else 'closed_at'


def _rates(model, calendars: dict[int, BusinessCalendar], now: dt.datetime) -> dict[int, float]:
    """Each group's throughput: one count query per distinct calendar."""
    by_calendar: dict[int, list[int]] = {}
    for group_id, calendar in calendars.items():
        by_calendar.setdefault(calendar.pk, []).append(group_id)
    rates: dict[int, float] = {}
    completion = _completion_field(model)
    for group_ids in by_calendar.values():
        calendar = calendars[group_ids[0]]
        start, hours = window_start(calendar, now, window_hours())
        counts = dict(
            model._default_manager.filter(
                assignment_group_id__in=group_ids, **{f'{completion}__gt': start, f'{completion}__lte': now}
            )
            .values('assignment_group_id')
            .annotate(n=Count('pk'))
            .values_list('assignment_group_id', 'n')
        )
        rates.update({g: throughput(counts.get(g, 0), hours) for g in group_ids})
    return rates


def _queues(model, group_ids: Sequence[int]) -> dict[int, dict[int, tuple[int, bool]]]:
    """For each group, its open records' (position, being worked) by record id: one query, in the queue's order."""
    workflow = model.workflow
    names = {f.name for f in model._meta.concrete_fields}
    then = [name for name in ('priority', 'opened_at') if name in names] + ['pk']
    rows = (
        selectors.order_by_nearest_due(
            model._default_manager.filter(state__in=workflow.open_states, assignment_group_id__in=group_ids)
        )
        .order_by('assignment_group_id', F('sla_due').asc(nulls_last=True), *then)
        .values_list('pk', 'assignment_group_id', 'assignee_id', 'state')
    )
    waiting = set(workflow.awaiting_acceptance_states) | set(workflow.paused_states) | set(workflow.triage_states)
    queues: dict[int, dict[int, tuple[int, bool]]] = {}
    for pk, group_id, assignee_id, state in rows:
        queue = queues.setdefault(group_id, {})
        queue[pk] = (len(queue), assignee_id is not None and state not in waiting)
    return queues


def queue_forecast(*, now: dt.datetime | None = None) -> ForecastResult:
    """Forecast every running resolution clock from its group's queue; warn about those likely to breach (once),
    clear those no longer likely to. Safe to run concurrently and repeatedly."""
    now = now or timezone.now()
    result = ForecastResult()
    # Flags of clocks that stopped, paused or breached since: the situation changed, the forecast no longer holds.
    result.cleared += _clear(SlaClock.objects.filter(forecast_warned_at__isnull=False).exclude(_candidates()))
    type_ids = set(SlaClock.objects.filter(_candidates()).values_list('content_type_id', flat=True).distinct())
    for model in records.record_models():
        content_type = ContentType.objects.get_for_model(model)
        if content_type.pk in type_ids:
            _forecast_kind(model, content_type, now=now, result=result)
    return result


def _clear(clocks) -> int:
    return clocks.update(forecast_warned_at=None, forecast_at=None, forecast_ahead=None, forecast_rate=None)


def _forecast_kind(model, content_type: ContentType, *, now: dt.datetime, result: ForecastResult) -> None:
    clocks = list(
        SlaClock.objects.filter(_candidates(), content_type=content_type)
        .only(
            'id',
            'name',
            'object_id',
            'run_started_at',
            'kind',
            'support_group_id',
            'due_at',
            'stopped_at',
            'breached_at',
            'forecast_warned_at',
            'forecast_at',
            'forecast_ahead',
            'forecast_rate',
        )
        .order_by('id')
    )
    groups_of = dict(
        model._default_manager.filter(
            pk__in={c.object_id for c in clocks}, state__in=model.workflow.open_states
        ).values_list('pk', 'assignment_group_id')
    )
    by_group: dict[int, list[SlaClock]] = {}
    orphans: list[int] = []
    for clock in clocks:
        group_id = groups_of.get(clock.object_id)
        if clock.kind == ClockKind.OLA_RESOLVE and clock.support_group_id is not None:
            group_id = clock.support_group_id if group_id == clock.support_group_id else None
        if group_id is None:
            orphans.append(clock.pk)
        else:
            by_group.setdefault(group_id, []).append(clock)
    if orphans:
        result.cleared += _clear(SlaClock.objects.filter(pk__in=orphans, forecast_warned_at__isnull=False))
    if not by_group:
        return
    group_ids = sorted(by_group)
    calendars = _group_calendars(group_ids)
    rates = _rates(model, calendars, now)
    queues = _queues(model, group_ids)
    for group_id in group_ids:
        with transaction.atomic():
            # One run per group at a time: another run holding the group skips it (it is doing the same work).
            locked = SupportGroup.objects.select_for_update(skip_locked=True, no_key=True).filter(pk=group_id)
            if not list(locked.values_list('pk', flat=True)):
                result.skipped_groups += 1
                continue
            result.groups += 1
            _forecast_group(
                model,
                by_group[group_id],
                queue=queues.get(group_id, {}),
                rate=rates[group_id],
                calendar=calendars[group_id],
                now=now,
                result=result,
            )


def _forecast_group(model, clocks, *, queue, rate, calendar, now, result: ForecastResult) -> None:
    to_warn: list[SlaClock] = []
    to_clear: list[int] = []
    to_rewrite: list[SlaClock] = []
    for clock in clocks:
        if clock.object_id not in queue:
            if clock.forecast_warned_at is not None:
                to_clear.append(clock.pk)
            continue
        result.clocks += 1
        position, worked = queue[clock.object_id]
        expected = add_hours(calendar, now, expected_hours(position, rate, worked=worked))
        verdict = judge(expected, clock.due_at)
        flagged = clock.forecast_warned_at is not None
        if verdict.clear or clock.due_at <= now:
            if flagged:
                to_clear.append(clock.pk)
            continue
        if not verdict.warn and not flagged:
            continue
        result.likely += 1
        moved = (
            clock.forecast_at is None
            or abs(clock.forecast_at - expected) >= REWRITE_SHIFT
            or clock.forecast_ahead != position
            or clock.forecast_rate is None
            or abs(clock.forecast_rate - rate) > 0.005
        )
        clock.forecast_at, clock.forecast_ahead, clock.forecast_rate = expected, position, round(rate, 4)
        if not flagged:
            to_warn.append(clock)
        elif moved:
            to_rewrite.append(clock)
    if to_clear:
        result.cleared += _clear(SlaClock.objects.filter(pk__in=to_clear, forecast_warned_at__isnull=False))
    if to_rewrite:
        SlaClock.objects.bulk_update(to_rewrite, ['forecast_at', 'forecast_ahead', 'forecast_rate'])
    if to_warn:
        found = model._default_manager.in_bulk([c.object_id for c in to_warn])
        for clock in to_warn:
            record = found.get(clock.object_id)
            if record is not None and claim_warning(clock, record=record, now=now):
                result.warned += 1
                result.warned_clocks.append(clock.pk)


def claim_warning(clock: SlaClock, *, record, now: dt.datetime) -> bool:
    """Flag `clock` as likely to breach and announce it, exactly once until the flag is cleared: the conditional
    UPDATE lets one transaction win; the timeline entry and the notice go with it."""
    won = SlaClock.objects.filter(pk=clock.pk, forecast_warned_at__isnull=True, stopped_at__isnull=True).update(
        forecast_warned_at=now,
        forecast_at=clock.forecast_at,
        forecast_ahead=clock.forecast_ahead,
        forecast_rate=clock.forecast_rate,
        updated_at=now,
    )
    if not won:
        return False
    clock.forecast_warned_at = now
    _announce(clock, record=record, now=now)
    return True


def _announce(clock: SlaClock, *, record, now: dt.datetime) -> None:
    text = forecast_text(clock, now=now)
    name = clock.name if clock.name else ClockKind(clock.kind).label
    message = f'{name}: likely to breach ({text})' if clock.name else f'Likely to breach ({text})'
    data: dict[str, Any] = {
        'clock': clock.pk,
        'clock_kind': clock.kind,
        'forecast': True,
        'ahead': clock.forecast_ahead,
        'rate': clock.forecast_rate,
        'due_at': clock.due_at.isoformat(),
        'expected_at': clock.forecast_at.isoformat(),
    }
    audit.record(
        record, actor=Actor.system(Channel.SYSTEM), kind=TimelineKind.SLA_WARNING, message=message, data=data, at=now
    )
    audience = ['assignee'] if record.assignee_id else ['group']
    notify.notify(
        record,
        FORECAST_EVENT,
        audience,
        label='SLA likely to breach',
        extra={
            'forecast': text,
            'clock_name': name,
            'due_text': format_datetime(clock.due_at),
            'expected_text': format_datetime(clock.forecast_at),
        },
    )
