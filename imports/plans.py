"""From a source ticket's rows to a plan of what to write: checked, converted, in order, with milestones.

Nothing here touches the database except the priority matrix (cached): `build_ticket` is a pure function of the
mapping and the rows, so the rules that turn an export into Pitcrew's values can be read, and tested, alone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from incidents.choices import TICKET_WORKFLOW, TicketChannel, TicketState
from incidents.priority import compute_priority
from itsm.choices import Impact, Urgency

from .mapping import (
    BOOLEAN,
    CHOICE,
    DATETIME,
    INTEGER,
    MISSING,
    PERSON_LENGTH,
    PRIORITY,
    PRIORITY_TEXT,
    TEXT,
    FieldSpec,
    Mapping,
    fill,
)
from .reader import SourceTicket

__all__ = ['FINISHED', 'EventPlan', 'RowError', 'TicketPlan', 'build_ticket', 'digest_of']

# State groups as the ticket lifecycle declares them (incidents.choices.TICKET_WORKFLOW), not re-typed here.
# Finished: the work is done (completed or closed); resolution facts and completion times belong to these.
FINISHED = TICKET_WORKFLOW.finished_states
# With a group: open and out of triage (assigned, accepted, pending).
WITH_GROUP = tuple(s for s in TICKET_WORKFLOW.open_states if s not in TICKET_WORKFLOW.triage_states)
# Taken: out of triage and no longer waiting for acceptance; reaching any of these means someone accepted it.
ACCEPTED_OR_LATER = tuple(
    s
    for s in TICKET_WORKFLOW.all_states
    if s not in (*TICKET_WORKFLOW.triage_states, *TICKET_WORKFLOW.awaiting_acceptance_states)
)
# Resolution facts count from completion: some exports repeat them on every row, even before the fix.
RESOLUTION_FIELDS = ('resolution_code', 'resolution_notes', 'resolved_by')


class RowError(ValueError):
    """A row that cannot be imported; the message names the column and the value."""


@dataclass
class EventPlan:
    line: int
    at: dt.datetime
    actor: str | None
    source_state: str
    values: dict[str, Any]
    extra: dict[str, Any]


@dataclass
class TicketPlan:
    key: str
    first_line: int
    digest: str
    kind: str
    values: dict[str, Any]
    extra: dict[str, Any]
    events: list[EventPlan]
    skipped_lines: list[int]
    matrix_priority: int
    # Closed by the source without a resolution time: no completion, so it counts in no MTTR.
    closed_without_resolution: bool = False

    @property
    def priority_overridden(self) -> bool:
        return self.values['priority'] != self.matrix_priority


def _convert(mapping: Mapping, spec: FieldSpec, cells: dict[str, str]) -> Any:
    """One field's value from a row: the cell converted by its kind or map, the first complete template, or
    the default. None means no value."""
    if spec.templates:
        present = {name: cells[name].strip() for name in spec.columns}
        present = {name: value for name, value in present.items() if value not in mapping.missing}
        for template in spec.templates:
            try:
                text = fill(template, present)
            except KeyError:
                continue  # a column it names has no value here: try the next template
            return text[: spec.max_length] if spec.max_length else text
        return None if spec.default is MISSING else spec.default
    if not spec.column:
        return None if spec.default is MISSING else spec.default
    raw = cells[spec.column].strip()
    if raw in mapping.missing:
        return None if spec.default is MISSING else spec.default
    if spec.value_map is not None:
        if raw in spec.value_map:
            return spec.value_map[raw]
        if spec.default is not MISSING:
            return spec.default
        known = ', '.join(f'"{k}"' for k in list(spec.value_map)[:12])
        raise RowError(f'{spec.column}: "{raw}" is not in the value map of {spec.key} ({known}).')
    kind = spec.kind
    if kind == TEXT:
        return raw[: spec.max_length] if spec.max_length else raw
    if kind == INTEGER:
        if not (raw.isascii() and raw.isdigit()):
            raise RowError(f'{spec.column}: "{raw}" is not a whole number.')
        return int(raw)
    if kind == BOOLEAN:
        lowered = raw.lower()
        if lowered in mapping.true_values:
            return True
        if lowered in mapping.false_values:
            return False
        raise RowError(f'{spec.column}: "{raw}" is neither true nor false.')
    if kind == DATETIME:
        try:
            return mapping.parse_datetime(raw)
        except ValueError as error:
            raise RowError(f'{spec.column}: {error}.') from None
    if kind == CHOICE:
        if raw in spec.choices:
            return raw
        lowered = raw.lower()
        for choice in spec.choices:
            if choice == lowered:
                return choice
        raise RowError(f'{spec.column}: "{raw}" is not one of {", ".join(spec.choices)}; map it in {spec.key}.map.')
    if kind == PRIORITY:
        match = PRIORITY_TEXT.match(raw)
        if match is None:
            raise RowError(f'{spec.column}: "{raw}" is not a priority (0-4 or P0-P4); map it in {spec.key}.map.')
        return int(match.group(1))
    return raw[: spec.max_length] if spec.max_length else raw  # people, groups, categories, CIs: their label


def _convert_row(mapping: Mapping, cells: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    values = {name: _convert(mapping, spec, cells) for name, spec in mapping.fields.items()}
    extra = {name: _convert(mapping, spec, cells) for name, spec in mapping.extra.items()}
    return values, extra


def _order_key(mapping: Mapping, cells: dict[str, str]) -> tuple:
    key = []
    for column in mapping.order_by:
        raw = cells[column].strip()
        if raw in mapping.missing:
            key.append((0,))
            continue
        kind = mapping.column_kind(column)
        try:
            value = mapping.parse_datetime(raw) if kind == DATETIME else int(raw) if kind == INTEGER else raw
        except ValueError as error:
            raise RowError(f'{column}: cannot order events by "{raw}": {error}.') from None
        key.append((1, value))
    return tuple(key)


def _normalise_state(values: dict[str, Any], previous: str | None) -> str:
    """The state Pitcrew's lifecycle allows with the values the row has (domain §4): a ticket with a group is at
    least Assigned, an Accepted ticket has an assignee, an Assigned one a group. A row without a state keeps
    the one before."""
    state = values.get('state') or previous or TicketState.NEW
    if state == TicketState.NEW and values.get('assignment_group'):
        state = TicketState.ASSIGNED
    if state == TicketState.ACCEPTED and not values.get('assignee'):
        state = TicketState.ASSIGNED
    if state == TicketState.ASSIGNED and not values.get('assignment_group'):
        state = TicketState.NEW
    return state


def _priority(values: dict[str, Any]) -> tuple[int, int]:
    """(priority, what the matrix gives). Without impact or urgency, e-mail is P4 as `ticket_create` rules."""
    impact, urgency = values.get('impact'), values.get('urgency')
    if values.get('channel') == TicketChannel.EMAIL and impact is None and urgency is None:
        impact, urgency = Impact.NONE, Urgency.NEGOTIATED
    matrix = compute_priority(impact or Impact.LOW, urgency or Urgency.NORMAL)
    recorded = values.get('priority')
    return (matrix if recorded is None else recorded), matrix


def _clamp(moment: dt.datetime | None, low: dt.datetime | None, high: dt.datetime | None = None):
    if moment is None:
        return None
    if low is not None and moment < low:
        moment = low
    if high is not None and moment > high:
        moment = high
    return moment


def digest_of(mapping: Mapping, source: SourceTicket) -> str:
    """What the ticket's rows (and the mapping reading them) say: equal digests mean nothing to import."""
    sha = hashlib.sha256(mapping.fingerprint.encode())
    for row in source.rows:
        sha.update(b'\n')
        sha.update('\x1f'.join(row.raw).encode('utf-8', 'replace'))
    return sha.hexdigest()


