"""Clocks on any process record: the generic reference from a clock to its record, and an engine that reads what
states mean from the record's workflow (a lifecycle with other state names drives the same decisions)."""

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from incidents.models import Incident, Ticket
from itsm.models import SupportGroup
from itsm.records import ProcessRecord
from itsm.workflow import Transition, Workflow
from sla import records, selectors, services
from sla.choices import ClockKind, ClockState, StopReason
from sla.filters import SlaClockFilterSet
from sla.models import ClockEvent, ClockPause, SlaClock, validate_pause_states
from sla.services import _Situation
from tests.factories import make_group_with_agent, make_user
from tests.sla.factories import SYSTEM, always, berlin, frozen, make_ola, make_sla

pytestmark = pytest.mark.django_db

MONDAY_9 = berlin(2026, 3, 2, 9)
M = dt.timedelta(minutes=1)

# A lifecycle that shares no state name with tickets: logged (nobody holds it), dispatched (a group holds it,
# nobody took it), in work, parked (clocks pause by default), fixed (done), archived (done and closed).
LAB = Workflow(
    triage=('logged',),
    awaiting_acceptance=('dispatched',),
    paused=('parked',),
    finished=('fixed', 'archived'),
    final=('archived',),
    transitions=[
        Transition('dispatch', 'Dispatch', sources=('logged',), target='dispatched'),
        Transition('take', 'Take', sources=('dispatched',), target='in_work'),
        Transition('park', 'Park', sources=('in_work',), target='parked'),
        Transition('unpark', 'Unpark', sources=('parked',), target='in_work'),
        Transition('fix', 'Fix', sources=('in_work',), target='fixed'),
        Transition('reopen', 'Reopen', sources=('fixed',), target='in_work'),
        Transition('archive', 'Archive', sources=('fixed', 'in_work'), target='archived'),
    ],
)


class StandIn:
    """Just what the engine reads of a record: its workflow, state and group; responded by the base's rule."""

    workflow = LAB
    sla_responded = ProcessRecord.sla_responded

    def __init__(self, state: str, group_id: int | None = 7):
        self.state, self.assignment_group_id = state, group_id


@pytest.mark.parametrize(
    ('state', 'expected'),
    [
        ('logged', dict(group_id=None, with_group=False, awaiting_acceptance=False, responded=False, finished=False)),
        ('dispatched', dict(group_id=7, with_group=True, awaiting_acceptance=True, responded=False, finished=False)),
        ('in_work', dict(group_id=7, with_group=True, awaiting_acceptance=False, responded=True, finished=False)),
        ('parked', dict(group_id=7, with_group=True, awaiting_acceptance=False, responded=True, finished=False)),
        ('fixed', dict(group_id=7, with_group=False, responded=True, finished=True, final=False, waited_in='fixed')),
        ('archived', dict(group_id=7, with_group=False, finished=True, final=True, waited_in='fixed')),
    ],
)
def test_the_engine_reads_state_categories_from_the_workflow(state, expected):
    situation = _Situation.of(StandIn(state))
    assert situation.state == state
    assert {name: getattr(situation, name) for name in expected} == expected


def test_a_reopened_clock_records_the_finished_state_the_transition_left():
    assert _Situation.of(StandIn('in_work'), source='archived').waited_in == 'archived'
    assert _Situation.of(StandIn('in_work'), source='parked').waited_in == 'fixed'  # not a finished state
    assert _Situation.of(StandIn('in_work')).waited_in == 'fixed'


#
# A whole life on another workflow, through the ticket table (the clocks need a record with a content type)
#


@pytest.fixture
def lab_lifecycle(monkeypatch):
    """Tickets run on LAB, answer `sla_responded` as any process record does, and give a pause reason."""
    monkeypatch.setattr(Ticket, 'workflow', LAB)
    monkeypatch.setattr(Ticket, 'sla_responded', ProcessRecord.sla_responded)
    monkeypatch.setattr(Ticket, 'pause_reason', lambda self: 'Waiting on the lab' if self.state == 'parked' else '')


