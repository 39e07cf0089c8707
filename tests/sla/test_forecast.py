"""Predictive SLA warnings from the queue: throughput over business hours, position in the queue, forecast against
the due time, warned once, cleared and warned again, shown on the queue and the SLA panel, the API, query counts."""

import datetime as dt

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from incidents.choices import PendingReason, TicketState
from itsm.choices import Role, TimelineKind
from itsm.models import TimelineEntry
from sla import forecast
from sla.choices import ClockKind
from sla.forecast import QueueEntry, expected_hours, judge, position_order, throughput, window_start
from sla.models import SlaClock
from tests.base import load_related
from tests.factories import make_group_with_agent, make_ticket, make_user
from tests.sla.factories import berlin, frozen, make_calendar, make_sla

T0 = berlin(2026, 3, 9, 9)  # a Monday, 09:00 in Berlin
UTC = dt.UTC


#
# The arithmetic
#


def test_throughput_is_completions_per_business_hour_with_a_floor():
    assert throughput(10, 40, floor=0.1) == 0.25
    assert throughput(0, 40, floor=0.1) == 0.1  # an idle group does not divide by zero
    assert throughput(3, 0, floor=0.2) == 0.2


def test_expected_hours_count_the_tickets_ahead_and_itself():
    assert expected_hours(0, 2.0) == 0.5
    assert expected_hours(3, 2.0) == 2.0
    assert expected_hours(3, 2.0, worked=True) == 1.75  # already being worked: half of itself left


def test_judge_warns_after_due_and_clears_only_with_a_margin():
    due = dt.datetime(2026, 3, 9, 12, tzinfo=UTC)
    margin = dt.timedelta(minutes=30)
    late = judge(due + dt.timedelta(minutes=1), due, margin=margin)
    close = judge(due - dt.timedelta(minutes=10), due, margin=margin)
    early = judge(due - dt.timedelta(minutes=30), due, margin=margin)
    assert (late.warn, late.clear) == (True, False)
    assert (close.warn, close.clear) == (False, False)  # a flag stays as it is
    assert (early.warn, early.clear) == (False, True)


def test_position_follows_the_queue_order():
    at = dt.datetime(2026, 3, 9, 8, tzinfo=UTC)
    entries = [
        QueueEntry(pk=1, due_at=None, priority=1, opened_at=at),
        QueueEntry(pk=2, due_at=at + dt.timedelta(hours=5), priority=3, opened_at=at),
        QueueEntry(pk=3, due_at=at + dt.timedelta(hours=2), priority=4, opened_at=at),
        QueueEntry(pk=4, due_at=at + dt.timedelta(hours=5), priority=2, opened_at=at),
        QueueEntry(pk=5, due_at=at + dt.timedelta(hours=5), priority=2, opened_at=at - dt.timedelta(hours=1)),
    ]
    assert [e.pk for e in position_order(entries)] == [3, 5, 4, 2, 1]


@pytest.mark.django_db
def test_the_window_counts_business_hours_back_over_the_weekend():
    office = make_calendar()  # Mon-Fri 08:00-18:00 Berlin
    start, hours = window_start(office, T0, 40)
    # Monday 08-09 (1 h), Friday, Thursday, Wednesday (30 h), Tuesday 09-18 (9 h).
    assert start == berlin(2026, 3, 3, 9)
    assert hours == 40
    # And forward: 12 business hours from Friday 15:00 (3 h) end on Monday 17:00.
    assert forecast.add_hours(office, berlin(2026, 3, 6, 15), 12) == berlin(2026, 3, 9, 17)


@pytest.mark.django_db
def test_the_window_across_the_dst_change():
    office = make_calendar()
    # Monday 30 March 2026 09:00 CEST, after the change on Sunday 29 March: still 40 working hours back.
    start, _ = window_start(office, berlin(2026, 3, 30, 9), 40)
    assert start == berlin(2026, 3, 24, 9)


#
# The run
#


@pytest.fixture
def desk(db, settings):
    """A group that completed 8 tickets in the last 40 hours (0.2 an hour) and holds 5 accepted P3 tickets opened
    at T0, each due 8 hours later: expected done after 2.5, 7.5, 12.5, 17.5 and 22.5 hours."""
    settings.SLA_FORECAST_WINDOW_HOURS = 40
    settings.SLA_FORECAST_MIN_RATE = 0.05
    settings.SLA_FORECAST_CLEAR_MINUTES = 30
    make_sla(priority=3, response=60, resolution=480)
    group, agent = make_group_with_agent(name='Service Desk')
    agent.email = 'sam@example.com'
    agent.save()
    caller = make_user(Role.REQUESTER)
    with frozen(T0 - dt.timedelta(hours=20)):
        for n in range(8):
            make_ticket(
                state=TicketState.COMPLETED, group=group, agent=agent, caller=caller, short_description=f'Done {n}'
            )
    with frozen(T0):
        open_ = [
            make_ticket(
                state=TicketState.ACCEPTED, group=group, agent=agent, caller=caller, short_description=f'Open {n}'
            )
            for n in range(5)
        ]
    mail.outbox.clear()
    return group, agent, open_


