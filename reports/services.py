"""Writes of the reports app: keeping the daily rollups current, scheduled reports and the reports they produce.

Rollups are a cache of the tickets. A full rebuild rolls every day from the tickets and SLA clocks and keeps each
ticket's contribution (`reports.contributions`); `rollup_refresh` then works by difference: for the tickets and
clocks changed (or deleted) since its last run it takes the stored contribution away from the rows it counted in
and adds the contribution now, so a refresh costs what changed.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.models import Exists, Max, Min, OuterRef, Q
from django.utils import timezone

from itsm import audit
from itsm.audit import Actor
from itsm.bulk import copies_beside_the_caller, insert_rows
from itsm.choices import TimelineKind

from . import contributions
from .choices import FREQUENCY_INTERVAL, Breakdown, Dimension, Frequency
from .engine import (
    DAILY_COLUMNS,
    PERIOD_COLUMNS,
    daily_cells,
    daily_rows,
    period_cells,
    period_rows,
    periods_of,
)
from .models import DailyRollup, PeriodRollup, Report, ReportSchedule, RollupContribution
from .slices import local_day, local_zone, parse_slice, start_of

__all__ = [
    'RefreshResult',
    'report_delete',
    'report_email',
    'report_generate',
    'report_update',
    'rollup_rebuild',
    'rollup_recompute',
    'rollup_refresh',
    'schedule_create',
    'schedule_delete',
    'schedule_update',
    'schedules_run_due',
]

logger = logging.getLogger(__name__)

# Changes committed while a refresh ran carry earlier timestamps than its start: look back this far.
OVERLAP = dt.timedelta(minutes=getattr(settings, 'REPORTS_ROLLUP_OVERLAP_MINUTES', 15))
# Tickets whose contributions one query computes: by id in a refresh, by a range of ids in a full rebuild.
CONTRIBUTION_BATCH = 500
# Days one `rollup_recompute` call rebuilds at most (what an import re-rolls at a time).
INCREMENTAL_BATCH_DAYS = 92
CONTRIBUTION_RANGE = 20_000
SEND_HOUR = getattr(settings, 'REPORTS_SEND_HOUR', 7)
_LOCK_ID = 0x5EC0_0001


#
# Rollups
#


def _lock_rollups() -> None:
    """One writer of rollups at a time (SQLite serialises writers by itself)."""
    if connection.vendor == 'postgresql':
        with connection.cursor() as cursor:
            cursor.execute('SELECT pg_advisory_xact_lock(%s)', [_LOCK_ID])


@contextmanager
def _rollup_transaction():
    """One transaction, holding the rollups' lock, in which every read sees one moment of the tickets.

    On PostgreSQL outside another transaction the lock is taken first, and then a repeatable-read transaction
    begins: rows built from the tickets and the contributions stored beside them come from the same snapshot,
    taken once the previous writer has committed. Inside a transaction, the transaction's lock is enough."""
    if connection.vendor != 'postgresql' or connection.in_atomic_block:
        with transaction.atomic():
            _lock_rollups()
            yield
        return
    with connection.cursor() as cursor:
        cursor.execute('SELECT pg_advisory_lock(%s)', [_LOCK_ID])
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ')
            yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute('SELECT pg_advisory_unlock(%s)', [_LOCK_ID])


def rollup_recompute(*, days: Iterable[dt.date], as_of: dt.datetime | None = None) -> int:
    """Rebuild the rollup rows of `days` from the tickets and SLA clocks; returns the rows written.

    Idempotent: the days' rows are replaced whole, so running it twice, or concurrently, gives the same rows.
    The week and month rows of the periods those days fall in are summed again from the daily rows, in the same
    transaction, so they always agree. Tickets changed since the last refresh are brought up to date first, so
    the contributions stay what the rows hold.
    """
    days = sorted(set(days))
    if not days:
        return 0
    as_of = as_of or timezone.now()
    with _rollup_transaction():
        last = _last_refresh()
        if last is not None and RollupContribution.objects.exists():
            _apply_difference(_changed_tickets(last - OVERLAP), as_of=as_of)
        return _recompute_days(days, as_of)


