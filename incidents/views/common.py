"""What the incidents pages share: finding a ticket by number."""

from __future__ import annotations

from itsm.views.records import find_record

from .. import selectors
from ..models import Ticket


def find_ticket(number: str, *, queryset=None) -> Ticket:
    """A ticket by its current or former number among `queryset` (every ticket with its relations by default)."""
    return find_record(selectors.ticket_list() if queryset is None else queryset, number)