def _move(ticket: Ticket, state: str, *, source: str | None = None, **fields) -> list[SlaClock]:
    for name, value in {'state': state, **fields}.items():
        setattr(ticket, name, value)
    Ticket.objects.filter(pk=ticket.pk).update(state=state, **fields)  # no service: only the engine runs
    return services.record_changed(record=ticket, actor=SYSTEM, source=source)


def _latest(ticket) -> dict[str, SlaClock]:
    return {clock.kind: clock for clock in SlaClock.objects.for_record(ticket).order_by('id')}


def test_another_workflow_drives_start_pause_stop_hand_over_and_reopen(lab_lifecycle):
    assert validate_pause_states(['parked']) == ['parked']  # the open states of the workflows in use
    sla = make_sla(priority=3, response=60, resolution=480, pause_states=['parked'])
    group, _ = make_group_with_agent(name='Lab')
    other, _ = make_group_with_agent(name='Second lab')
    make_ola(group, accept=30, resolve=240, pause_states=['parked'])
    with frozen(MONDAY_9) as clock:
        ticket = Ticket.objects.create(
            short_description='Centrifuge', caller=make_user(), state='logged', opened_at=clock.now, priority=3
        )
        services.record_opened(record=ticket, actor=SYSTEM)
        clocks = _latest(ticket)
        assert set(clocks) == {ClockKind.RESPONSE, ClockKind.RESOLUTION}  # in triage: no group, no OLA
        assert clocks[ClockKind.RESOLUTION].sla == sla

        clock.advance(minutes=10)
        _move(ticket, 'dispatched', assignment_group=group)
        clocks = _latest(ticket)
        assert clocks[ClockKind.OLA_ACCEPT].support_group == group and clocks[ClockKind.OLA_ACCEPT].is_running
        assert clocks[ClockKind.RESPONSE].is_running  # dispatched is not a response

        clock.advance(minutes=10)
        _move(ticket, 'in_work')
        clocks = _latest(ticket)
        assert (clocks[ClockKind.RESPONSE].state, clocks[ClockKind.RESPONSE].stop_reason) == ('met', 'accepted')
        assert clocks[ClockKind.RESPONSE].elapsed == 20 * M
        assert clocks[ClockKind.OLA_ACCEPT].stop_reason == StopReason.ACCEPTED
        assert clocks[ClockKind.OLA_RESOLVE].is_running

        clock.advance(minutes=10)
        _move(ticket, 'parked')
        clocks = _latest(ticket)
        assert clocks[ClockKind.RESOLUTION].state == ClockState.PAUSED
        pause = ClockPause.objects.get(clock=clocks[ClockKind.RESOLUTION])
        assert (pause.ticket_state, pause.reason) == ('parked', 'Waiting on the lab')

        clock.advance(minutes=60)
        _move(ticket, 'in_work')
        clock.advance(minutes=10)
        _move(ticket, 'fixed')
        clocks = _latest(ticket)
        resolution = clocks[ClockKind.RESOLUTION]
        assert (resolution.stop_reason, resolution.elapsed) == (StopReason.COMPLETED, 40 * M)
        assert clocks[ClockKind.OLA_RESOLVE].stop_reason == StopReason.COMPLETED  # not a hand-over

        clock.advance(minutes=30)
        _move(ticket, 'in_work', source='fixed')  # reopened: the wait counts as a pause in the state it left
        resolution = _latest(ticket)[ClockKind.RESOLUTION]
        assert resolution.is_running and resolution.stopped_at is None
        waited = ClockPause.objects.filter(clock=resolution).latest('started_at')
        assert (waited.ticket_state, waited.ended_at - waited.started_at) == ('fixed', 30 * M)

        clock.advance(minutes=5)
        _move(ticket, 'in_work', assignment_group=other)  # another group: the first group's OLA is handed over
        assert _latest(ticket)[ClockKind.OLA_RESOLVE].stop_reason == StopReason.HANDOFF
        assert ClockEvent.objects.count() == 0

        clock.advance(minutes=5)
        _move(ticket, 'archived')
        clocks = _latest(ticket)
        assert clocks[ClockKind.RESOLUTION].stop_reason == StopReason.CLOSED  # final: closed, not completed
        assert clocks[ClockKind.RESOLUTION].elapsed == 50 * M
    assert not SlaClock.objects.for_record(ticket).filter(stopped_at__isnull=True).exists()


