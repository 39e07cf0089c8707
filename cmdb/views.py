"""CMDB pages: CIs (with relationships, impact, dependency map and history), services with their RACI matrix,
relationships, RACI assignments and the CSV import. Thin subclasses of the generic pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.views import View

from itsm.audit import Actor
from itsm.errors import ApplicationError
from itsm.permissions import ModelPermissionMixin, user_can
from itsm.views.generic import (
    Column,
    ObjectCreateView,
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    ObjectViewMixin,
)

from . import importer, selectors, services
from .checks import change_required
from .choices import CI_STATUS_COLORS, SERVICE_STATUS_COLORS, CIStatus, ImpactDirection, RaciRole, ServiceStatus
from .filters import ConfigurationItemFilterSet, RaciAssignmentFilterSet, RelationshipFilterSet, ServiceFilterSet
from .forms import ConfigurationItemForm, ImportForm, RaciAssignmentForm, RelationshipForm, ServiceForm
from .models import ConfigurationItem, Relationship, Service
from .schema import attributes_for

__all__ = [
    'ConfigurationItemCreateView',
    'ConfigurationItemDeleteView',
    'ConfigurationItemDetailView',
    'ConfigurationItemEditView',
    'ConfigurationItemGraphView',
    'ConfigurationItemImpactView',
    'ConfigurationItemListView',
    'ConfigurationItemMapView',
    'ConfigurationItemServicesView',
    'ImportView',
    'RaciAssignmentCreateView',
    'RaciAssignmentDeleteView',
    'RaciAssignmentDetailView',
    'RaciAssignmentEditView',
    'RaciAssignmentListView',
    'RelationshipCreateView',
    'RelationshipDeleteView',
    'RelationshipDetailView',
    'RelationshipEditView',
    'RelationshipListView',
    'ServiceCreateView',
    'ServiceDeleteView',
    'ServiceDetailView',
    'ServiceEditView',
    'ServiceListView',
]

MAP_DEPTHS = range(1, 7)
IMPACT_DEPTHS = (1, 2, 3, 5, 8, 12, 20)


def _int(value: Any, default: int, low: int, high: int) -> int:
    try:
        return max(low, min(int(value), high))
    except (TypeError, ValueError):
        return default


class ChangeControlledDeleteView(ObjectDeleteView):
    """Delete through a CMDB service that takes a `change_reference` (asked for on the confirm page)."""

    template_name = 'cmdb/confirm_delete.html'

    def perform(self, obj):
        reference = self.request.POST.get('change_reference', '')
        return self.get_service()(actor=self.actor(), **{self.service_object_kwarg: obj}, change_reference=reference)

    def context(self, obj, **extra):
        ci = obj if isinstance(obj, ConfigurationItem) else getattr(obj, 'ci', None) or getattr(obj, 'source', None)
        ends = [obj.source, obj.target] if isinstance(obj, Relationship) else [ci]
        return super().context(obj, needs_change=any(change_required(end) for end in ends if end), **extra)


# --------------------------------------------------------------------------------------- configuration items
class ConfigurationItemListView(ObjectListView):
    queryset = selectors.ci_list()
    filterset_class = ConfigurationItemFilterSet
    columns = [
        Column('__str__', 'Configuration item', order_by='number', linkify=True),
        'ci_class',
        'status',
        'environment',
        'support_group',
        'owner',
        Column('location', optional=True),
        Column('updated_at', optional=True),
    ]


# Cards other apps add to the CI and service pages (the problems app: the known errors logged against the item), so
# the CMDB imports none of them. Each is (template, context(request, ci) -> dict or None); the template reads `panel`.
_item_panels: list[tuple[str, Callable[[Any, ConfigurationItem], dict[str, Any] | None]]] = []


def register_item_panel(template: str, context: Callable[[Any, ConfigurationItem], dict[str, Any] | None]) -> None:
    """Show `template` on every CI page and service page; call from the contributing app's `ready()`."""
    if (template, context) not in _item_panels:
        _item_panels.append((template, context))


def item_panels(request, ci: ConfigurationItem) -> list[dict[str, Any]]:
    """The contributed cards of a CI's page (or its service's), each as its context plus `template`."""
    shown = []
    for template, context in _item_panels:
        values = context(request, ci)
        if values is not None:
            shown.append({**values, 'template': template})
    return shown


IMPACT_SHOWN = 200


