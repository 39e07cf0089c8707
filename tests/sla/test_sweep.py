"""The sweep: warnings at 75 % and 90 %, the breach at 100 %, who is told, and exactly once through repeats,
stale counters, a crash between claim and commit, duplicate deliveries and lost queue messages."""

import datetime as dt
from io import StringIO
from unittest import mock

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents import services as tickets
from incidents.choices import PendingReason
from incidents.models import Ticket
from itsm.audit import Actor
from itsm.celery import app
from itsm.choices import Impact, Role, TimelineKind, Urgency
from itsm.models import TimelineEntry
from itsm.oncommit import _Memo
from itsm.timezones import format_datetime
from sla import services
from sla.choices import ClockKind, ClockState, EventKind
from sla.models import ClockEvent, SlaClock
from sla.notifications import send_clock_events
from tests.factories import make_group_with_agent, make_user
from tests.sla.factories import berlin, frozen, make_ola, make_sla
from webhooks.models import WebhookDelivery

pytestmark = pytest.mark.django_db

T0 = berlin(2026, 3, 2, 9)


@pytest.fixture
def team(db):
    group, agent = make_group_with_agent(name='Service Desk')
    group.email = 'desk@example.com'
    group.manager = make_user(Role.INCIDENT_MANAGER, username='grace', email='grace@example.com')
    group.save()
    agent.email = 'sam@example.com'
    agent.save()
    return group, agent


@pytest.fixture
def p3(db):
    """P3 incidents around the clock: respond within 1 h, resolve within 8 h."""
    return make_sla(priority=3, response=60, resolution=480)


def accepted_ticket(team, **fields) -> Ticket:
    group, agent = team
    caller = make_user(Role.REQUESTER)
    ticket = tickets.ticket_create(
        actor=Actor(user=caller), caller=caller, short_description='Printer jammed', **fields
    )
    tickets.ticket_assign(ticket=ticket, actor=Actor(user=agent), group=group)
    return tickets.ticket_accept(ticket=ticket, actor=Actor(user=agent))


def sweep(capture, at):
    with frozen(at), capture(execute=True):
        return services.sla_sweep()


def entries(ticket, kind):
    return TimelineEntry.objects.for_object(ticket).filter(kind=kind)


def test_warnings_then_breach_each_announced_once(p3, team, django_capture_on_commit_callbacks):
    with frozen(T0):
        ticket = accepted_ticket(team)
    mail.outbox.clear()
    assert sweep(django_capture_on_commit_callbacks, T0 + dt.timedelta(hours=5, minutes=59)).clocks == 0

    first = sweep(django_capture_on_commit_callbacks, T0 + dt.timedelta(hours=6))  # 75 % of 8 h
    assert (first.clocks, first.warnings, first.breaches) == (1, 1, 0)
    assert sweep(django_capture_on_commit_callbacks, T0 + dt.timedelta(hours=6, minutes=1)).clocks == 0
    assert sweep(django_capture_on_commit_callbacks, T0 + dt.timedelta(hours=7, minutes=12)).warnings == 1  # 90 %
    last = sweep(django_capture_on_commit_callbacks, T0 + dt.timedelta(hours=8))
    assert (last.warnings, last.breaches) == (0, 1)
    for hours in (8, 9, 30):
        assert sweep(django_capture_on_commit_callbacks, T0 + dt.timedelta(hours=hours)).clocks == 0

    clock = SlaClock.objects.get(ticket=ticket, kind=ClockKind.RESOLUTION)
    assert clock.state == ClockState.BREACHED and clock.breached_at == T0 + dt.timedelta(hours=8)
    assert clock.next_check_at is None and clock.warned_at == T0 + dt.timedelta(hours=6)
    assert list(clock.events.order_by('percent').values_list('percent', 'kind')) == [
        (75, EventKind.WARNING),
        (90, EventKind.WARNING),
        (100, EventKind.BREACH),
    ]
    assert entries(ticket, TimelineKind.SLA_WARNING).count() == 2
    assert entries(ticket, TimelineKind.SLA_BREACH).count() == 1
    assert [m.subject.split(': ')[0] for m in mail.outbox] == [
        f'[{ticket.number}] SLA warning (75 %)',
        f'[{ticket.number}] SLA warning (90 %)',
        f'[{ticket.number}] SLA breached',
    ]
    warning, _, breach = mail.outbox
    assert sorted(warning.to) == ['desk@example.com', 'sam@example.com']
    assert sorted(breach.to) == ['desk@example.com', 'grace@example.com', 'sam@example.com']
    assert 'escalated to you as the group manager' in breach.body
    assert f'Due: {format_datetime(T0 + dt.timedelta(hours=8))}' in breach.body  # '2 Mar 2026 16:00 UTC'
    notices = entries(ticket, TimelineKind.NOTIFICATION).filter(data__event__startswith='sla_')
    assert notices.count() == 3 and notices.last().data['escalated'] is True


