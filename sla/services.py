"""Writes of service level management: calendars and agreements, the clocks of each process record, and the sweep.

The hooks of every process record (`itsm.hooks`, subscribed in `SlaConfig.ready`) call `record_opened` once and
`record_changed` after every transition or edit; both bring the record's clocks in line with it: start, pause in
the agreement's pause states, resume, stop when met (or breached), hand OLA clocks over when the group changes,
run the resolution clock again when the work is reopened, and re-target when a new priority, service, kind or
group selects another agreement. What a state means is read from the record's `workflow` (triage, awaiting
acceptance, finished, final), what is measured from the record (`sla_kind`, `sla_priority`, `sla_service_id`,
`sla_responded`, `pause_reason()`): no state of any record is named here.

`sla_sweep` announces warnings and breaches. It reads only clocks whose `next_check_at` has passed (a partial
index), so it costs O(clocks due), not O(open records). Each announcement is a `ClockEvent` row claimed with
INSERT … ON CONFLICT DO NOTHING under a unique (clock, percent) constraint, in the same transaction as its
timeline entry; the e-mail is queued after commit. Overlapping sweeps lock disjoint clocks (SKIP LOCKED), a
repeated sweep finds the rows already there, and a sweep that dies before commit leaves nothing claimed.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from itsm import audit, hooks
from itsm.audit import Actor
from itsm.choices import Channel, TimelineKind
from itsm.errors import Conflict, NotAllowed
from itsm.models import TimelineEntry
from itsm.services import record_create, record_delete, record_update

from . import business_time, selectors
from .choices import (
    BREACH_PERCENT,
    OLA_KINDS,
    SLA_KINDS,
    ClockKind,
    ClockState,
    EventKind,
    StopReason,
)
from .models import (
    BusinessCalendar,
    ClockEvent,
    ClockPause,
    OperationalLevelAgreement,
    ServiceLevelAgreement,
    SlaClock,
    UnderpinningContract,
    format_minutes,
    keeps_agreements_of,
)

__all__ = [
    'SweepResult',
    'calendar_create',
    'calendar_delete',
    'calendar_update',
    'clocks_refresh',
    'contract_create',
    'contract_delete',
    'contract_update',
    'keep_opening_clocks',
    'ola_create',
    'ola_delete',
    'ola_update',
    'record_changed',
    'record_opened',
    'sla_create',
    'sla_delete',
    'sla_sweep',
    'sla_update',
]

# The pause a reopened clock records for the time the finished work waited (for a confirmation, mostly).
REOPEN_REASON = 'Awaiting confirmation'

SWEEP_BATCH = 1000
# Announcements claimed longer ago than this without their e-mail having gone out are queued again.
NOTIFY_GRACE = dt.timedelta(seconds=settings.SLA_NOTIFY_GRACE_SECONDS)


#
# Calendars and agreements
#


@transaction.atomic
def calendar_create(*, actor: Actor, **fields: Any) -> BusinessCalendar:
    """Create a business calendar (weekly hours in a time zone, country and custom holidays)."""
    return record_create(model=BusinessCalendar, fields=fields, actor=actor)


@transaction.atomic
def calendar_update(*, calendar: BusinessCalendar, actor: Actor, **fields: Any) -> BusinessCalendar:
    """Change a calendar; the due times of clocks running on it are recomputed after commit."""
    if calendar.builtin and set(fields) - {'description'}:
        raise Conflict(f'The built-in calendar "{calendar}" cannot be changed; create your own.', code='builtin')
    calendar = record_update(obj=calendar, fields=fields, actor=actor)
    calendar_id = calendar.pk
    transaction.on_commit(lambda: _refresh_later(calendar_id))
    return calendar


def _refresh_later(calendar_id: int) -> None:
    from .tasks import sla_clocks_refresh_task

    sla_clocks_refresh_task.delay(calendar_id)


@transaction.atomic
def calendar_delete(*, calendar: BusinessCalendar, actor: Actor) -> None:
    """Delete a calendar no agreement or clock uses; the built-in 24x7 calendar stays."""
    if calendar.builtin:
        raise Conflict(f'The built-in calendar "{calendar}" cannot be deleted.', code='builtin')
    record_delete(obj=calendar, actor=actor)


def _check_keeper(actor: Actor, *services) -> None:
    """Service owners write only their own services' agreements: the stored service and, on a move, the new one."""
    for service in services:
        if not keeps_agreements_of(actor.user, service):
            scope = f'the service {service}' if service is not None else 'every service (a default)'
            raise NotAllowed(
                f'Only incident managers and administrators, or its service owner, may keep an agreement of {scope}.'
            )


def _scope_change(obj, fields: dict[str, Any]) -> tuple:
    stored = type(obj).objects.select_related('service').get(pk=obj.pk).service
    return (stored, fields['service']) if 'service' in fields else (stored,)