def resolution_clock(ticket) -> SlaClock:
    return SlaClock.objects.get(ticket=ticket, kind=ClockKind.RESOLUTION, stopped_at__isnull=True)


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """`run(at)`: one forecast run at `at`, with its after-commit work (the notices) done."""

    def forecast_at(at=T0):
        with frozen(at), django_capture_on_commit_callbacks(execute=True):
            return forecast.queue_forecast()

    return forecast_at


def test_tickets_behind_the_throughput_are_likely_to_breach(desk, run):
    group, agent, tickets = desk
    result = run()
    assert (result.groups, result.clocks, result.likely, result.warned) == (1, 5, 3, 3)
    flagged = [resolution_clock(t).likely_to_breach for t in tickets]
    assert flagged == [False, False, True, True, True]
    third = resolution_clock(tickets[2])
    assert third.forecast_ahead == 2
    assert third.forecast_rate == pytest.approx(0.2)
    assert third.forecast_at == T0 + dt.timedelta(hours=12.5)
    assert forecast.forecast_text(third, now=T0) == '2 ahead, 0.2/h completed: due in 8 h, expected in 12 h'
    entries = TimelineEntry.objects.filter(kind=TimelineKind.SLA_WARNING, data__forecast=True)
    assert entries.count() == 3
    assert 'likely to breach (2 ahead, 0.2/h completed' in entries.get(object_id=tickets[2].pk).message
    notices = [m for m in mail.outbox if 'SLA likely to breach' in m.subject]
    assert len(notices) == 3 and all(m.to == ['sam@example.com'] for m in notices)
    assert 'expected in 12 h' in notices[0].body or 'expected in' in notices[0].body


def test_a_clock_is_warned_once(desk, run):
    run()
    again = run(T0 + dt.timedelta(minutes=5))
    assert (again.likely, again.warned) == (3, 0)
    assert TimelineEntry.objects.filter(kind=TimelineKind.SLA_WARNING, data__forecast=True).count() == 3
    assert len([m for m in mail.outbox if 'SLA likely to breach' in m.subject]) == 3


def test_cleared_when_it_improves_and_warned_again_when_it_crosses_again(desk, settings, run):
    _, _, tickets = desk
    run()
    settings.SLA_FORECAST_MIN_RATE = 5  # the group suddenly completes five an hour
    cleared = run(T0 + dt.timedelta(minutes=5))
    assert (cleared.cleared, cleared.warned) == (3, 0)
    assert not SlaClock.objects.filter(forecast_warned_at__isnull=False).exists()
    assert resolution_clock(tickets[4]).forecast_at is None
    settings.SLA_FORECAST_MIN_RATE = 0.05
    again = run(T0 + dt.timedelta(minutes=10))
    assert again.warned == 3
    assert TimelineEntry.objects.filter(kind=TimelineKind.SLA_WARNING, data__forecast=True).count() == 6


def test_a_flag_stays_while_the_forecast_is_within_the_margin(desk, settings, run):
    run()
    settings.SLA_FORECAST_MIN_RATE = 5  # in time now, but not by the (wide) margin that lifts a flag
    settings.SLA_FORECAST_CLEAR_MINUTES = 10 * 60
    result = run(T0 + dt.timedelta(minutes=5))
    assert (result.likely, result.warned, result.cleared) == (3, 0, 0)
    assert SlaClock.objects.filter(forecast_warned_at__isnull=False).count() == 3


def test_flags_follow_the_queue_as_the_tickets_ahead_are_done(desk, run):
    _, _, tickets = desk
    run()
    clock = resolution_clock(tickets[2])
    # Two of the tickets ahead are done: it is first in the queue, 0.25 an hour (10 in 40 h), worked: 2 h to go.
    # Not likely any more, and comfortably in time: cleared. The fourth (now second): 6 h of the 7.5 h left, cleared;
    # the fifth (now third): 10 h, still likely.
    from incidents import services as ticket_services
    from incidents.choices import ResolutionCode
    from itsm.audit import Actor

    with frozen(T0 + dt.timedelta(minutes=30)):
        for ticket in tickets[:2]:
            ticket_services.ticket_complete(
                ticket=ticket,
                actor=Actor(user=ticket.assignee, channel='ui'),
                resolution_code=ResolutionCode.SOLVED_PERMANENTLY,
                resolution_notes='Fixed.',
            )
    result = run(T0 + dt.timedelta(minutes=30))
    assert result.cleared == 2 and result.warned == 0
    clock.refresh_from_db()
    assert not clock.likely_to_breach
    assert resolution_clock(tickets[4]).likely_to_breach


