"""A ticket's clocks through its lifecycle: start, pause, resume, stop, hand-over between groups, reopening and
re-targeting, each checked against hand-computed business times."""

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incidents import services as tickets
from incidents.choices import PendingReason, ResolutionCode
from incidents.models import Ticket
from itsm.audit import Actor
from itsm.choices import Impact, Role, Tier, TimelineKind, Urgency
from itsm.models import TimelineEntry
from sla import services
from sla.business_time import add_business_time, business_time_between
from sla.choices import ClockKind, ClockState, StopReason
from sla.models import ClockEvent, ClockPause, SlaClock
from tests.factories import SupportGroupFactory, make_group_with_agent, make_user
from tests.sla.factories import always, berlin, frozen, make_calendar, make_ola, make_sla

pytestmark = pytest.mark.django_db

H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)
MONDAY_9 = berlin(2026, 3, 2, 9)  # Monday 2 March 2026, 09:00 in Berlin


@pytest.fixture
def office(db):
    return make_calendar()


@pytest.fixture
def p3(office):
    """P3 incidents: respond within 1 h, resolve within 8 h, office hours."""
    return make_sla(priority=3, response=60, resolution=480, calendar=office)


@pytest.fixture
def desk(db):
    group, agent = make_group_with_agent(name='Service Desk')
    return group, agent


def clocks_of(ticket) -> dict[str, SlaClock]:
    """The latest clock of each kind."""
    return {clock.kind: clock for clock in SlaClock.objects.filter(ticket=ticket).order_by('id')}


def open_ticket(caller=None, **fields) -> Ticket:
    caller = caller or make_user(Role.REQUESTER)
    fields.setdefault('short_description', 'Cannot print')
    return tickets.ticket_create(actor=Actor(user=caller), caller=caller, **fields)


def test_opening_starts_response_and_resolution_on_the_calendar(p3):
    with frozen(MONDAY_9):
        ticket = open_ticket()
    clocks = clocks_of(ticket)
    assert set(clocks) == {ClockKind.RESPONSE, ClockKind.RESOLUTION}
    response, resolution = clocks[ClockKind.RESPONSE], clocks[ClockKind.RESOLUTION]
    assert response.started_at == ticket.opened_at == MONDAY_9
    assert response.state == resolution.state == ClockState.RUNNING
    assert (response.target_minutes, resolution.target_minutes) == (60, 480)
    assert response.due_at == berlin(2026, 3, 2, 10)
    assert resolution.due_at == berlin(2026, 3, 2, 17)
    assert response.next_check_at == berlin(2026, 3, 2, 9, 45) and response.next_percent == 75
    assert response.name == 'Response · P3 incidents'


def test_opened_late_in_the_day_runs_over_the_night(p3):
    with frozen(berlin(2026, 3, 6, 16, 30)):  # a Friday
        ticket = open_ticket()
    clocks = clocks_of(ticket)
    assert clocks[ClockKind.RESPONSE].due_at == berlin(2026, 3, 6, 17, 30)
    assert clocks[ClockKind.RESOLUTION].due_at == berlin(2026, 3, 9, 14, 30)  # 1.5 h Friday + 6.5 h Monday


def test_accepting_in_time_meets_the_response(p3, desk):
    group, agent = desk
    with frozen(MONDAY_9) as clock:
        ticket = open_ticket()
        clock.advance(minutes=20)
        tickets.ticket_assign(ticket=ticket, actor=Actor(user=agent), group=group)
        clock.advance(minutes=15)
        tickets.ticket_accept(ticket=ticket, actor=Actor(user=agent))
    response = clocks_of(ticket)[ClockKind.RESPONSE]
    assert response.state == ClockState.MET and response.stop_reason == StopReason.ACCEPTED
    assert response.elapsed == 35 * M and response.stopped_at == berlin(2026, 3, 2, 9, 35)
    assert response.next_check_at is None and not response.breached
    assert clocks_of(ticket)[ClockKind.RESOLUTION].state == ClockState.RUNNING