@transaction.atomic
def sla_create(*, actor: Actor, **fields: Any) -> ServiceLevelAgreement:
    """Create an SLA. It applies to records opened (or re-prioritised) from now on."""
    _check_keeper(actor, fields.get('service'))
    return record_create(model=ServiceLevelAgreement, fields=fields, actor=actor)


@transaction.atomic
def sla_update(*, agreement: ServiceLevelAgreement, actor: Actor, **fields: Any) -> ServiceLevelAgreement:
    """Change an SLA. Clocks already running keep the targets they started with, as agreed at the time."""
    _check_keeper(actor, *_scope_change(agreement, fields))
    return record_update(obj=agreement, fields=fields, actor=actor)


@transaction.atomic
def sla_delete(*, agreement: ServiceLevelAgreement, actor: Actor) -> None:
    _check_keeper(actor, *_scope_change(agreement, {}))
    record_delete(obj=agreement, actor=actor)


@transaction.atomic
def ola_create(*, actor: Actor, **fields: Any) -> OperationalLevelAgreement:
    """Create an OLA for a support group (one priority or all)."""
    return record_create(model=OperationalLevelAgreement, fields=fields, actor=actor)


@transaction.atomic
def ola_update(*, agreement: OperationalLevelAgreement, actor: Actor, **fields: Any) -> OperationalLevelAgreement:
    return record_update(obj=agreement, fields=fields, actor=actor)


@transaction.atomic
def ola_delete(*, agreement: OperationalLevelAgreement, actor: Actor) -> None:
    record_delete(obj=agreement, actor=actor)


@transaction.atomic
def contract_create(*, actor: Actor, **fields: Any) -> UnderpinningContract:
    """Record an underpinning contract with a supplier."""
    _check_keeper(actor, fields.get('service'))
    return record_create(model=UnderpinningContract, fields=fields, actor=actor)


@transaction.atomic
def contract_update(*, contract: UnderpinningContract, actor: Actor, **fields: Any) -> UnderpinningContract:
    _check_keeper(actor, *_scope_change(contract, fields))
    return record_update(obj=contract, fields=fields, actor=actor)


@transaction.atomic
def contract_delete(*, contract: UnderpinningContract, actor: Actor) -> None:
    _check_keeper(actor, *_scope_change(contract, {}))
    record_delete(obj=contract, actor=actor)


#
# One clock
#


def _pending(clock: SlaClock) -> list[int]:
    """Percentages not yet announced, lowest first (all below `next_percent` are claimed or were passed by)."""
    if clock.next_percent is None or clock.breached_at is not None:
        return []
    return [p for p in clock.percents() if p >= clock.next_percent]


def _plan(clock: SlaClock, now: dt.datetime) -> None:
    """Recompute `due_at`, `next_percent` and `next_check_at` from the clock's counters."""
    if clock.stopped_at is not None:
        clock.next_check_at = None
        return
    pending = _pending(clock)
    clock.next_percent = pending[0] if pending else None
    if clock.run_started_at is None:
        overdue = clock.elapsed >= clock.target
        clock.due_at = clock.due_at if overdue else None
        # A threshold passed before the pause but not announced yet: the next sweep announces it.
        clock.next_check_at = now if pending and clock.elapsed >= clock.threshold(pending[0]) else None
        return
    if clock.due_at is None or clock.elapsed < clock.target:
        clock.due_at = clock.instant_of(clock.target)
    clock.next_check_at = clock.instant_of(clock.threshold(pending[0])) if pending else None


def _current_transaction():
    """The innermost atomic block now open (None outside one): clocks remembered on a record are trusted only
    inside the very block that wrote them (a create and the routing it runs), which no one else sees into."""
    atomic_blocks = connection.atomic_blocks
    return atomic_blocks[-1] if atomic_blocks else None


def _new_clock(*, record, kind: str, agreement, start: dt.datetime) -> SlaClock:
    clock = SlaClock(
        record=record,
        kind=kind,
        started_at=start,
        run_started_at=start,
        state=ClockState.RUNNING,
        elapsed=dt.timedelta(0),
    )
    _apply_agreement(clock, agreement)
    clock.next_percent = clock.percents()[0]
    _plan(clock, start)
    return clock  # saved by `_sync`, with the record's other new clocks


def _apply_agreement(clock: SlaClock, agreement) -> None:
    if isinstance(agreement, ServiceLevelAgreement):
        clock.sla, clock.ola = agreement, None
        clock.name = f'{ClockKind(clock.kind).label} · {agreement.name}'
    else:
        clock.ola, clock.sla = agreement, None
        clock.support_group = agreement.support_group
        clock.name = f'{ClockKind(clock.kind).label} · {agreement.support_group.name}'
    clock.calendar = agreement.calendar
    clock.target_minutes = agreement.target_minutes(clock.kind)
    clock.warning_percents = sorted(agreement.warning_percents)
    clock.pause_states = list(agreement.pause_states)


