"""Small htmx answers behind the person pickers of any form: people matching what was typed, and the person select
of an assign form narrowed to a group's members (`itsm.forms.AssignForm.members_url`).

An app routes them with its own rule of who may ask (`as_view(model=Ticket, permission_action='add')`); by
default, whoever may see people and support groups.
"""

from __future__ import annotations

from django.db.models import Q
from django.shortcuts import render
from django.views import View

from itsm.forms import staff_people
from itsm.models import SupportGroup, User

from .generic import ObjectViewMixin, StaffOnlyMixin

__all__ = ('AssigneeOptionsView', 'PeopleOptionsView')

SUGGESTIONS = 15


class PeopleOptionsView(StaffOnlyMixin, ObjectViewMixin, View):
    """`<option>`s of the people matching what was typed in a person box (`caller` or `q`)."""

    model = User
    permission_action = 'view'

    def get(self, request, *args, **kwargs):
        term = request.GET.get('caller', request.GET.get('q', '')).strip()
        people = User.objects.none()
        if len(term) >= 2:
            people = User.objects.filter(
                Q(username__icontains=term)
                | Q(first_name__icontains=term)
                | Q(last_name__icontains=term)
                | Q(email__icontains=term),
                is_active=True,
            ).order_by('first_name', 'last_name', 'username')[:SUGGESTIONS]
        return render(request, 'includes/_people_options.html', {'people': people})


class AssigneeOptionsView(StaffOnlyMixin, ObjectViewMixin, View):
    """The person select of an assign form (`field_id`), narrowed to the members of the chosen `group`."""

    model = SupportGroup
    permission_action = 'view'

    def get(self, request, *args, **kwargs):
        chosen = request.GET.get('group') or request.GET.get('assignment_group') or ''
        group = SupportGroup.objects.filter(pk=chosen).first() if chosen.isdigit() else None
        people = group.members.filter(is_active=True).order_by('first_name', 'last_name') if group else staff_people()
        context = {
            'people': people,
            'selected': request.GET.get('assignee', ''),
            'field_id': request.GET.get('field_id', 'id_assignee'),
            'small': bool(request.GET.get('small')),
        }
        return render(request, 'includes/_assignee_select.html', context)
