"""The same message processed by several workers at once (overlapping polls, two mailboxes) on real parallel
PostgreSQL connections: one claims it and opens one ticket, the others skip it."""

import pytest

from incidents.models import Ticket
from itsm.models import User
from mailboxes import services
from mailboxes.choices import Outcome
from mailboxes.models import InboundMessage, Mailbox
from tests.concurrency import run_in_parallel
from tests.factories import make_user

from .factories import MailboxFactory
from .messages import build

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 6


def test_a_message_read_by_several_workers_at_once_opens_one_ticket():
    make_user(email='ada@example.com')
    mailboxes = [MailboxFactory(), MailboxFactory()]
    raw = build(message_id='<race@mail.example.com>')

    results = run_in_parallel(
        [lambda n=n: services.process_message(Mailbox.objects.get(pk=mailboxes[n % 2].pk), raw) for n in range(WORKERS)]
    )

    assert all(kind == 'ok' for kind, _ in results), results
    rows = [row for _, row in results if row is not None]
    assert len(rows) == 1 and rows[0].outcome == Outcome.OPENED, results
    assert Ticket.objects.count() == 1
    assert InboundMessage.objects.get().record_number == Ticket.objects.get().number


def test_a_new_sender_writing_to_several_workers_at_once_is_registered_once():
    mailbox = MailboxFactory()
    raw = build(sender='Grace Hopper <grace@navy.example>', message_id='<newcomer@mail.example.com>')

    results = run_in_parallel([lambda: services.process_message(Mailbox.objects.get(pk=mailbox.pk), raw)] * WORKERS)

    assert all(kind == 'ok' for kind, _ in results), results
    assert User.objects.filter(email='grace@navy.example').count() == 1
    assert Ticket.objects.count() == 1


def test_several_messages_from_one_newcomer_at_once_register_them_once():
    mailbox = MailboxFactory()
    raws = [
        build(sender='Grace Hopper <grace@navy.example>', subject=f'Problem {n}', message_id=f'<n{n}@mail.example>')
        for n in range(WORKERS)
    ]

    results = run_in_parallel(
        [lambda raw=raw: services.process_message(Mailbox.objects.get(pk=mailbox.pk), raw) for raw in raws]
    )

    assert all(kind == 'ok' and row.outcome == Outcome.OPENED for kind, row in results), [
        (kind, getattr(row, 'reason', row)) for kind, row in results
    ]
    grace = User.objects.get(email='grace@navy.example')
    assert set(Ticket.objects.values_list('caller', flat=True)) == {grace.pk}
    assert Ticket.objects.count() == WORKERS
