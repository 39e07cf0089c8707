"""`/api/v1/incidents/` and `/api/v1/cases/`: CRUD by number, one POST action per transition, comments, timeline."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from itsm.api.serializers import TimelineEntrySerializer
from itsm.api.viewsets import ItsmModelViewSet, NumberLookupMixin
from itsm.audit import Actor
from itsm.choices import TicketKind, TimelineKind
from itsm.errors import NotAllowed

from .. import selectors, services
from ..filters import TicketFilterSet
from ..models import Case, Category, Incident, PriorityMatrixEntry, ResponseTemplate
from . import serializers as s


class TicketViewSet(
    NumberLookupMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Incidents or cases. Tickets are never deleted; they are closed."""

    permission_action: str | None = None

    def actor(self) -> Actor:
        return Actor.from_request(self.request)

    kind = TicketKind.INCIDENT
    filterset_class = TicketFilterSet
    http_method_names = ['get', 'post', 'patch', 'head', 'options']

    def get_queryset(self):
        return selectors.ticket_list(user=self.request.user).filter(kind=self.kind).order_by(*selectors.QUEUE_ORDER)

    def get_object(self):
        ticket = get_object_or_404(self.get_queryset().by_number(self.kwargs['number']))
        self.check_object_permissions(self.request, ticket)
        return ticket

    def get_serializer_class(self):
        if self.action in ('partial_update', 'update'):
            return s.TicketUpdateSerializer
        return s.TicketSerializer

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        user = self.request.user
        caller = data.pop('caller', None) or user
        if caller != user and user.is_requester_only:
            raise NotAllowed('Requesters report tickets for themselves only.')
        data.setdefault('channel', services.channel_for_actor(self.actor()))
        serializer.instance = services.ticket_create(actor=self.actor(), kind=self.kind, caller=caller, **data)

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

    def _run(self, request, input_serializer, service, **extra):
        ticket = self.get_object()
        data = {}
        if input_serializer is not None:
            payload = input_serializer(data=request.data)
            payload.is_valid(raise_exception=True)
            data = dict(payload.validated_data)
        updated = service(ticket=ticket, actor=self.actor(), **data, **extra)
        fresh = selectors.ticket_list().get(pk=updated.pk)
        return Response(s.TicketSerializer(fresh, context=self.get_serializer_context()).data)

    @extend_schema(request=s.AssignSerializer, responses=s.TicketSerializer)
    @action(detail=True, methods=['post'], permission_action='change')
    def assign(self, request, number=None):
        """New or Assigned → Assigned: to a group (name or id), optionally to a member."""
        return self._run(request, s.AssignSerializer, self._assign)

    @staticmethod
    def _assign(*, ticket, actor, group, assignee=None, reason=''):
        return services.ticket_assign(ticket=ticket, actor=actor, group=group, assignee=assignee, reason=reason)

    @extend_schema(request=None, responses=s.TicketSerializer)
    @action(detail=True, methods=['post'], permission_action='change')
    def accept(self, request, number=None):
        """Assigned → Accepted by a member of the assigned group, who becomes the owner."""
        return self._run(request, None, services.ticket_accept)

    @extend_schema(
        request=None,
        responses={200: s.TicketSerializer, 204: OpenApiResponse(description='Nothing waiting in your groups.')},
    )
    @action(detail=False, methods=['post'], url_path='accept-next', permission_action='change')
    def accept_next(self, request):
        """Accept the highest-priority unowned ticket of your groups (skipping one another agent is taking)."""
        ticket = services.ticket_accept_next(actor=self.actor())
        if ticket is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        fresh = selectors.ticket_list().get(pk=ticket.pk)
        return Response(s.TicketSerializer(fresh, context=self.get_serializer_context()).data)

    @extend_schema(request=s.PendSerializer, responses=s.TicketSerializer)
    @action(detail=True, methods=['post'], permission_action='change')
    def pend(self, request, number=None):
        """Accepted → Pending with a reason and an optional expected date."""
        return self._run(request, s.PendSerializer, services.ticket_pend)

    @extend_schema(request=s.NoteSerializer, responses=s.TicketSerializer)
    @action(detail=True, methods=['post'], permission_action='change')
    def resume(self, request, number=None):
        """Pending → Accepted."""
        return self._run(request, s.NoteSerializer, services.ticket_resume)

    @extend_schema(request=s.EscalateSerializer, responses=s.TicketSerializer)
    @action(detail=True, methods=['post'], permission_action='change')
    def escalate(self, request, number=None):
        """Functional escalation to a group (or the next tier); `hierarchical: true` notifies the manager."""
        return self._run(request, s.EscalateSerializer, self._escalate)

    @staticmethod
    def _escalate(*, ticket, actor, reason, group=None, hierarchical=False):
        if hierarchical:
            return services.ticket_escalate_hierarchical(ticket=ticket, actor=actor, reason=reason)
        return services.ticket_escalate(ticket=ticket, actor=actor, reason=reason, group=group)

    @extend_schema(request=s.CompleteSerializer, responses=s.TicketSerializer)
    @action(detail=True, methods=['post'], permission_action='change')
    def complete(self, request, number=None):
        """Accepted → Completed with a resolution code and notes."""
        return self._run(request, s.CompleteSerializer, services.ticket_complete)

    @extend_schema(request=None, responses=s.TicketSerializer)
    @action(detail=True, methods=['post'], permission_action='view')
    def confirm(self, request, number=None):
        """Completed → Closed: the caller (or an agent on the caller's behalf) confirms."""
        return self._run(request, None, services.ticket_confirm)

    @extend_schema(request=s.ReasonSerializer, responses=s.TicketSerializer)
    @action(detail=True, methods=['post'], permission_action='view')
    def reject(self, request, number=None):
        """Completed → Accepted: the caller rejects the resolution (counts a reopen)."""
        return self._run(request, s.ReasonSerializer, services.ticket_reject)

    @extend_schema(request=s.ConvertSerializer, responses=s.TicketSerializer)
    @action(detail=True, methods=['post'], permission_action='change')
    def convert(self, request, number=None):
        """Turn a case into an incident or back; the history stays and the old number still finds it."""
        return self._run(request, s.ConvertSerializer, self._convert)

    @staticmethod
    def _convert(*, ticket, actor, to):
        return services.ticket_convert(ticket=ticket, actor=actor, to_kind=to)

    @extend_schema(request=s.ParentSerializer, responses=s.TicketSerializer)
    @action(detail=True, methods=['post'], permission_action='change')
    def parent(self, request, number=None):
        """Link the ticket to a parent (master or major) incident, or unlink it with null."""
        return self._run(request, s.ParentSerializer, services.ticket_link_parent)

    @extend_schema(methods=['get'], responses=s.CommentOutputSerializer(many=True))
    @extend_schema(methods=['post'], request=s.CommentSerializer, responses={201: s.CommentOutputSerializer})
    @action(detail=True, methods=['get', 'post'], permission_action='view')
    def comments(self, request, number=None):
        """Customer-visible comments and internal work notes (requesters never see work notes)."""
        ticket = self.get_object()
        if request.method == 'POST':
            payload = s.CommentSerializer(data=request.data)
            payload.is_valid(raise_exception=True)
            entry = services.ticket_comment(ticket=ticket, actor=self.actor(), **payload.validated_data)
            return Response(s.CommentOutputSerializer(entry).data, status=status.HTTP_201_CREATED)
        entries = selectors.ticket_timeline(ticket, public_only=request.user.is_requester_only).filter(
            kind__in=[TimelineKind.COMMENT, TimelineKind.WORK_NOTE]
        )
        return Response(s.CommentOutputSerializer(entries, many=True).data)

    @extend_schema(responses=TimelineEntrySerializer(many=True))
    @action(detail=True, methods=['get'], permission_action='view')
    def timeline(self, request, number=None):
        """Every entry of the ticket's history; requesters see only the public ones."""
        ticket = self.get_object()
        entries = selectors.ticket_timeline(ticket, public_only=request.user.is_requester_only)
        return Response(TimelineEntrySerializer(entries, many=True).data)


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