def _pause(clock: SlaClock, *, at: dt.datetime, state: str, reason: str) -> None:
    clock.elapsed = clock.elapsed_at(at)
    clock.run_started_at = None
    if clock.state == ClockState.RUNNING:
        clock.state = ClockState.PAUSED
    ClockPause.objects.create(clock=clock, started_at=at, ticket_state=state, reason=(reason or '')[:120])
    _plan(clock, at)
    clock.save()


def _resume(clock: SlaClock, *, at: dt.datetime) -> None:
    ClockPause.objects.filter(clock=clock, ended_at__isnull=True).update(ended_at=at)
    clock.run_started_at = at
    if clock.state == ClockState.PAUSED:
        clock.state = ClockState.RUNNING
    _plan(clock, at)
    clock.save()


def _stop(clock: SlaClock, *, at: dt.datetime, reason: str) -> ClockEvent | None:
    """Stop a clock: met, or breached when its target ran out (announcing the breach if no sweep has yet)."""
    if clock.run_started_at is None:
        ClockPause.objects.filter(clock=clock, ended_at__isnull=True).update(ended_at=at)
    else:
        if clock.elapsed_at(at) < clock.target:
            clock.due_at = clock.instant_of(clock.target)
        clock.elapsed = clock.elapsed_at(at)
        clock.run_started_at = None
    clock.stopped_at, clock.stop_reason = at, reason
    claimed = None
    if clock.breached_at is None and clock.elapsed > clock.target:
        crossed = clock.due_at or at
        claimed = _claim(clock, percent=BREACH_PERCENT, crossed_at=crossed, now=at)
        clock.breached_at = crossed
    clock.state = ClockState.BREACHED if clock.breached_at else ClockState.MET
    clock.next_check_at, clock.next_percent = None, None
    clock.save()
    return claimed


def _reopen(clock: SlaClock, *, at: dt.datetime, waited_in: str) -> None:
    """Run a clock stopped by completion again (the work was reopened, e.g. the caller rejected the fix); the wait
    in the finished state `waited_in` counts as a pause."""
    ClockPause.objects.create(
        clock=clock, started_at=clock.stopped_at, ended_at=at, ticket_state=waited_in, reason=REOPEN_REASON
    )
    clock.stopped_at, clock.stop_reason = None, ''
    clock.run_started_at = at
    clock.state = ClockState.BREACHED if clock.breached_at else ClockState.RUNNING
    claimed = set(clock.events.values_list('percent', flat=True))
    pending = [p for p in clock.percents() if p not in claimed]
    clock.next_percent = None if clock.breached_at or not pending else pending[0]
    _plan(clock, at)
    clock.save()


def _summary(clock: SlaClock) -> dict[str, Any]:
    return {
        'name': clock.name,
        'target': format_minutes(clock.target_minutes),
        'target_minutes': clock.target_minutes,
        'calendar': clock.calendar.name,
        'due_at': clock.due_at.isoformat() if clock.due_at else None,
    }


def _retarget(clock: SlaClock, *, agreement, at: dt.datetime) -> dict[str, Any]:
    """Apply another agreement to an open clock, counting business time since its start on the new calendar
    (less its pauses), as if the record had been under the new agreement from the start."""
    before = _summary(clock)
    _apply_agreement(clock, agreement)
    pauses = [(p.started_at, p.ended_at or at) for p in clock.pauses.all()]
    elapsed = business_time.business_time_between(clock.calendar, clock.started_at, at, exclude=pauses)
    clock.elapsed = elapsed
    if clock.run_started_at is not None:
        clock.run_started_at = at
    claimed = set(clock.events.values_list('percent', flat=True))
    pending = [p for p in clock.percents() if p not in claimed]
    clock.next_percent = None if clock.breached_at or not pending else pending[0]
    if clock.breached_at is None:
        # Past the new target already: it ran out when the replayed business time reached it.
        overdue = elapsed >= clock.target
        clock.due_at = (
            business_time.add_business_time(clock.calendar, clock.started_at, clock.target, exclude=pauses)
            if overdue
            else None
        )
    _plan(clock, at)
    clock.save()
    return {'clock': clock.pk, 'kind': clock.kind, 'before': before, 'after': _summary(clock)}


#
# Announcements (warnings and breaches): claimed exactly once
#


def _event_kind(percent: int) -> str:
    return EventKind.BREACH if percent >= BREACH_PERCENT else EventKind.WARNING


