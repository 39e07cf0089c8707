"""Events fired by real service calls: ticket create, assign and comment, an SLA warning and breach through the
sweep; work notes never leave the desk; kinds filter; the query cost an event adds."""

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents import services as tickets
from incidents.models import RoutingRule
from itsm import hooks
from itsm.audit import Actor
from itsm.choices import Role
from sla import services as sla
from tests.factories import make_group_with_agent, make_ticket, make_user
from tests.sla.factories import berlin, frozen, make_sla
from webhooks import events, services
from webhooks.choices import EventType
from webhooks.models import WebhookDelivery, WebhookSubscription

from .factories import make_subscription

pytestmark = pytest.mark.django_db


def payloads(subscription, event_type=None):
    deliveries = WebhookDelivery.objects.filter(subscription=subscription).order_by('id')
    if event_type:
        deliveries = deliveries.filter(event_type=event_type)
    return [json.loads(d.body) for d in deliveries]


def test_ticket_create_assign_and_comment_produce_events(django_capture_on_commit_callbacks, settings):
    subscription = make_subscription()
    group, agent = make_group_with_agent(name='Service Desk')
    caller = make_user(Role.REQUESTER, username='carla')
    ticket = tickets.ticket_create(
        actor=Actor(user=caller, channel='portal'), caller=caller, short_description='VPN refuses my token'
    )
    created = payloads(subscription, EventType.RECORD_CREATED)
    assert len(created) == 1
    body = created[0]
    assert body['type'] == 'record.created' and body['actor'] == 'carla' and body['channel'] == 'portal'
    assert body['record'] == {
        'kind': 'incident',
        'number': ticket.number,
        'title': 'VPN refuses my token',
        'state': 'new',
        'state_label': 'New',
        'priority': ticket.priority,
        'priority_label': f'P{ticket.priority}',
        'assignment_group': None,
        'assignee': None,
        'url': f'{settings.SITE_URL}{ticket.get_absolute_url()}',
        'api_url': f'{settings.SITE_URL}/api/v1/incidents/{ticket.number}/',
    }

    tickets.ticket_assign(ticket=ticket, actor=Actor(user=agent), group=group)
    moved = payloads(subscription, EventType.RECORD_TRANSITIONED)
    assert len(moved) == 1
    assert moved[0]['transition'] == {'name': 'assign', 'label': 'Assign', 'source': 'new', 'target': 'assigned'}
    assert moved[0]['record']['state'] == 'assigned' and moved[0]['record']['assignment_group'] == 'Service Desk'
    assert moved[0]['actor'] == agent.username

    tickets.ticket_comment(ticket=ticket, actor=Actor(user=agent), body='We are on it.')
    tickets.ticket_comment(ticket=ticket, actor=Actor(user=agent), body='Secret: token server rebooted', internal=True)
    comments = payloads(subscription, EventType.RECORD_COMMENTED)
    assert [c['comment']['body'] for c in comments] == ['We are on it.']
    assert comments[0]['comment']['author'] == agent.username
    # The work note is in no payload of any kind.
    assert all('token server rebooted' not in d.body for d in WebhookDelivery.objects.all())


def test_a_routed_ticket_is_created_assigned_and_then_its_assignment_is_an_event_of_its_own():
    subscription = make_subscription()
    group, _ = make_group_with_agent(name='Service Desk')
    RoutingRule.objects.create(name='Everything', assignment_group=group)
    caller = make_user(Role.REQUESTER, username='carla')

    ticket = tickets.ticket_create(
        actor=Actor(user=caller, channel='portal'), caller=caller, short_description='VPN refuses my token'
    )

    bodies = payloads(subscription)
    assert [b['type'] for b in bodies] == ['record.created', 'record.transitioned']
    created, moved = bodies
    # Written once, already routed: the created event shows the ticket as it was committed.
    assert (created['record']['state'], created['record']['assignment_group']) == ('assigned', 'Service Desk')
    assert created['actor'] == 'carla'
    assert moved['transition'] == {'name': 'assign', 'label': 'Assign', 'source': 'new', 'target': 'assigned'}
    assert moved['actor'] is None and moved['channel'] == 'system'  # the desk's rules assigned it
    assert moved['record']['number'] == ticket.number


def test_subscriptions_get_only_the_events_and_kinds_they_chose():
    only_cases = make_subscription(events=[EventType.RECORD_CREATED], record_kinds=['case'])
    only_comments = make_subscription(events=[EventType.RECORD_COMMENTED])
    make_ticket(kind='incident')
    case = make_ticket(kind='case')
    assert [p['record']['number'] for p in payloads(only_cases)] == [case.number]
    assert payloads(only_comments) == []


def test_an_owner_who_may_not_read_the_record_gets_nothing():
    # An integration client turned into a requester later (roles changed) may not read tickets any more.
    subscription = make_subscription()
    owner = subscription.owner
    owner.groups.clear()
    make_ticket()
    assert payloads(subscription) == []