def _recompute_days(days: list[dt.date], as_of: dt.datetime) -> int:
    cells = daily_cells(days)
    DailyRollup.objects.filter(day__in=days).delete()
    insert_rows(DailyRollup, DAILY_COLUMNS, daily_rows(cells, as_of))
    # A week across two months' batches is summed again with the second.
    periods = periods_of(days)
    stale = Q()
    for interval, start in periods:
        stale |= Q(period=interval, start=start)
    PeriodRollup.objects.filter(stale).delete()
    insert_rows(PeriodRollup, PERIOD_COLUMNS, period_rows(period_cells(periods, fresh=cells), as_of))
    return len(cells)


def _month_batches(days: Sequence[dt.date]) -> Iterable[list[dt.date]]:
    """One batch per calendar month, so a full rebuild sums each month's rows once."""
    by_month: dict[dt.date, list[dt.date]] = {}
    for day in sorted(set(days)):
        by_month.setdefault(day.replace(day=1), []).append(day)
    yield from by_month.values()


def _all_days(today: dt.date) -> list[dt.date]:
    from incidents.models import Ticket

    first = Ticket.objects.aggregate(first=Min('opened_at'))['first']
    start = min(local_day(first), today) if first else today
    return [start + dt.timedelta(days=i) for i in range((today - start).days + 1)]


def _last_refresh() -> dt.datetime | None:
    return DailyRollup.objects.filter(dimension=Dimension.DAY).aggregate(at=Max('computed_at'))['at']


def _changed_tickets(since: dt.datetime) -> list[int]:
    """Tickets changed since `since` (they or their SLA clocks), and tickets deleted since their contribution
    was stored."""
    from incidents.models import Ticket
    from sla.models import SlaClock

    clocks = SlaClock.objects.filter(content_type=ContentType.objects.get_for_model(Ticket), updated_at__gte=since)
    ids = set(Ticket.objects.filter(updated_at__gte=since).values_list('pk', flat=True))
    ids |= set(clocks.values_list('object_id', flat=True))
    gone = RollupContribution.objects.filter(~Exists(Ticket.objects.filter(pk=OuterRef('ticket_id'))))
    ids |= set(gone.values_list('ticket_id', flat=True))
    return sorted(ids)


def _apply_difference(ticket_ids: Sequence[int], *, as_of: dt.datetime) -> tuple[set[dt.date], int]:
    """Take each ticket's stored contribution away from the rows and add its contribution now; returns the days
    whose rows changed and how many tickets' contributions did."""
    cells: contributions.Cells = {}
    changed = 0
    for index in range(0, len(ticket_ids), CONTRIBUTION_BATCH):
        chunk = ticket_ids[index : index + CONTRIBUTION_BATCH]
        stored = dict(RollupContribution.objects.filter(ticket_id__in=chunk).values_list('ticket_id', 'entries'))
        now = contributions.contributions_of(chunk)
        replaced = []
        for ticket in chunk:
            before = contributions.decode(stored.get(ticket, ''))
            after = now.get(ticket, [])
            if before == after:
                continue
            changed += 1
            contributions.add_cells(cells, before, -1)
            contributions.add_cells(cells, after, 1)
            replaced.append(ticket)
        RollupContribution.objects.filter(ticket_id__in=replaced).delete()
        insert_rows(
            RollupContribution,
            contributions.CONTRIBUTION_COLUMNS,
            contributions.contribution_rows({t: now[t] for t in replaced if t in now}),
        )
    return contributions.apply_cells(cells, as_of=as_of), changed


def _mark_days(days: Iterable[dt.date], today: dt.date, as_of: dt.datetime) -> set[dt.date]:
    """Mark as rolled up every day up to today after the last marked one, and the given days; the latest
    marker carries the refresh's moment (what `as_of` reads). Returns the days newly marked."""
    markers = DailyRollup.objects.filter(dimension=Dimension.DAY)
    latest = markers.aggregate(day=Max('day'))['day'] or today
    wanted = {d for d in days if d <= today}
    wanted |= {latest + dt.timedelta(days=i) for i in range(1, (today - latest).days + 1)}
    have = set(markers.filter(day__in=wanted).values_list('day', flat=True))
    new = sorted(wanted - have)
    DailyRollup.objects.bulk_create(
        [DailyRollup(day=day, dimension=Dimension.DAY, computed_at=as_of) for day in new], batch_size=2000
    )
    markers.filter(day=max(today, latest)).update(computed_at=as_of)
    return set(new)