def _claim(clock: SlaClock, *, percent: int, crossed_at: dt.datetime, now: dt.datetime):
    """Claim one announcement for a clock; returns the event when this transaction claimed it, else None."""
    token = uuid.uuid4()
    row = ClockEvent(
        clock=clock, percent=percent, kind=_event_kind(percent), crossed_at=crossed_at, at=now, claim=token
    )
    ClockEvent.objects.bulk_create([row], ignore_conflicts=True)
    event = ClockEvent.objects.filter(claim=token).first()
    if event is None:
        return None
    _timeline_entry(clock, event, now=now, actor=Actor.system()).save()
    _notify_on_commit([event.pk])
    _emit_crossings([event], {clock.pk: clock}, actor=Actor.system())
    return event


def _emit_crossings(events: list[ClockEvent], clocks: dict[int, SlaClock], *, actor: Actor) -> None:
    """Run the `clock_crossed` hooks of claimed announcements in the claiming transaction (records read once per
    kind; nothing read when nobody subscribes)."""
    if not events or not hooks.subscribers(hooks.CLOCK_CROSSED):
        return
    wanted: dict[int, set[int]] = {}
    for event in events:
        clock = clocks[event.clock_id]
        wanted.setdefault(clock.content_type_id, set()).add(clock.object_id)
    records = {}
    for content_type_id, ids in wanted.items():
        model = ContentType.objects.get_for_id(content_type_id).model_class()
        records.update({(content_type_id, pk): r for pk, r in model._default_manager.in_bulk(ids).items()})
    batch: dict[str, Any] = {}  # shared by the handlers across these announcements, to read things once
    for event in events:
        clock = clocks[event.clock_id]
        record = records.get((clock.content_type_id, clock.object_id))
        if record is not None:
            hooks.emit(hooks.CLOCK_CROSSED, record, actor=actor, clock=clock, announcement=event, batch=batch)


def _timeline_entry(clock: SlaClock, event: ClockEvent, *, now: dt.datetime, actor: Actor) -> TimelineEntry:
    if event.kind == EventKind.BREACH:
        kind = TimelineKind.SLA_BREACH
        message = f'{clock.name} breached: target {format_minutes(clock.target_minutes)} ({clock.calendar.name})'
    else:
        kind = TimelineKind.SLA_WARNING
        due = timezone.localtime(clock.due_at).strftime('%Y-%m-%d %H:%M') if clock.due_at else 'paused'
        message = f'{clock.name}: {event.percent} % of {format_minutes(clock.target_minutes)} used, due {due}'
    return TimelineEntry(
        content_type_id=clock.content_type_id,
        object_id=clock.object_id,
        kind=kind,
        actor=actor.user,
        channel=actor.channel,
        at=now,
        message=message,
        data={
            'clock': clock.pk,
            'clock_kind': clock.kind,
            'event': event.pk,
            'percent': event.percent,
            'crossed_at': event.crossed_at.isoformat(),
            'due_at': clock.due_at.isoformat() if clock.due_at else None,
            'target_minutes': clock.target_minutes,
        },
        public=False,
    )


def _notify_on_commit(event_ids: list[int]) -> None:
    if not event_ids:
        return

    def send():
        from .tasks import sla_notify_task

        sla_notify_task.delay(event_ids)

    transaction.on_commit(send)


#
# A record's clocks
#


@transaction.atomic
def record_opened(*, record, actor: Actor, now: dt.datetime | None = None) -> list[SlaClock]:
    """Start the clocks of a new process record at its opening time."""
    return _sync(record, actor=actor, now=now or timezone.now(), opening=True)


@transaction.atomic
def record_changed(
    *, record, actor: Actor, now: dt.datetime | None = None, source: str | None = None
) -> list[SlaClock]:
    """Bring the record's clocks in line with its state, group, priority, service and kind (after any change).
    `source` is the state a transition left, when there was one."""
    return _sync(record, actor=actor, now=now or timezone.now(), opening=False, source=source)


def on_record_created(record, *, actor: Actor, **kwargs) -> list[SlaClock]:
    """Hook: a process record opened, in its creating service's transaction (so no savepoint of its own). A record
    just inserted has no clocks yet, so none are read: its clocks are written in one insert."""
    return _sync(record, actor=actor, now=timezone.now(), opening=True, fresh=True)


def keep_opening_clocks(record) -> bool:
    """Right after the service that opened `record` returned: keep the clocks its opening wrote on it, where
    `selectors.record_clocks` reads them, so the answer that shows them asks the database nothing. They are all it
    has: its first sync started from none, and each later sync of that opening carried the list on. False (and
    nothing kept) when this record object was not the one opened, so the caller reads them."""
    written = getattr(record, '_clocks_written_here', None)
    if written is None:
        return False
    setattr(record, selectors.CLOCKS_ATTR, sorted(written[1], key=lambda clock: clock.pk))
    return True


