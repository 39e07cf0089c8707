"""Major-incident pages: the list with its tabs and filters, the declare page, the record page (`MAJOR_PAGE`) with
its cards (status, team, impact, children, updates, recipients, validations), its edit page and one page per
action, the recipient list's add and remove, and the preview of an update template."""

from __future__ import annotations

import re
from typing import Any

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import path
from django.utils import timezone
from django.views import View

from incidents.choices import PRIORITY_COLOURS
from incidents.models import Ticket
from itsm.choices import PRIORITY_MEANINGS, Priority, TicketKind
from itsm.errors import ApplicationError
from itsm.permissions import user_can
from itsm.views.generic import (
    Column,
    ObjectCreateView,
    ObjectListView,
    StaffOnlyMixin,
    add_service_errors,
    compact_age,
    error_text,
)
from itsm.views.records import (
    RecordDetailView,
    RecordEditView,
    RecordPage,
    RecordViewMixin,
    record_routes,
    record_url,
)

from .. import selectors, services
from ..actions import MAJOR_INCIDENT_ACTIONS, is_incident_manager
from ..choices import ACTIVE, STATE_COLOURS, MajorIncidentState, ValidationRole
from ..filters import MajorIncidentFilterSet
from ..forms import (
    MajorDeclareForm,
    MajorEditForm,
    RecipientForm,
    WorkNoteForm,
    declare_initial,
    incident_managers,
)
from ..models import MajorIncident, MajorIncidentCandidate, Recipient

PREVIEW_ID_PREFIX = re.compile(r'[A-Za-z_]{1,20}')
MAJOR_COLUMNS = [
    Column('number', template='major_incidents/cells/number.html'),
    Column('priority', colors=PRIORITY_COLOURS),
    Column('state', 'Stage', colors=STATE_COLOURS),
    Column('short_description', 'Title', template='major_incidents/cells/title.html', css_class='pc-cell-wrap'),
    Column('services', 'Services', order_by=None, template='major_incidents/cells/services.html'),
    Column('incident_manager', order_by='incident_manager__last_name,incident_manager__first_name'),
    Column('next_update_due', 'Next update due', template='major_incidents/cells/next_update.html'),
    Column('child_count', 'Children', order_by='child_count'),
    Column('declared_at', 'Declared'),
]


class MajorPageFilterSet(MajorIncidentFilterSet):
    """The list page's filter bar: one stage and one priority at a time, services and incident managers in menus
    (the API takes the same parameters as text)."""

    state = django_filters.ChoiceFilter(choices=MajorIncidentState.choices, label='Stage')
    priority = django_filters.ChoiceFilter(choices=[(p.value, p.label) for p in Priority], label='Priority')
    HIDDEN = ('active', 'severity', 'ci', 'declared_after', 'declared_before')

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.HIDDEN:
            self.filters.pop(name, None)
        from problems.forms import service_items

        menus = {
            'incident_manager': [('me', 'Me')] + [(u.username, str(u)) for u in incident_managers()],
            'service': [(s.number, s.name) for s in service_items()],
        }
        for name, choices in menus.items():
            self.filters[name].field_class = forms.ChoiceField
            self.filters[name].extra['choices'] = [('', 'Any'), *choices]


# ------------------------------------------------------------------------------------------------------ list
class MajorListView(StaffOnlyMixin, ObjectListView):
    """Major incidents by tab (active, in review, closed, all) with the filter bar."""

    model = MajorIncident
    queryset = selectors.major_list()
    filterset_class = MajorPageFilterSet
    template_name = 'major_incidents/majorincident_list.html'
    columns = MAJOR_COLUMNS
    title = 'Major incidents'
    verbose_name = 'major incident'
    filter_labels = {'incident_manager': 'Incident manager', 'service': 'Service', 'mode': 'Mode'}

    def queue_name(self) -> str:
        name = self.request.GET.get('queue', 'active')
        return name if name in selectors.QUEUES else 'active'

    def get_queryset(self):
        return selectors.major_queue(self.queue_name())

    def get_context(self) -> dict[str, Any]:
        context = super().get_context()
        context.update(
            queue=self.queue_name(),
            queues=selectors.QUEUES,
            now=timezone.now(),
            add_url='',
            can_declare=is_incident_manager(self.request.user),
        )
        return context