def test_accepting_late_records_the_breach_once_even_without_a_sweep(p3, desk, django_capture_on_commit_callbacks):
    group, agent = desk
    with frozen(MONDAY_9) as clock:
        ticket = open_ticket()
        tickets.ticket_assign(ticket=ticket, actor=Actor(user=agent), group=group)
        clock.advance(hours=2)
        with django_capture_on_commit_callbacks(execute=True):
            tickets.ticket_accept(ticket=ticket, actor=Actor(user=agent))
        response = clocks_of(ticket)[ClockKind.RESPONSE]
        assert response.state == ClockState.BREACHED and response.breached_at == berlin(2026, 3, 2, 10)
        assert response.elapsed == 2 * H
        result = services.sla_sweep()
    breaches = TimelineEntry.objects.for_object(ticket).filter(kind=TimelineKind.SLA_BREACH)
    assert breaches.count() == 1 and 'Response · P3 incidents breached' in breaches.get().message
    assert ClockEvent.objects.filter(clock=response).count() == 1
    assert result.breaches == 0


def test_pending_pauses_and_resume_goes_on_where_it_stopped(p3, desk):
    group, agent = desk
    actor = Actor(user=agent)
    with frozen(MONDAY_9) as clock:
        ticket = open_ticket()
        tickets.ticket_assign(ticket=ticket, actor=actor, group=group)
        tickets.ticket_accept(ticket=ticket, actor=actor)
        clock.set(berlin(2026, 3, 2, 11))
        tickets.ticket_pend(ticket=ticket, actor=actor, reason=PendingReason.CUSTOMER, note='Which printer?')
        resolution = clocks_of(ticket)[ClockKind.RESOLUTION]
        assert resolution.state == ClockState.PAUSED
        assert resolution.elapsed == 2 * H and resolution.due_at is None and resolution.next_check_at is None
        clock.set(berlin(2026, 3, 3, 10))
        tickets.ticket_resume(ticket=ticket, actor=actor)
    resolution = clocks_of(ticket)[ClockKind.RESOLUTION]
    assert resolution.state == ClockState.RUNNING and resolution.elapsed == 2 * H
    assert resolution.run_started_at == berlin(2026, 3, 3, 10)
    assert resolution.due_at == berlin(2026, 3, 3, 16)  # 6 h left from Tuesday 10:00
    assert resolution.next_check_at == berlin(2026, 3, 3, 14)  # 75 % = 6 h used: 4 h more
    pause = ClockPause.objects.get(clock=resolution)
    assert (pause.started_at, pause.ended_at) == (berlin(2026, 3, 2, 11), berlin(2026, 3, 3, 10))
    assert (pause.ticket_state, pause.reason) == ('pending', 'Awaiting the customer')


def test_which_states_pause_is_up_to_the_agreement(office, desk):
    group, agent = desk
    make_sla(priority=3, response=60, resolution=480, calendar=office, pause_states=[])
    actor = Actor(user=agent)
    with frozen(MONDAY_9) as clock:
        ticket = open_ticket()
        tickets.ticket_assign(ticket=ticket, actor=actor, group=group)
        tickets.ticket_accept(ticket=ticket, actor=actor)
        tickets.ticket_pend(ticket=ticket, actor=actor, reason=PendingReason.VENDOR)
        clock.advance(hours=3)
        resolution = clocks_of(ticket)[ClockKind.RESOLUTION]
        assert resolution.state == ClockState.RUNNING
        assert resolution.elapsed_at() == 3 * H