def on_record_changed(record, *, actor: Actor, source: str | None = None, **kwargs) -> list[SlaClock]:
    """Hook: a process record moved (`source` is the state it left) or changed; in the service's transaction when
    there is one, without a savepoint of its own."""
    if connection.in_atomic_block:
        return _sync(record, actor=actor, now=timezone.now(), opening=False, source=source)
    return record_changed(record=record, actor=actor, source=source)


@dataclass
class _Changes:
    retargeted: list[dict[str, Any]] = field(default_factory=list)
    dropped: list[dict[str, Any]] = field(default_factory=list)
    handed_over: list[dict[str, Any]] = field(default_factory=list)
    started: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class _Situation:
    """Where a record stands, as the clocks see it: its state read through its workflow's categories."""

    state: str
    finished: bool  # the work is done: resolution targets are met
    final: bool  # closed: a resolution clock stops as Closed
    group_id: int | None  # the group holding the record (none while in triage)
    with_group: bool  # open and held by a group: the OLA resolve clock counts
    awaiting_acceptance: bool  # held by a group, taken by nobody: the OLA accept clock counts
    responded: bool  # the response target is met
    waited_in: str  # the finished state a reopened clock's pause records

    @classmethod
    def of(cls, record, *, source: str | None = None) -> _Situation:
        workflow = type(record).workflow
        state = workflow.state_of(record)
        in_triage = state in workflow.triage_states
        resting = [s for s in workflow.finished_states if s not in workflow.final_states]
        return cls(
            state=state,
            finished=state in workflow.finished_states,
            final=state in workflow.final_states,
            group_id=None if in_triage else record.assignment_group_id,
            with_group=state in workflow.open_states and not in_triage,
            awaiting_acceptance=state in workflow.awaiting_acceptance_states,
            responded=bool(record.sla_responded),
            waited_in=source if source in workflow.finished_states else (resting or [state])[0],
        )


def _sync(
    record, *, actor: Actor, now: dt.datetime, opening: bool, source: str | None = None, fresh: bool = False
) -> list[SlaClock]:
    """`fresh`: the record was inserted in this transaction, so it has no clocks to read and lock. Later syncs in
    the same transaction (a new ticket routed to a group) start from the clocks the previous one left on it."""
    written_here = getattr(record, '_clocks_written_here', None)
    if fresh:
        clocks = []
    elif written_here is not None and written_here[0] is _current_transaction():
        clocks = list(written_here[1])
    else:
        clocks = list(
            SlaClock.objects.for_record(record)
            .select_for_update(of=('self',))
            .select_related('calendar', 'sla', 'ola')
            .order_by('id')
        )
    for clock in clocks:
        clock.record = record
    situation = _Situation.of(record, source=source)
    changes = _Changes()
    clocks = _sync_sla(record, clocks, situation, now=now, opening=opening, changes=changes)
    clocks = _sync_ola(record, clocks, situation, now=now, changes=changes)
    # New clocks are only planned by `_new_clock`: one insert for all of them, before a pause may refer to one.
    started = [clock for clock in clocks if clock.pk is None]
    if started:
        SlaClock.objects.bulk_create(started)
    if fresh or written_here is not None:
        record._clocks_written_here = (_current_transaction(), list(clocks))
    for clock in clocks:
        if clock.stopped_at is not None:
            continue
        pause = situation.state in clock.pause_states
        if pause and clock.run_started_at is not None:
            _pause(clock, at=now, state=situation.state, reason=record.pause_reason())
        elif not pause and clock.run_started_at is None:
            _resume(clock, at=now)
    if changes.retargeted or changes.dropped or changes.handed_over:
        lines = [
            f'{c["before"]["name"]} ({c["before"]["target"]}, {c["before"]["calendar"]}) → '
            f'{c["after"]["name"]} ({c["after"]["target"]}, {c["after"]["calendar"]})'
            for c in changes.retargeted
        ]
        lines += [f'{c["name"]}: no agreement applies any more' for c in changes.dropped]
        lines += [f'{c["name"]} stopped on hand-over ({c["state"]})' for c in changes.handed_over]
        if changes.handed_over:
            lines += [f'{c["name"]} started ({c["target"]}, {c["calendar"]})' for c in changes.started]
        audit.record(
            record,
            actor=actor,
            kind=TimelineKind.SLA_RETARGET,
            message='SLA re-targeted: ' + '; '.join(lines),
            data={
                'retargeted': changes.retargeted,
                'dropped': changes.dropped,
                'handed_over': changes.handed_over,
                'started': changes.started if changes.handed_over else [],
                'priority': record.sla_priority,
                'group': str(record.assignment_group or ''),
            },
        )
    return clocks