def test_response_warnings_run_before_anyone_accepts(p3, django_capture_on_commit_callbacks):
    with frozen(T0):
        caller = make_user(Role.REQUESTER)
        tickets.ticket_create(actor=Actor(user=caller), caller=caller, short_description='VPN down')
    result = sweep(django_capture_on_commit_callbacks, T0 + dt.timedelta(minutes=45))
    assert result.warnings == 1
    event = ClockEvent.objects.get()
    assert (event.clock.kind, event.percent, event.notified_at is not None) == (ClockKind.RESPONSE, 75, True)
    assert event.recipients == []  # nobody holds it yet: recorded, nobody to tell


def test_p1_resolution_breach_is_escalated_to_the_service_owner(team, django_capture_on_commit_callbacks):
    from tests.cmdb.factories import make_ci

    owner = make_user(Role.SERVICE_OWNER, username='victor', email='victor@example.com')
    vpn = make_ci('service', name='VPN', owner=owner)
    make_sla(priority=1, response=15, resolution=240, name='P1 incidents')
    with frozen(T0):
        ticket = accepted_ticket(team, service=vpn, impact=Impact.HIGH, urgency=Urgency.CRITICAL)
    assert ticket.priority == 1
    mail.outbox.clear()
    sweep(django_capture_on_commit_callbacks, T0 + dt.timedelta(hours=4))
    breach = next(m for m in mail.outbox if 'SLA breached' in m.subject)
    assert 'victor@example.com' in breach.to and 'grace@example.com' in breach.to
    assert 'and the service owner' in breach.body
    notice = entries(ticket, TimelineKind.NOTIFICATION).get(data__event='sla_breach')
    assert notice.data['roles']['service_owner'] == ['victor@example.com']


def test_a_response_breach_is_not_escalated_to_the_service_owner(team, django_capture_on_commit_callbacks):
    from tests.cmdb.factories import make_ci

    owner = make_user(Role.SERVICE_OWNER, email='owner@example.com')
    make_sla(priority=1, response=15, resolution=240, name='P1 incidents')
    group, agent = team
    with frozen(T0):
        caller = make_user(Role.REQUESTER)
        ticket = tickets.ticket_create(
            actor=Actor(user=caller),
            caller=caller,
            short_description='WAN down',
            impact=Impact.HIGH,
            urgency=Urgency.CRITICAL,
            service=make_ci('service', name='WAN', owner=owner),
        )
        tickets.ticket_assign(ticket=ticket, actor=Actor(user=agent), group=group)
    mail.outbox.clear()
    sweep(django_capture_on_commit_callbacks, T0 + dt.timedelta(minutes=16))
    (breach,) = [m for m in mail.outbox if 'breached' in m.subject]
    assert 'owner@example.com' not in breach.to and 'grace@example.com' in breach.to