@dataclass
class RefreshResult:
    days: list[dt.date] = field(default_factory=list)
    rows: int = 0
    full: bool = False
    tickets: int = 0

    def __str__(self) -> str:
        if not self.days:
            return 'no days to roll up'
        span = f'{self.days[0]}..{self.days[-1]}' if len(self.days) > 1 else f'{self.days[0]}'
        if self.full:
            return f'{len(self.days)} days rolled up ({span}), {self.rows} rows (full rebuild)'
        return f'{len(self.days)} days rolled up ({span}) from {self.tickets} changed tickets'


def rollup_refresh(*, now: dt.datetime | None = None) -> RefreshResult:
    """Bring the rollups up to date: every day the first time, then by difference.

    A refresh takes the tickets changed (or deleted) since the last one, less an overlap for transactions that
    committed late, takes each one's stored contribution away from the day, week and month rows it counted in
    and adds its contribution now: it costs what changed, not what the days hold.
    """
    from incidents.models import Ticket

    now = now or timezone.now()
    today = now.astimezone(local_zone()).date()
    last = _last_refresh()
    if last is None or (not RollupContribution.objects.exists() and Ticket.objects.exists()):
        return _rebuild_everything(now)
    with _rollup_transaction():
        days, changed = _apply_difference(_changed_tickets(last - OVERLAP), as_of=now)
        days |= _mark_days(days, today, now)
    return RefreshResult(days=sorted(days), rows=0, full=False, tickets=changed)


def _rebuild_everything(now: dt.datetime) -> RefreshResult:
    """Every day's rows and every ticket's contribution, from one snapshot and one read of each base.

    The tickets' contributions are computed range by range of ids, stored, and summed into the day, week and
    month rows (`contributions.RebuildSums`): the sums `rollup_recompute` reads from the bases again."""
    from incidents.models import Ticket

    today = now.astimezone(local_zone()).date()
    with _rollup_transaction():
        days = _all_days(today)
        DailyRollup.objects.all().delete()
        PeriodRollup.objects.all().delete()
        RollupContribution.objects.all().delete()
        sums = contributions.RebuildSums(days)
        bounds = Ticket.objects.aggregate(low=Min('pk'), high=Max('pk'))
        # PostgreSQL writes each batch of rows while the next is summed and formatted.
        with copies_beside_the_caller():
            if bounds['low'] is not None:
                for low in range(bounds['low'], bounds['high'] + 1, CONTRIBUTION_RANGE):
                    found = contributions.contributions_of(Q(id__gte=low, id__lt=low + CONTRIBUTION_RANGE))
                    insert_rows(
                        RollupContribution, contributions.CONTRIBUTION_COLUMNS, contributions.contribution_rows(found)
                    )
                    for entries in found.values():
                        sums.add(entries)
            cells = sums.daily_cells()
            insert_rows(DailyRollup, DAILY_COLUMNS, daily_rows(cells, now))
            insert_rows(PeriodRollup, PERIOD_COLUMNS, period_rows(sums.period_cells(), now))
        if connection.vendor == 'postgresql':
            # Refreshes look rows up by their cells: the planner needs the new tables' statistics to use the index.
            with connection.cursor() as cursor:
                for model in (DailyRollup, PeriodRollup, RollupContribution):
                    cursor.execute(f'ANALYZE {connection.ops.quote_name(model._meta.db_table)}')
    return RefreshResult(days=days, rows=len(cells), full=True)


def rollup_rebuild(*, start: dt.date | None = None, end: dt.date | None = None) -> RefreshResult:
    """Recompute every day from `start` (the first ticket's) to `end` (today), e.g. after an import; without
    either, rebuild the rollups and every ticket's contribution from scratch."""
    now = timezone.now()
    if start is None and end is None:
        return _rebuild_everything(now)
    today = now.astimezone(local_zone()).date()
    days = [d for d in _all_days(today) if (start is None or d >= start) and (end is None or d <= end)]
    result = RefreshResult(days=days, full=True)
    for batch in _month_batches(days):
        result.rows += rollup_recompute(days=batch, as_of=now)
    return result


#
# Schedules
#