def _sync_sla(record, clocks, situation: _Situation, *, now, opening, changes: _Changes) -> list[SlaClock]:
    agreement = _agreement_for(record)
    for kind in SLA_KINDS:
        mine = [c for c in clocks if c.kind == kind]
        current = next((c for c in mine if c.stopped_at is None), None)
        done = situation.responded if kind == ClockKind.RESPONSE else situation.finished
        last = mine[-1] if mine else None
        if current is None and not done and last is not None and last.stop_reason == StopReason.COMPLETED:
            _reopen(last, at=now, waited_in=situation.waited_in)
            current = last
        if current is None and last is None and not done and agreement is not None:
            start = record.opened_at if opening else now
            current = _new_clock(record=record, kind=kind, agreement=agreement, start=start)
            clocks.append(current)
        if current is None:
            continue
        if current.sla_id != (agreement.pk if agreement else None) and not done:
            if agreement is not None:
                changes.retargeted.append(_retarget(current, agreement=agreement, at=now))
            elif current.breached_at is None and current.sla_id is not None:
                changes.dropped.append(_summary(current))
                clocks.remove(current)
                current.delete()
                continue
        if done:
            reason = StopReason.ACCEPTED if kind == ClockKind.RESPONSE else StopReason.COMPLETED
            if situation.final and kind == ClockKind.RESOLUTION:
                reason = StopReason.CLOSED
            _stop(current, at=now, reason=reason)
    return clocks


def _agreement_for(record) -> ServiceLevelAgreement | None:
    """The record's SLA, asked once per atomic block while its kind, priority and service stay the same (a new
    ticket's clocks start, then its routing syncs them again)."""
    key = (record.sla_kind, record.sla_priority, record.sla_service_id)
    block = _current_transaction()
    known = getattr(record, '_sla_agreement_here', None)
    if block is not None and known is not None and known[0] is block and known[1] == key:
        return known[2]
    agreement = selectors.sla_for(kind=key[0], priority=key[1], service_id=key[2])
    record._sla_agreement_here = (block, key, agreement)
    return agreement


def _sync_ola(record, clocks, situation: _Situation, *, now, changes: _Changes) -> list[SlaClock]:
    group_id = situation.group_id
    for clock in clocks:
        if clock.kind in OLA_KINDS and clock.stopped_at is None and clock.support_group_id != group_id:
            _stop(clock, at=now, reason=StopReason.HANDOFF)
            changes.handed_over.append({**_summary(clock), 'state': clock.state})
    if group_id is None:
        return clocks
    agreement = selectors.ola_for(group_id=group_id, priority=record.sla_priority)
    for kind in OLA_KINDS:
        mine = [c for c in clocks if c.kind == kind]
        current = next((c for c in mine if c.stopped_at is None), None)
        last = mine[-1] if mine else None
        same_stint = last is not None and last.support_group_id == group_id and last.stop_reason != StopReason.HANDOFF
        if kind == ClockKind.OLA_ACCEPT:
            wanted, done = situation.awaiting_acceptance, not situation.awaiting_acceptance
        else:
            wanted, done = situation.with_group, situation.finished
        if current is None and wanted and same_stint and last.stop_reason == StopReason.COMPLETED:
            _reopen(last, at=now, waited_in=situation.waited_in)
            current = last
        elif current is None and wanted and not same_stint and agreement is not None:
            current = _new_clock(record=record, kind=kind, agreement=agreement, start=now)
            clocks.append(current)
            changes.started.append(_summary(current))
        if current is None:
            continue
        if not done and current.ola_id != (agreement.pk if agreement else None):
            if agreement is not None:
                changes.retargeted.append(_retarget(current, agreement=agreement, at=now))
            elif current.breached_at is None and current.ola_id is not None:
                changes.dropped.append(_summary(current))
                clocks.remove(current)
                current.delete()
                continue
        if done:
            reason = StopReason.ACCEPTED if kind == ClockKind.OLA_ACCEPT else StopReason.COMPLETED
            _stop(current, at=now, reason=reason)
    return clocks


#
# The sweep
#


@dataclass
class SweepResult:
    clocks: int = 0
    warnings: int = 0
    breaches: int = 0
    requeued: int = 0
    batches: int = 0

    def __iadd__(self, other: SweepResult) -> SweepResult:
        self.clocks += other.clocks
        self.warnings += other.warnings
        self.breaches += other.breaches
        self.requeued += other.requeued
        self.batches += other.batches
        return self

    def __str__(self) -> str:
        return (
            f'{self.clocks} clocks due: {self.warnings} warnings, {self.breaches} breaches announced'
            f'{f", {self.requeued} notices queued again" if self.requeued else ""}'
        )