def test_completing_meets_the_resolution_and_rejecting_runs_it_again(p3, desk):
    group, agent = desk
    actor = Actor(user=agent)
    with frozen(MONDAY_9) as clock:
        ticket = open_ticket()
        tickets.ticket_assign(ticket=ticket, actor=actor, group=group)
        tickets.ticket_accept(ticket=ticket, actor=actor)
        clock.advance(hours=3)
        tickets.ticket_complete(
            ticket=ticket, actor=actor, resolution_code=ResolutionCode.SOLVED_REMOTELY, resolution_notes='Reset it.'
        )
        resolution = clocks_of(ticket)[ClockKind.RESOLUTION]
        assert resolution.state == ClockState.MET and resolution.stop_reason == StopReason.COMPLETED
        assert resolution.elapsed == 3 * H
        clock.advance(hours=2)
        tickets.ticket_reject(ticket=ticket, actor=Actor(user=ticket.caller), reason='Still jams')
        resolution = clocks_of(ticket)[ClockKind.RESOLUTION]
        assert resolution.state == ClockState.RUNNING and resolution.stopped_at is None
        assert resolution.elapsed == 3 * H and resolution.due_at == berlin(2026, 3, 3, 9)  # 5 h left from 14:00
        waiting = ClockPause.objects.get(clock=resolution)
        assert (waiting.started_at, waiting.ended_at, waiting.ticket_state) == (
            berlin(2026, 3, 2, 12),
            berlin(2026, 3, 2, 14),
            'completed',
        )
        clock.advance(hours=1)
        tickets.ticket_complete(
            ticket=ticket, actor=actor, resolution_code=ResolutionCode.SOLVED_REMOTELY, resolution_notes='New drum.'
        )
        tickets.ticket_confirm(ticket=ticket, actor=Actor(user=ticket.caller))
    resolution = clocks_of(ticket)[ClockKind.RESOLUTION]
    assert resolution.state == ClockState.MET and resolution.elapsed == 4 * H
    assert SlaClock.objects.filter(ticket=ticket, kind=ClockKind.RESOLUTION).count() == 1


def test_ola_clocks_follow_the_group_and_stop_on_hand_over(p3):
    first, agent = make_group_with_agent(name='Service Desk')
    second, engineer = make_group_with_agent(name='Network Operations', tier=Tier.L2, role=Role.L2_ENGINEER)
    make_ola(first, accept=15, resolve=120)
    make_ola(second, accept=30, resolve=240)
    with frozen(MONDAY_9) as clock:
        ticket = open_ticket()
        assert not SlaClock.objects.filter(ticket=ticket, kind__in=['ola_accept', 'ola_resolve']).exists()
        tickets.ticket_assign(ticket=ticket, actor=Actor(user=agent), group=first)
        accept = clocks_of(ticket)[ClockKind.OLA_ACCEPT]
        assert (accept.support_group, accept.target_minutes, accept.name) == (first, 15, 'OLA accept · Service Desk')
        clock.advance(minutes=10)
        tickets.ticket_accept(ticket=ticket, actor=Actor(user=agent))
        clock.advance(minutes=20)
        tickets.ticket_escalate(ticket=ticket, actor=Actor(user=agent), reason='Needs network', group=second)
        clock.advance(minutes=40)
        tickets.ticket_accept(ticket=ticket, actor=Actor(user=engineer))
        clock.advance(hours=1)
        tickets.ticket_complete(
            ticket=ticket,
            actor=Actor(user=engineer),
            resolution_code=ResolutionCode.SOLVED_PERMANENTLY,
            resolution_notes='Replaced the switch port.',
        )
    ola = {(c.kind, c.support_group.name): c for c in SlaClock.objects.filter(ticket=ticket, kind__startswith='ola')}
    assert ola['ola_accept', 'Service Desk'].state == ClockState.MET
    assert ola['ola_resolve', 'Service Desk'].stop_reason == StopReason.HANDOFF
    assert ola['ola_resolve', 'Service Desk'].elapsed == 30 * M
    late = ola['ola_accept', 'Network Operations']
    assert late.state == ClockState.BREACHED and late.elapsed == 40 * M  # 30 min target
    resolve = ola['ola_resolve', 'Network Operations']
    assert resolve.state == ClockState.MET and resolve.elapsed == 100 * M
    (entry,) = TimelineEntry.objects.for_object(ticket).filter(kind=TimelineKind.SLA_RETARGET)
    assert entry.message == (
        'SLA re-targeted: OLA resolve · Service Desk stopped on hand-over (met); '
        'OLA accept · Network Operations started (30m, 24x7); OLA resolve · Network Operations started (4h, 24x7)'
    )