def test_thresholds_passed_together_announce_only_the_highest(p3, team, django_capture_on_commit_callbacks):
    with frozen(T0):
        ticket = accepted_ticket(team)
    mail.outbox.clear()
    result = sweep(django_capture_on_commit_callbacks, T0 + dt.timedelta(hours=20))
    assert (result.warnings, result.breaches) == (0, 1)
    clock = SlaClock.objects.get(ticket=ticket, kind=ClockKind.RESOLUTION)
    assert sorted(clock.events.values_list('percent', 'superseded')) == [(75, True), (90, True), (100, False)]
    assert entries(ticket, TimelineKind.SLA_WARNING).count() == 0
    assert entries(ticket, TimelineKind.SLA_BREACH).count() == 1
    assert len(mail.outbox) == 1


def test_ola_announcements_go_to_the_clocks_group(team, django_capture_on_commit_callbacks):
    group, agent = team
    make_ola(group, accept=20, resolve=120)
    with frozen(T0):
        caller = make_user(Role.REQUESTER)
        ticket = tickets.ticket_create(actor=Actor(user=caller), caller=caller, short_description='Slow PC')
        tickets.ticket_assign(ticket=ticket, actor=Actor(user=agent), group=group)
    mail.outbox.clear()
    sweep(django_capture_on_commit_callbacks, T0 + dt.timedelta(minutes=20))
    (breach,) = mail.outbox
    assert 'OLA accept · Service Desk' in breach.subject
    assert sorted(breach.to) == ['desk@example.com', 'grace@example.com']


def test_stale_counters_cannot_announce_twice(p3, team, django_capture_on_commit_callbacks):
    """A sweep working from counters that predate an earlier announcement (a replica lagging, a restored
    backup, a bug) runs into the unique constraint: nothing is recorded or sent twice."""
    with frozen(T0):
        ticket = accepted_ticket(team)
    sweep(django_capture_on_commit_callbacks, T0 + dt.timedelta(hours=6))
    clock = SlaClock.objects.get(ticket=ticket, kind=ClockKind.RESOLUTION)
    mail.outbox.clear()
    SlaClock.objects.filter(pk=clock.pk).update(next_percent=75, next_check_at=T0)
    result = sweep(django_capture_on_commit_callbacks, T0 + dt.timedelta(hours=6, minutes=30))
    assert (result.clocks, result.warnings) == (1, 0)
    assert clock.events.count() == 1 and entries(ticket, TimelineKind.SLA_WARNING).count() == 1
    assert mail.outbox == []
    clock.refresh_from_db()
    assert (clock.next_percent, clock.next_check_at) == (90, T0 + dt.timedelta(hours=7, minutes=12))


def test_a_sweep_dying_between_claim_and_commit_leaves_the_announcement_to_the_next(
    p3, team, django_capture_on_commit_callbacks
):
    with frozen(T0):
        ticket = accepted_ticket(team)
    mail.outbox.clear()
    claimed = []

    def die_after_claiming(*args, **kwargs):
        # The claim and the timeline entry are written, the transaction is not committed yet.
        claimed.extend(ClockEvent.objects.values_list('percent', flat=True))
        claimed.extend(entries(ticket, TimelineKind.SLA_WARNING).values_list('kind', flat=True))
        raise ConnectionError('worker lost')

    with mock.patch('sla.services._save_counters', die_after_claiming), pytest.raises(ConnectionError):
        sweep(django_capture_on_commit_callbacks, T0 + dt.timedelta(hours=6))
    assert claimed == [75, TimelineKind.SLA_WARNING]
    assert not ClockEvent.objects.exists() and not entries(ticket, TimelineKind.SLA_WARNING).exists()
    assert mail.outbox == []

    result = sweep(django_capture_on_commit_callbacks, T0 + dt.timedelta(hours=6, minutes=1))
    assert result.warnings == 1
    assert ClockEvent.objects.count() == 1 and entries(ticket, TimelineKind.SLA_WARNING).count() == 1
    assert len(mail.outbox) == 1