def sla_sweep(*, now: dt.datetime | None = None, batch_size: int = SWEEP_BATCH) -> SweepResult:
    """Announce every warning and breach that has fallen due, each exactly once. Safe to run concurrently and
    repeatedly; a run that dies part-way leaves its uncommitted batch for the next run."""
    now = now or timezone.now()
    total = SweepResult()
    seen: set[int] = set()
    while True:
        result, ids = _sweep_batch(now=now, batch_size=batch_size)
        total += result
        if len(ids) < batch_size or seen.intersection(ids):
            break  # done (a clock seen twice would mean its counters did not move: never loop on it)
        seen.update(ids)
    total.requeued = _requeue_unsent(now=now)
    return total


@transaction.atomic
def _sweep_batch(*, now: dt.datetime, batch_size: int) -> tuple[SweepResult, list[int]]:
    due = SlaClock.objects.select_for_update(skip_locked=True).filter(next_check_at__lte=now).order_by('next_check_at')
    clocks = list(due[:batch_size])
    result = SweepResult(clocks=len(clocks), batches=1 if clocks else 0)
    if not clocks:
        return result, []
    # The batch's few calendars read once and shared, instead of one copy per clock (hours and holidays parsed
    # again for each) as a join would give.
    calendars = BusinessCalendar.objects.in_bulk({clock.calendar_id for clock in clocks})
    for clock in clocks:
        clock.calendar = calendars[clock.calendar_id]
    token = uuid.uuid4()
    rows: list[ClockEvent] = []
    for clock in clocks:
        rows.extend(_crossings(clock, now=now, token=token))
    if rows:
        claimed = _insert_claims(rows, token=token)
        by_id = {clock.pk: clock for clock in clocks}
        announced = [event for event in claimed if not event.superseded]
        actor = Actor.system(Channel.SYSTEM)
        _insert_timeline([_timeline_entry(by_id[event.clock_id], event, now=now, actor=actor) for event in announced])
        result.warnings = sum(1 for e in announced if e.kind == EventKind.WARNING)
        result.breaches = sum(1 for e in announced if e.kind == EventKind.BREACH)
        _notify_on_commit([event.pk for event in announced])
        _emit_crossings(announced, by_id, actor=actor)
    _save_counters(clocks, now=now)
    return result, [clock.pk for clock in clocks]


def _insert_claims(rows: list[ClockEvent], *, token: uuid.UUID) -> list[ClockEvent]:
    """Insert the announcements the batch owes; returns those this statement inserted (the others were claimed
    before), in id order. On PostgreSQL one INSERT … ON CONFLICT DO NOTHING RETURNING over arrays, which gives the
    new ids to the rows already built instead of reading them back."""
    if connection.vendor != 'postgresql':
        ClockEvent.objects.bulk_create(rows, ignore_conflicts=True)
        return list(ClockEvent.objects.filter(claim=token).order_by('id'))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {ClockEvent._meta.db_table}
                    (clock_id, percent, kind, crossed_at, at, claim, superseded, recipients)
                SELECT v.clock_id, v.percent, v.kind, v.crossed_at, %s, %s, v.superseded, '[]'::jsonb
                FROM unnest(%s::bigint[], %s::smallint[], %s::varchar[], %s::timestamptz[], %s::boolean[])
                     AS v(clock_id, percent, kind, crossed_at, superseded)
                ON CONFLICT (clock_id, percent) DO NOTHING
                RETURNING id, clock_id, percent""",
            [
                rows[0].at,
                token,
                [row.clock_id for row in rows],
                [row.percent for row in rows],
                [row.kind for row in rows],
                [row.crossed_at for row in rows],
                [row.superseded for row in rows],
            ],
        )
        inserted = {(clock_id, percent): pk for pk, clock_id, percent in cursor.fetchall()}
    claimed = []
    for row in rows:
        pk = inserted.get((row.clock_id, row.percent))
        if pk is not None:
            row.pk, row.recipients = pk, []
            row._state.adding, row._state.db = False, connection.alias
            claimed.append(row)
    return sorted(claimed, key=lambda row: row.pk)


def _insert_timeline(entries: list[TimelineEntry]) -> None:
    """The batch's timeline entries in one INSERT over arrays on PostgreSQL (`bulk_create` spends more time in
    Python building its statement for a thousand rows than the database spends inserting them)."""
    if connection.vendor != 'postgresql' or not entries:
        TimelineEntry.objects.bulk_create(entries)
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {TimelineEntry._meta.db_table}
                    (content_type_id, object_id, kind, actor_id, channel, at, message, changes, data, public)
                SELECT v.content_type_id, v.object_id, v.kind, v.actor_id, v.channel, v.at, v.message, '[]'::jsonb,
                       v.data::jsonb, v.public
                FROM unnest(%s::integer[], %s::bigint[], %s::varchar[], %s::bigint[], %s::varchar[],
                            %s::timestamptz[], %s::text[], %s::text[], %s::boolean[])
                     AS v(content_type_id, object_id, kind, actor_id, channel, at, message, data, public)""",
            [
                [entry.content_type_id for entry in entries],
                [entry.object_id for entry in entries],
                [entry.kind for entry in entries],
                [entry.actor_id for entry in entries],
                [entry.channel for entry in entries],
                [entry.at for entry in entries],
                [entry.message for entry in entries],
                [json.dumps(entry.data, cls=DjangoJSONEncoder) for entry in entries],
                [entry.public for entry in entries],
            ],
        )


