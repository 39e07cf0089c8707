"""The compact filter bar of the queue and list pages: `TicketFilterSet` filters as type-ahead boxes.

State, priority, group and assignee are text boxes with suggestions (a `<datalist>`; the assignee's come from the
server as one types) whose chosen values show as chips. The query string stays the filter set's (`?state=new&
state=assigned&group=Service Desk&assignee=sam`): a chip is a hidden input, its × a link to the same page without
it, and what is typed is read as a value or its label ("Assigned", "p1"), so the bar is a plain form without
JavaScript too.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.db.models import Q
from django.shortcuts import render
from django.urls import reverse
from django.views import View

from itsm.choices import Priority, TicketKind
from itsm.forms import staff_people
from itsm.models import SupportGroup, User
from itsm.views.generic import ObjectViewMixin, StaffOnlyMixin

from ..choices import TicketChannel, TicketState
from ..filters import TicketFilterSet
from ..models import Ticket

FILTER_NAMES = ('q', 'kind', 'state', 'priority', 'channel', 'group', 'assignee', 'unassigned', 'attention')
# Filters typed as a value or as its label.
LABELLED = {
    'state': TicketState.choices,
    'priority': Priority.choices,
    'channel': TicketChannel.choices,
    'kind': TicketKind.choices,
}
SUGGESTIONS = 15


def typed_value(name: str, text: str) -> str:
    """The filter value meant by what was typed: a choice's value or label in any case ('Assigned', 'P1')."""
    text = text.strip()
    for value, label in LABELLED.get(name, ()):
        if text.lower() in (str(value).lower(), str(label).lower()):
            return str(value)
    return text


class TicketFilters(TicketFilterSet):
    """The shared ticket filters, minus the empty values a filter form sends for "any", reading labels as values."""

    def __init__(self, data=None, *args, **kwargs):
        if data is not None:
            data = data.copy()
            for key, values in list(data.lists()):
                kept = []
                for value in values:
                    value = typed_value(key, value) if key in LABELLED else value
                    if value != '' and value not in kept:
                        kept.append(value)
                if kept:
                    data.setlist(key, kept)
                else:
                    del data[key]
        super().__init__(data or None, *args, **kwargs)


def _remove_url(request, name: str, value: str) -> str:
    """This page without one value of one filter (and back on its first page)."""
    params = [
        (key, item)
        for key, items in request.GET.lists()
        for item in items
        if key != 'page' and item != '' and not (key == name and typed_value(name, item) == value)
    ]
    return f'{request.path}?{urlencode(params)}' if params else request.path


def _chips(request, name: str, texts: dict[str, str]) -> list[dict[str, str]]:
    chips, seen = [], set()
    for raw in request.GET.getlist(name):
        value = typed_value(name, raw) if name in LABELLED else raw.strip()
        if not value or value in seen:
            continue
        seen.add(value)
        chips.append({'value': value, 'text': texts.get(value, value), 'remove_url': _remove_url(request, name, value)})
    return chips


def filter_bar_context(request, *, kind: str = '', states=TicketState.choices) -> dict[str, Any]:
    """Choices, current values and the type-ahead boxes of `incidents/_filter_bar.html`."""
    params = request.GET
    groups = list(SupportGroup.objects.active().order_by('name').values_list('pk', 'name'))
    group_names = {str(pk): name for pk, name in groups} | {name: name for _, name in groups}
    assignee = params.get('assignee', '').strip()
    people = {}
    if assignee:
        person = User.objects.filter(username=assignee).first()
        people = {assignee: str(person)} if person else {}
    priorities = [(str(value), label) for value, label in Priority.choices]
    boxes = [
        {
            'name': 'state',
            'label': 'State',
            'placeholder': 'Any state',
            'multiple': True,
            'options': [(str(label), str(value)) for value, label in states],
            'chips': _chips(request, 'state', {str(v): str(label) for v, label in TicketState.choices}),
        },
        {
            'name': 'priority',
            'label': 'Priority',
            'placeholder': 'Any priority',
            'multiple': True,
            'options': [(label, value) for value, label in priorities],
            'chips': _chips(request, 'priority', dict(priorities)),
        },
        {
            'name': 'group',
            'label': 'Group',
            'placeholder': 'Any group',
            'multiple': False,
            'options': [(name, name) for _, name in groups],
            'chips': _chips(request, 'group', group_names),
        },
        {
            'name': 'assignee',
            'label': 'Assignee',
            'placeholder': 'Anyone',
            'multiple': False,
            'options': [],
            'options_url': reverse('incidents:filter_assignee_options'),
            'chips': _chips(request, 'assignee', people),
        },
    ]
    return {
        'filter_values': {
            'q': params.get('q', ''),
            'kind': typed_value('kind', params.get('kind', '')),
            'channel': typed_value('channel', params.get('channel', '')),
        },
        'filter_choices': {
            'kind': [] if kind else TicketKind.choices,
            'channel': TicketChannel.choices,
        },
        'filter_boxes': boxes,
        'filters_active': any(params.get(name) for name in FILTER_NAMES),
    }


class AssigneeFilterOptionsView(StaffOnlyMixin, ObjectViewMixin, View):
    """`<option>`s of the staff whose name, username or e-mail holds what was typed in the filter bar's assignee
    box (its `assignee` value), for its datalist."""

    model = Ticket
    permission_action = 'view'

    def get(self, request, *args, **kwargs):
        term = request.GET.get('assignee', '').strip()[:100]
        people = User.objects.none()
        if len(term) >= 2:
            people = staff_people().filter(
                Q(username__icontains=term)
                | Q(first_name__icontains=term)
                | Q(last_name__icontains=term)
                | Q(email__icontains=term)
            )[:SUGGESTIONS]
        return render(request, 'includes/_people_options.html', {'people': people})
