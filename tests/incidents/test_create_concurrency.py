"""Creates on real parallel PostgreSQL connections: distinct numbers, and none waits for another's transaction."""

import threading
import time

import pytest
from django.db import transaction

from incidents import services
from itsm.audit import Actor
from itsm.choices import Role
from tests.concurrency import run_in_parallel
from tests.factories import make_group_with_agent, make_user
from tests.sla.factories import all_priorities

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def open_incident(agent, caller, text: str):
    return services.ticket_create(actor=Actor(user=agent), caller=caller, short_description=text, impact='low')


def test_creates_at_the_same_moment_all_succeed_with_distinct_numbers():
    _, agent = make_group_with_agent()
    all_priorities()
    caller = make_user(Role.REQUESTER)
    open_incident(agent, caller, 'Before the race')  # the number sequence exists before the race

    def five_creates(worker):
        return [open_incident(agent, caller, f'Worker {worker}, ticket {n}').number for n in range(5)]

    results = run_in_parallel([lambda w=w: five_creates(w) for w in range(8)])

    assert all(status == 'ok' for status, _ in results), results
    numbers = [number for _, taken in results for number in taken]
    assert len(numbers) == 40 and len(set(numbers)) == 40, numbers


def test_a_create_completes_while_another_create_holds_its_transaction_open():
    _, agent = make_group_with_agent()
    all_priorities()
    caller = make_user(Role.REQUESTER)
    open_incident(agent, caller, 'Before the race')
    created, released = threading.Event(), threading.Event()
    finished_at: dict[str, float] = {}

    def create_and_hold():
        with transaction.atomic():
            ticket = open_incident(agent, caller, 'Held open')
            created.set()
            released.wait(timeout=20)  # held until the other create is done (or the wait gives up)
        finished_at['held'] = time.monotonic()
        return ticket.number

    def create_meanwhile():
        assert created.wait(timeout=20)
        try:
            return open_incident(agent, caller, 'Created meanwhile').number
        finally:
            finished_at['meanwhile'] = time.monotonic()
            released.set()

    (held_status, held), (other_status, other) = run_in_parallel([create_and_hold, create_meanwhile], timeout=60)

    assert (held_status, other_status) == ('ok', 'ok'), (held, other)
    assert held != other
    assert finished_at['meanwhile'] < finished_at['held'], 'the second create waited for the first to commit'
