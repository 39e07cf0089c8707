"""Importing tickets, with their history, from another service desk's CSV export.

`import_file` streams the file (`imports.reader`) one source ticket at a time. `imports.plans.build_ticket` turns
a ticket's rows into a `TicketPlan`: its final values, its milestones and one event per row, checked and
converted by the mapping (`imports.mapping`), without writing anything; `imports.references` finds or creates the
people, groups, categories and CIs it names. Plans are written in batches (`BATCH_SIZE`), one
transaction each: a failure loses nothing committed before it, and running the import again resumes, because a
ticket whose source rows are unchanged (same digest) is left alone. A batch that fails is retried ticket by
ticket, so one bad ticket fails alone and the others of its batch still arrive.

Imported history is history: nothing here sends a notification or starts an SLA clock. Tickets are written
with `bulk_create` (tens of thousands of tickets and events), keeping the rules the ticket services keep: numbers
from the shared sequence, priority from the matrix unless the source recorded another (which the timeline
says), the milestones the lifecycle sets, every event in the ticket's timeline. The SLA verdict the source
recorded (`made_sla`) becomes a stopped resolution clock on an inactive "as recorded" agreement, so SLA
compliance counts imported tickets like any other and the sweep never looks at them. The reports' daily
rollups of every day the import touched are recomputed at the end.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from incidents.choices import TicketChannel
from incidents.models import NUMBER_PREFIXES, Ticket
from itsm import audit
from itsm.audit import Actor
from itsm.choices import Channel, Impact, TicketKind, TimelineKind, Urgency
from itsm.models import TimelineEntry
from itsm.numbering import next_numbers
from sla.choices import ClockKind, ClockState, StopReason
from sla.models import SlaClock

from .mapping import Mapping
from .plans import FINISHED, EventPlan, RowError, TicketPlan, build_ticket, digest_of
from .reader import SourceFile, SourceTicket
from .references import References

__all__ = ['BATCH_SIZE', 'ImportResult', 'Writer', 'import_file']

BATCH_SIZE = 500
MAX_REPORTED = 1000  # bad rows and failures kept for the summary; beyond that only counted

CREATED, UPDATED, UNCHANGED = 'created', 'updated', 'unchanged'
WITHOUT_RESOLUTION = 'closed_without_resolution'

# Fields an event's timeline entry shows the changes of, in this order (milestones are the ticket's own).
EVENT_FIELDS = (
    'state',
    'pending_reason',
    'assignment_group',
    'assignee',
    'priority',
    'impact',
    'urgency',
    'category',
    'subcategory',
    'symptom',
    'ci',
    'channel',
    'location',
    'caller',
    'opened_by',
    'reassignment_count',
    'reopen_count',
    'made_sla',
    'knowledge_used',
    'problem_reference',
    'change_reference',
    'caused_by_change',
    'resolution_code',
    'resolved_by',
)
FIELD_LABELS = {f.name: str(f.verbose_name) for f in Ticket._meta.concrete_fields}
FIELD_LABELS.update({'made_sla': 'SLA made', 'ci': 'configuration item', 'assignment_group': 'assignment group'})


#
# Results
#


@dataclass
class BadRow:
    line: int
    message: str
    key: str = ''

    def __str__(self) -> str:
        return f'line {self.line}: {self.key + ": " if self.key else ""}{self.message}'


@dataclass
class Failure:
    key: str
    line: int
    message: str

    def __str__(self) -> str:
        return f'line {self.line}: {self.key or "ticket"} not imported: {self.message}'


@dataclass
class ImportResult:
    path: str
    mapping: str
    rows: int = 0
    tickets: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    # Created or updated tickets the source closed without a resolution time: they count in no MTTR.
    closed_without_resolution: int = 0
    bad_row_count: int = 0
    bad_rows: list[BadRow] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    days: set[dt.date] = field(default_factory=set)
    rollup_days: int = 0
    rollup_rows: int = 0
    rollup_seconds: float = 0.0
    started: float = field(default_factory=time.monotonic)
    elapsed: float = 0.0
    aborted: str = ''

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def bad_row(self, line: int, message: str, key: str = '') -> None:
        self.bad_row_count += 1
        if len(self.bad_rows) < MAX_REPORTED:
            self.bad_rows.append(BadRow(line, message, key))

    def fail(self, key: str, line: int, message: str) -> None:
        self.failed += 1
        if len(self.failures) < MAX_REPORTED:
            self.failures.append(Failure(key, line, message))

    @property
    def rate(self) -> float:
        return self.tickets / self.elapsed if self.elapsed else 0.0


#
# Writing
#


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def _event_changes(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    changes = []
    for name in EVENT_FIELDS:
        old, new = before.get(name), after.get(name)
        if old != new and name in after | before:
            changes.append(
                {
                    'field': name,
                    'label': FIELD_LABELS.get(name, name),
                    'before': _plain(old),
                    'after': _plain(new),
                }
            )
    return changes


class Writer:
    """Writes batches of plans: new tickets in bulk, changed ones one by one, unchanged ones not at all."""

    def __init__(self, mapping: Mapping, actor: Actor, result: ImportResult):
        self.mapping = mapping
        self.actor = actor
        self.result = result
        self.refs = References(mapping, actor)
        self.ticket_type = ContentType.objects.get_for_model(Ticket)

    # -- one batch
    def process(self, sources: list[SourceTicket]) -> None:
        """Check, convert and write one batch of source tickets. Tickets whose rows are what was imported last
        time are only counted: a second run reads the file and one lookup per batch, nothing more."""
        mapping = self.mapping
        known = dict(
            Ticket.objects.filter(
                source_system=mapping.system, source_number__in=[s.key for s in sources if s.key]
            ).values_list('source_number', 'source_digest')
        )
        plans = []
        for source in sources:
            if source.key and known.get(source.key) == digest_of(mapping, source):
                self.result.unchanged += 1
                continue
            try:
                plans.append(build_ticket(mapping, source, on_bad_row=self.result.bad_row))
            except RowError as error:
                self.result.fail(source.key, source.first_line, str(error))
        self.write(plans)

    def write(self, plans: list[TicketPlan]) -> None:
        """Write a batch in one transaction; if it fails, retry its tickets one at a time."""
        if not plans:
            return
        try:
            with transaction.atomic():
                outcome, days = self._write(plans)
        except (OperationalError, InterfaceError):
            self.refs.forget()
            raise  # the database itself is gone: stop; what was committed stays, a rerun resumes
        except Exception as error:
            self.refs.forget()
            if len(plans) == 1:
                self.result.fail(plans[0].key, plans[0].first_line, f'{type(error).__name__}: {error}')
                return
            for plan in plans:  # find the ticket(s) at fault; the others of the batch still arrive
                self.write_one(plan)
            return
        self._count(outcome, days)

    def write_one(self, plan: TicketPlan) -> None:
        try:
            with transaction.atomic():
                outcome, days = self._write([plan])
        except (OperationalError, InterfaceError):
            self.refs.forget()
            raise
        except Exception as error:  # one ticket's failure is reported, and the import goes on
            self.refs.forget()
            self.result.fail(plan.key, plan.first_line, f'{type(error).__name__}: {error}')
            return
        self._count(outcome, days)

    def _count(self, outcome: dict[str, int], days: set[dt.date]) -> None:
        self.result.created += outcome[CREATED]
        self.result.updated += outcome[UPDATED]
        self.result.unchanged += outcome[UNCHANGED]
        self.result.closed_without_resolution += outcome[WITHOUT_RESOLUTION]
        self.result.days |= days

    def _write(self, plans: list[TicketPlan]) -> tuple[dict[str, int], set[dt.date]]:
        outcome = {CREATED: 0, UPDATED: 0, UNCHANGED: 0, WITHOUT_RESOLUTION: 0}
        existing = {
            number: (pk, digest)
            for number, pk, digest in Ticket.objects.filter(
                source_system=self.mapping.system, source_number__in=[p.key for p in plans]
            ).values_list('source_number', 'pk', 'source_digest')
        }
        new = [p for p in plans if p.key not in existing]
        changed = [p for p in plans if p.key in existing and existing[p.key][1] != p.digest]
        outcome[UNCHANGED] = len(plans) - len(new) - len(changed)
        days: set[dt.date] = set()
        if not new and not changed:
            return outcome, days
        self.refs.prepare(new + changed)
        outcome[WITHOUT_RESOLUTION] = sum(1 for plan in new + changed if plan.closed_without_resolution)
        if new:
            days |= self._create(new)
            outcome[CREATED] = len(new)
        for plan in changed:
            days |= self._update(plan, existing[plan.key][0])
            outcome[UPDATED] += 1
        return outcome, days

    # -- field values
    def _fields(self, plan: TicketPlan) -> dict[str, Any]:
        v, refs = plan.values, self.refs
        person = lambda name: refs.people[v[name]] if v.get(name) else None  # noqa: E731
        category_id = refs.categories[v['category']] if v.get('category') else None
        subcategory_id = (
            refs.subcategories[(category_id, v['subcategory'])] if category_id and v.get('subcategory') else None
        )
        ci_id = refs.cis[v['ci']] if v.get('ci') else None
        finished = v['state'] in FINISHED
        override = ''
        if plan.priority_overridden:
            override = (
                f'Imported: P{v["priority"]} as recorded in {self.mapping.label} (the matrix gives '
                f'P{plan.matrix_priority}).'
            )
        source_data = {name: _plain(value) for name, value in plan.extra.items() if value is not None}
        if v.get('made_sla') is not None:
            source_data['made_sla'] = v['made_sla']
        source_data['events'] = len(plan.events)
        return {
            'kind': plan.kind,
            'short_description': v['short_description'],
            'description': v.get('description') or '',
            'state': v['state'],
            'caller_id': person('caller'),
            'opened_by_id': person('opened_by'),
            'channel': v.get('channel') or TicketChannel.PORTAL,
            'category_id': category_id,
            'subcategory_id': subcategory_id,
            'symptom': v.get('symptom') or '',
            'ci_id': ci_id,
            'service_id': refs.service_for(ci_id),
            'impact': v.get('impact') or Impact.LOW,
            'urgency': v.get('urgency') or Urgency.NORMAL,
            'priority': v['priority'],
            'priority_override_reason': override,
            'assignment_group_id': refs.groups[v['assignment_group']] if v.get('assignment_group') else None,
            'assignee_id': person('assignee'),
            'pending_reason': v.get('pending_reason') or '',
            'resolution_code': (v.get('resolution_code') or '') if finished else '',
            'resolution_notes': (v.get('resolution_notes') or '') if finished else '',
            'resolved_by_id': person('resolved_by') if finished else None,
            'reassignment_count': v.get('reassignment_count') or 0,
            'reopen_count': v.get('reopen_count') or 0,
            'location': v.get('location') or '',
            'problem_reference': v.get('problem_reference') or '',
            'change_reference': v.get('change_reference') or '',
            'caused_by_change': v.get('caused_by_change') or '',
            'knowledge_used': bool(v.get('knowledge_used')),
            'opened_at': v['opened_at'],
            'assigned_at': v['assigned_at'],
            'accepted_at': v['accepted_at'],
            'completed_at': v['completed_at'],
            'closed_at': v['closed_at'],
            'source_system': self.mapping.system,
            'source_number': plan.key,
            'source_digest': plan.digest,
            'source_data': source_data,
        }

    # -- timeline
    def _event_entries(self, ticket_id: int, plan: TicketPlan, events: list[EventPlan], before: dict):
        label = self.mapping.label
        entries = []
        previous_state = before.get('_source_state')
        for index, event in enumerate(events, start=len(plan.events) - len(events) + 1):
            if previous_state is None:
                message = f'{label} {plan.key}: {event.source_state}'
            elif previous_state != event.source_state:
                message = f'{label}: {previous_state} → {event.source_state}'
            else:
                message = f'{label}: updated ({event.source_state})'
            entries.append(
                TimelineEntry(
                    content_type=self.ticket_type,
                    object_id=ticket_id,
                    kind=TimelineKind.IMPORT,
                    actor_id=self.refs.people.get(event.actor) if event.actor else None,
                    channel=Channel.SYSTEM,
                    at=event.at,
                    message=message,
                    changes=_event_changes(before, event.values),
                    data={
                        'source': self.mapping.system,
                        'number': plan.key,
                        'event': index,
                        'line': event.line,
                        'source_state': event.source_state,
                        'extra': {k: _plain(v) for k, v in event.extra.items() if v is not None},
                    },
                    public=False,
                )
            )
            before = {**event.values}
            previous_state = event.source_state
        return entries

    def _summary_entry(self, ticket_id: int, plan: TicketPlan, *, verb: str, changes=None) -> TimelineEntry:
        label = self.mapping.label
        rows = len(plan.events) or 1
        plural = 's' if rows != 1 else ''
        parts = [f'{verb} {label} {plan.key} ({rows} source row{plural} from line {plan.first_line}).']
        if plan.priority_overridden:
            parts.append(
                f'Priority P{plan.values["priority"]} as recorded in {label}; the priority matrix gives '
                f'P{plan.matrix_priority} for this impact and urgency.'
            )
        if plan.closed_without_resolution:
            parts.append(
                f'{label} closed it without recording a resolution time: closed without resolution, it counts in '
                'no MTTR.'
            )
        if plan.values.get('made_sla') is not None and plan.values['state'] in FINISHED:
            parts.append(f'{label} recorded the SLA as {"met" if plan.values["made_sla"] else "missed"}.')
        if plan.skipped_lines:
            parts.append(f'Rows skipped (see the import report): lines {", ".join(map(str, plan.skipped_lines))}.')
        return TimelineEntry(
            content_type=self.ticket_type,
            object_id=ticket_id,
            kind=TimelineKind.IMPORT,
            actor=self.actor.user,
            channel=self.actor.channel,
            at=timezone.now(),
            message=' '.join(parts),
            changes=changes or [],
            data={
                'source': self.mapping.system,
                'number': plan.key,
                'mapping': self.mapping.name,
                'events': len(plan.events),
                'first_line': plan.first_line,
                'skipped_lines': plan.skipped_lines,
                'closed_without_resolution': plan.closed_without_resolution,
            },
            public=False,
        )

    # -- SLA verdict
    def _clock(self, ticket: Ticket, plan: TicketPlan) -> SlaClock | None:
        """A stopped resolution clock holding the source's verdict, for finished tickets that have one."""
        made_sla = plan.values.get('made_sla')
        if made_sla is None or ticket.state not in FINISHED or ticket.completed_at is None:
            return None
        agreement = self.refs.agreement(ticket.kind, ticket.priority)
        elapsed = ticket.completed_at - ticket.opened_at
        return SlaClock(
            content_type=self.ticket_type,
            object_id=ticket.pk,
            kind=ClockKind.RESOLUTION,
            name=f'{ClockKind.RESOLUTION.label} · {agreement.name}',
            sla=agreement,
            calendar_id=agreement.calendar_id,
            target_minutes=max(1, math.ceil(elapsed.total_seconds() / 60)),
            warning_percents=[],
            pause_states=[],
            state=ClockState.MET if made_sla else ClockState.BREACHED,
            started_at=ticket.opened_at,
            elapsed=elapsed,
            run_started_at=None,
            due_at=None,
            next_check_at=None,
            next_percent=None,
            stopped_at=ticket.completed_at,
            stop_reason=StopReason.COMPLETED,
        )

    # -- create and update
    def _create(self, plans: list[TicketPlan]) -> set[dt.date]:
        tickets = [Ticket(**self._fields(plan)) for plan in plans]
        by_prefix: dict[str, list[Ticket]] = {}
        for ticket in tickets:
            by_prefix.setdefault(NUMBER_PREFIXES[TicketKind(ticket.kind)], []).append(ticket)
        for prefix, group in by_prefix.items():
            for ticket, number in zip(group, next_numbers(prefix, len(group), start=Ticket.number_start), strict=True):
                ticket.number = number
        Ticket.objects.bulk_create(tickets, batch_size=500)
        entries: list[TimelineEntry] = []
        clocks: list[SlaClock] = []
        for ticket, plan in zip(tickets, plans, strict=True):
            entries += self._event_entries(ticket.pk, plan, plan.events, {})
            entries.append(self._summary_entry(ticket.pk, plan, verb='Imported from'))
            clock = self._clock(ticket, plan)
            if clock is not None:
                clocks.append(clock)
        TimelineEntry.objects.bulk_create(entries, batch_size=1000)
        SlaClock.objects.bulk_create(clocks, batch_size=500)
        return {day for ticket in tickets for day in _days(ticket)}

    def _update(self, plan: TicketPlan, pk: int) -> set[dt.date]:
        """Bring a ticket imported before in line with its source: new values, the events it did not have yet,
        and the recorded SLA verdict; one import entry lists what changed."""
        ticket = Ticket.objects.select_for_update().get(pk=pk)
        days = _days(ticket)
        before = audit.snapshot(ticket)
        known_events = int(ticket.source_data.get('events', 0) or 0)
        fields = self._fields(plan)
        del fields['kind']  # the number follows the kind: converting a ticket is `ticket_convert`'s business
        for name, value in fields.items():
            setattr(ticket, name, value)
        ticket.save()
        changes = [c for c in audit.diff(ticket, before, audit.snapshot(ticket)) if c['field'] != 'source_digest']
        new_events = plan.events[known_events:]
        previous = {}
        if known_events and known_events <= len(plan.events):
            previous = {
                **plan.events[known_events - 1].values,
                '_source_state': plan.events[known_events - 1].source_state,
            }
        entries = self._event_entries(ticket.pk, plan, new_events, previous)
        entries.append(self._summary_entry(ticket.pk, plan, verb='Updated from', changes=changes))
        TimelineEntry.objects.bulk_create(entries)
        SlaClock.objects.for_record(ticket).filter(sla__in=self.refs.recorded_agreements()).delete()
        clock = self._clock(ticket, plan)
        if clock is not None:
            clock.save()
        return days | _days(ticket)


