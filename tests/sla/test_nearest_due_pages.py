"""A page of records by nearest SLA due, read from the earliest open clocks (`sla.selectors.nearest_due_ids`), is
the page the database's sort gives (`order_by_nearest_due`), whatever the ties, paused and stopped clocks, clocks
of other records and records without a counting clock; and the all-open queue reads its pages that way."""

import datetime as dt
import random

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from incidents import selectors as ticket_selectors
from incidents.models import Ticket
from itsm.choices import Role
from itsm.models import SupportGroup
from sla import selectors
from sla.choices import ClockKind, ClockState
from sla.models import SlaClock
from tests.factories import make_group_with_agent, make_ticket, make_user
from tests.sla.factories import all_priorities

THEN = ('priority', 'opened_at', 'id')
START = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)
# Few distinct instants, so due times and opening times tie across records.
INSTANTS = [START + dt.timedelta(hours=hours) for hours in (-5, 0, 2, 3)]


def _database_order(records, start, stop):
    return list(selectors.order_by_nearest_due(records, *THEN).values_list('pk', flat=True)[start:stop])


def _shuffle_clocks(tickets, rng):
    """Each ticket's clocks running (due at one of a few instants), paused (no due time) or stopped, some with a
    third (OLA) clock; priorities and opening times drawn from a few values."""
    for ticket in tickets:
        Ticket.objects.filter(pk=ticket.pk).update(priority=rng.randint(1, 4), opened_at=rng.choice(INSTANTS))
        clocks = list(SlaClock.objects.filter(object_id=ticket.pk, content_type__model='ticket'))
        if rng.random() < 0.3 and not any(c.kind == ClockKind.OLA_ACCEPT for c in clocks):
            extra = clocks[0]
            extra.pk, extra.kind = None, ClockKind.OLA_ACCEPT
            extra.save()
            clocks.append(extra)
        for clock in clocks:
            fate = rng.random()
            if fate < 0.6:
                change = {'due_at': rng.choice(INSTANTS), 'stopped_at': None, 'state': ClockState.RUNNING}
            elif fate < 0.8:
                change = {'due_at': None, 'stopped_at': None, 'state': ClockState.PAUSED}
            else:
                change = {'due_at': rng.choice(INSTANTS), 'stopped_at': START, 'state': ClockState.MET}
            SlaClock.objects.filter(pk=clock.pk).update(**change)


@pytest.fixture
def tickets(db):
    all_priorities()
    caller = make_user(Role.REQUESTER)
    return [make_ticket(caller=caller, short_description=f'Ticket {n}') for n in range(12)]


def test_every_page_is_the_databases_page_or_left_to_the_database(tickets):
    """Each outcome is met: a page from the clocks, a page that runs past the records with a counting clock into
    the others, and None where the chosen records are too few among the earliest clocks."""
    outcomes = {'walked': 0, 'with the rest': 0, 'left to the database': 0}
    for seed in range(8):
        rng = random.Random(seed)
        _shuffle_clocks(tickets, rng)
        everyone = Ticket.objects.all()
        some = Ticket.objects.filter(pk__in=[t.pk for t in rng.sample(tickets, 4)])
        with_due = selectors.with_nearest_due(everyone).filter(sla_due__isnull=False).count()
        for records in (everyone, some):
            for size in (1, 2, 5, 20):
                for start in range(0, 14, size):
                    ids = selectors.nearest_due_ids(records, start, start + size, THEN)
                    if ids is None:
                        outcomes['left to the database'] += 1
                        continue
                    assert ids == _database_order(records, start, start + size), (seed, size, start)
                    outcomes['with the rest' if start + size > with_due else 'walked'] += 1
    assert all(outcomes.values()), outcomes


def test_clocks_of_another_kind_of_record_do_not_count(tickets):
    """A clock of another record kind with a ticket's id and an earlier due time leaves the order alone."""
    _shuffle_clocks(tickets, random.Random(3))
    last = _database_order(Ticket.objects.all(), 0, 20)[-1]
    clock = SlaClock.objects.filter(content_type__model='ticket').first()
    clock.pk, clock.due_at, clock.stopped_at = None, START - dt.timedelta(days=30), None
    clock.content_type = ContentType.objects.get_for_model(SupportGroup)
    clock.object_id = last
    clock.save()
    expected = _database_order(Ticket.objects.all(), 0, 20)
    assert expected[-1] == last
    assert selectors.nearest_due_ids(Ticket.objects.all(), 0, 20, THEN) == expected


def test_a_page_deeper_than_the_walk_is_left_to_the_database(tickets, monkeypatch):
    _shuffle_clocks(tickets, random.Random(4))
    stop = selectors.WALK_LIMIT // selectors.OPEN_CLOCKS_PER_RECORD
    assert selectors.nearest_due_ids(Ticket.objects.all(), stop - 5, stop, THEN) is not None
    assert selectors.nearest_due_ids(Ticket.objects.all(), stop - 5, stop + 1, THEN) is None
    monkeypatch.setattr(selectors, 'WALK_LIMIT', 8)
    assert selectors.nearest_due_ids(Ticket.objects.all(), 0, 3, THEN) is None
    assert selectors.nearest_due_ids(Ticket.objects.all(), 0, 2, THEN) == _database_order(Ticket.objects.all(), 0, 2)


def test_an_empty_page(db):
    assert selectors.nearest_due_ids(Ticket.objects.all(), 0, 50, THEN) == []
    assert selectors.nearest_due_ids(Ticket.objects.all(), 5, 5, THEN) == []


def test_the_all_open_queue_reads_its_pages_from_the_clocks_and_other_queues_and_sorts_do_not(tickets):
    _shuffle_clocks(tickets, random.Random(5))
    group, agent = make_group_with_agent(name='Service Desk')
    everything = ticket_selectors.queue(user=agent, name='all')
    assert everything.nearest_due_then == THEN
    assert [t.pk for t in everything[0:5]] == _database_order(Ticket.objects.all(), 0, 5)
    assert everything.order_by('-opened_at').nearest_due_then is None
    assert everything.reverse().nearest_due_then is None
    assert everything.filter(priority=1).referencing('caller').nearest_due_then == THEN
    assert ticket_selectors.queue(user=agent, name='group', group=group).nearest_due_then is None


def test_the_all_open_queue_page_shows_the_databases_order(tickets, client):
    _shuffle_clocks(tickets, random.Random(6))
    _, agent = make_group_with_agent(name='Service Desk')
    client.force_login(agent)
    response = client.get(reverse('incidents:queue'), {'q': 'all', 'per_page': 5, 'page': 2})
    assert [t.pk for t in response.context['object_list']] == _database_order(Ticket.objects.all(), 5, 10)
