"""What the incidents pages share: who works tickets, finding a ticket by number, and htmx answers."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.utils import timezone

from itsm.permissions import user_can

from .. import selectors
from ..actions import is_worker
from ..models import Ticket

# htmx leaves 4xx answers unswapped; ours that carry this header are form fragments with the error shown inline
# (static/pitcrew/incidents/incidents.js swaps them into place).
INLINE_ERROR_HEADER = 'Pitcrew-Inline-Error'


def can_work(user) -> bool:
    return is_worker(user) and user_can(user, Ticket, 'change')


class StaffOnlyMixin:
    """Desk pages. People who only raise requests use the portal, where they see nothing but their own tickets."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.user.is_requester_only:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


def find_ticket(number: str, *, queryset=None) -> Ticket:
    """A ticket by its current or former number among `queryset` (every ticket with its relations by default)."""
    tickets = queryset if queryset is not None else selectors.ticket_list()
    ticket = tickets.by_number(str(number)).first()
    if ticket is None:
        raise Http404(f'No ticket {number}.')
    return ticket


def inline_error(response: HttpResponse) -> HttpResponse:
    response[INLINE_ERROR_HEADER] = '1'
    return response


def compact_age(moment, now=None) -> str:
    """How long ago, in the largest one or two units: 45m, 3h 20m, 2d 4h, 6w."""
    if moment is None:
        return ''
    seconds = max(0, int(((now or timezone.now()) - moment).total_seconds()))
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if days >= 14:
        return f'{days // 7}w'
    if days:
        return f'{days}d {hours % 24}h' if hours % 24 else f'{days}d'
    if hours:
        return f'{hours}h {minutes % 60}m' if minutes % 60 else f'{hours}h'
    return f'{minutes}m'


# What each priority means to the desk (domain §3), shown next to priority badges.
PRIORITY_MEANINGS = {
    0: 'Critical: the whole company or many sites',
    1: 'High: business units or sites, major impact',
    2: 'Medium: workgroups slowed, no acceptable workaround',
    3: 'Low: one person, day-to-day problem',
    4: 'Planning: requests, advice, agreed downgrades',
}
