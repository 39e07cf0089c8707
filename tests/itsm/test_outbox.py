"""The notification outbox: a notification is a row of the transaction that caused it, delivered once by whoever
locks it first, retried with backoff on transient mail failures, never retried on a permanent refusal, and sent
with a Message-ID that stays the same on every attempt."""

import datetime as dt
import smtplib
from unittest import mock

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from inbox.models import Notification
from itsm import notify
from itsm.choices import Role, TimelineKind
from itsm.models import TimelineEntry
from itsm.outbox import OutboxMessage, OutboxStatus
from tests.base import APITestCases, ItsmTestCase
from tests.concurrency import run_in_parallel
from tests.factories import SupportGroupFactory, make_outbox_message, make_ticket, make_user

SEND = 'itsm.notify.EmailMultiAlternatives.send'


@pytest.fixture
def ticket(db):
    """An assigned ticket whose group has its own address and one member (who gets the inbox copy)."""
    agent = make_user(Role.SERVICE_DESK_AGENT, username='sam', email='sam@example.com')
    group = SupportGroupFactory(name='Service Desk', email='desk@example.com', members=[agent])
    ticket = make_ticket(state='assigned', group=group, agent=agent)
    OutboxMessage.objects.all().delete()  # what making the ticket queued is not what these tests send
    Notification.objects.all().delete()
    mail.outbox.clear()
    return ticket


def tell_group(ticket) -> OutboxMessage:
    notify.notify(ticket, 'assigned', ['group'], label='Assigned to your group')
    return OutboxMessage.objects.latest('id')


def notices(ticket):
    return TimelineEntry.objects.for_object(ticket).filter(kind=TimelineKind.NOTIFICATION, data__event='assigned')


def message_ids() -> list[str]:
    return [m.message()['Message-ID'] for m in mail.outbox]


