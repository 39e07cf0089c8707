"""Races between agents, on real parallel PostgreSQL connections."""

import threading

import pytest
from django.db import connection

from incidents import services
from incidents.choices import TicketState
from incidents.models import Ticket
from itsm.audit import Actor
from itsm.choices import Role, TimelineKind
from itsm.errors import ApplicationError
from itsm.models import TimelineEntry
from tests.concurrency import run_in_parallel
from tests.factories import SupportGroupFactory, make_ticket, make_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_when_several_agents_accept_at_once_exactly_one_wins():
    agents = [make_user(Role.SERVICE_DESK_AGENT) for _ in range(6)]
    group = SupportGroupFactory(name='Desk', members=agents)
    ticket = make_ticket(state=TicketState.ASSIGNED, group=group, agent=agents[0])

    results = run_in_parallel(
        [
            lambda a=a: services.ticket_accept(ticket=Ticket.objects.get(pk=ticket.pk), actor=Actor(user=a))
            for a in agents
        ],
        refused=(ApplicationError,),
    )
    outcomes = [r[0] for r in results]
    assert outcomes.count('ok') == 1, results
    assert outcomes.count('refused') == len(agents) - 1, results
    assert all(r[1].code in ('invalid_transition', 'assigned_to_other') for r in results if r[0] == 'refused')
    ticket.refresh_from_db()
    winner = next(r[1] for r in results if r[0] == 'ok')
    assert ticket.state == TicketState.ACCEPTED and ticket.assignee_id == winner.assignee_id
    accepted = TimelineEntry.objects.for_object(ticket).filter(kind=TimelineKind.TRANSITION, data__action='accept')
    assert accepted.count() == 1


def test_accept_next_in_parallel_gives_each_agent_a_different_ticket():
    agents = [make_user(Role.SERVICE_DESK_AGENT) for _ in range(4)]
    group = SupportGroupFactory(name='Desk', members=agents)
    tickets = [make_ticket(state=TicketState.ASSIGNED, group=group, agent=agents[0]) for _ in range(4)]

    results = run_in_parallel([lambda a=a: services.ticket_accept_next(actor=Actor(user=a)) for a in agents])
    assert all(r[0] == 'ok' and r[1] is not None for r in results), results
    taken = sorted(r[1].pk for r in results)
    assert taken == sorted(t.pk for t in tickets), 'each agent must get a different ticket'
    assert set(Ticket.objects.values_list('state', flat=True)) == {TicketState.ACCEPTED}


def test_accept_next_skips_a_ticket_locked_by_another_agent():
    agents = [make_user(Role.SERVICE_DESK_AGENT) for _ in range(2)]
    group = SupportGroupFactory(name='Desk', members=agents)
    first = make_ticket(state=TicketState.ASSIGNED, group=group, agent=agents[0], impact='high', urgency='critical')
    second = make_ticket(state=TicketState.ASSIGNED, group=group, agent=agents[0])
    locked, release = threading.Event(), threading.Event()

    def hold_first():
        from django.db import transaction

        with transaction.atomic():
            Ticket.objects.select_for_update().get(pk=first.pk)
            locked.set()
            release.wait(timeout=30)
        connection.close()

    holder = threading.Thread(target=hold_first)
    holder.start()
    try:
        assert locked.wait(timeout=30)
        got = run_in_parallel([lambda: services.ticket_accept_next(actor=Actor(user=agents[1]))])[0]
    finally:
        release.set()
        holder.join(timeout=30)
    assert got[0] == 'ok' and got[1].pk == second.pk
