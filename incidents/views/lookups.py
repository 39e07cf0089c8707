"""Small htmx answers behind the ticket forms: priority preview, subcategories, CI suggestions (people and group
members: `itsm.views.pickers`)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import render
from django.views import View

from cmdb.models import ConfigurationItem
from itsm.choices import PRIORITY_MEANINGS, Impact, Urgency
from itsm.views.generic import ObjectViewMixin, StaffOnlyMixin

from ..choices import PRIORITY_COLOURS
from ..forms import ConfigurationItemField, TicketCreateForm
from ..models import Category, Ticket
from ..priority import compute_priority, impact_and_urgency

SUGGESTIONS = 15


class LookupView(StaffOnlyMixin, ObjectViewMixin, View):
    model = Ticket
    permission_action = 'add'


class PriorityPreviewView(LookupView):
    """The priority the matrix gives an impact and urgency, as the create form shows it before saving."""

    def get(self, request):
        impact, urgency = impact_and_urgency(
            request.GET.get('channel', ''), request.GET.get('impact', ''), request.GET.get('urgency', '')
        )
        priority = compute_priority(impact, urgency) if impact in Impact.values and urgency in Urgency.values else None
        return render(
            request,
            'incidents/ticket/_priority_preview.html',
            {
                'preview_priority': priority,
                'priority_colours': PRIORITY_COLOURS,
                'priority_meanings': PRIORITY_MEANINGS,
            },
        )


class SubcategoryOptionsView(LookupView):
    def get(self, request):
        category = request.GET.get('category', '')
        subcategories = Category.objects.none()
        if category.isdigit():
            subcategories = Category.objects.filter(parent_id=int(category), active=True).order_by('name')
        return render(request, 'incidents/ticket/_subcategory_select.html', {'subcategories': subcategories})


class CIServiceView(LookupView):
    """The service field again once a CI is picked: the CMDB's suggestion selected (unless one was chosen), and
    the services the CI's failure would impact."""

    def get(self, request):
        from cmdb.selectors import services_impacted_by

        data = request.GET.copy()
        try:
            ci = ConfigurationItemField(required=False).clean(data.get('ci', ''))
        except ValidationError:  # an unknown item: the form reports it when it is sent
            ci = None
        impacted = services_impacted_by(ci) if ci is not None else []
        if ci is not None and not data.get('service') and impacted:
            data['service'] = str(impacted[0].id)
        form = TicketCreateForm(data=data)
        return render(
            request, 'incidents/ticket/_service_field.html', {'form': form, 'ci': ci, 'impacted_services': impacted}
        )


class CIOptionsView(LookupView):
    def get(self, request):
        term = request.GET.get('ci', request.GET.get('q', '')).strip()
        items = ConfigurationItem.objects.none()
        if len(term) >= 2:
            items = ConfigurationItem.objects.filter(Q(number__icontains=term) | Q(name__icontains=term)).order_by(
                'name'
            )[:SUGGESTIONS]
        return render(request, 'incidents/ticket/_ci_options.html', {'items': items})