def next_run(frequency: str, after: dt.datetime) -> dt.datetime:
    """The first send time strictly after `after`: SEND_HOUR local time daily, on Mondays, or on the 1st."""
    local = after.astimezone(local_zone())
    day = local.date()
    while True:
        candidate = start_of(day) + dt.timedelta(hours=SEND_HOUR)
        due = (
            frequency == Frequency.DAILY
            or (frequency == Frequency.WEEKLY and day.weekday() == 0)
            or (frequency == Frequency.MONTHLY and day.day == 1)
        )
        if due and candidate > after:
            return candidate
        day += dt.timedelta(days=1)


def period_for(frequency: str, run_at: dt.datetime) -> tuple[dt.date, dt.date]:
    """The days a run at `run_at` reports on: the previous day, Monday-to-Sunday week or calendar month."""
    day = run_at.astimezone(local_zone()).date()
    if frequency == Frequency.DAILY:
        return day - dt.timedelta(days=1), day - dt.timedelta(days=1)
    if frequency == Frequency.WEEKLY:
        monday = day - dt.timedelta(days=day.weekday())
        return monday - dt.timedelta(days=7), monday - dt.timedelta(days=1)
    first = day.replace(day=1)
    previous = (first - dt.timedelta(days=1)).replace(day=1)
    return previous, first - dt.timedelta(days=1)


SCHEDULE_FIELDS = {
    'name',
    'owner',
    'extra_recipients',
    'frequency',
    'slices',
    'kind',
    'priority',
    'group',
    'service',
    'category',
    'channel',
    'active',
}


def _check_fields(fields: dict[str, Any]) -> None:
    unknown = set(fields) - SCHEDULE_FIELDS
    if unknown:
        raise ValidationError({name: 'This field cannot be set.' for name in sorted(unknown)})


@transaction.atomic
def schedule_create(*, actor: Actor, **fields: Any) -> ReportSchedule:
    """Schedule an MTTR report; it first goes out at the next send time of its frequency."""
    _check_fields(fields)
    fields.setdefault('slices', [Breakdown.PRIORITY, Breakdown.GROUP])
    schedule = ReportSchedule(**fields)
    schedule.full_clean()
    schedule.next_run_at = next_run(schedule.frequency, timezone.now()) if schedule.active else None
    schedule.save()
    audit.record_created(schedule, actor=actor)
    return schedule


@transaction.atomic
def schedule_update(*, schedule: ReportSchedule, actor: Actor, **fields: Any) -> ReportSchedule:
    """Change a schedule; a new frequency, or switching it back on, moves its next send time."""
    _check_fields(fields)
    schedule = ReportSchedule.objects.select_for_update().get(pk=schedule.pk)
    before = audit.snapshot(schedule)
    was = (schedule.frequency, schedule.active)
    for name, value in fields.items():
        setattr(schedule, name, value)
    schedule.full_clean()
    if not schedule.active:
        schedule.next_run_at = None
    elif (schedule.frequency, schedule.active) != was or schedule.next_run_at is None:
        schedule.next_run_at = next_run(schedule.frequency, timezone.now())
    schedule.save()
    audit.record_changes(schedule, before, actor=actor)
    return schedule


@transaction.atomic
def schedule_delete(*, schedule: ReportSchedule, actor: Actor) -> None:
    """Delete a schedule; the reports it produced are kept."""
    audit.record(
        schedule,
        actor=actor,
        kind=TimelineKind.DELETED,
        message=f'{schedule} deleted',
        data={'values': audit.snapshot(schedule)},
    )
    schedule.delete()


def schedules_run_due(*, now: dt.datetime | None = None) -> list[Report]:
    """Generate and e-mail every scheduled report whose time has come, each exactly once.

    Each schedule is claimed under a row lock (skipping those another worker holds) and its next send time
    moves on in the same transaction as the report is stored; the e-mail goes after commit.
    """
    now = now or timezone.now()
    due = ReportSchedule.objects.filter(active=True, next_run_at__lte=now).values_list('pk', flat=True)
    reports = []
    for pk in list(due):
        with transaction.atomic():
            schedule = (
                ReportSchedule.objects.select_for_update(skip_locked=True)
                .select_related('owner')
                .filter(pk=pk, active=True, next_run_at__lte=now)
                .first()
            )
            if schedule is None:
                continue
            start, end = period_for(schedule.frequency, schedule.next_run_at)
            report = report_generate(
                actor=Actor.system(),
                title=f'{schedule.name}: MTTR {start:%d %b %Y}–{end:%d %b %Y}',
                period_start=start,
                period_end=end,
                interval=FREQUENCY_INTERVAL[schedule.frequency],
                slices=schedule.slices,
                filters=schedule.filters,
                schedule=schedule,
                send_to=schedule.recipients(),
            )
            schedule.last_run_at = now
            schedule.next_run_at = next_run(schedule.frequency, max(now, schedule.next_run_at))
            schedule.save(update_fields=['last_run_at', 'next_run_at', 'updated_at'])
            reports.append(report)
    return reports


