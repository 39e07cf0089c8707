"""Priority = impact × urgency (domain §3): all 25 pairs, the e-mail default, overrides and matrix edits."""

import math

import pytest
from django.core.exceptions import ValidationError

from incidents import services
from incidents.priority import compute_priority
from itsm.audit import Actor
from itsm.choices import Impact, Role, TimelineKind, Urgency
from itsm.models import TimelineEntry
from tests.factories import make_ticket, make_user

pytestmark = pytest.mark.django_db

# The domain's table, written out by hand: rows impact severe..none, columns urgency immediate..negotiated.
EXPECTED = [
    [0, 1, 1, 2, 2],
    [1, 1, 2, 2, 3],
    [1, 2, 2, 3, 3],
    [2, 2, 3, 3, 4],
    [2, 3, 3, 4, 4],
]
PAIRS = [(i, u) for i in range(5) for u in range(5)]


@pytest.mark.parametrize(('i', 'u'), PAIRS, ids=[f'{Impact.values[i]}-{Urgency.values[u]}' for i, u in PAIRS])
def test_every_pair_gets_the_matrix_priority(i, u):
    impact, urgency = Impact.values[i], Urgency.values[u]
    assert EXPECTED[i][u] == math.ceil((i + u) / 2)
    assert compute_priority(impact, urgency) == EXPECTED[i][u]
    ticket = make_ticket(impact=impact, urgency=urgency)
    assert ticket.priority == EXPECTED[i][u]


def test_named_priorities_of_the_domain_table():
    assert compute_priority(Impact.SEVERE, Urgency.IMMEDIATE) == 0
    assert compute_priority(Impact.HIGH, Urgency.CRITICAL) == 1
    assert compute_priority(Impact.MEDIUM, Urgency.URGENT) == 2
    assert compute_priority(Impact.LOW, Urgency.NORMAL) == 3
    assert compute_priority(Impact.NONE, Urgency.NEGOTIATED) == 4


def test_email_without_impact_or_urgency_is_p4():
    ticket = make_ticket(channel='email')
    assert (ticket.impact, ticket.urgency, ticket.priority) == (Impact.NONE, Urgency.NEGOTIATED, 4)


def test_email_with_impact_given_uses_the_matrix():
    ticket = make_ticket(channel='email', impact=Impact.HIGH, urgency=Urgency.CRITICAL)
    assert ticket.priority == 1


def test_edited_matrix_applies_to_new_tickets():
    admin = make_user(Role.ADMINISTRATOR)
    services.priority_matrix_set(actor=Actor(user=admin), cells=[(Impact.LOW, Urgency.NORMAL, 1)])
    assert make_ticket(impact=Impact.LOW, urgency=Urgency.NORMAL).priority == 1


def test_invalid_matrix_cell_is_refused():
    with pytest.raises(ValidationError):
        services.priority_matrix_set(actor=Actor.system(), cells=[(Impact.LOW, 'whenever', 1)])


def test_override_needs_a_reason_and_is_recorded():
    agent = make_user(Role.SERVICE_DESK_AGENT)
    ticket = make_ticket(impact=Impact.LOW, urgency=Urgency.NORMAL)
    with pytest.raises(ValidationError) as excinfo:
        services.ticket_override_priority(ticket=ticket, actor=Actor(user=agent), priority=1, reason=' ')
    assert 'reason' in excinfo.value.message_dict
    services.ticket_override_priority(ticket=ticket, actor=Actor(user=agent), priority=1, reason='CEO affected')
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.priority_override_reason) == (1, 'CEO affected')
    entry = TimelineEntry.objects.for_object(ticket).filter(kind=TimelineKind.FIELD_CHANGE).last()
    assert {'field': 'priority', 'label': 'priority', 'before': 3, 'after': 1} in entry.changes
    assert 'CEO affected' in entry.message


def test_overridden_priority_survives_impact_edits():
    agent = make_user(Role.SERVICE_DESK_AGENT)
    ticket = make_ticket(impact=Impact.LOW, urgency=Urgency.NORMAL)
    services.ticket_override_priority(ticket=ticket, actor=Actor(user=agent), priority=1, reason='VIP')
    services.ticket_update(ticket=ticket, actor=Actor(user=agent), impact=Impact.NONE)
    ticket.refresh_from_db()
    assert ticket.priority == 1


def test_impact_edit_recomputes_priority():
    agent = make_user(Role.SERVICE_DESK_AGENT)
    ticket = make_ticket(impact=Impact.LOW, urgency=Urgency.NORMAL)
    services.ticket_update(ticket=ticket, actor=Actor(user=agent), impact=Impact.SEVERE, urgency=Urgency.IMMEDIATE)
    ticket.refresh_from_db()
    assert ticket.priority == 0
