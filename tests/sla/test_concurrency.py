"""Exactly once on real parallel PostgreSQL connections: overlapping sweeps, racing claims, and a sweep racing
the acceptance of an overdue ticket."""

import datetime as dt
import threading
from unittest import mock

import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from incidents import services as tickets
from incidents.models import Ticket
from itsm.audit import Actor
from itsm.choices import Role, TimelineKind
from itsm.models import TimelineEntry
from sla import services
from sla.choices import ClockKind
from sla.models import ClockEvent, SlaClock
from tests.concurrency import run_in_parallel
from tests.factories import make_group_with_agent, make_user
from tests.sla.factories import make_sla

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def accepted_tickets(count: int, *, hours_ago: float):
    """Accepted tickets opened `hours_ago` (the system may backdate), held by a group with an e-mail address."""
    make_sla(priority=3, response=60, resolution=480)
    group, agent = make_group_with_agent(name='Service Desk')
    caller = make_user(Role.REQUESTER)
    opened = timezone.now() - dt.timedelta(hours=hours_ago)
    made = []
    for n in range(count):
        ticket = tickets.ticket_create(
            actor=Actor.system(), caller=caller, short_description=f'Printer {n}', opened_at=opened
        )
        tickets.ticket_assign(ticket=ticket, actor=Actor(user=agent), group=group)
        made.append(tickets.ticket_accept(ticket=ticket, actor=Actor(user=agent)))
    return made


def test_overlapping_sweeps_announce_each_warning_once():
    made = accepted_tickets(24, hours_ago=6.5)  # resolution: past 75 %, not 90 %
    mail.outbox.clear()
    results = run_in_parallel([lambda: services.sla_sweep(batch_size=4) for _ in range(4)])
    assert all(outcome == 'ok' for outcome, _ in results), results
    assert sum(result.warnings for _, result in results) == 24
    resolution = SlaClock.objects.filter(ticket__in=made, kind=ClockKind.RESOLUTION)
    assert ClockEvent.objects.filter(clock__in=resolution).count() == 24
    assert set(ClockEvent.objects.filter(clock__in=resolution).values_list('percent', flat=True)) == {75}
    assert TimelineEntry.objects.filter(kind=TimelineKind.SLA_WARNING).count() == 24
    assert len([m for m in mail.outbox if 'SLA warning (75 %)' in m.subject]) == 24
    assert all(r.clocks == 0 for r in (services.sla_sweep(), services.sla_sweep()))


def test_racing_claims_of_the_same_announcement_yield_one_row():
    (ticket,) = accepted_tickets(1, hours_ago=9)
    clock = SlaClock.objects.get(ticket=ticket, kind=ClockKind.RESOLUTION)
    now = timezone.now()

    def claim():
        with transaction.atomic():
            fresh = SlaClock.objects.select_related('calendar').get(pk=clock.pk)  # no row lock on purpose
            return services._claim(fresh, percent=100, crossed_at=now, now=now)

    results = run_in_parallel([claim for _ in range(6)])
    assert all(outcome == 'ok' for outcome, _ in results), results
    claimed = [event for _, event in results if event is not None]
    assert len(claimed) == 1
    assert ClockEvent.objects.filter(clock=clock).count() == 1
    assert TimelineEntry.objects.filter(kind=TimelineKind.SLA_BREACH, data__clock=clock.pk).count() == 1


def test_a_sweep_racing_a_late_acceptance_records_one_breach():
    make_sla(priority=3, response=60, resolution=480)
    group, agent = make_group_with_agent(name='Service Desk')
    caller = make_user(Role.REQUESTER)
    opened = timezone.now() - dt.timedelta(hours=2)
    made = []
    for n in range(8):
        ticket = tickets.ticket_create(
            actor=Actor.system(), caller=caller, short_description=f'VPN {n}', opened_at=opened
        )
        made.append(tickets.ticket_assign(ticket=ticket, actor=Actor(user=agent), group=group))

    def accept_all():
        for ticket in made:
            tickets.ticket_accept(ticket=Ticket.objects.get(pk=ticket.pk), actor=Actor(user=agent))

    results = run_in_parallel([lambda: services.sla_sweep(batch_size=2), accept_all])
    assert all(outcome == 'ok' for outcome, _ in results), results
    for ticket in made:
        response = SlaClock.objects.get(ticket=ticket, kind=ClockKind.RESPONSE)
        assert response.state == 'breached' and response.stopped_at is not None
        announced = response.events.filter(superseded=False)
        assert list(announced.values_list('percent', flat=True)) == [100]
        breaches = TimelineEntry.objects.filter(kind=TimelineKind.SLA_BREACH, object_id=ticket.pk)
        assert breaches.count() == 1


def test_a_sweep_dying_mid_batch_leaves_its_clocks_to_the_next_sweep():
    """While a sweep holds its batch uncommitted, another skips those clocks; when it dies, nothing it claimed
    remains and the next sweep announces each warning once."""
    made = accepted_tickets(6, hours_ago=6.5)
    holding, release = threading.Event(), threading.Event()
    real_save = services._save_counters

    def stall_then_die(clocks, *, now):
        if threading.current_thread().name != 'doomed':
            return real_save(clocks, now=now)
        holding.set()
        release.wait(timeout=60)
        raise ConnectionError('worker killed')

    outcome = {}

    def doomed():
        try:
            services.sla_sweep()
        except ConnectionError as exc:
            outcome['error'] = exc
        finally:
            connection.close()

    with mock.patch('sla.services._save_counters', stall_then_die):
        thread = threading.Thread(target=doomed, name='doomed')
        thread.start()
        assert holding.wait(timeout=60)
        assert services.sla_sweep().clocks == 0  # every due clock is locked by the doomed sweep: skipped
        release.set()
        thread.join(timeout=60)
    resolution = SlaClock.objects.filter(ticket__in=made, kind=ClockKind.RESOLUTION)
    assert isinstance(outcome.get('error'), ConnectionError)
    assert not ClockEvent.objects.filter(clock__in=resolution).exists()
    assert not TimelineEntry.objects.filter(kind=TimelineKind.SLA_WARNING).exists()
    result = services.sla_sweep()
    assert (result.clocks, result.warnings) == (6, 6)
    assert ClockEvent.objects.filter(clock__in=resolution, percent=75).count() == 6
    assert services.sla_sweep().clocks == 0