def test_a_notice_delivered_twice_is_sent_once(p3, team, django_capture_on_commit_callbacks):
    with frozen(T0):
        accepted_ticket(team)
    sweep(django_capture_on_commit_callbacks, T0 + dt.timedelta(hours=6))
    event = ClockEvent.objects.get()
    mail.outbox.clear()
    assert send_clock_events(event_ids=[event.pk, event.pk]) == 0
    assert mail.outbox == []


def test_notices_lost_between_commit_and_queueing_are_queued_again(p3, team, django_capture_on_commit_callbacks):
    with frozen(T0):
        ticket = accepted_ticket(team)
    mail.outbox.clear()
    with frozen(T0 + dt.timedelta(hours=6)), django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.sla_sweep()  # committed, but the process dies before its on-commit queueing runs
    assert len([c for c in callbacks if not isinstance(c, _Memo)]) == 1  # a memo runs nothing (itsm.oncommit)
    event = ClockEvent.objects.get()
    assert event.notified_at is None and mail.outbox == []
    assert sweep(django_capture_on_commit_callbacks, T0 + dt.timedelta(hours=6, minutes=1)).requeued == 0
    again = sweep(django_capture_on_commit_callbacks, T0 + dt.timedelta(hours=6, minutes=3))
    assert again.requeued == 1 and len(mail.outbox) == 1
    assert sweep(django_capture_on_commit_callbacks, T0 + dt.timedelta(hours=6, minutes=9)).requeued == 0
    assert len(mail.outbox) == 1
    assert entries(ticket, TimelineKind.NOTIFICATION).filter(data__clock_event=event.pk).count() == 1


def test_a_warning_passed_just_before_a_pause_is_still_announced(p3, team, django_capture_on_commit_callbacks):
    group, agent = team
    with frozen(T0) as clock:
        ticket = accepted_ticket(team)
        clock.advance(hours=6, minutes=5)  # past 75 %, no sweep ran yet
        tickets.ticket_pend(ticket=ticket, actor=Actor(user=agent), reason=PendingReason.CUSTOMER)
    resolution = SlaClock.objects.get(ticket=ticket, kind=ClockKind.RESOLUTION)
    assert resolution.state == ClockState.PAUSED and resolution.next_check_at == T0 + dt.timedelta(hours=6, minutes=5)
    assert sweep(django_capture_on_commit_callbacks, T0 + dt.timedelta(hours=6, minutes=6)).warnings == 1
    resolution.refresh_from_db()
    assert resolution.next_check_at is None and resolution.next_percent == 90


def _idle_clocks(count: int) -> None:
    """Open tickets with running clocks whose next check is far away (bulk-made: this is about volume)."""
    ticket = Ticket.objects.first()
    copied = {f.attname: getattr(ticket, f.attname) for f in Ticket._meta.concrete_fields}
    for name in ('id', 'number', 'alternate_number'):
        copied.pop(name)
    first = Ticket.objects.filter(number__startswith='BLK').count()
    made = Ticket.objects.bulk_create(Ticket(**copied, number=f'BLK{first + n:07d}') for n in range(count))
    template = SlaClock.objects.filter(ticket=ticket).first()
    later = T0 + dt.timedelta(days=30)
    SlaClock.objects.bulk_create(
        SlaClock(
            record=t,
            kind=ClockKind.RESOLUTION,
            name='Resolution',
            calendar_id=template.calendar_id,
            target_minutes=100_000,
            started_at=T0,
            run_started_at=T0,
            due_at=later,
            next_check_at=later,
            next_percent=75,
        )
        for t in made
    )


