"""Where major incidents show on other records' pages, which know nothing of them: the incident page's card, the CI
and service pages, and the change risk assessment's "major incidents" signal.

- The incident page (`incident_card`): the major incident it is part of, else the candidate holding it, else the
  open major incidents on its service or CI, each with a one-click link, and for incident managers a way to declare
  one from it.
- CI and service pages (`item_panel`): the open major incidents on the item and the last few closed ones.
- Change risk (`change_risk_source`): open major incidents on the change's CIs and services, in place of the open
  P0/P1 incidents the risk assessment counts without this app.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q

from changes import risk
from incidents.models import Ticket
from itsm.choices import TicketKind
from itsm.permissions import user_can

from . import selectors
from .actions import LINKER_ROLES, is_incident_manager
from .candidates import candidate_of
from .choices import ACTIVE, STATE_COLOURS, MajorIncidentState
from .models import MajorIncident, MajorIncidentChild

ITEM_CLOSED_SHOWN = 5
FINISHED = (MajorIncidentState.REVIEW, MajorIncidentState.CLOSED)


def reads_majors(user) -> bool:
    """Staff who may see major incidents (requesters follow them on the public status page only)."""
    return bool(
        user is not None
        and user.is_authenticated
        and not user.is_requester_only
        and user_can(user, MajorIncident, 'view')
    )


def _declare_url(query: dict[str, Any]) -> str:
    from .views.candidates import declare_url

    return declare_url(**query)


# ------------------------------------------------------------------------------------------------ incident page
def incident_card(request, ticket: Ticket) -> dict[str, Any] | None:
    """The incident page's "Major incident" card in one of three forms (at most three queries):

    its major incident ("Part of MIR…"), else the proposed candidate holding it, else the open major incidents on
    its service or CI, which the people who link children join it to in one click."""
    user = request.user
    if ticket.kind != TicketKind.INCIDENT or not reads_majors(user):
        return None
    link = MajorIncidentChild.objects.filter(incident=ticket).select_related('major_incident').first()
    if link is not None:
        major = link.major_incident
        return {'form': 'child', 'major': major, 'major_colour': STATE_COLOURS.get(major.state, 'secondary')}
    candidate = candidate_of(ticket)
    if candidate is not None:
        return {'form': 'candidate', 'candidate': candidate}
    if not ticket.is_open:
        return None
    majors = list(selectors.active_majors_for(ticket).filter(state__in=ACTIVE)[:5])
    manages = is_incident_manager(user)
    if not majors and not manages:
        return None
    return {
        'form': 'open_majors',
        'majors': majors,
        'may_link': bool(majors) and user.has_role(*LINKER_ROLES) and user_can(user, MajorIncidentChild, 'add'),
        'declare_url': _declare_url({'incident': ticket.number}) if manages else '',
    }


# ------------------------------------------------------------------------------------------------ CI and service pages
def item_panel(request, ci) -> dict[str, Any] | None:
    """A CI's or a service's page: its open major incidents, then the last `ITEM_CLOSED_SHOWN` finished ones (two
    queries)."""
    if not reads_majors(request.user):
        return None
    on_item = MajorIncident.objects.filter(Q(services=ci) | Q(cis=ci)).select_related('incident_manager')
    open_ones = list(on_item.filter(state__in=ACTIVE).distinct().order_by('priority', '-opened_at'))
    closed = list(on_item.filter(state__in=FINISHED).distinct().order_by('-opened_at')[:ITEM_CLOSED_SHOWN])
    return {'majors_item': ci, 'majors_open': open_ones, 'majors_closed': closed, 'colours': STATE_COLOURS}


# ------------------------------------------------------------------------------------------------ change risk
RISK_LABEL = 'Major incidents open on the affected CIs and services'


def change_risk_source(change, ci_ids: list[int], names: dict[int, str]) -> risk.SignalResult:
    """Open major incidents on any CI or service in the change's scope (three queries whatever their number)."""
    if not ci_ids:
        return risk.SignalResult(0, [], label=RISK_LABEL)
    in_scope = Q(services__in=ci_ids) | Q(cis__in=ci_ids)
    majors = (
        MajorIncident.objects.filter(in_scope, state__in=ACTIVE)
        .distinct()
        .prefetch_related(Prefetch('services', queryset=_ids_only(ci_ids)), Prefetch('cis', queryset=_ids_only(ci_ids)))
        .order_by('priority', 'opened_at', 'pk')
    )
    items = []
    for major in majors:
        touched = [names[item.pk] for item in (*major.services.all(), *major.cis.all()) if item.pk in names]
        items.append(
            risk.SignalItem(
                text=f'{major.number} {major.title}',
                url=major.get_absolute_url(),
                note=f'{major.get_priority_display()} · {major.get_state_display()}',
                on=touched[0] if touched else '',
            )
        )
    return risk.SignalResult(len(items), items, label=RISK_LABEL)


def _ids_only(ci_ids: list[int]):
    from cmdb.models import ConfigurationItem

    return ConfigurationItem.objects.filter(pk__in=ci_ids).only('pk')


def register() -> None:
    """From `MajorIncidentsConfig.ready`: the incident card, the CI and service card, the change risk source."""
    from cmdb.views import register_item_panel
    from itsm.views.records import register_panel

    register_panel(Ticket, 'major_incidents/_incident_card.html', incident_card)
    register_item_panel('major_incidents/_item_panel.html', item_panel)
    risk.register_major_incident_source(change_risk_source)