def test_sla_warning_and_breach_through_the_sweep(django_capture_on_commit_callbacks):
    make_sla(priority=3, response=60, resolution=480)
    subscription = make_subscription(events=[EventType.SLA_WARNING, EventType.SLA_BREACHED])
    start = berlin(2026, 3, 2, 9)
    with frozen(start):
        ticket = make_ticket(state='accepted')
    assert payloads(subscription) == []
    with frozen(start + dt.timedelta(hours=6)), django_capture_on_commit_callbacks(execute=True):
        assert sla.sla_sweep().warnings == 1  # 75 % of the 8 h resolution target
    warnings = payloads(subscription, EventType.SLA_WARNING)
    assert len(warnings) == 1
    assert warnings[0]['record']['number'] == ticket.number
    assert warnings[0]['sla']['clock'] == 'resolution'
    assert warnings[0]['sla']['percent'] == 75 and warnings[0]['sla']['target_minutes'] == 480
    assert warnings[0]['actor'] is None and warnings[0]['channel'] == 'system'
    with frozen(start + dt.timedelta(hours=8)), django_capture_on_commit_callbacks(execute=True):
        assert sla.sla_sweep().breaches == 1
    breaches = payloads(subscription, EventType.SLA_BREACHED)
    assert [b['sla']['percent'] for b in breaches] == [100]
    # Swept again: nothing more is announced, so nothing more is sent.
    with frozen(start + dt.timedelta(hours=9)), django_capture_on_commit_callbacks(execute=True):
        sla.sla_sweep()
    assert len(payloads(subscription)) == 2


def test_without_subscriptions_an_event_costs_no_query():
    caller = make_user(Role.REQUESTER)
    make_ticket(caller=caller)  # warm caches (content types, the priority matrix, the desk's snapshot)

    def create():
        tickets.ticket_create(actor=Actor(user=caller), caller=caller, short_description='Printer jammed')

    with CaptureQueriesContext(connection) as with_webhooks:
        create()
    hooks.unsubscribe(hooks.CREATED, events.on_created, model=events_model())
    try:
        with CaptureQueriesContext(connection) as without:
            create()
    finally:
        hooks.subscribe(hooks.CREATED, events.on_created, model=events_model())
    added = len(with_webhooks.captured_queries) - len(without.captured_queries)
    assert added == 0, f'{len(with_webhooks)} queries with webhooks, {len(without)} without'
    assert not any('webhooks_webhooksubscription' in q['sql'] for q in with_webhooks.captured_queries)


def test_subscriptions_are_read_only_when_one_wants_the_event():
    caller = make_user(Role.REQUESTER)
    make_ticket(caller=caller)
    others = make_subscription(events=[EventType.RECORD_COMMENTED])

    def create():
        with CaptureQueriesContext(connection) as captured:
            ticket = tickets.ticket_create(actor=Actor(user=caller), caller=caller, short_description='Printer jammed')
        return ticket, subscription_reads(captured)

    create()
    _, read = create()
    assert read == ([], [])  # the one subscription wants comments only: neither the snapshot nor the rows are read
    assert payloads(others) == []

    # A new subscription moves the snapshot's version: the next create sees it, reads it with its owner, sends.
    wanted = make_subscription(events=[EventType.RECORD_CREATED])
    ticket, (snapshot, rows) = create()
    assert (len(snapshot), len(rows)) == (1, 1)
    assert [body['record']['number'] for body in payloads(wanted)] == [ticket.number]

    # Turned off behind the snapshot's back (no new version): the fresh read decides, and nothing is sent.
    WebhookSubscription.objects.filter(pk=wanted.pk).update(active=False)
    _, (snapshot, rows) = create()
    assert (len(snapshot), len(rows)) == (0, 1)
    assert len(payloads(wanted)) == 1


def test_a_disabled_subscription_leaves_the_snapshot():
    caller = make_user(Role.REQUESTER)
    subscription = make_subscription(events=[EventType.RECORD_CREATED])
    make_ticket(caller=caller)
    assert len(payloads(subscription)) == 1

    services._disable(subscription, reason='Gone for good', now=timezone.now())  # as repeated failures do
    with CaptureQueriesContext(connection) as captured:
        make_ticket(caller=caller)
    snapshot, rows = subscription_reads(captured)
    assert (len(snapshot), len(rows)) == (1, 0)  # the snapshot is read again, and wants nothing any more
    assert len(payloads(subscription)) == 1


def subscription_reads(captured) -> tuple[list[str], list[str]]:
    """The statements on the subscriptions: the snapshot's (ids and filters), and the rows read with their owner."""
    reads = [q['sql'] for q in captured.captured_queries if 'FROM "webhooks_webhooksubscription"' in q['sql']]
    return [sql for sql in reads if 'itsm_user' not in sql], [sql for sql in reads if 'itsm_user' in sql]


def events_model():
    from itsm.records import ProcessRecord

    return ProcessRecord


def test_a_broker_that_cannot_take_the_delivery_does_not_fail_the_request(django_capture_on_commit_callbacks):
    from unittest import mock

    from rest_framework.test import APIClient

    subscription = make_subscription()
    caller = make_user(Role.REQUESTER, username='carla')
    client = APIClient()
    client.force_authenticate(caller)
    broker_down = mock.patch('webhooks.tasks.deliver_task.delay', side_effect=ConnectionError('broker down'))
    with broker_down, django_capture_on_commit_callbacks(execute=True):
        response = client.post('/api/v1/incidents/', {'short_description': 'VPN down'}, format='json')
    assert response.status_code == 201, response.content
    # The delivery is kept for the sweep to send.
    assert len(payloads(subscription, EventType.RECORD_CREATED)) == 1