def build_ticket(mapping: Mapping, source: SourceTicket, *, on_bad_row: Callable[[int, str, str], None]) -> TicketPlan:
    """Check and convert one source ticket's rows into a plan. Rows in error go to `on_bad_row` and are left out;
    RowError when nothing importable remains or a required value is missing."""
    converted = []
    for row in source.rows:
        try:
            values, extra = _convert_row(mapping, row.cells)
            at = actor = None
            if mapping.events:
                at_raw = row.cells[mapping.event_at].strip()
                if at_raw in mapping.missing:
                    raise RowError(f'{mapping.event_at}: no value; every event needs its time.')
                try:
                    at = mapping.parse_datetime(at_raw)
                except ValueError as error:
                    raise RowError(f'{mapping.event_at}: {error}.') from None
                if mapping.event_actor:
                    actor = row.cells[mapping.event_actor].strip()
                    actor = None if actor in mapping.missing else actor[:PERSON_LENGTH]
            order = _order_key(mapping, row.cells)
        except RowError as error:
            on_bad_row(row.line, str(error), source.key)
            continue
        converted.append((order, row, values, extra, at, actor))
    skipped = sorted({row.line for row in source.rows} - {item[1].line for item in converted})
    if not converted:
        raise RowError('none of its rows could be imported.')
    converted.sort(key=lambda item: item[0])  # stable: rows that tie keep their file order

    state_spec = mapping.fields.get('state')
    events: list[EventPlan] = []
    previous = None
    for _, row, values, extra, at, actor in converted:
        state = _normalise_state(values, previous)
        values['state'] = previous = state
        values['priority'] = _priority(values)[0]
        if state not in FINISHED:
            for name in RESOLUTION_FIELDS:
                values.pop(name, None)
        if mapping.events:
            source_state = row.cells.get(state_spec.column, '').strip() if state_spec and state_spec.column else ''
            events.append(EventPlan(row.line, at, actor, source_state or state, values, extra))

    final = dict(converted[-1][2])
    extra = dict(converted[-1][3])
    number = source.key
    if not number:
        raise RowError('no source number: the ticket cannot be found again on the next run.')
    final['source_number'] = number
    if not final.get('caller'):
        raise RowError('caller: no value (give fields.caller a default to name a stand-in).')
    kind = final['kind'] = final.get('kind') or mapping.kind
    if not final.get('short_description'):
        final['short_description'] = f'{mapping.label} {number}'[:200]
    closed_without_resolution = _milestones(final, events)
    if final['state'] != TicketState.PENDING:
        final['pending_reason'] = None
    priority, matrix = _priority(final)
    final['priority'] = priority
    return TicketPlan(
        key=number,
        first_line=source.first_line,
        digest=digest_of(mapping, source),
        kind=kind,
        values=final,
        extra=extra,
        events=events,
        skipped_lines=skipped,
        matrix_priority=matrix,
        closed_without_resolution=closed_without_resolution,
    )


