"""Incidents and problems over the API (`problems.incident_links`, `problems.report_back`):

- `/api/v1/problem-incidents/`: the links, read; created and deleted through the link services (no edits: unlink
  and link again);
- `POST /api/v1/incidents/{number}/raise-problem/` and `.../link-problem/`: what the incident page's "Problem" card
  does;
- `GET /api/v1/problem-review/` (the "Needs problem review" queue) and `POST /api/v1/problem-review/{number}/
  reviewed/`, for problem managers;
- `POST /api/v1/problems/{number}/complete-incidents/`: complete a resolved problem's open incidents.
"""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from incidents.choices import ResolutionCode
from incidents.models import Ticket
from itsm.api.viewsets import ItsmModelViewSet
from itsm.audit import Actor
from itsm.views.records import find_record

from .. import incident_links, report_back
from ..models import Problem, ProblemIncident

__all__ = [
    'IncidentProblemViewSet',
    'ProblemIncidentFilterSet',
    'ProblemIncidentViewSet',
    'ProblemIncidentsCompleteViewSet',
    'ReviewQueueViewSet',
]


class _NumberField(serializers.SlugRelatedField):
    """A record named by its number, in any case."""

    def __init__(self, **kwargs):
        super().__init__(slug_field='number', **kwargs)

    def to_internal_value(self, data):
        return super().to_internal_value(str(data).strip().upper())


# ------------------------------------------------------------------------------------------------ links
class ProblemIncidentFilterSet(django_filters.FilterSet):
    problem = django_filters.CharFilter(field_name='problem__number', lookup_expr='iexact', label='Problem')
    incident = django_filters.CharFilter(field_name='incident__number', lookup_expr='iexact', label='Incident')
    problem_state = django_filters.CharFilter(field_name='problem__state', label='Problem state')
    linked_by = django_filters.CharFilter(field_name='linked_by__username', label='Linked by')

    class Meta:
        model = ProblemIncident
        fields = ['problem', 'incident', 'problem_state', 'linked_by']


class _VisibleIncidentField(_NumberField):
    """An incident named by its number, among those the requesting person may see (`visible_to`): a security
    incident is "not found" to others, as a number that does not exist."""

    def get_queryset(self):
        request = self.context.get('request')
        return Ticket.objects.visible_to(request.user) if request is not None else Ticket.objects.all()


def visible_links(links, user):
    """`links` of incidents `user` may see (a security incident only for those cleared for it)."""
    if Ticket.restricted_condition(user) is None and not user.is_requester_only:
        return links
    return links.filter(incident__in=Ticket.objects.visible_to(user).values('pk'))


class ProblemIncidentSerializer(serializers.ModelSerializer):
    problem = _NumberField(queryset=Problem.objects.all())
    incident = _VisibleIncidentField(queryset=Ticket.objects.all())
    incident_state = serializers.CharField(source='incident.state', read_only=True)
    problem_state = serializers.CharField(source='problem.state', read_only=True)
    linked_by = serializers.SlugRelatedField(slug_field='username', read_only=True)

    class Meta:
        model = ProblemIncident
        fields = ['id', 'problem', 'problem_state', 'incident', 'incident_state', 'linked_by', 'linked_at']
        read_only_fields = ['id', 'linked_by', 'linked_at']


class ProblemIncidentViewSet(ItsmModelViewSet):
    """Incidents recorded with problems. Linking refuses a case, an incident linked elsewhere (409) and a closed
    or cancelled problem; deleting a link unlinks."""

    queryset = ProblemIncident.objects.select_related('problem', 'incident', 'linked_by').order_by('-linked_at', '-pk')
    serializer_class = ProblemIncidentSerializer
    filterset_class = ProblemIncidentFilterSet
    http_method_names = ['get', 'post', 'delete', 'head', 'options']

    def get_queryset(self):
        return visible_links(super().get_queryset(), self.request.user)

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = incident_links.link_incident(
            problem=data['problem'], incident=data['incident'], actor=self.actor()
        )

    def perform_destroy(self, link):
        incident_links.unlink_incident(problem=link.problem, incident=link.incident, actor=self.actor())


# ------------------------------------------------------------------------------------------- from incidents
class RaiseProblemSerializer(serializers.Serializer):
    short_description = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    symptoms = serializers.CharField(required=False, allow_blank=True)


class LinkProblemSerializer(serializers.Serializer):
    problem = _NumberField(queryset=Problem.objects.all())