def test_the_sweep_costs_the_clocks_due_not_the_open_tickets(p3, team, django_capture_on_commit_callbacks):
    with frozen(T0):
        for _ in range(3):
            accepted_ticket(team)

    def queries_of_sweep(at):
        # Notices go out when the capture ends, after the count.
        with frozen(at), django_capture_on_commit_callbacks(execute=True), CaptureQueriesContext(connection) as seen:
            result = services.sla_sweep()
        return result, len(seen.captured_queries)

    _idle_clocks(20)
    small, small_queries = queries_of_sweep(T0 + dt.timedelta(hours=6))
    _idle_clocks(400)
    large, large_queries = queries_of_sweep(T0 + dt.timedelta(hours=7, minutes=12))
    assert (small.clocks, small.warnings, large.clocks, large.warnings) == (3, 3, 3, 3)
    assert small_queries == large_queries
    idle, idle_queries = queries_of_sweep(T0 + dt.timedelta(hours=7, minutes=13))
    assert idle.clocks == 0 and idle_queries <= 4  # savepoint, due clocks, release, unsent notices


def test_a_batch_reads_the_webhook_subscriptions_once_whatever_it_announces(
    p3, team, django_capture_on_commit_callbacks
):
    from tests.webhooks.factories import make_subscription
    from webhooks.choices import EventType

    make_subscription(events=[EventType.RECORD_CREATED])  # active, but wants no SLA events
    with frozen(T0):
        accepted_ticket(team)
    with frozen(T0 + dt.timedelta(minutes=1)):
        for _ in range(4):
            accepted_ticket(team)
    with frozen(T0 + dt.timedelta(minutes=2)):
        for _ in range(4):
            accepted_ticket(team)

    def queries_of_sweep(at):
        with frozen(at), django_capture_on_commit_callbacks(execute=False), CaptureQueriesContext(connection) as seen:
            result = services.sla_sweep()
        return result, [q['sql'] for q in seen.captured_queries]

    def subscriptions_read(queries):
        return sum('FROM "webhooks_webhooksubscription"' in sql for sql in queries)

    one, one_queries = queries_of_sweep(T0 + dt.timedelta(hours=6))
    four, four_queries = queries_of_sweep(T0 + dt.timedelta(hours=6, minutes=1))
    assert (one.warnings, four.warnings) == (1, 4)
    assert len(one_queries) == len(four_queries)
    assert subscriptions_read(four_queries) == 0  # no subscription wants SLA events: the snapshot says so

    wanted = make_subscription(events=[EventType.SLA_WARNING])
    four, four_queries = queries_of_sweep(T0 + dt.timedelta(hours=6, minutes=2))
    assert four.warnings == 4
    assert subscriptions_read(four_queries) == 2  # the snapshot's new version, then the rows with their owners, once
    assert WebhookDelivery.objects.filter(subscription=wanted).count() == 4


def test_batches_cover_every_due_clock(p3, team, django_capture_on_commit_callbacks):
    with frozen(T0):
        made = [accepted_ticket(team) for _ in range(5)]
    with frozen(T0 + dt.timedelta(hours=6)), django_capture_on_commit_callbacks(execute=True):
        result = services.sla_sweep(batch_size=2)
    assert (result.clocks, result.warnings, result.batches) == (5, 5, 3)
    assert ClockEvent.objects.filter(clock__ticket__in=made).count() == 5


def test_the_management_command_runs_one_sweep(p3, team, django_capture_on_commit_callbacks):
    with frozen(T0):
        accepted_ticket(team)
    out = StringIO()
    with frozen(T0 + dt.timedelta(hours=9)), django_capture_on_commit_callbacks(execute=True):
        call_command('sla_sweep', stdout=out)
    assert 'SLA sweep: 1 clocks due: 0 warnings, 1 breaches announced.' in out.getvalue()


def test_beat_runs_the_sweep_every_minute_by_default():
    entry = app.conf.beat_schedule['sla-sweep']
    assert entry['task'] == 'sla.tasks.sla_sweep_task' and entry['schedule'] == 60.0
    app.loader.import_default_modules()  # what a worker does on start: import every app's autodiscovered tasks
    assert 'sla.tasks.sla_sweep_task' in app.tasks