def test_a_priority_change_retargets_and_says_so_in_the_timeline(p3, desk):
    group, agent = desk
    make_sla(priority=1, response=15, resolution=240, calendar=always(), name='P1 incidents')
    with frozen(berlin(2026, 3, 6, 17)) as clock:  # Friday 17:00
        ticket = open_ticket()
        clock.set(berlin(2026, 3, 9, 9))  # Monday 09:00: 2 office hours later, 64 real hours
        assert clocks_of(ticket)[ClockKind.RESOLUTION].elapsed_at() == 2 * H
        tickets.ticket_update(ticket=ticket, actor=Actor(user=agent), impact=Impact.HIGH, urgency=Urgency.CRITICAL)
    ticket.refresh_from_db()
    assert ticket.priority == 1
    resolution = clocks_of(ticket)[ClockKind.RESOLUTION]
    assert (resolution.name, resolution.target_minutes, resolution.calendar) == (
        'Resolution · P1 incidents',
        240,
        always(),
    )
    assert resolution.elapsed == 64 * H  # replayed on the new calendar since opening
    assert resolution.due_at == berlin(2026, 3, 6, 21)  # 4 h after opening: overdue, the sweep announces it
    assert resolution.next_check_at == berlin(2026, 3, 9, 9)  # owed at once: the next sweep announces it
    entry = TimelineEntry.objects.for_object(ticket).get(kind=TimelineKind.SLA_RETARGET)
    assert 'Resolution · P3 incidents (8h, Office) → Resolution · P1 incidents (4h, 24x7)' in entry.message
    assert {c['kind'] for c in entry.data['retargeted']} == {'response', 'resolution'}


def test_overriding_the_priority_retargets_too(p3, desk):
    group, agent = desk
    make_sla(priority=2, response=30, resolution=240, calendar=p3.calendar, name='P2 incidents')
    with frozen(MONDAY_9) as clock:
        ticket = open_ticket()
        clock.advance(hours=1)
        tickets.ticket_override_priority(ticket=ticket, actor=Actor(user=agent), priority=2, reason='VIP')
    resolution = clocks_of(ticket)[ClockKind.RESOLUTION]
    assert resolution.target_minutes == 240 and resolution.due_at == berlin(2026, 3, 2, 13)
    assert TimelineEntry.objects.for_object(ticket).filter(kind=TimelineKind.SLA_RETARGET).count() == 1


def test_a_service_with_its_own_sla_wins_over_the_default(p3, desk):
    from tests.cmdb.factories import make_ci

    group, agent = desk
    mail = make_ci('service', name='Managed mail')
    own = make_sla(priority=3, response=30, resolution=120, service=mail, calendar=p3.calendar, name='Mail P3')
    with frozen(MONDAY_9):
        ticket = open_ticket()
        assert clocks_of(ticket)[ClockKind.RESPONSE].sla == p3
        tickets.ticket_update(ticket=ticket, actor=Actor(user=agent), service=mail)
        assert clocks_of(ticket)[ClockKind.RESPONSE].sla == own
        other = open_ticket(service=mail)
    assert clocks_of(other)[ClockKind.RESOLUTION].target_minutes == 120
    assert TimelineEntry.objects.for_object(ticket).filter(kind=TimelineKind.SLA_RETARGET).count() == 1


def test_converting_a_case_applies_the_incident_sla(p3, desk):
    group, agent = desk
    make_sla(kind='case', priority=3, response=240, resolution=2400, calendar=p3.calendar, name='P3 cases')
    with frozen(MONDAY_9):
        case = open_ticket(kind='case')
        assert clocks_of(case)[ClockKind.RESPONSE].target_minutes == 240
        tickets.ticket_convert(ticket=case, actor=Actor(user=agent), to_kind='incident')
    assert clocks_of(case)[ClockKind.RESPONSE].target_minutes == 60