class IncidentProblemViewSet(viewsets.GenericViewSet):
    """Record an incident with a problem: raise a new one from it, or link it to one already logged."""

    lookup_field = 'number'
    lookup_value_regex = '[A-Za-z]+[0-9]+'
    serializer_class = ProblemIncidentSerializer
    permission_action = 'add'

    def get_queryset(self):
        # What the permission check reads: raising logs a problem, linking adds a link.
        return Problem.objects.all() if self.action == 'raise_problem' else ProblemIncident.objects.all()

    def actor(self):
        return Actor.from_request(self.request)

    def incident(self) -> Ticket:
        return find_record(Ticket.objects.visible_to(self.request.user), self.kwargs['number'])

    def answer(self, incident: Ticket) -> Response:
        link = ProblemIncident.objects.select_related('problem', 'incident', 'linked_by').get(incident=incident)
        return Response(ProblemIncidentSerializer(link).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RaiseProblemSerializer, responses={201: ProblemIncidentSerializer})
    @action(detail=True, methods=['post'], url_path='raise-problem')
    def raise_problem(self, request, number=None):
        """Log a problem from the incident (its classification, service and CI by default) and link it."""
        incident = self.incident()
        payload = RaiseProblemSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        incident_links.raise_problem_from_incident(incident=incident, actor=self.actor(), **payload.validated_data)
        return self.answer(incident)

    @extend_schema(request=LinkProblemSerializer, responses={201: ProblemIncidentSerializer})
    @action(detail=True, methods=['post'], url_path='link-problem')
    def link_problem(self, request, number=None):
        """Link the incident to a problem not yet closed or cancelled."""
        incident = self.incident()
        payload = LinkProblemSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        incident_links.link_incident(problem=payload.validated_data['problem'], incident=incident, actor=self.actor())
        return self.answer(incident)


# ------------------------------------------------------------------------------------ needs problem review
class ReviewIncidentSerializer(serializers.ModelSerializer):
    caller = serializers.SlugRelatedField(slug_field='username', read_only=True)
    assignment_group = serializers.SlugRelatedField(slug_field='name', read_only=True)
    escalated_at = serializers.DateTimeField(read_only=True)

    class Meta:
        model = Ticket
        fields = ['number', 'short_description', 'state', 'priority', 'caller', 'assignment_group', 'escalated_at']
        read_only_fields = fields


class ReviewedSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class ReviewQueueViewSet(viewsets.ReadOnlyModelViewSet):
    """Incidents escalated to the last tier and neither linked to a problem nor reviewed since. Problem managers
    mark one reviewed (`reviewed`) when it needs no problem."""

    queryset = ProblemIncident.objects.all()  # the permission: problem links
    permission_action: str | None = None
    serializer_class = ReviewIncidentSerializer
    lookup_field = 'number'
    lookup_value_regex = '[A-Za-z]+[0-9]+'

    def get_queryset(self):
        return incident_links.review_queue().visible_to(self.request.user)

    def get_object(self):
        return find_record(self.get_queryset(), self.kwargs['number'])

    @extend_schema(request=ReviewedSerializer, responses={200: ReviewIncidentSerializer})
    @action(detail=True, methods=['post'], permission_action='change')
    def reviewed(self, request, number=None):
        """The escalation needs no problem: the incident leaves the queue; the reason stays in its history."""
        incident = find_record(Ticket.objects.visible_to(request.user), number)
        payload = ReviewedSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        incident_links.mark_reviewed(
            incident=incident, actor=Actor.from_request(request), reason=payload.validated_data['reason']
        )
        return Response(ReviewIncidentSerializer(incident).data)


# --------------------------------------------------------------------------------------------- report-back
class CompleteIncidentsSerializer(serializers.Serializer):
    # The incidents' own codes (one enum in the schema); the service takes solved_permanently or known_error only.
    resolution_code = serializers.ChoiceField(
        choices=ResolutionCode.choices,
        default=report_back.COMPLETION_CODES[0].value,
        help_text='solved_permanently (the default) or known_error.',
    )


class ProblemIncidentsCompleteViewSet(viewsets.GenericViewSet):
    queryset = Problem.objects.all()
    permission_action: str | None = None
    lookup_field = 'number'
    lookup_value_regex = '[A-Za-z]+[0-9]+'
    serializer_class = CompleteIncidentsSerializer

    @extend_schema(
        request=CompleteIncidentsSerializer,
        responses={
            200: inline_serializer(
                'IncidentsCompleted',
                {'completed': serializers.ListField(), 'not_completed': serializers.ListField()},
            )
        },
    )
    @action(detail=True, methods=['post'], url_path='complete-incidents', permission_action='change')
    def complete_incidents(self, request, number=None):
        """Complete the open incidents of a resolved problem with its resolution; refusals are listed per incident,
        the others completed."""
        problem = find_record(Problem.objects.all(), number)
        payload = CompleteIncidentsSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        done, refused = report_back.complete_linked_incidents(
            problem=problem, actor=Actor.from_request(request), **payload.validated_data
        )
        return Response({'completed': done, 'not_completed': refused})