def _first(events: list[EventPlan], test) -> dt.datetime | None:
    return next((event.at for event in events if test(event.values)), None)


def _last_entry(events: list[EventPlan], states) -> dt.datetime | None:
    """When the ticket last entered one of `states` (the start of its final run of them)."""
    moment = None
    for event in reversed(events):
        if event.values['state'] not in states:
            break
        moment = event.at
    return moment


def _resolution_entry(events: list[EventPlan]) -> dt.datetime | None:
    """When the ticket's final run of finished states began, if that run went through Completed (the source
    recorded a resolution by its state); None when the source went straight to Closed."""
    run = []
    for event in reversed(events):
        if event.values['state'] not in FINISHED:
            break
        run.append(event)
    if not any(event.values['state'] == TicketState.COMPLETED for event in run):
        return None
    return run[-1].at


def _milestones(values: dict[str, Any], events: list[EventPlan]) -> bool:
    """Opened, assigned, accepted, completed and closed times, as the lifecycle would have set them: the
    source's own values where the mapping gives them, else the events that reached each state. Each lies
    between the one before it and the one after, and a ticket not (yet) completed or closed has no such time.

    A ticket the source closed without ever recording a resolution (no resolution time, and no Completed state
    before it closed) is closed without resolution: it has no completion time, so it counts in no MTTR, rather
    than being given its closing time (or its opening, a duration of nothing) as one. Returns whether it is."""
    state = values['state']
    opened = values.get('opened_at') or (events[0].at if events else None)
    if opened is None:
        raise RowError('opened_at: no value.')
    values['opened_at'] = opened
    completed = closed = None
    without_resolution = False
    if state in FINISHED:
        completed = values.get('completed_at') or _resolution_entry(events)
        if completed is None and state == TicketState.CLOSED:
            without_resolution = True
        else:
            completed = completed or _last_entry(events, FINISHED)
            completed = _clamp(completed or (events[-1].at if events else opened), opened)
    if state == TicketState.CLOSED:
        closed = values.get('closed_at') or _last_entry(events, (TicketState.CLOSED,))
        closed = _clamp(closed or completed or (events[-1].at if events else opened), completed or opened)
    assigned = values.get('assigned_at') or _first(
        events, lambda v: v.get('assignment_group') or v['state'] in WITH_GROUP
    )
    accepted = values.get('accepted_at') or _first(events, lambda v: v['state'] in ACCEPTED_OR_LATER)
    if (
        not events
        and state not in TICKET_WORKFLOW.triage_states
        and assigned is None
        and values.get('assignment_group')
    ):
        assigned = opened  # one row per ticket: assigned when opened, as far as anyone can tell
    if state in TICKET_WORKFLOW.triage_states:
        assigned = accepted = None
    elif state in TICKET_WORKFLOW.awaiting_acceptance_states:
        accepted = None
    accepted = _clamp(accepted, opened, completed)
    assigned = _clamp(assigned, opened, accepted or completed)
    values.update(assigned_at=assigned, accepted_at=accepted, completed_at=completed, closed_at=closed)
    return without_resolution
