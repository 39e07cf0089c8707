"""The load and fault benches (`python -m bench load|faults`): their clients against a live server, and the
figures they report (latency table, memory slope, errors and recovery around a fault)."""

from __future__ import annotations

import threading
import time
from urllib.parse import urlparse

import pytest
from django.db import connection

from bench import faults, load
from bench.load import Recorder, Sample, Workload
from itsm.choices import Role
from tests.factories import SupportGroupFactory, make_user


@pytest.mark.django_db(transaction=True)
def test_every_client_role_works_against_a_live_server_without_errors(live_server, settings):
    settings.ALLOWED_HOSTS = ['127.0.0.1']  # the clients' Host, as for the bench's gunicorn
    agent = make_user(Role.SERVICE_DESK_AGENT, username=load.AGENT, password=load.PASSWORD)
    SupportGroupFactory(name=load.GROUP, members=[agent])
    make_user(username=load.REQUESTER, password=load.PASSWORD)

    recorder = Recorder()
    workload = Workload(urlparse(live_server.url).port, recorder, seed=3, think=0.01)
    wanted = {
        'agent API': {'API token exchange', 'API create', 'API assign', 'API accept', 'API complete'},
        'requester': {'portal comment (POST)', 'portal ticket'},
        'agent pages': {'sign in (POST)', 'ticket page', 'queue page'},
    }
    # SQLite's in-memory test database holds a table lock for a writer's whole transaction and makes no one wait
    # for it (shared cache), so there the roles take turns, the API first (its tickets feed the others); on
    # PostgreSQL they run at once, as in the bench.
    turns = [['agent API'], ['requester'], ['agent pages']] if connection.vendor == 'sqlite' else [list(wanted)]
    for roles in turns:
        workload.stop = threading.Event()
        threads = [
            threading.Thread(target=workload.run, args=(role, load.ROLES.index(role)), daemon=True) for role in roles
        ]
        for thread in threads:
            thread.start()
        goal = set().union(*(wanted[role] for role in roles))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not goal <= {s.operation for s in list(recorder.samples)}:
            time.sleep(0.5)
        workload.stop.set()
        for thread in threads:
            thread.join(10)
    done = {s.operation for s in recorder.samples}

    errors = [s for s in recorder.samples if s.error]
    assert not errors, errors[:3]
    every = set().union(*wanted.values())
    assert every <= done, f'not run: {every - done}'
    table = load.operations_table(recorder.samples, minutes=0.5)
    assert table.splitlines()[0].split()[:3] == ['operation', 'count', 'per']
    assert table.splitlines()[-1].startswith('all ')


def test_a_failed_request_and_an_unexpected_status_are_errors_an_expected_one_is_not():
    recorder = Recorder()

    def refused():
        raise ConnectionRefusedError('refused')

    recorder.call('down', refused)
    recorder.call('conflict', lambda: load.Answer(409, {}, b'{}'), expect=(409,))
    recorder.call('server error', lambda: load.Answer(500, {}, b'{}'))
    recorder.call('redirect', lambda: load.Answer(302, {'Location': '/'}, b''))
    assert [(s.operation, s.status, s.error) for s in recorder.samples] == [
        ('down', 0, True),
        ('conflict', 409, False),
        ('server error', 500, True),
        ('redirect', 302, False),
    ]
    assert load.outcome(load.Answer(302, {'Location': '/login/?next=/queues/'}, b'')) is load.SIGNED_OUT
    assert load.outcome(load.Answer(401, {}, b'')) is load.SIGNED_OUT
    assert load.outcome(load.Answer(500, {}, b'')) is False
    assert load.outcome(None) is False


def test_the_memory_slope_shows_growth_and_flat_memory():
    assert load.slope([(t, 100.0) for t in range(0, 600, 5)]) == 0
    growing = load.slope([(t, 100 + t / 60) for t in range(0, 600, 5)])  # 1 MiB a minute
    assert growing * 600 == pytest.approx(10)
    assert load.percentile([5, 1, 4, 2, 3], 0.5) == 3 and load.percentile([], 0.95) == 0


def test_the_fault_report_counts_errors_around_the_outage_and_the_recovery():
    fault = faults.Fault('PostgreSQL restart', since=0, stopped_at=60, back_at=68, until=160)
    samples = [
        *(Sample(at, 'page', 100, 200, False) for at in range(0, 59)),  # before: all fine
        *(Sample(at, 'page', 50, 500, True) for at in range(60, 68)),  # the outage
        Sample(68.5, 'page', 100, 500, True),  # an old connection noticed just after the return
        *(Sample(at, 'page', 100, 200, False) for at in range(70, 160)),
    ]
    prober = faults.Prober.__new__(faults.Prober)
    prober.answers = [(66, 0), (68.2, 503), (68.9, 200)]
    row = faults.report(fault, samples, prober, [(60, 10), (70, 10), (150, 40)])
    assert row == ('PostgreSQL restart', '8.0', '0 of 59', '8 of 8', '1 of 91', '0.6', '0.9', '90', '30')


@pytest.mark.django_db
def test_a_queue_page_leaves_out_a_ticket_that_left_the_queue_between_its_two_reads():
    """Found by the load bench: the queue page read the page's ids, an agent completed one of those tickets, and
    the second read (the tickets with what they show) no longer had it."""
    from django.db import connection

    from incidents.choices import OPEN_STATES
    from incidents.models import Ticket
    from incidents.selectors import QueuePageQuerySet
    from tests.factories import make_ticket

    first, second = make_ticket(), make_ticket()
    done = []

    def close_after_the_first_read(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if not done:
            done.append(sql)
            Ticket.objects.filter(pk=first.pk).update(state='closed')
        return result

    with connection.execute_wrapper(close_after_the_first_read):
        page = QueuePageQuerySet(Ticket).filter(state__in=OPEN_STATES).order_by('pk')[0:50]
    assert [ticket.pk for ticket in page] == [second.pk]
