"""Predictive warnings exactly once on real parallel PostgreSQL connections: overlapping forecast runs, and racing
claims of the same clock."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from incidents.choices import TicketState
from itsm.choices import TimelineKind
from itsm.models import TimelineEntry
from sla import forecast
from sla.choices import ClockKind
from sla.models import SlaClock
from tests.concurrency import run_in_parallel
from tests.factories import make_group_with_agent, make_ticket
from tests.sla.factories import frozen, make_sla

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def queue(settings):
    """Six accepted P3 tickets (8 h to resolve) in an idle group (0.2 an hour assumed): the last four are late."""
    settings.SLA_FORECAST_MIN_RATE = 0.2
    make_sla(priority=3, response=60, resolution=480)
    group, agent = make_group_with_agent(name='Service Desk')
    agent.email = 'sam@example.com'
    agent.save()
    tickets = [make_ticket(state=TicketState.ACCEPTED, group=group, agent=agent) for _ in range(6)]
    mail.outbox.clear()
    return tickets


def test_overlapping_runs_warn_each_clock_once(queue):
    now = timezone.now()
    with frozen(now):
        results = run_in_parallel([forecast.queue_forecast for _ in range(4)])
    assert all(outcome == 'ok' for outcome, _ in results), results
    assert sum(result.warned for _, result in results) == 4
    assert TimelineEntry.objects.filter(kind=TimelineKind.SLA_WARNING, data__forecast=True).count() == 4
    assert len([m for m in mail.outbox if 'SLA likely to breach' in m.subject]) == 4
    assert SlaClock.objects.filter(forecast_warned_at__isnull=False).count() == 4


def test_racing_claims_of_one_clock_announce_once(queue):
    clock = SlaClock.objects.get(ticket=queue[-1], kind=ClockKind.RESOLUTION)
    clock.forecast_at = timezone.now() + dt.timedelta(hours=20)
    clock.forecast_ahead, clock.forecast_rate = 5, 0.2
    record = queue[-1]
    results = run_in_parallel([lambda: forecast.claim_warning(clock, record=record, now=timezone.now())] * 4)
    assert sorted(result for _, result in results) == [False, False, False, True], results
    assert TimelineEntry.objects.filter(object_id=record.pk, data__forecast=True).count() == 1
    assert len([m for m in mail.outbox if 'SLA likely to breach' in m.subject]) == 1