def test_a_rollback_drops_the_notification(ticket, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        notify.notify(ticket, 'assigned', ['group'], label='Assigned to your group')
        assert OutboxMessage.objects.count() == 1
        raise RuntimeError('the change failed')
    assert OutboxMessage.objects.count() == 0
    assert callbacks == [] and mail.outbox == []


def test_a_commit_keeps_it_while_the_broker_is_down_and_the_sweep_delivers_it(
    ticket, django_capture_on_commit_callbacks, caplog
):
    broker_down = mock.patch('itsm.tasks.deliver_notification_task.delay', side_effect=ConnectionError('broker down'))
    with broker_down, django_capture_on_commit_callbacks(execute=True):
        row = tell_group(ticket)
    assert 'broker down' in caplog.text  # logged, the request that committed is not failed
    row.refresh_from_db()
    assert (row.status, row.attempts, mail.outbox) == (OutboxStatus.PENDING, 0, [])
    assert notify.outbox_sweep() == {'purged': 0}  # within the grace its own task may still come
    later = timezone.now() + dt.timedelta(seconds=31)
    assert notify.outbox_sweep(now=later) == {OutboxStatus.SENT: 1, 'purged': 0}
    row.refresh_from_db()
    assert (row.status, row.attempts, row.emailed) == (OutboxStatus.SENT, 1, ['desk@example.com'])
    assert [m.to for m in mail.outbox] == [['desk@example.com']]
    assert notices(ticket).count() == 1
    assert Notification.objects.filter(recipient__username='sam', event='assigned').count() == 1
    assert notify.outbox_sweep(now=later + dt.timedelta(hours=1)) == {'purged': 0}  # nothing twice
    assert len(mail.outbox) == 1


def test_one_task_delivers_the_rows_of_one_transaction_and_one_failing_row_holds_up_none(ticket, caplog):
    from itsm.tasks import deliver_notification_task

    first, second = tell_group(ticket), tell_group(ticket)
    real = notify.deliver_outbox

    def failing_first(outbox_id, **kwargs):
        if outbox_id == first.pk:
            raise RuntimeError('template missing')
        return real(outbox_id, **kwargs)

    with mock.patch('itsm.notify.deliver_outbox', side_effect=failing_first):
        assert deliver_notification_task([first.pk, second.pk]) == f'error, {OutboxStatus.SENT}'
    assert 'template missing' in caplog.text
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (OutboxStatus.PENDING, OutboxStatus.SENT)  # the sweep retries the first
    assert deliver_notification_task(first.pk) == OutboxStatus.SENT  # one id, as an older release queued it


def test_the_task_after_commit_delivers_at_once_with_a_message_id_from_the_row(
    ticket, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        row = tell_group(ticket)
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT and row.sent_at is not None
    [sent] = mail.outbox
    assert sent.message()['Message-ID'] == notify.message_id(row.key, ['desk@example.com'])
    assert row.key in sent.message()['Message-ID'] and sent.message()['Message-ID'].endswith('@localhost>')
    assert notify.deliver_outbox(row.pk) == 'skipped'  # a second task for the row (a redelivery) sends nothing
    assert len(mail.outbox) == 1 and notices(ticket).count() == 1


def test_a_copy_sent_again_after_the_commit_failed_has_the_same_message_id(ticket):
    """The documented window: the mail server accepted the e-mail, then the delivery's transaction did not commit
    (here its timeline entry fails; in life the worker is killed). The row is delivered again: same Message-ID."""
    row = tell_group(ticket)
    real, calls = notify.audit.record, []

    def fails_once(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise OSError('connection to the database lost')
        return real(*args, **kwargs)

    with mock.patch('itsm.notify.audit.record', side_effect=fails_once):
        assert notify.deliver_outbox(row.pk) == OutboxStatus.PENDING
        assert len(mail.outbox) == 1 and notices(ticket).count() == 0
        assert Notification.objects.filter(event='assigned').count() == 0  # the inbox copy rolled back too
        row.refresh_from_db()
        # The server had accepted the address before the failure; it stays on the row, and the retry skips it.
        assert row.emailed == ['desk@example.com']
        row.emailed = []  # what a killed worker leaves: nothing recorded
        row.save()
        assert notify.deliver_outbox(row.pk, now=row.next_attempt_at) == OutboxStatus.SENT
    first, second = message_ids()
    assert first == second == notify.message_id(row.key, ['desk@example.com'])
    assert notices(ticket).count() == 1
    assert Notification.objects.filter(recipient__username='sam', event='assigned').count() == 1


def test_a_retry_skips_the_addresses_the_server_already_accepted(ticket):
    row = tell_group(ticket)
    with mock.patch('itsm.notify.audit.record', side_effect=OSError('database gone')):
        notify.deliver_outbox(row.pk)
    assert notify.deliver_outbox(row.pk, now=timezone.now() + dt.timedelta(minutes=2)) == OutboxStatus.SENT
    assert len(mail.outbox) == 1 and notices(ticket).count() == 1


def test_transient_failures_retry_with_backoff_then_give_up(ticket, settings, caplog):
    settings.NOTIFY_MAX_ATTEMPTS = 3
    settings.NOTIFY_RETRY_SECONDS = 60
    row = tell_group(ticket)
    start = timezone.now()
    with mock.patch(SEND, side_effect=smtplib.SMTPServerDisconnected('Connection unexpectedly closed')) as send:
        assert notify.deliver_outbox(row.pk, now=start) == OutboxStatus.PENDING
        row.refresh_from_db()
        assert row.attempts == 1 and row.next_attempt_at >= start + dt.timedelta(seconds=60)
        assert 'SMTPServerDisconnected' in row.last_error
        assert notify.outbox_sweep(now=start + dt.timedelta(seconds=30)) == {'purged': 0}  # not due yet
        assert notify.outbox_sweep(now=row.next_attempt_at) == {OutboxStatus.PENDING: 1, 'purged': 0}
        row.refresh_from_db()
        assert row.attempts == 2
        assert row.next_attempt_at - timezone.now() > dt.timedelta(seconds=110)  # 120 s: doubled
        assert notify.outbox_sweep(now=row.next_attempt_at) == {OutboxStatus.FAILED: 1, 'purged': 0}
        assert send.call_count == 3
        assert notify.outbox_sweep(now=start + dt.timedelta(days=1)) == {'purged': 0}  # given up: left alone
    row.refresh_from_db()
    assert (row.status, row.attempts, row.next_attempt_at) == (OutboxStatus.FAILED, 3, None)
    assert row.failed_at is not None and 'Connection unexpectedly closed' in row.last_error
    assert 'given up after 3 attempts' in caplog.text
    assert notices(ticket).count() == 0 and Notification.objects.filter(event='assigned').count() == 0


def test_a_transient_failure_then_success_delivers_once(ticket):
    row = tell_group(ticket)
    with mock.patch(SEND, side_effect=[ConnectionRefusedError('mail server down'), 1]) as send:
        notify.deliver_outbox(row.pk)
        assert notify.outbox_sweep(now=timezone.now() + dt.timedelta(minutes=2))[OutboxStatus.SENT] == 1
    assert send.call_count == 2
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (
        OutboxStatus.SENT,
        2,
        'ConnectionRefusedError: mail server down',
    )
    assert notices(ticket).count() == 1
    assert Notification.objects.filter(recipient__username='sam', event='assigned').count() == 1


def test_a_permanent_refusal_is_recorded_and_never_retried(ticket):
    refused = smtplib.SMTPRecipientsRefused({'desk@example.com': (550, b'5.1.1 No such mailbox')})
    row = tell_group(ticket)
    with mock.patch(SEND, side_effect=refused) as send:
        assert notify.deliver_outbox(row.pk) == OutboxStatus.SENT
        assert notify.outbox_sweep(now=timezone.now() + dt.timedelta(days=1)) == {'purged': 0}
    assert send.call_count == 1
    row.refresh_from_db()
    assert row.attempts == 1 and row.next_attempt_at is None
    assert row.refused == {'desk@example.com': '550 5.1.1 No such mailbox'} and row.emailed == []
    assert 'No such mailbox' in row.last_error
    # The rest of the notification went out: the inbox copy and the timeline entry.
    assert Notification.objects.filter(recipient__username='sam', event='assigned').count() == 1
    assert notices(ticket).count() == 1


@pytest.mark.parametrize(
    'error',
    [
        smtplib.SMTPRecipientsRefused({'desk@example.com': (450, b'4.2.1 Mailbox busy')}),
        smtplib.SMTPDataError(451, b'4.3.0 Try again later'),
        smtplib.SMTPSenderRefused(553, b'5.7.1 Sender not allowed', 'servicedesk@localhost'),
        smtplib.SMTPAuthenticationError(535, b'5.7.8 Bad credentials'),
    ],
    ids=['4xx-recipient', '4xx-data', 'sender-refused', 'authentication'],
)
def test_temporary_and_server_wide_refusals_are_retried(ticket, error):
    row = tell_group(ticket)
    with mock.patch(SEND, side_effect=error):
        assert notify.deliver_outbox(row.pk) == OutboxStatus.PENDING
    row.refresh_from_db()
    assert row.refused == {} and row.next_attempt_at is not None


def test_a_permanent_data_refusal_is_not_retried(ticket):
    row = tell_group(ticket)
    with mock.patch(SEND, side_effect=smtplib.SMTPDataError(554, b'5.6.0 Message rejected')) as send:
        notify.deliver_outbox(row.pk)
        notify.outbox_sweep(now=timezone.now() + dt.timedelta(hours=2))
    assert send.call_count == 1
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT and row.refused == {'desk@example.com': '554 5.6.0 Message rejected'}


def test_deliver_goes_through_a_row_and_a_key_is_delivered_once(ticket):
    message = notify.deliver(ticket, 'assigned', ['desk@example.com'], label='SLA warning', key='sla-event-7')
    assert message is not None and message.key == 'sla-event-7'
    row = OutboxMessage.objects.get(key='sla-event-7')
    assert (row.status, row.rendered['subject']) == (OutboxStatus.SENT, message.subject)
    assert message_ids() == [notify.message_id('sla-event-7', ['desk@example.com'])]
    assert notify.deliver(ticket, 'assigned', ['desk@example.com'], label='SLA warning', key='sla-event-7') is None
    assert len(mail.outbox) == 1 and notices(ticket).count() == 1


def test_deliver_hands_a_transient_failure_to_the_outbox_instead_of_failing_its_caller(ticket):
    with mock.patch(SEND, side_effect=smtplib.SMTPServerDisconnected('gone')):
        message = notify.deliver(ticket, 'assigned', ['desk@example.com'], label='Assigned', key='claim-1')
    assert message is not None and mail.outbox == [] and notices(ticket).count() == 0
    row = OutboxMessage.objects.get(key='claim-1')
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
    ticket.short_description = 'Changed afterwards'
    ticket.save()
    assert notify.outbox_sweep(now=timezone.now() + dt.timedelta(minutes=2))[OutboxStatus.SENT] == 1
    # Sent as it was rendered when handed over, with the caller's key as its Message-ID.
    [sent] = mail.outbox
    assert sent.subject == message.subject and 'Changed afterwards' not in sent.subject
    assert sent.message()['Message-ID'] == notify.message_id('claim-1', ['desk@example.com'])
    assert notices(ticket).count() == 1


def test_a_row_whose_record_was_deleted_is_given_up(ticket):
    row = make_outbox_message(record=ticket)
    row.object_id = 10**9
    row.save()
    assert notify.deliver_outbox(row.pk) == OutboxStatus.FAILED
    row.refresh_from_db()
    assert row.last_error == 'The record no longer exists.' and mail.outbox == []


def test_old_sent_rows_are_purged(ticket, settings):
    settings.NOTIFY_OUTBOX_RETENTION_DAYS = 30
    now = timezone.now()
    days_ago = [now - dt.timedelta(days=days) for days in (31, 29)]
    old_sent = make_outbox_message(record=ticket, status='sent', created_at=days_ago[0], sent_at=days_ago[0])
    recent = make_outbox_message(record=ticket, status='sent', created_at=days_ago[1], sent_at=days_ago[1])
    old_failed = make_outbox_message(record=ticket, status='failed', created_at=now - dt.timedelta(days=90))
    pending = make_outbox_message(record=ticket, next_attempt_at=now + dt.timedelta(hours=1))
    assert notify.outbox_sweep(now=now) == {'purged': 1}
    assert set(OutboxMessage.objects.values_list('pk', flat=True)) == {recent.pk, old_failed.pk, pending.pk}
    assert not OutboxMessage.objects.filter(pk=old_sent.pk).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_deliverers_send_each_row_once():
    group = SupportGroupFactory(name='Service Desk', email='desk@example.com')
    tickets = [make_ticket(state='assigned', group=group) for _ in range(12)]
    OutboxMessage.objects.all().delete()
    before = {ticket.pk: notices(ticket).count() for ticket in tickets}  # their assignment's own notice
    with mock.patch('itsm.tasks.deliver_notification_task.delay'):  # the tasks after commit: run below instead
        rows = [tell_group(ticket) for ticket in tickets]
    mail.outbox.clear()
    later = timezone.now() + dt.timedelta(minutes=1)
    # Four sweeps and a task per row, all at once: each row is locked by one of them and skipped by the others.
    work = [lambda: notify.outbox_sweep(now=later) for _ in range(4)]
    work += [lambda pk=row.pk: notify.deliver_outbox(pk) for row in rows]
    results = run_in_parallel(work)
    assert all(outcome == 'ok' for outcome, _ in results), results
    sent = sum(r.get(OutboxStatus.SENT, 0) for _, r in results[:4]) + sum(r == 'sent' for _, r in results[4:])
    assert sent == 12
    assert len(mail.outbox) == 12 and len(set(message_ids())) == 12
    assert set(OutboxMessage.objects.values_list('status', 'attempts')) == {(OutboxStatus.SENT, 1)}
    for ticket in tickets:
        assert notices(ticket).count() == before[ticket.pk] + 1


class OutboxMessageAPITests(APITestCases.ReadOnlyCollection, APITestCases.ModelAPITestCase):
    refused_update = {'status': 'sent'}
    model = OutboxMessage
    basename = 'outboxmessage'
    view_roles = (Role.ADMINISTRATOR,)
    write_roles = (Role.ADMINISTRATOR,)
    denied_roles = (Role.INCIDENT_MANAGER,)
    supports_delete = False

    def setUp(self):
        super().setUp()
        self.record = make_ticket()
        OutboxMessage.objects.all().delete()

    def make_object(self, **kwargs):
        return make_outbox_message(record=self.record, **kwargs)

    def create_data(self):
        return {'event': 'assigned'}

    def filter_cases(self):
        pending = self.make_object(event='assigned')
        sent = self.make_object(event='resolved', status='sent')
        failed = self.make_object(event='resolved', status='failed', last_error='Connection refused')
        return [
            ({'status': 'failed'}, [failed]),
            ({'status': ['pending', 'failed']}, [pending, failed]),
            ({'event': 'resolved'}, [sent, failed]),
            ({'key': sent.key}, [sent]),
        ]

    def test_filters_by_record_and_time_and_bad_values_are_a_400(self):
        old = self.make_object(created_at=timezone.now() - dt.timedelta(days=2))
        new = self.make_object()
        client = self.api_client(self.viewer())
        since = (timezone.now() - dt.timedelta(days=1)).isoformat()
        for params, expected in [
            ({'created_after': since}, {new.pk}),
            ({'created_before': since}, {old.pk}),
            ({'object_id': self.record.pk}, {old.pk, new.pk}),
            ({'object_id': self.record.pk + 1}, set()),
        ]:
            with self.subTest(params=params):
                response = client.get(self.list_url(), params)
                self.assertHttpStatus(response, 200)
                self.assertEqual({row['id'] for row in response.data['results']}, expected)
        for params in [{'object_id': '1e30'}, {'created_after': 'yesterday'}, {'status': 'lost'}, {'sent': 'x'}]:
            with self.subTest(params=params):
                self.assertHttpStatus(client.get(self.list_url(), params), 400)
        self.assertHttpStatus(client.get(self.list_url(), {'created_after': '2026-12-01T00:00:00+23:59'}), 200)

    def test_a_row_shows_what_became_of_it(self):
        row = self.make_object(status='failed', attempts=8, last_error='SMTPServerDisconnected: gone')
        data = self.api_client(self.viewer()).get(self.detail_url(row)).data
        self.assertEqual(data['record_type'], 'incidents.ticket')
        self.assertEqual((data['status'], data['attempts'], data['object_id']), ('failed', 8, self.record.pk))
        self.assertEqual(data['last_error'], 'SMTPServerDisconnected: gone')

    def test_staff_other_than_administrators_are_refused(self):
        self.make_object()
        for role in (Role.SERVICE_DESK_AGENT, Role.MANAGER, Role.REQUESTER):
            with self.subTest(role=role):
                self.assertHttpStatus(self.api_client(self.make_user(role)).get(self.list_url()), 403)


class OutboxAdminTests(ItsmTestCase):
    def setUp(self):
        super().setUp()
        self.admin = make_user(Role.ADMINISTRATOR, username='root', is_staff=True, is_superuser=True)
        self.client.force_login(self.admin)
        self.record = make_ticket()

    def test_rows_are_read_only_and_failed_ones_can_be_queued_again(self):
        failed = make_outbox_message(record=self.record, status='failed', attempts=8, last_error='gone')
        sent = make_outbox_message(record=self.record, status='sent', attempts=1)
        changelist = reverse('admin:itsm_outboxmessage_changelist')
        self.assertHttpStatus(self.client.get(changelist, {'status': 'failed'}), 200)
        response = self.client.get(reverse('admin:itsm_outboxmessage_change', args=[failed.pk]))
        self.assertHttpStatus(response, 200)
        self.assertNotContains(response, 'name="_save"')
        self.assertHttpStatus(self.client.get(reverse('admin:itsm_outboxmessage_add')), 403)
        response = self.client.post(
            changelist, {'action': 'deliver_again', '_selected_action': [failed.pk, sent.pk]}, follow=True
        )
        self.assertContains(response, '1 notification(s) queued again')
        failed.refresh_from_db()
        sent.refresh_from_db()
        self.assertEqual((failed.status, failed.attempts, failed.failed_at), (OutboxStatus.PENDING, 0, None))
        self.assertEqual(sent.status, OutboxStatus.SENT)


def test_beat_sweeps_the_outbox_every_minute_and_workers_acknowledge_late(settings):
    from itsm.celery import app

    entry = app.conf.beat_schedule['notification-outbox']
    assert entry['task'] in app.tasks and entry['schedule'] == 60.0
    assert app.conf.task_acks_late is True and app.conf.worker_prefetch_multiplier == 1
    # A task that killed its process is not queued again (it could loop); the sweep finishes its work instead.
    assert app.conf.task_reject_on_worker_lost is False


def test_a_notification_task_queued_by_an_older_release_still_delivers(ticket):
    """`send_notification_task` messages queued before the outbox existed go through a row now."""
    from django.contrib.contenttypes.models import ContentType

    from itsm.tasks import send_notification_task

    content_type = ContentType.objects.get_for_model(ticket)
    args = (content_type.pk, ticket.pk, 'assigned', ['desk@example.com'], 'Assigned to your group', {}, False)
    assert send_notification_task.apply(args=args).get() is True
    assert OutboxMessage.objects.get().status == OutboxStatus.SENT
    assert [m.to for m in mail.outbox] == [['desk@example.com']] and notices(ticket).count() == 1
