"""Known error pages: list, detail (workaround first), record (from a problem or on its own), edit, retire; applying
one to an incident; the offers shown while an incident is logged (agent form, portal form), on the incident page and
on the requester's ticket page; and the known errors of a CI or a service (a panel of the CMDB pages).

Staff pages; requesters read public known errors in the portal only (`KnownError.objects.visible_to`)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path
from django.views import View

from cmdb.models import ConfigurationItem
from itsm.errors import ApplicationError
from itsm.permissions import ModelPermissionMixin, user_can
from itsm.views.generic import (
    Column,
    ObjectActionView,
    ObjectCreateView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    ObjectViewMixin,
    StaffOnlyMixin,
    error_text,
    safe_next,
)
from itsm.views.records import panels_for

from .. import known_errors, selectors
from ..filters import KnownErrorFilterSet, KnownErrorUseFilterSet
from ..models import KnownError, KnownErrorUse, Problem

__all__ = [
    'KnownErrorApplyView',
    'KnownErrorCreateView',
    'KnownErrorDetailView',
    'KnownErrorEditView',
    'KnownErrorListView',
    'KnownErrorOfferView',
    'KnownErrorPortalOfferView',
    'KnownErrorPortalTicketView',
    'KnownErrorRetireView',
    'KnownErrorUseDetailView',
    'KnownErrorUseListView',
    'ci_panel_context',
    'known_error_urls',
    'problem_panel_context',
    'ticket_panel_context',
]


def known_error_list():
    items = ConfigurationItem.objects.only('id', 'number', 'name', 'ci_class')
    return KnownError.objects.select_related('problem', 'created_by').prefetch_related(
        Prefetch('cis', queryset=items), Prefetch('services', queryset=items)
    )


def _incidents():
    from incidents.models import Ticket

    return Ticket.objects


# ------------------------------------------------------------------------------------------------ forms
class CINumbersField(forms.CharField):
    """Configuration items typed as their numbers, separated by commas or spaces (CI0000101, CI0000102)."""

    def __init__(self, *, services_only: bool = False, **kwargs):
        self.services_only = services_only
        kwargs.setdefault('required', False)
        kwargs.setdefault('widget', forms.TextInput(attrs={'placeholder': 'CI0000101, CI0000102'}))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return ', '.join(str(getattr(item, 'number', item)) for item in value)
        return value

    def clean(self, value):
        text = super().clean(value) or ''
        numbers = [n.strip().upper() for n in text.replace(',', ' ').split() if n.strip()]
        found = {item.number: item for item in ConfigurationItem.objects.filter(number__in=numbers)}
        missing = [n for n in numbers if n not in found]
        if missing:
            raise ValidationError(f'No configuration item {", ".join(missing)}.')
        if self.services_only:
            other = [n for n in numbers if found[n].ci_class != 'service']
            if other:
                raise ValidationError(f'{", ".join(other)} {"is" if len(other) == 1 else "are"} not a service.')
        return list(dict.fromkeys(found[n] for n in numbers))


class KnownErrorForm(forms.ModelForm):
    problem = forms.CharField(
        required=False, help_text='The problem it comes from (PRB0001001), if any.', widget=forms.TextInput()
    )
    cis = CINumbersField(label='Configuration items', help_text='The CIs it is logged against.')
    services = CINumbersField(services_only=True, label='Services', help_text='The services it affects.')

    class Meta:
        model = KnownError
        fields = ['title', 'symptoms', 'workaround', 'root_cause', 'public', 'problem', 'cis', 'services']
        widgets = {
            'symptoms': forms.Textarea(attrs={'rows': 3}),
            'workaround': forms.Textarea(attrs={'rows': 5}),
            'root_cause': forms.Textarea(attrs={'rows': 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial['problem'] = self.instance.problem.number if self.instance.problem_id else ''
            self.initial['cis'] = list(self.instance.cis.all())
            self.initial['services'] = list(self.instance.services.all())

    def clean_problem(self):
        number = (self.cleaned_data.get('problem') or '').strip().upper()
        if not number:
            return None
        problem = Problem.objects.filter(number=number).first()
        if problem is None:
            raise ValidationError(f'No problem {number}.')
        return problem

    def _post_clean(self):
        # The service validates and saves; the model form only reads the input.
        pass

    def service_fields(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class ApplyForm(forms.Form):
    incident = forms.CharField(label='Incident', help_text='The incident number (INC0001001).')
    public = forms.TypedChoiceField(
        label='Give the workaround as',
        choices=[('true', 'A comment the caller reads'), ('false', 'A work note for the desk')],
        coerce=lambda value: value == 'true',
        initial='true',
        widget=forms.RadioSelect,
    )

    def clean_incident(self):
        number = self.cleaned_data['incident'].strip().upper()
        incident = _incidents().filter(number=number).first()
        if incident is None:
            raise ValidationError(f'No incident {number}.')
        return incident


# ------------------------------------------------------------------------------------------------ pages
class KnownErrorListView(StaffOnlyMixin, ObjectListView):
    queryset = known_error_list()
    filterset_class = KnownErrorFilterSet
    columns = [
        Column('__str__', 'Known error', order_by='number', linkify=True),
        'active',
        'public',
        Column('problem', order_by='problem__number'),
        Column('created_at', optional=True),
    ]


class KnownErrorDetailView(StaffOnlyMixin, ObjectDetailView):
    queryset = known_error_list()
    template_name = 'problems/known_error_detail.html'
    fields = ['title', 'active', 'public', 'problem', 'created_by', 'created_at']

    def get_extra_context(self, obj):
        uses = list(obj.uses.select_related('incident', 'applied_by').order_by('-applied_at')[:50])
        return {
            'uses': uses,
            'uses_count': obj.uses.count(),
            'may_change': user_can(self.request.user, KnownError, 'change'),
            'may_apply': user_can(self.request.user, KnownErrorUse, 'add'),
            # Cards other apps contribute (the knowledge base's articles), as on a record's page.
            'record_panels': panels_for(self.request, obj),
        }


class KnownErrorCreateView(StaffOnlyMixin, ObjectCreateView):
    """Record a known error; `?problem=PRB0001001` fills it from the problem (symptoms, root cause, workaround,
    CIs, services)."""

    queryset = known_error_list()
    form_class = KnownErrorForm
    template_name = 'problems/known_error_form.html'
    service = known_errors.known_error_create

    def get_form_kwargs(self):
        number = (self.request.GET.get('problem') or '').strip().upper()
        problem = Problem.objects.filter(number=number).first() if number else None
        if problem is None:
            return {}
        initial = known_errors.known_error_prefill(problem)
        initial['problem'] = problem.number
        return {'initial': initial}


class KnownErrorEditView(StaffOnlyMixin, ObjectEditView):
    queryset = known_error_list()
    form_class = KnownErrorForm
    template_name = 'problems/known_error_form.html'
    service = known_errors.known_error_update
    service_object_kwarg = 'known_error'


class KnownErrorRetireView(StaffOnlyMixin, ObjectActionView):
    queryset = known_error_list()
    service = known_errors.known_error_retire
    service_object_kwarg = 'known_error'
    action_label = 'Retire'
    action_description = 'The permanent fix is in place: it is no longer offered when incidents are logged.'
    button_class = 'btn-warning'
    success_message = 'Known error retired.'


class KnownErrorApplyView(StaffOnlyMixin, ObjectViewMixin, View):
    """Apply a known error to an incident (`?incident=INC0001001` fills the form): the workaround as a comment or a
    work note, the incident linked to the known error's problem. From the incident page, its panel posts here."""

    queryset = known_error_list()
    permission_action = 'view'
    template_name = 'problems/known_error_apply.html'

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not user_can(request.user, KnownErrorUse, 'add'):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        known_error = self.get_object()
        form = ApplyForm(initial={'incident': request.GET.get('incident', '').upper(), 'public': 'true'})
        return self.render({'object': known_error, 'form': form, 'next': safe_next(request)})

    def post(self, request, *args, **kwargs):
        known_error = self.get_object()
        form = ApplyForm(request.POST)
        if form.is_valid():
            incident = form.cleaned_data['incident']
            try:
                use = known_errors.known_error_apply(
                    known_error=known_error, incident=incident, actor=self.actor(), public=form.cleaned_data['public']
                )
            except (ValidationError, ApplicationError) as error:
                if request.POST.get('from_panel'):
                    messages.error(request, error_text(error))
                    return HttpResponseRedirect(incident.get_absolute_url())
                form.add_error(None, error_text(error))
            else:
                text = f'{known_error.number} applied to {incident.number}.'
                if use.kept_problem is not None:
                    text += f' It stays linked to {use.kept_problem.number}; it was not moved.'
                elif use.linked_problem is not None:
                    text += f' Linked to {use.linked_problem.number}.'
                messages.success(request, text)
                return HttpResponseRedirect(safe_next(request, incident.get_absolute_url()))
        return self.render({'object': known_error, 'form': form, 'next': safe_next(request)}, status=400)