def impact_context(ci: ConfigurationItem, *, direction: str, depth: int) -> dict[str, Any]:
    """What the impact panel shows: how many CIs are reached (bounded: a hub's walk stops early and says so), the
    nearest of them and, downstream, the services hit and whom to tell."""
    downstream = direction == ImpactDirection.DOWNSTREAM
    walk = selectors.ci_impact_page(
        ci,
        direction=direction,
        depth=depth,
        limit=IMPACT_SHOWN,
        cap=selectors.IMPACT_COUNT_LIMIT,
        services=downstream,
    )
    context = {
        'impact': walk,
        'impact_limit': selectors.IMPACT_COUNT_LIMIT,
        'impact_items': walk.items,
        'impact_direction': direction,
        'impact_depth': depth,
        'impact_depths': IMPACT_DEPTHS,
        'impact_directions': ImpactDirection.choices,
    }
    if downstream:
        hit = walk.services
        context['impact_services'] = hit
        context['impact_recipients'] = selectors.recipients_for_services([item.id for item in hit])
    return context


class ConfigurationItemDetailView(ObjectDetailView):
    """A CI: attributes, relationships both ways, downstream impact, linked records and history."""

    queryset = selectors.ci_list()
    template_name = 'cmdb/configurationitem_detail.html'
    fields = ['ci_class', 'status', 'environment', 'owner', 'support_group', 'location', 'vendor', 'version']

    def get_timeline(self, obj):
        return selectors.ci_timeline(obj)

    def get_extra_context(self, obj):
        outgoing, incoming = selectors.ci_relationships(obj)
        attributes = [(a.label, obj.attributes.get(a.name), a.help) for a in attributes_for(obj.ci_class)]
        known = {a.name for a in attributes_for(obj.ci_class)}
        attributes += [(name, value, '') for name, value in obj.attributes.items() if name not in known]
        return {
            'attributes': attributes,
            'outgoing': outgoing,
            'incoming': incoming,
            'linked_groups': selectors.ci_incident_links(obj),
            'service_details': Service.objects.filter(ci=obj).first() if obj.is_service else None,
            'status_colors': CI_STATUS_COLORS,
            'may_relate': user_can(self.request.user, Relationship, 'add'),
            'item_panels': item_panels(self.request, obj),
            **impact_context(obj, direction=ImpactDirection.DOWNSTREAM, depth=selectors.DEFAULT_IMPACT_DEPTH),
        }


class ConfigurationItemImpactView(ObjectViewMixin, View):
    """The impact panel alone (htmx): `?direction=downstream|upstream&depth=N`."""

    permission_action = 'view'
    queryset = selectors.ci_list()
    template_name = 'cmdb/_impact_results.html'

    def get(self, request, *args, **kwargs):
        ci = self.get_object()
        direction = request.GET.get('direction', ImpactDirection.DOWNSTREAM)
        if direction not in ImpactDirection.values:
            direction = ImpactDirection.DOWNSTREAM
        depth = _int(request.GET.get('depth'), selectors.DEFAULT_IMPACT_DEPTH, 1, selectors.MAX_IMPACT_DEPTH)
        return self.render({'object': ci, **impact_context(ci, direction=direction, depth=depth)})


class ConfigurationItemServicesView(ObjectViewMixin, View):
    """The services a CI impacts and the one to suggest (htmx, for the incident form's service field)."""

    permission_action = 'view'
    queryset = selectors.ci_list()
    template_name = 'cmdb/_ci_services.html'

    def get(self, request, *args, **kwargs):
        ci = self.get_object()
        impacted = selectors.services_impacted_by(ci)
        return self.render({'object': ci, 'services': impacted, 'suggested': impacted[0] if impacted else None})


class ConfigurationItemMapView(ObjectViewMixin, View):
    """The interactive dependency map around a CI (cytoscape.js), coloured by status."""

    permission_action = 'view'
    queryset = selectors.ci_list()
    template_name = 'cmdb/configurationitem_map.html'

    def get(self, request, *args, **kwargs):
        ci = self.get_object()
        legend = [(label, selectors.node_color('', value, None)[1]) for value, label in CIStatus.choices]
        service_legend = [
            (label, selectors.node_color('service', '', value)[1]) for value, label in ServiceStatus.choices
        ]
        return self.render(
            {
                'object': ci,
                'depth': _int(request.GET.get('depth'), 2, 1, max(MAP_DEPTHS)),
                'depths': MAP_DEPTHS,
                'legend': legend,
                'service_legend': service_legend,
                'service_status_colors': SERVICE_STATUS_COLORS,
            }
        )


