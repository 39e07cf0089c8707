"""`/api/v1/incidents/` and `/api/v1/cases/`: CRUD by number, one POST per declared action, comments, timeline
(`itsm.api.records`); the desk's reference data."""

from django.db.models import prefetch_related_objects

from itsm.api.pagination import KeysetPagination
from itsm.api.records import RecordViewSet
from itsm.api.viewsets import ItsmModelViewSet
from itsm.choices import TicketKind
from itsm.errors import NotAllowed
from sla import selectors as sla_selectors
from sla import services as sla_services

from .. import routing, selectors, services
from ..filters import RoutingRuleFilterSet, TicketFilterSet
from ..models import Case, Category, Incident, PriorityMatrixEntry, ResponseTemplate, RoutingRule, Ticket
from . import serializers as s


class TicketViewSet(RecordViewSet):
    """Incidents or cases. Tickets are never deleted; they are closed."""

    kind = TicketKind.INCIDENT
    serializer_class = s.TicketSerializer
    filterset_class = TicketFilterSet
    pagination_class = KeysetPagination  # in queue order by cursor (`?cursor=`) past the bounded count
    query_parameters = ('cursor',)
    http_method_names = ['get', 'post', 'patch', 'head', 'options']

    def get_queryset(self):
        listing = self.action == 'list'
        tickets = selectors.ticket_list(user=self.request.user, many=listing)
        if listing:  # the list shows its references by name or number: their other columns stay unread
            tickets = tickets.reading_references(s.REFERENCE_COLUMNS)
        return tickets.filter(kind=self.kind).order_by(*selectors.QUEUE_ORDER)

    def get_serializer_class(self):
        if self.action in ('partial_update', 'update'):
            return s.TicketUpdateSerializer
        if getattr(self.request.user, 'is_requester_only', False):
            return s.RequesterTicketSerializer
        return s.TicketSerializer

    def reload(self, ticket):
        return selectors.ticket_list().get(pk=ticket.pk)  # a converted ticket is of the other kind now

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        user = self.request.user
        caller = data.pop('caller', None) or user
        if caller != user and user.is_requester_only:
            raise NotAllowed('Requesters report tickets for themselves only.')
        data.setdefault('channel', services.channel_for_actor(self.actor()))
        ticket = services.ticket_create(actor=self.actor(), kind=self.kind, caller=caller, **data)
        # The answer shows the clocks the create started (kept from writing them, else read in one query). A new
        # ticket has no children yet, and its prediction is worked out after the commit: the answer reads neither.
        if not sla_services.keep_opening_clocks(ticket):
            prefetch_related_objects([ticket], sla_selectors.clock_prefetch())
        setattr(ticket, s.CHILDREN.to_attr, [])
        Ticket.prediction.related.set_cached_value(ticket, None)
        serializer.instance = ticket

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        ticket = serializer.instance
        priority, reason = data.pop('priority', None), data.pop('priority_reason', '')
        if data:
            ticket = services.ticket_update(ticket=ticket, actor=self.actor(), **data)
        if priority is not None:
            ticket = services.ticket_override_priority(
                ticket=ticket, actor=self.actor(), priority=priority, reason=reason
            )
        serializer.instance = ticket


class IncidentViewSet(TicketViewSet):
    kind = TicketKind.INCIDENT
    queryset = Incident.objects.all()


class CaseViewSet(TicketViewSet):
    kind = TicketKind.CASE
    queryset = Case.objects.all()


class CategoryViewSet(ItsmModelViewSet):
    queryset = Category.objects.select_related('parent').order_by('parent__name', 'name')
    serializer_class = s.CategorySerializer
    filterset_fields = ['parent', 'active']


class PriorityMatrixViewSet(ItsmModelViewSet):
    """The impact × urgency matrix; changes apply to tickets opened from then on."""

    queryset = PriorityMatrixEntry.objects.all()
    serializer_class = s.PriorityMatrixEntrySerializer
    filterset_fields = ['impact', 'urgency', 'priority']

    def perform_create(self, serializer):
        data = serializer.validated_data
        services.priority_matrix_set(actor=self.actor(), cells=[(data['impact'], data['urgency'], data['priority'])])
        serializer.instance = PriorityMatrixEntry.objects.get(impact=data['impact'], urgency=data['urgency'])

    def perform_update(self, serializer):
        entry = serializer.instance
        data = {
            'impact': entry.impact,
            'urgency': entry.urgency,
            'priority': entry.priority,
            **serializer.validated_data,
        }
        services.priority_matrix_set(actor=self.actor(), cells=[(data['impact'], data['urgency'], data['priority'])])
        serializer.instance = PriorityMatrixEntry.objects.get(impact=data['impact'], urgency=data['urgency'])


class ResponseTemplateViewSet(ItsmModelViewSet):
    queryset = ResponseTemplate.objects.all()
    serializer_class = s.ResponseTemplateSerializer
    filterset_fields = ['kind', 'active']


class RoutingRuleViewSet(ItsmModelViewSet):
    """Where new tickets go: the first active rule by position whose conditions all match. Administrators write;
    staff read."""

    queryset = RoutingRule.objects.select_related('service', 'ci', 'category', 'assignment_group').order_by(
        'position', 'pk'
    )
    serializer_class = s.RoutingRuleSerializer
    filterset_class = RoutingRuleFilterSet

    def perform_create(self, serializer):
        serializer.instance = routing.rule_create(actor=self.actor(), **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = routing.rule_update(
            actor=self.actor(), obj=serializer.instance, **serializer.validated_data
        )