#
# Reports
#


@transaction.atomic
def report_generate(
    *,
    actor: Actor,
    period_start: dt.date,
    period_end: dt.date,
    interval: str = '',
    slices: Sequence[str] = (),
    filters: dict[str, Any] | None = None,
    title: str = '',
    notes: str = '',
    schedule: ReportSchedule | None = None,
    send_to: Sequence[str] = (),
) -> Report:
    """Compute an MTTR report (overall, per period and per chosen slice), keep it, and e-mail it with its CSV
    to `send_to` once the transaction commits."""
    from . import exports, selectors

    unknown = [s for s in slices if s not in Breakdown.values]
    if unknown:
        raise ValidationError({'slices': f'Unknown slice {", ".join(unknown)}: use {", ".join(Breakdown.values)}.'})
    params = {**(filters or {}), 'from': period_start.isoformat(), 'to': period_end.isoformat()}
    if interval:
        params['interval'] = interval
    try:
        slice_ = parse_slice(params)
    except ValidationError as error:
        # The dates are the report's period fields; the rest are its filters.
        raise ValidationError(
            {{'from': 'period_start', 'to': 'period_end'}.get(k, k): v for k, v in error.message_dict.items()}
        ) from None
    content = selectors.mttr_report(slice_, list(slices))
    report = Report(
        title=title or f'MTTR {period_start:%d %b %Y}–{period_end:%d %b %Y}',
        notes=notes,
        schedule=schedule,
        created_by=actor.user,
        period_start=slice_.start,
        period_end=slice_.end,
        interval=slice_.interval,
        slices=list(slices),
        filters={k: v for k, v in slice_.params().items() if k not in ('from', 'to', 'interval')},
        summary=content,
        csv=exports.report_csv(content),
        emailed_to=list(dict.fromkeys(a for a in send_to if a)),
    )
    report.full_clean()
    report.save()
    audit.record_created(report, actor=actor, public=False)
    if report.emailed_to:
        from .tasks import report_email_task

        transaction.on_commit(lambda: report_email_task.delay(report.pk))
    return report


def report_email(*, report_id: int) -> int:
    """Send a kept report to its recipients with the CSV attached; returns how many it went to."""
    from django.template.loader import render_to_string

    report = Report.objects.select_related('schedule').get(pk=report_id)
    if not report.emailed_to or report.sent_at is not None:
        return 0
    body = render_to_string('reports/email/report.txt', {'report': report, 'summary': report.summary})
    message = EmailMessage(
        subject=f'[Pitcrew] {report.title}',
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=report.emailed_to,
    )
    message.attach(report.csv_filename, report.csv, 'text/csv')
    message.send()
    with transaction.atomic():
        sent = timezone.now()
        Report.objects.filter(pk=report.pk).update(sent_at=sent)
        audit.record(
            report,
            actor=Actor.system(),
            kind=TimelineKind.NOTIFICATION,
            message=f'E-mailed to {", ".join(report.emailed_to)}',
            data={'to': report.emailed_to},
        )
    return len(report.emailed_to)


@transaction.atomic
def report_update(*, report: Report, actor: Actor, title: str | None = None, notes: str | None = None) -> Report:
    """Rename a kept report or annotate it; its figures and CSV stay as generated."""
    report = Report.objects.select_for_update().get(pk=report.pk)
    before = audit.snapshot(report)
    if title is not None:
        report.title = title
    if notes is not None:
        report.notes = notes
    report.full_clean()
    report.save(update_fields=['title', 'notes', 'updated_at'])
    audit.record_changes(report, before, actor=actor)
    return report


@transaction.atomic
def report_delete(*, report: Report, actor: Actor) -> None:
    audit.record(
        report,
        actor=actor,
        kind=TimelineKind.DELETED,
        message=f'{report} deleted',
        data={'values': audit.snapshot(report)},
    )
    report.delete()