# ----------------------------------------------------------------------------------------------- declare
class MajorDeclareView(StaffOnlyMixin, ObjectCreateView):
    """Declare a major incident (incident managers and administrators): directly, or prefilled from an incident
    (`?incident=<number>`) or a candidate (`?candidate=<id>`)."""

    model = MajorIncident
    form_class = MajorDeclareForm
    template_name = 'major_incidents/majorincident_form.html'
    verbose_name = 'major incident'

    def dispatch(self, request, *args, **kwargs):
        # The API client role may declare through the API; on the desk only incident managers do.
        if request.user.is_authenticated and not is_incident_manager(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_service(self):
        return services.major_declare

    def get_success_url(self, obj) -> str:
        return obj.get_absolute_url()

    def source(self) -> tuple[Ticket | None, MajorIncidentCandidate | None]:
        """The incident and the candidate named in the address or the form, if they exist."""
        params = self.request.POST if self.request.method == 'POST' else self.request.GET
        number = (params.get('incident') or params.get('source_incident') or '').strip().upper()
        # Among the incidents the person may see: a security incident prefills nothing for others.
        incidents = Ticket.objects.visible_to(self.request.user).filter(number=number, kind=TicketKind.INCIDENT)
        incident = incidents.first() if number else None
        candidate = None
        candidate_id = params.get('candidate', '')
        if candidate_id.isdigit():
            candidate = (
                MajorIncidentCandidate.objects.select_related('incident', 'service', 'ci', 'major_incident')
                .prefetch_related('incidents')
                .filter(pk=int(candidate_id))
                .first()
            )
        return incident, candidate

    def get_form_kwargs(self):
        return {'user': self.request.user}

    def get_form(self, instance=None):
        if self.request.method == 'POST':
            return super().get_form(instance)
        incident, candidate = self.source()
        initial = declare_initial(incident=incident, candidate=candidate)
        initial['incident_manager'] = self.request.user.pk  # the declaring manager runs it unless they say otherwise
        return self.get_form_class()(instance=instance, initial=initial, **self.get_form_kwargs())

    def form_context(self, form, obj=None) -> dict[str, Any]:
        incident, candidate = self.source()
        already = None
        if candidate is not None and candidate.major_incident is not None:
            already = (f'Candidate {candidate.pk}', candidate.major_incident)
        elif incident is not None:
            major = selectors.declared_from_incident(incident)
            if major is not None:
                already = (incident.number, major)
        return {
            **super().form_context(form, obj),
            'title': 'Declare a major incident',
            'source_incident': incident,
            'candidate': candidate,
            'already': already,
        }


# ------------------------------------------------------------------------------------------------- the record
class MajorPage(RecordPage):
    """The major-incident page: `records/detail.html` with the status strip, the updates, the child incidents and
    the impact analysis on the left; the team, the scope, the recipients and the validations on the right."""

    model = MajorIncident
    queryset = selectors.major_detail()
    template_name = 'major_incidents/majorincident_detail.html'
    header_template = 'major_incidents/majorincident/_header.html'
    summary_template = 'major_incidents/majorincident/_summary.html'
    facts_template = 'major_incidents/majorincident/_facts.html'
    comment_template = 'major_incidents/majorincident/_comment_form.html'
    comment_form_class = WorkNoteForm

    def extra_context(self, request, major: MajorIncident) -> dict[str, Any]:
        from ..forms import LinkChildrenForm, UpdateForm

        user = request.user
        now = timezone.now()
        done = {v.role: v for v in major.validations.all()}
        can_post = self.may(user, major, 'post_update')
        can_link = self.may(user, major, 'link_children')
        return {
            'state_colours': STATE_COLOURS,
            'priority_colours': PRIORITY_COLOURS,
            'priority_meanings': PRIORITY_MEANINGS,
            'now': now,
            'is_active': major.state in ACTIVE,
            'overdue': bool(major.next_update_due and major.next_update_due < now and major.state in ACTIVE),
            'outage_for': compact_age(major.outage_started_at, major.restored_at or now),
            # A security incident among them only for those who may see it (no query for the others).
            'children': [link for link in major.child_links.all() if link.incident.is_visible_to(user)],
            'updates': list(major.updates.all()),
            'recipients': list(major.recipients.all()),
            'validation_rows': [(role, done.get(role)) for role in ValidationRole],
            'review': getattr(major, 'review', None),  # the reverse one-to-one raises AttributeError when absent
            'impact': selectors.impact_analysis(major),
            'update_form': UpdateForm(record=major, user=user) if can_post else None,
            'update_url': record_url(major, 'post_update') if can_post else '',
            'link_form': LinkChildrenForm(record=major, user=user) if can_link else None,
            'link_url': record_url(major, 'link_children') if can_link else '',
            'can_edit_recipients': user_can(user, MajorIncident, 'change') and not major.is_final,
            'recipient_form': RecipientForm(),
        }

    @staticmethod
    def may(user, major: MajorIncident, name: str) -> bool:
        """Whether the page offers the action's form in its card (the action's permission, then its guard)."""
        action = MAJOR_INCIDENT_ACTIONS.get(name)
        return user_can(user, MajorIncident, action.permission) and MAJOR_INCIDENT_ACTIONS.allows(major, name, user)


MAJOR_PAGE = MajorPage()


class MajorDetailView(RecordDetailView):
    page = MAJOR_PAGE


class MajorEditView(RecordEditView):
    """Descriptive fields, scope, outage start and cadence; as a full page, or (htmx) a panel on the record."""

    page = MAJOR_PAGE
    form_class = MajorEditForm
    service_object_kwarg = 'major'
    template_name = 'major_incidents/majorincident_form.html'

    def get_service(self):
        return services.major_update

    def form_context(self, form, obj=None) -> dict[str, Any]:
        context = super().form_context(form, obj)
        context['title'] = f'Edit {obj.number}' if obj else 'Edit major incident'
        return context


# ------------------------------------------------------------------------------------------------ recipients
class RecipientAddView(RecordViewMixin, View):
    """Add someone to the recipient list by hand (an address, or a person)."""

    page = MAJOR_PAGE
    permission_action = 'change'
    http_method_names = ['post']

    def post(self, request, *args, **kwargs):
        major = self.get_record()
        form = RecipientForm(request.POST)
        if form.is_valid():
            try:
                recipient = services.recipient_add(major=major, actor=self.actor(), **form.service_kwargs())
            except (ValidationError, ApplicationError) as error:
                add_service_errors(form, error)
                status = getattr(error, 'status_code', 400)
            else:
                messages.success(request, f'{recipient} will be told about {major.number}.')
                return redirect(f'{major.get_absolute_url()}#major-recipients')
        else:
            status = 400
        return self.page.render(request, self.page.get_record(major.number), status=status, recipient_form=form)


class RecipientDeleteView(RecordViewMixin, View):
    """Take someone off the recipient list."""

    page = MAJOR_PAGE
    permission_action = 'change'
    http_method_names = ['post']

    def post(self, request, *args, **kwargs):
        major = self.get_record()
        recipient = Recipient.objects.filter(major_incident=major, pk=kwargs['pk']).first()
        if recipient is None:
            messages.error(request, f'That address is no longer on the recipient list of {major.number}.')
            return redirect(major.get_absolute_url())
        try:
            services.recipient_remove(major=major, actor=self.actor(), recipient=recipient)
        except (ValidationError, ApplicationError) as error:
            messages.error(request, error_text(error))
        else:
            messages.success(request, f'{recipient} is off the recipient list of {major.number}.')
        return redirect(f'{major.get_absolute_url()}#major-recipients')


class UpdatePreviewView(RecordViewMixin, View):
    """The chosen update template filled for this record (`services.render_template`), answered as the update
    form's audience, status, subject and text fields, which htmx swaps out of band into the form by their ids
    (`field_id`: the template menu's id, whose prefix the other fields share). Without a template, nothing
    changes."""

    page = MAJOR_PAGE
    permission_action = 'view'
    FIELDS = ('audience', 'status', 'subject', 'body')

    def get(self, request, *args, **kwargs):
        from ..forms import UpdateForm
        from ..models import UpdateTemplate

        major = self.get_record()
        value = request.GET.get('template', '')
        template = UpdateTemplate.objects.filter(pk=int(value), active=True).first() if value.isdigit() else None
        if template is None:
            return HttpResponse(status=204)
        subject, body = services.render_template(template, major)
        data = {
            'audience': template.audience,
            'status': template.status or request.GET.get('status', ''),
            'template': str(template.pk),
            'subject': subject,
            'body': body,
        }
        prefix = request.GET.get('field_id', 'id_template').removesuffix('template')
        auto_id = f'{prefix}%s' if PREVIEW_ID_PREFIX.fullmatch(prefix) else 'id_%s'
        form = UpdateForm(data, record=major, user=request.user, auto_id=auto_id)
        fields = []
        for name in self.FIELDS:
            bound = form[name]
            css = 'form-select' if isinstance(bound.field.widget, forms.Select) else 'form-control'
            fields.append(bound.as_widget(attrs={'class': css, 'hx-swap-oob': 'true'}))
        return HttpResponse(''.join(fields))


def major_routes() -> list:
    """The record page, its edit page, one page per action, comments and files, at `/major-incidents/<number>/...`
    (`record_routes` puts them under a prefix of their own: here the app's own prefix is enough)."""
    routes = record_routes(MAJOR_PAGE, 'mir', 'majorincident', detail_view=MajorDetailView, edit_view=MajorEditView)
    return [path(str(r.pattern).removeprefix('mir/'), r.callback, r.default_args, name=r.name) for r in routes]


major_urls = [
    path('', MajorListView.as_view(), name='majorincident_list'),
    path('declare/', MajorDeclareView.as_view(), name='majorincident_add'),
    path('<recordnumber:number>/recipients/add/', RecipientAddView.as_view(), name='recipient_add'),
    path('<recordnumber:number>/recipients/<int:pk>/delete/', RecipientDeleteView.as_view(), name='recipient_delete'),
    path('<recordnumber:number>/update-preview/', UpdatePreviewView.as_view(), name='update_preview'),
    *major_routes(),
]