class ConfigurationItemGraphView(ObjectViewMixin, View):
    """Nodes and edges of the dependency map as JSON: `?depth=N` steps upstream and downstream."""

    permission_action = 'view'
    queryset = selectors.ci_list()

    def get(self, request, *args, **kwargs):
        depth = _int(request.GET.get('depth'), 2, 1, max(MAP_DEPTHS))
        return JsonResponse(selectors.ci_graph(self.get_object(), depth=depth))


class ConfigurationItemCreateView(ObjectCreateView):
    queryset = selectors.ci_list()
    form_class = ConfigurationItemForm
    template_name = 'cmdb/configurationitem_form.html'
    service = services.ci_create

    def get_form_kwargs(self):
        return {'ci_class': self.request.GET.get('ci_class') or None, 'attributes_url': self.request.path}


class ConfigurationItemEditView(ObjectEditView):
    queryset = selectors.ci_list()
    form_class = ConfigurationItemForm
    template_name = 'cmdb/configurationitem_form.html'
    service = services.ci_update
    service_object_kwarg = 'ci'

    def get_form_kwargs(self):
        return {'ci_class': self.request.GET.get('ci_class') or None, 'attributes_url': self.request.path}


class ConfigurationItemDeleteView(ChangeControlledDeleteView):
    queryset = selectors.ci_list()
    service = services.ci_delete
    service_object_kwarg = 'ci'


# ------------------------------------------------------------------------------------------------- services
class ServiceLookupMixin:
    """Services are addressed by their CI number (`/cmdb/services/CI0000101/`); their id works too."""

    def get_object(self):
        value = str(self.kwargs.get('pk', ''))
        lookup = {'pk': value} if value.isdigit() else {'ci__number': value.upper()}
        try:
            return self.get_queryset().get(**lookup)
        except Service.DoesNotExist:
            raise Http404(f'No service {value}.') from None


class ServiceListView(ObjectListView):
    queryset = selectors.service_list()
    filterset_class = ServiceFilterSet
    columns = [
        Column('ci.name', 'Service', order_by='ci__name', linkify=True),
        Column('ci.number', 'Number', order_by='ci__number'),
        'kind',
        'status',
        'criticality',
        Column('ci.owner', 'Service owner', order_by='ci__owner__last_name'),
        'business_owner',
        Column('ci.support_group', 'Support group', order_by='ci__support_group__name'),
    ]


class ServiceDetailView(ServiceLookupMixin, ObjectDetailView):
    """A service: details, RACI matrix, recipients, what it depends on, and the history of service and CI."""

    queryset = selectors.service_list()
    template_name = 'cmdb/service_detail.html'

    def get_fields(self, obj):
        queryset = self.get_queryset()
        columns = [
            Column('ci.number', 'CI'),
            Column('kind'),
            Column('status', 'Service status'),
            Column('criticality'),
            Column('ci.owner', 'Service owner'),
            Column('business_owner'),
            Column('ci.support_group', 'Support group'),
            Column('ci.get_environment_display', 'Environment'),
            Column('ci.get_status_display', 'Lifecycle status'),
        ]
        return [(c.label, c, obj) for c in (column.bind(Service, queryset) for column in columns)]

    def get_timeline(self, obj):
        return selectors.ci_timeline(obj.ci)

    def get_extra_context(self, obj):
        return {
            'raci_rows': selectors.raci_matrix(obj),
            'raci_roles': RaciRole.choices,
            'recipients': selectors.service_recipients(obj),
            'depends_on': selectors.ci_impact(obj.ci, direction=ImpactDirection.UPSTREAM, depth=3),
            'may_edit_service': self._may_edit(obj),
            'item_panels': item_panels(self.request, obj.ci),
        }

    def _may_edit(self, obj) -> bool:
        user = self.request.user
        return user_can(user, Service, 'change') and (
            user_can(user, ConfigurationItem, 'change') or obj.ci.owner_id == user.pk
        )


class ServiceCreateView(ObjectCreateView):
    queryset = selectors.service_list()
    form_class = ServiceForm
    service = services.service_create


class ServiceEditView(ServiceLookupMixin, ObjectEditView):
    queryset = selectors.service_list()
    form_class = ServiceForm
    service = services.service_update
    service_object_kwarg = 'service'


class ServiceDeleteView(ServiceLookupMixin, ChangeControlledDeleteView):
    queryset = selectors.service_list()
    service = services.service_delete
    service_object_kwarg = 'service'


