"""A real Alertmanager fires and resolves alerts into the desk through its webhook receiver."""

import time

import pytest
from django.db import OperationalError

from incidents.choices import TicketChannel, TicketState
from incidents.models import Ticket
from monitoring.choices import AlertStatus, SourceKind
from monitoring.models import Alert
from tests.cmdb.factories import make_ci
from tests.factories import make_group_with_agent
from tests.servers import free_port, wait_for_live_server_requests

from .alertmanager import Alertmanager
from .factories import make_source

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 30


def read(query):
    """`query()`, read again while SQLite's shared in-memory test database has the table locked: the live server
    may still be writing (after-commit work of the request), and that database has no busy wait."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            return query()
        except OperationalError as error:
            if 'locked' not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def wait_for(condition, what: str, alertmanager: Alertmanager):
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        value = read(condition)
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f'timed out waiting for {what}; Alertmanager said:\n{alertmanager.logs()}')


@pytest.fixture
def alertmanager(tmp_path):
    manager = Alertmanager(root=tmp_path, port=free_port())
    yield manager
    manager.stop()
    wait_for_live_server_requests()


def test_alertmanager_fires_resolves_and_flaps_into_one_incident(live_server, alertmanager):
    group, _ = make_group_with_agent(name='Server and Storage')
    db1 = make_ci(name='db1')
    source = make_source(kind=SourceKind.ALERTMANAGER, name='Prometheus', support_group=group)
    alertmanager.start(webhook_url=f'{live_server.url}/api/v1/integrations/alertmanager/', token=source.token)
    labels = {'alertname': 'DiskFull', 'instance': 'db1:9100', 'job': 'node', 'severity': 'critical'}
    annotations = {'summary': 'Disk /var full on db1', 'description': 'Less than 1 % left.'}

    # Firing: the incident opens, for the group, on the CI, at P1.
    alertmanager.post_alerts([{'labels': labels, 'annotations': annotations, 'startsAt': alertmanager.at()}])
    alert = wait_for(
        lambda: (
            Alert.objects.select_related('incident__ci', 'incident__assignment_group')
            .filter(incident__isnull=False)
            .first()
        ),
        'the incident',
        alertmanager,
    )
    ticket = alert.incident
    assert ticket.short_description == 'Disk /var full on db1'
    assert (ticket.channel, ticket.priority, ticket.ci, ticket.assignment_group) == (
        TicketChannel.MONITORING,
        1,
        db1,
        group,
    )
    assert ticket.state == TicketState.ASSIGNED
    assert len(alert.dedup_key) == 16, 'keyed by the alert fingerprint'

    # Resolved: Alertmanager sends the resolved notification; nobody worked the incident, so it completes.
    ended = {'startsAt': alertmanager.at(-60), 'endsAt': alertmanager.at(-1)}
    alertmanager.post_alerts([{'labels': labels, 'annotations': annotations, **ended}])
    wait_for(lambda: Ticket.objects.get(pk=ticket.pk).state == TicketState.COMPLETED, 'the completion', alertmanager)
    assert read(lambda: Alert.objects.get(pk=alert.pk).status) == AlertStatus.RESOLVED

    # Firing again within the flap window: the same incident reopens instead of a new one.
    alertmanager.post_alerts([{'labels': labels, 'annotations': annotations, 'startsAt': alertmanager.at()}])
    wait_for(lambda: Ticket.objects.get(pk=ticket.pk).reopen_count == 1, 'the reopening', alertmanager)
    assert read(Ticket.objects.count) == 1
    alert = read(Alert.objects.get)
    assert (alert.status, alert.flap_count) == (AlertStatus.TRIGGERED, 1)
    assert read(lambda: Ticket.objects.get(pk=ticket.pk).state) == TicketState.ACCEPTED