class KnownErrorUseListView(StaffOnlyMixin, ObjectListView):
    queryset = KnownErrorUse.objects.none()

    def get_queryset(self):
        return selectors.known_error_uses(user=self.request.user)

    filterset_class = KnownErrorUseFilterSet
    columns = [
        Column('__str__', 'Use', order_by=None, linkify=True),
        Column('known_error', order_by='known_error__number'),
        Column('incident', order_by='incident__number'),
        'applied_by',
        'applied_at',
    ]

    def get_columns(self, queryset):
        columns = super().get_columns(queryset)
        for column in columns:
            if column.name == '__str__':
                column.linkify = False
        return columns


class KnownErrorUseDetailView(StaffOnlyMixin, ObjectDetailView):
    queryset = KnownErrorUse.objects.none()

    def get_queryset(self):
        return selectors.known_error_uses(user=self.request.user)

    fields = ['known_error', 'incident', 'applied_by', 'applied_at']


# ------------------------------------------------------------------------------------------------ offers
def _item(value: str):
    """A CI from what a form field holds: its number (the CI box) or its id (the service select)."""
    value = (value or '').strip()
    if not value:
        return None
    lookup = {'pk': int(value)} if value.isdigit() else {'number': value.upper()}
    return ConfigurationItem.objects.filter(**lookup).values_list('pk', flat=True).first()