COUNTERS = ('state', 'next_percent', 'next_check_at', 'due_at', 'warned_at', 'breached_at')


def _save_counters(clocks: list[SlaClock], *, now: dt.datetime) -> None:
    """Write the swept clocks' counters in one statement (on PostgreSQL an UPDATE … FROM unnest(arrays), which
    costs a fraction of the CASE expressions `bulk_update` builds for hundreds of rows)."""
    for clock in clocks:
        clock.updated_at = now
    if connection.vendor != 'postgresql':
        SlaClock.objects.bulk_update(clocks, [*COUNTERS, 'updated_at'])
        return
    columns = {name: [getattr(clock, name) for clock in clocks] for name in COUNTERS}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {SlaClock._meta.db_table} AS clock
                SET state = v.state, next_percent = v.next_percent, next_check_at = v.next_check_at,
                    due_at = v.due_at, warned_at = v.warned_at, breached_at = v.breached_at, updated_at = %s
                FROM unnest(%s::bigint[], %s::varchar[], %s::smallint[], %s::timestamptz[], %s::timestamptz[],
                            %s::timestamptz[], %s::timestamptz[])
                     AS v(id, state, next_percent, next_check_at, due_at, warned_at, breached_at)
                WHERE clock.id = v.id""",
            [now, [clock.pk for clock in clocks], *(columns[name] for name in COUNTERS)],
        )


def _crossings(clock: SlaClock, *, now: dt.datetime, token: uuid.UUID) -> list[ClockEvent]:
    """The announcements a due clock owes now (all but the highest marked superseded); updates its counters."""
    pending = _pending(clock)
    elapsed = clock.elapsed_at(now)
    crossed = [p for p in pending if elapsed >= clock.threshold(p)]
    rows = []
    for percent in crossed:
        at = clock.instant_of(clock.threshold(percent)) if clock.run_started_at else None
        rows.append(
            ClockEvent(
                clock=clock,
                percent=percent,
                kind=_event_kind(percent),
                crossed_at=min(at or now, now),
                at=now,
                claim=token,
                superseded=percent != crossed[-1],
            )
        )
    if crossed:
        later = [p for p in pending if p > crossed[-1]]
        clock.next_percent = later[0] if later else None
        if crossed[-1] >= BREACH_PERCENT:
            clock.breached_at = rows[-1].crossed_at
            clock.state = ClockState.BREACHED
            clock.next_percent = None
        elif clock.warned_at is None:
            clock.warned_at = rows[0].crossed_at
    _plan(clock, now)
    if clock.next_check_at is not None and clock.next_check_at <= now and not crossed:
        clock.next_check_at = None  # nothing is owed: do not come back until the clock moves
    return rows


def _requeue_unsent(*, now: dt.datetime) -> int:
    """Queue again announcements whose e-mail never went out (the process died between commit and queueing)."""
    stale = list(
        ClockEvent.objects.filter(notified_at__isnull=True, superseded=False, at__lte=now - NOTIFY_GRACE)
        .order_by('at')
        .values_list('pk', flat=True)[:1000]
    )
    if stale:
        from .tasks import sla_notify_task

        sla_notify_task.delay(stale)
    return len(stale)


def clocks_refresh(*, calendar_id: int, now: dt.datetime | None = None, batch_size: int = SWEEP_BATCH) -> int:
    """Recompute due times of the open clocks on a calendar whose hours or holidays changed."""
    now = now or timezone.now()
    done, last_id = 0, 0
    while True:
        with transaction.atomic():
            clocks = list(
                SlaClock.objects.select_for_update(of=('self',))
                .select_related('calendar')
                .filter(calendar_id=calendar_id, stopped_at__isnull=True, pk__gt=last_id)
                .order_by('pk')[:batch_size]
            )
            for clock in clocks:
                _plan(clock, now)
            SlaClock.objects.bulk_update(clocks, ['due_at', 'next_check_at', 'next_percent'])
        done += len(clocks)
        if len(clocks) < batch_size:
            return done
        last_id = clocks[-1].pk
