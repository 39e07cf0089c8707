"""The compact filter bar of the queue and list pages: a few `TicketFilterSet` filters as plain selects."""

from __future__ import annotations

from typing import Any

from itsm.choices import Priority, TicketKind
from itsm.models import SupportGroup

from ..choices import TicketChannel, TicketState
from ..filters import TicketFilterSet

FILTER_NAMES = ('q', 'kind', 'state', 'priority', 'channel', 'group', 'assignee', 'unassigned')


class TicketFilters(TicketFilterSet):
    """The shared ticket filters, minus the empty values a filter form sends for "any"."""

    def __init__(self, data=None, *args, **kwargs):
        if data is not None:
            data = data.copy()
            for key, values in list(data.lists()):
                kept = [value for value in values if value != '']
                if kept:
                    data.setlist(key, kept)
                else:
                    del data[key]
        super().__init__(data or None, *args, **kwargs)


def filter_bar_context(request, *, kind: str = '', states=TicketState.choices) -> dict[str, Any]:
    """Choices and current values for `incidents/_filter_bar.html`."""
    params = request.GET
    return {
        'filter_values': {
            'q': params.get('q', ''),
            'kind': params.get('kind', ''),
            'state': params.getlist('state'),
            'priority': params.getlist('priority'),
            'channel': params.get('channel', ''),
            'group': params.get('group', ''),
        },
        'filter_choices': {
            'kind': [] if kind else TicketKind.choices,
            'state': states,
            'priority': [(str(value), label) for value, label in Priority.choices],
            'channel': TicketChannel.choices,
            'group': [(str(pk), name) for pk, name in SupportGroup.objects.active().values_list('pk', 'name')],
        },
        'filters_active': any(params.get(name) for name in FILTER_NAMES),
    }