class KnownErrorOfferView(StaffOnlyMixin, ObjectViewMixin, View):
    """htmx, on the new-ticket form: the active known errors of the CI and service picked (`?ci=&service=`).

    The form sends the agent's current choice (`apply_known_error`) with each reload, so a reload keeps it checked.
    """

    model = KnownError
    permission_action = 'view'
    template_name = 'problems/_known_errors_offer.html'

    def get(self, request, *args, **kwargs):
        ci_id, service_id = _item(request.GET.get('ci', '')), _item(request.GET.get('service', ''))
        offered = known_errors.known_errors_for(ci_id=ci_id, service_id=service_id, user=request.user)
        chosen = request.GET.get('apply_known_error', '').strip().upper()
        chosen = chosen if chosen in {known_error.number for known_error in offered} else ''
        return self.render({'known_errors': offered, 'form_offer': True, 'chosen': chosen})


class RequesterMixin(ModelPermissionMixin):
    """Portal fragments: whoever may read known errors; each person sees those `visible_to` them."""

    model = KnownError
    permission_action = 'view'


class KnownErrorPortalOfferView(RequesterMixin, View):
    """htmx, on the portal's form: the public known errors of the service chosen or matching the words typed."""

    def get(self, request, *args, **kwargs):
        service_id = _item(request.GET.get('service', ''))
        offered = known_errors.known_errors_for(service_id=service_id, user=request.user)
        if not offered:
            text = ' '.join(request.GET.get(name, '') for name in ('short_description', 'description'))
            offered = known_errors.known_errors_matching_text(text, user=request.user)
        return render(request, 'problems/_known_errors_portal.html', {'known_errors': offered, 'asking': True})