def _days(ticket: Ticket) -> set[dt.date]:
    """The days the reports count the ticket on (opening, acceptance, completion and so its clock's stop)."""
    from reports.slices import local_day

    return {local_day(m) for m in (ticket.opened_at, ticket.accepted_at, ticket.completed_at) if m is not None}


#
# The whole file
#


ProgressCallback = Callable[[ImportResult, int, int], None]


def import_file(
    path: str | Path,
    mapping: Mapping,
    *,
    actor: Actor | None = None,
    batch_size: int = BATCH_SIZE,
    progress: ProgressCallback | None = None,
    rollup: bool = True,
) -> ImportResult:
    """Import every ticket of `path` as `mapping` reads it; returns what happened.

    Raises MappingError (the mapping does not fit the file) or FileNotFoundError before anything is written.
    Interrupted (Ctrl-C, lost database), it keeps every batch committed so far and re-raises; the rollups of the
    days those batches touched are recomputed first.
    """
    actor = actor or Actor.system()
    result = ImportResult(path=str(path), mapping=mapping.name)
    writer = Writer(mapping, actor, result)
    batch: list[SourceTicket] = []
    with SourceFile(path, mapping) as source:
        try:
            for ticket in source.tickets(result.bad_row):
                result.tickets += 1
                batch.append(ticket)
                if len(batch) >= batch_size:
                    writer.process(batch)
                    batch = []
                if progress is not None:
                    result.rows = source.rows_read
                    progress(result, source.position, source.size)
            writer.process(batch)
        except BaseException as error:
            result.aborted = f'{type(error).__name__}: {error}' if str(error) else type(error).__name__
            result.rows = source.rows_read
            if rollup and result.days:
                with contextlib.suppress(Exception):  # the error that stopped the import is the one to report
                    _rollup(result)
            result.elapsed = time.monotonic() - result.started
            raise
        result.rows = source.rows_read
        if progress is not None:
            progress(result, source.size, source.size)
    if rollup and result.days:
        _rollup(result)
    result.elapsed = time.monotonic() - result.started
    return result


def _rollup(result: ImportResult) -> None:
    """Recompute the reports' daily rollups over the days the import touched (imported history lands on past
    days, which the periodic refresh only re-rolls when it sees them change).

    Every day from the first touched to the last is rolled up, quiet ones too: a batch of days costs one pass
    over the tickets whatever it holds, and dashboards over the imported period then read rollups throughout.
    """
    from reports import services as report_services

    started = time.monotonic()
    first, last = min(result.days), max(result.days)
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    size = report_services.INCREMENTAL_BATCH_DAYS
    for start in range(0, len(days), size):
        result.rollup_rows += report_services.rollup_recompute(days=days[start : start + size])
    result.rollup_days = len(days)
    result.rollup_seconds = time.monotonic() - started