def test_without_an_agreement_there_are_no_clocks_and_a_later_one_starts_then(office, desk):
    group, agent = desk
    make_sla(priority=1, response=15, resolution=240, name='P1 incidents')
    with frozen(MONDAY_9) as clock:
        ticket = open_ticket()
        assert not SlaClock.objects.filter(ticket=ticket).exists()
        clock.advance(hours=1)
        tickets.ticket_update(ticket=ticket, actor=Actor(user=agent), impact=Impact.HIGH, urgency=Urgency.CRITICAL)
    clocks = clocks_of(ticket)
    assert clocks[ClockKind.RESPONSE].started_at == berlin(2026, 3, 2, 10)


def test_a_priority_no_agreement_covers_drops_the_clocks(p3, desk):
    group, agent = desk
    with frozen(MONDAY_9):
        ticket = open_ticket()
        tickets.ticket_update(ticket=ticket, actor=Actor(user=agent), impact=Impact.NONE, urgency=Urgency.NEGOTIATED)
    assert not SlaClock.objects.filter(ticket=ticket).exists()
    entry = TimelineEntry.objects.for_object(ticket).get(kind=TimelineKind.SLA_RETARGET)
    assert 'no agreement applies any more' in entry.message


def test_definition_edits_do_not_move_running_clocks(p3):
    with frozen(MONDAY_9):
        ticket = open_ticket()
        services.sla_update(agreement=p3, actor=Actor.system(), resolution_minutes=960)
        tickets.ticket_comment(ticket=ticket, actor=Actor.system(), body='Any news?')
    assert clocks_of(ticket)[ClockKind.RESOLUTION].target_minutes == 480


def test_editing_a_calendar_moves_the_due_times_of_its_running_clocks(p3, django_capture_on_commit_callbacks):
    with frozen(MONDAY_9):
        ticket = open_ticket()
        assert clocks_of(ticket)[ClockKind.RESOLUTION].due_at == berlin(2026, 3, 2, 17)
        with django_capture_on_commit_callbacks(execute=True):
            services.calendar_update(
                calendar=p3.calendar, actor=Actor.system(), hours={d: ['08:00-12:00'] for d in ('mon', 'tue')}
            )
    assert clocks_of(ticket)[ClockKind.RESOLUTION].due_at == berlin(2026, 3, 9, 9)  # 3+4 h, then next Monday


# ----------------------------------------------------------------------------------- pause/resume property
gaps = st.lists(st.integers(min_value=1, max_value=3 * 24 * 60), min_size=1, max_size=8)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(gaps=gaps)
def test_any_pause_and_resume_sequence_counts_exactly_the_unpaused_business_time(office, gaps):
    """Elapsed = business time since the start less the recorded pauses; due = start + target skipping them."""
    sla = make_sla(priority=3, response=60, resolution=6000, calendar=office, name=f'P3 {len(gaps)}-{sum(gaps)}')
    group = SupportGroupFactory(members=[make_user(Role.SERVICE_DESK_AGENT)])
    actor = Actor(user=group.members.get())
    with frozen(MONDAY_9) as clock:
        ticket = open_ticket()
        tickets.ticket_assign(ticket=ticket, actor=actor, group=group)
        tickets.ticket_accept(ticket=ticket, actor=actor)
        for index, gap in enumerate(gaps):
            clock.advance(minutes=gap)
            if index % 2 == 0:
                tickets.ticket_pend(ticket=ticket, actor=actor, reason=PendingReason.CUSTOMER)
            else:
                tickets.ticket_resume(ticket=ticket, actor=actor)
        now = clock.now
        resolution = SlaClock.objects.get(ticket=ticket, kind=ClockKind.RESOLUTION)
        pauses = [(p.started_at, p.ended_at or now) for p in resolution.pauses.all()]
        assert len(pauses) == (len(gaps) + 1) // 2
        expected = business_time_between(office, resolution.started_at, now, exclude=pauses)
        assert resolution.elapsed_at(now) == expected
        if resolution.state == ClockState.RUNNING and expected < resolution.target:
            assert resolution.due_at == add_business_time(
                office, resolution.started_at, resolution.target, exclude=pauses
            )
    sla.delete()