class KnownErrorPortalTicketView(RequesterMixin, View):
    """htmx, on a requester's ticket page: the known issues of the ticket's service and CI ("Known issue: ...")."""

    def get(self, request, number, *args, **kwargs):
        ticket = _incidents().visible_to(request.user).filter(number=number.upper()).first()
        if ticket is None:
            raise Http404(f'No request {number}.')
        offered = known_errors.known_errors_for(ci_id=ticket.ci_id, service_id=ticket.service_id, user=request.user)
        return render(request, 'problems/_known_errors_portal.html', {'known_errors': offered, 'asking': False})


# ------------------------------------------------------------------------------------------------ panels
def ticket_panel_context(request, ticket) -> dict[str, Any] | None:
    """The incident page's panel: known errors applied to it, and those of its CI and service, with Apply."""
    user = request.user
    if user.is_requester_only or not user_can(user, KnownError, 'view'):
        return None
    applied = list(ticket.known_error_uses.select_related('known_error').order_by('-applied_at'))
    done = {use.known_error_id for use in applied}
    offered = [
        ke
        for ke in known_errors.known_errors_for(ci_id=ticket.ci_id, service_id=ticket.service_id, user=user)
        if ke.pk not in done
    ]
    if not applied and not offered:
        return None
    may_apply = not ticket.is_final and user_can(user, KnownErrorUse, 'add') and ticket.may_work(user)
    return {'ke_ticket': ticket, 'ke_applied': applied, 'ke_offered': offered, 'ke_may_apply': may_apply}


def ci_panel_context(request, ci) -> dict[str, Any] | None:
    """A CI's or a service's page: the active known errors logged against it, with their workarounds."""
    user = request.user
    if user.is_requester_only or not user_can(user, KnownError, 'view'):
        return None
    rows = list(
        KnownError.objects.visible_to(user)
        .for_items(ci_id=ci.pk, service_id=ci.pk)
        .annotate(use_count=Count('uses', distinct=True))
        .order_by('-created_at')[:20]
    )
    may_add = user_can(user, KnownError, 'add')
    return {'ke_item': ci, 'ke_rows': rows, 'ke_may_add': may_add}


def problem_panel_context(request, problem) -> dict[str, Any] | None:
    """A problem's page: its known errors, and "Record a known error" (filled from the problem) for those who may."""
    user = request.user
    if not user_can(user, KnownError, 'view'):
        return None
    rows = list(problem.known_errors.order_by('-created_at'))
    may_add = user_can(user, KnownError, 'add') and not problem.is_final
    if not rows and not may_add:
        return None
    return {'ke_problem': problem, 'ke_rows': rows, 'ke_may_add': may_add}


known_error_urls = [
    path('known-errors/', KnownErrorListView.as_view(), name='knownerror_list'),
    path('known-errors/add/', KnownErrorCreateView.as_view(), name='knownerror_add'),
    path('known-errors/offer/', KnownErrorOfferView.as_view(), name='knownerror_offer'),
    path('known-errors/portal/', KnownErrorPortalOfferView.as_view(), name='knownerror_portal_offer'),
    path('known-errors/portal/<str:number>/', KnownErrorPortalTicketView.as_view(), name='knownerror_portal_ticket'),
    path('known-errors/<str:number>/', KnownErrorDetailView.as_view(), name='knownerror_detail'),
    path('known-errors/<str:number>/edit/', KnownErrorEditView.as_view(), name='knownerror_edit'),
    path('known-errors/<str:number>/retire/', KnownErrorRetireView.as_view(), name='knownerror_retire'),
    path('known-errors/<str:number>/apply/', KnownErrorApplyView.as_view(), name='knownerror_apply'),
    path('known-error-uses/', KnownErrorUseListView.as_view(), name='knownerroruse_list'),
    path('known-error-uses/<int:pk>/', KnownErrorUseDetailView.as_view(), name='knownerroruse_detail'),
]