# -------------------------------------------------------------------------------------------- relationships
class RelationshipListView(ObjectListView):
    queryset = selectors.relationship_list()
    filterset_class = RelationshipFilterSet
    columns = [
        Column('__str__', 'Relationship', order_by=None, linkify=True),
        Column('source.name', 'Source', order_by='source__name'),
        'type',
        Column('target.name', 'Target', order_by='target__name'),
        'description',
        'created_at',
    ]


class RelationshipDetailView(ObjectDetailView):
    queryset = selectors.relationship_list()
    fields = ['source', 'type', 'target', 'description', 'created_at']


class RelationshipCreateView(ObjectCreateView):
    queryset = selectors.relationship_list()
    form_class = RelationshipForm
    service = services.relationship_create

    def get_form_kwargs(self):
        initial = {k: self.request.GET[k].upper() for k in ('source', 'target') if self.request.GET.get(k)}
        return {'initial': initial}


class RelationshipEditView(ObjectEditView):
    queryset = selectors.relationship_list()
    form_class = RelationshipForm
    service = services.relationship_update
    service_object_kwarg = 'relationship'


class RelationshipDeleteView(ChangeControlledDeleteView):
    queryset = selectors.relationship_list()
    service = services.relationship_delete
    service_object_kwarg = 'relationship'

    def get_success_url(self, obj):
        # Back to the CI page the removal started from.
        url = self.request.POST.get('next', '')
        return url if url.startswith('/') and not url.startswith('//') else super().get_success_url(obj)


# ------------------------------------------------------------------------------------------ RACI assignments
class RaciAssignmentListView(ObjectListView):
    queryset = selectors.raci_list()
    filterset_class = RaciAssignmentFilterSet
    columns = [
        Column('__str__', 'Assignment', order_by=None, linkify=True),
        Column('service', order_by='service__ci__name'),
        'activity',
        'role',
        'person',
        'support_group',
        'notes',
    ]


class RaciAssignmentDetailView(ObjectDetailView):
    queryset = selectors.raci_list()
    fields = ['service', 'activity', 'role', 'person', 'support_group', 'notes']


class RaciAssignmentCreateView(ObjectCreateView):
    queryset = selectors.raci_list()
    form_class = RaciAssignmentForm
    service = services.raci_assign

    def get_form_kwargs(self):
        initial = {k: self.request.GET[k] for k in ('activity', 'role') if self.request.GET.get(k)}
        number = self.request.GET.get('service', '').upper()
        if number:
            initial['service'] = Service.objects.filter(ci__number=number).values_list('pk', flat=True).first()
        return {'initial': initial}


class RaciAssignmentEditView(ObjectEditView):
    queryset = selectors.raci_list()
    form_class = RaciAssignmentForm
    service = services.raci_update
    service_object_kwarg = 'assignment'


class RaciAssignmentDeleteView(ObjectDeleteView):
    queryset = selectors.raci_list()
    service = services.raci_remove
    service_object_kwarg = 'assignment'

    def get_success_url(self, obj):
        return obj.service.get_absolute_url()


# ---------------------------------------------------------------------------------------------------- import
class ImportView(ModelPermissionMixin, View):
    """Upload CSV files of CIs and relationships; a dry run (the default) reports without keeping anything."""

    model = ConfigurationItem
    permission_action = 'add'
    template_name = 'cmdb/import.html'

    def check_import_permission(self, user) -> None:
        if not (user_can(user, ConfigurationItem, 'change') and user_can(user, Relationship, 'add')):
            raise PermissionDenied

    def get(self, request):
        self.check_import_permission(request.user)
        return self.page(ImportForm())

    def post(self, request):
        self.check_import_permission(request.user)
        form = ImportForm(request.POST, request.FILES)
        report = None
        if form.is_valid():
            data = form.cleaned_data
            try:
                report = importer.import_csv(
                    actor=Actor.from_request(request),
                    cis=data['cis'],
                    relationships=data['relationships'],
                    dry_run=data['dry_run'],
                    change_reference=data['change_reference'],
                )
            except (ValidationError, ApplicationError) as error:
                form.add_error(None, error.detail if isinstance(error, ApplicationError) else error)
            else:
                if report.committed:
                    messages.success(request, 'Import done.')
        return self.page(form, report)

    def page(self, form, report=None):
        context = {
            'form': form,
            'report': report,
            'title': 'Import configuration items',
            'ci_columns': importer.CI_COLUMNS,
            'relationship_columns': importer.RELATIONSHIP_COLUMNS,
        }
        return render(self.request, self.template_name, context)