def test_states_and_kinds_come_from_the_records():
    assert Ticket in records.record_models() and Incident not in records.record_models()  # proxies share clocks
    pausable = dict(records.pausable_states())
    assert {state: pausable.get(state) for state in Ticket.workflow.open_states} == {
        'new': 'New',
        'assigned': 'Assigned',
        'accepted': 'Accepted',
        'pending': 'Pending',
    }
    assert 'pending' in records.default_pause_states()
    assert {('incident', 'Incident'), ('case', 'Case')} <= set(records.kind_choices())
    assert 'ticket' in records.record_lookups()
    assert validate_pause_states(['pending', 'new']) == ['new', 'pending']
    with pytest.raises(ValidationError):
        validate_pause_states(['no_such_state'])


def test_agreement_pause_states_follow_the_workflows(lab_lifecycle):
    pausable = [state for state, _ in records.pausable_states()]
    assert {'logged', 'dispatched', 'in_work', 'parked'} <= set(pausable)
    assert 'fixed' not in pausable and 'archived' not in pausable  # finished states stop clocks
    assert 'parked' in records.default_pause_states()
    assert validate_pause_states(['parked', 'logged']) == [s for s in pausable if s in ('parked', 'logged')]


#
# The generic reference, through tickets
#


@pytest.fixture
def ticket(db):
    make_sla(priority=3, response=60, resolution=480)
    with frozen(MONDAY_9):
        return Ticket.objects.get(pk=_open().pk)


def _open(**fields) -> Ticket:
    from incidents import services as tickets
    from itsm.audit import Actor

    caller = make_user()
    return tickets.ticket_create(actor=Actor(user=caller), caller=caller, short_description='Printer', **fields)


def test_a_clock_points_at_its_record_and_the_record_lists_its_clocks(ticket, django_assert_num_queries):
    response = ticket.sla_clocks.get(kind=ClockKind.RESPONSE)
    assert (response.content_type, response.object_id) == (ContentType.objects.get_for_model(Ticket), ticket.pk)
    assert response.record == ticket
    assert Incident.objects.get(pk=ticket.pk).sla_clocks.count() == 2  # proxies share the ticket's clocks
    assert list(Ticket.objects.filter(sla_clocks__kind=ClockKind.RESPONSE)) == [ticket]
    assert list(SlaClock.objects.filter(ticket__number=ticket.number).order_by('id')) == list(
        SlaClock.objects.for_record(ticket).order_by('id')
    )
    with django_assert_num_queries(2):  # the tickets, their clocks with their calendars
        rows = list(Ticket.objects.prefetch_related(selectors.clock_prefetch()))
        assert [len(selectors.record_clocks(row)) for row in rows] == [2]
        assert {clock.calendar.name for clock in selectors.record_clocks(rows[0])} == {'24x7'}
    with django_assert_num_queries(3):  # a page of many: the clocks' calendars apart
        rows = list(Ticket.objects.prefetch_related(selectors.clock_prefetch(many=True)))
        assert [len(selectors.record_clocks(row)) for row in rows] == [2]
        assert {clock.calendar.name for clock in selectors.record_clocks(rows[0])} == {'24x7'}
    with django_assert_num_queries(4):  # calendars and agreements joined to the clocks; pauses, events
        rows = list(Ticket.objects.prefetch_related(selectors.clock_prefetch(with_history=True)))
        assert [len(selectors.record_clocks(row)) for row in rows] == [2]
        assert {clock.calendar.name for clock in selectors.record_clocks(rows[0])} == {'24x7'}
    with django_assert_num_queries(2):
        assert {clock.record.number for clock in selectors.clock_list()} == {ticket.number}


