"""`incidents.services.ticket_complete_unworked`, added for monitoring: completes a ticket nobody owns, from New,
Assigned or a reopened Accepted without an assignee; refuses one someone owns."""

import pytest

from incidents import services
from incidents.choices import TicketState
from itsm.audit import Actor
from itsm.choices import Channel, TimelineKind
from itsm.errors import Conflict
from itsm.models import TimelineEntry
from tests.factories import make_group_with_agent, make_ticket

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system(channel=Channel.MONITORING)


def complete(ticket):
    return services.ticket_complete_unworked(
        ticket=ticket, actor=SYSTEM, resolution_code='solved_remotely', resolution_notes='Recovered by itself.'
    )


@pytest.mark.parametrize('state', [TicketState.NEW, TicketState.ASSIGNED])
def test_an_unowned_ticket_is_completed_with_its_resolution(state):
    group, _ = make_group_with_agent(name='Ops')
    ticket = make_ticket(state=TicketState.NEW)
    if state == TicketState.ASSIGNED:
        ticket = services.ticket_assign(ticket=ticket, actor=SYSTEM, group=group)
    ticket = complete(ticket)
    ticket.refresh_from_db()
    assert (ticket.state, ticket.resolution_code, ticket.resolution_notes) == (
        TicketState.COMPLETED,
        'solved_remotely',
        'Recovered by itself.',
    )
    assert ticket.completed_at is not None
    entry = TimelineEntry.objects.for_object(ticket).filter(kind=TimelineKind.TRANSITION).last()
    assert (entry.data['to'], entry.channel) == (TicketState.COMPLETED, Channel.MONITORING)


def test_a_ticket_someone_owns_is_refused_and_left_as_it_was():
    ticket = make_ticket(state=TicketState.ACCEPTED)
    with pytest.raises(Conflict) as refused:
        complete(ticket)
    assert refused.value.code == 'being_worked'
    ticket.refresh_from_db()
    assert ticket.state == TicketState.ACCEPTED