def test_stopped_clocks_lose_their_flag(desk, run):
    _, agent, tickets = desk
    run()
    from incidents import services as ticket_services
    from itsm.audit import Actor

    with frozen(T0 + dt.timedelta(minutes=10)):
        ticket_services.ticket_pend(
            ticket=tickets[4], actor=Actor(user=agent, channel='ui'), reason=PendingReason.CUSTOMER
        )
    result = run(T0 + dt.timedelta(minutes=10))
    assert result.cleared >= 1
    assert SlaClock.objects.get(ticket=tickets[4], kind=ClockKind.RESOLUTION).forecast_warned_at is None


def test_the_run_costs_the_same_queries_for_more_tickets(desk, run):
    group, agent, tickets = desk
    run()

    def count():
        with CaptureQueriesContext(connection) as captured:
            run(T0 + dt.timedelta(minutes=1))
        return len(captured)

    before = count()
    with frozen(T0):
        for n in range(6):
            make_ticket(state=TicketState.ACCEPTED, group=group, agent=agent, short_description=f'More {n}')
    SlaClock.objects.update(forecast_warned_at=T0)  # nothing new to warn about: only the forecast's own reads
    run(T0 + dt.timedelta(minutes=1))  # the new flags take their figures once
    assert count() == before


#
# Pages and API
#


@pytest.fixture
def flagged(desk, client, run):
    group, agent, tickets = desk
    run()
    client.force_login(agent)
    return group, agent, tickets


def test_the_queue_shows_the_badge_and_filters(flagged, client):
    group, _, tickets = flagged
    with frozen(T0 + dt.timedelta(minutes=1)):
        page = client.get(reverse('incidents:queue_group', args=[group.pk]))
        likely = client.get(reverse('incidents:queue_group', args=[group.pk]) + '?likely_to_breach=true')
    text = page.content.decode()
    assert text.count('data-testid="sla-forecast"') == 3
    assert '2 ahead, 0.2/h completed: due in 8 h, expected in 12 h' in text
    assert 'likely_to_breach=true' in text
    shown = likely.content.decode()
    assert all(t.number in shown for t in tickets[2:]) and not any(t.number in shown for t in tickets[:2])
    # Filtering further (the filter bar's form) keeps the switch on.
    assert '<input type="hidden" name="likely_to_breach" value="true">' in shown
    assert 'name="likely_to_breach"' not in text


def test_the_queue_page_costs_the_same_queries_for_more_flagged_rows(flagged, client, run):
    group, agent, _ = flagged
    url = reverse('incidents:queue_group', args=[group.pk])

    def count():
        with frozen(T0 + dt.timedelta(minutes=1)), CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    before = count()
    with frozen(T0):
        for n in range(4):
            make_ticket(state=TicketState.ACCEPTED, group=group, agent=agent, short_description=f'Later {n}')
    run(T0 + dt.timedelta(minutes=1))
    assert SlaClock.objects.filter(forecast_warned_at__isnull=False).count() == 7
    assert count() == before


def test_the_sla_panel_says_why(flagged, client):
    _, _, tickets = flagged
    with frozen(T0 + dt.timedelta(minutes=1)):
        page = load_related(client, client.get(tickets[3].get_absolute_url()))
    assert page.status_code == 200
    assert 'Likely to breach: 3 ahead, 0.2/h completed' in page.content.decode()


def test_the_clock_api_exposes_the_forecast_and_filters(flagged, client):
    _, _, tickets = flagged
    response = client.get('/api/v1/sla-clocks/?likely_to_breach=true')
    assert response.status_code == 200
    rows = response.json()['results']
    assert len(rows) == 3 and all(row['likely_to_breach'] for row in rows)
    assert {row['forecast_ahead'] for row in rows} == {2, 3, 4}
    assert all(row['forecast_rate'] == pytest.approx(0.2) for row in rows)
    others = client.get('/api/v1/sla-clocks/?likely_to_breach=false&open=true').json()['results']
    assert not any(row['likely_to_breach'] for row in others)
    ticket = client.get(f'/api/v1/incidents/{tickets[4].number}/')
    assert ticket.status_code == 200
    clocks = {c['kind']: c for c in ticket.json()['sla']}
    assert clocks['resolution']['likely_to_breach'] is True