def _foreign_clock(ticket, **fields) -> SlaClock:
    """A clock of another kind of record that happens to have the ticket's id."""
    fields = {
        'kind': ClockKind.RESPONSE,
        'name': 'Response · elsewhere',
        'calendar': always(),
        'target_minutes': 1,
        'started_at': MONDAY_9 - dt.timedelta(days=1),
        'run_started_at': MONDAY_9 - dt.timedelta(days=1),
        'due_at': MONDAY_9 - dt.timedelta(days=1) + M,
        'breached_at': MONDAY_9 - dt.timedelta(days=1) + M,
        'state': ClockState.BREACHED,
        **fields,
    }
    return SlaClock.objects.create(
        content_type=ContentType.objects.get_for_model(SupportGroup), object_id=ticket.pk, **fields
    )


def test_clocks_of_another_kind_of_record_with_the_same_id_stay_apart(ticket):
    foreign = _foreign_clock(ticket)
    assert foreign.pk not in set(ticket.sla_clocks.values_list('pk', flat=True))
    tickets = Ticket.objects.all()
    assert not selectors.filter_breached(tickets, True).exists()  # only the other record's clock breached
    assert list(selectors.filter_breached(tickets, False)) == [ticket]
    due = selectors.with_nearest_due(tickets).get().sla_due
    assert due == ticket.sla_clocks.get(kind=ClockKind.RESPONSE).due_at  # not the other record's earlier one
    found = SlaClockFilterSet({'ticket': ticket.number}, queryset=SlaClock.objects.all()).qs
    assert foreign not in found and found.count() == 2
    # One open clock per kind and record: the other record's open response clock is no clash...
    assert ticket.sla_clocks.get(kind=ClockKind.RESPONSE).stopped_at is None
    _foreign_clock(ticket, kind=ClockKind.RESOLUTION, breached_at=None, state=ClockState.RUNNING)
    # ...but a second open one for the ticket is.
    with pytest.raises(IntegrityError), transaction.atomic():
        SlaClock.objects.create(record=ticket, **{**_fields_of(foreign), 'kind': ClockKind.RESPONSE})


def _fields_of(clock: SlaClock) -> dict:
    return {
        name: getattr(clock, name)
        for name in ('name', 'calendar', 'target_minutes', 'started_at', 'run_started_at', 'due_at', 'state')
    }


def test_deleting_a_record_deletes_its_clocks_and_their_history(ticket):
    foreign = _foreign_clock(ticket)
    clock = ticket.sla_clocks.get(kind=ClockKind.RESPONSE)
    ClockPause.objects.create(clock=clock, started_at=MONDAY_9, ticket_state='pending')
    ticket.delete()
    assert list(SlaClock.objects.all()) == [foreign]
    assert not ClockPause.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_ticket_clocks_onto_the_generic_reference_and_back():
    """Existing clocks keep their rows (and their pauses and events) through 0004–0006, and back again."""
    make_sla(priority=3, response=60, resolution=480)
    with frozen(MONDAY_9):
        first, second = _open(), _open()
    clock = first.sla_clocks.get(kind=ClockKind.RESOLUTION)
    ClockPause.objects.create(clock=clock, started_at=MONDAY_9, ticket_state='pending')
    before = sorted(SlaClock.objects.values_list('pk', 'object_id', 'kind', 'due_at'))
    assert len(before) == 4

    old = [('sla', '0003_open_clock_due')]
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(old)
        with connection.cursor() as cursor:
            cursor.execute('SELECT id, ticket_id, kind FROM sla_slaclock ORDER BY id')
            assert cursor.fetchall() == [(pk, ticket_id, kind) for pk, ticket_id, kind, _ in before]
        OldClock = executor.loader.project_state(old).apps.get_model('sla', 'SlaClock')
        template = OldClock.objects.get(pk=clock.pk)
        template.pk, template.stopped_at, template.ticket_id = None, MONDAY_9, second.pk
        template.save()
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    ticket_type = ContentType.objects.get_for_model(Ticket)
    after = sorted(SlaClock.objects.values_list('pk', 'object_id', 'kind', 'due_at'))
    assert after[:4] == before and after[4][1:3] == (second.pk, ClockKind.RESOLUTION)
    assert set(SlaClock.objects.values_list('content_type', flat=True)) == {ticket_type.pk}
    assert ClockPause.objects.get().clock == clock and SlaClock.objects.get(pk=clock.pk).record == first
    assert second.sla_clocks.count() == 3
