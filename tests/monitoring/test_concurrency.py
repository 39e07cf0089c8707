"""Parallel events for one key on real PostgreSQL connections: one alert and one incident, every event counted."""

import pytest

from incidents.choices import TicketState
from incidents.models import Ticket
from monitoring import services
from monitoring.choices import AlertStatus
from monitoring.models import Alert, AlertSource
from tests.concurrency import run_in_parallel

from .factories import make_source

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PARALLEL = 8


def trigger(source_id: int, key: str = 'disk-db1'):
    source = AlertSource.objects.select_related('integration_user', 'support_group', 'service').get(pk=source_id)
    return services.alert_trigger(source=source, dedup_key=key, summary='Disk full on db1', severity='error')


def test_parallel_triggers_of_one_key_open_exactly_one_incident():
    source = make_source(name='Checks')
    results = run_in_parallel([lambda: trigger(source.pk) for _ in range(PARALLEL)])
    assert all(r[0] == 'ok' for r in results), results
    actions = sorted(r[1].action for r in results)
    assert actions == ['opened'] + ['repeated'] * (PARALLEL - 1), actions
    assert Ticket.objects.count() == 1
    alert = Alert.objects.get()
    assert alert.event_count == PARALLEL
    assert {r[1].incident.pk for r in results} == {alert.incident_id}


def test_parallel_triggers_after_a_resolve_reopen_the_incident_once():
    source = make_source(name='Checks')
    first = trigger(source.pk)
    services.alert_resolve(source=source, dedup_key='disk-db1')
    assert Ticket.objects.get().state == TicketState.COMPLETED
    results = run_in_parallel([lambda: trigger(source.pk) for _ in range(PARALLEL)])
    assert all(r[0] == 'ok' for r in results), results
    actions = sorted(r[1].action for r in results)
    assert actions == ['reopened'] + ['repeated'] * (PARALLEL - 1), actions
    ticket = Ticket.objects.get()
    assert ticket.pk == first.incident.pk
    assert (ticket.state, ticket.reopen_count) == (TicketState.ACCEPTED, 1)
    alert = Alert.objects.get()
    assert (alert.status, alert.flap_count, alert.event_count) == (AlertStatus.TRIGGERED, 1, PARALLEL + 1)


def test_different_keys_in_parallel_each_open_their_own_incident():
    source = make_source(name='Checks')
    results = run_in_parallel([lambda i=i: trigger(source.pk, key=f'k{i}') for i in range(PARALLEL)])
    assert all(r[0] == 'ok' and r[1].action == 'opened' for r in results), results
    assert Ticket.objects.count() == PARALLEL
    assert len({t.number for t in Ticket.objects.all()}) == PARALLEL
