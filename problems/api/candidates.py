"""`/api/v1/problem-candidates/`: the recurrence scan's proposals, read by staff; problem managers accept one
(`POST {id}/accept/`: a problem with its incidents linked) or dismiss it (`POST {id}/dismiss/` with a reason).
Candidates are written by the scan only: no create, update or delete."""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from incidents.models import Ticket
from itsm.audit import Actor

from .. import candidates
from ..filters import ProblemCandidateFilterSet
from ..models import ProblemCandidate


class ProblemCandidateSerializer(serializers.ModelSerializer):
    ci = serializers.SlugRelatedField(slug_field='number', read_only=True)
    service = serializers.SlugRelatedField(slug_field='number', read_only=True)
    category = serializers.StringRelatedField()
    subcategory = serializers.StringRelatedField()
    problem = serializers.SlugRelatedField(slug_field='number', read_only=True)
    decided_by = serializers.SlugRelatedField(slug_field='username', read_only=True)
    incidents = serializers.SlugRelatedField(slug_field='number', many=True, read_only=True)

    class Meta:
        model = ProblemCandidate
        fields = [
            'id',
            'key',
            'basis',
            'status',
            'title',
            'ci',
            'service',
            'category',
            'subcategory',
            'symptom',
            'size',
            'first_seen',
            'last_seen',
            'daily_counts',
            'incidents',
            'scanned_at',
            'problem',
            'decided_by',
            'decided_at',
            'dismiss_reason',
            'dismissed_size',
        ]
        read_only_fields = fields


class CandidateAcceptSerializer(serializers.Serializer):
    short_description = serializers.CharField(
        max_length=candidates.SHORT_DESCRIPTION_MAX, required=False, allow_blank=True
    )


class CandidateAcceptedSerializer(serializers.Serializer):
    problem = serializers.CharField(help_text='The number of the problem opened.')
    linked = serializers.IntegerField(help_text='Incidents linked to it.')
    candidate = ProblemCandidateSerializer()


class CandidateDismissSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class ProblemCandidateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Problem candidates, largest first (`?status=proposed`, `?basis=`, `?ci=`, `?service=`, `?min_size=`)."""

    serializer_class = ProblemCandidateSerializer
    filterset_class = ProblemCandidateFilterSet
    queryset = candidates.candidate_list().prefetch_related('incidents')
    http_method_names = ['get', 'post', 'head', 'options']
    permission_action: str | None = None  # set per action: accepting and dismissing need `change`

    def get_queryset(self):
        # Its incidents as the person may see them (a security incident only for those cleared for it).
        incidents = Ticket.objects.visible_to(self.request.user).only('pk', 'number')
        return candidates.candidate_list().prefetch_related(Prefetch('incidents', queryset=incidents))

    def actor(self) -> Actor:
        return Actor.from_request(self.request)

    @extend_schema(request=CandidateAcceptSerializer, responses={201: CandidateAcceptedSerializer})
    @action(detail=True, methods=['post'], permission_action='change')
    def accept(self, request, pk=None):
        """Open a problem from the candidate with its incidents linked (problem managers)."""
        data = CandidateAcceptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        problem = candidates.candidate_accept(
            candidate=self.get_object(),
            actor=self.actor(),
            short_description=data.validated_data.get('short_description', ''),
        )
        candidate = self.get_queryset().get(pk=pk)
        body = {'problem': problem.number, 'linked': problem.incident_links.count(), 'candidate': candidate}
        return Response(CandidateAcceptedSerializer(body).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CandidateDismissSerializer, responses=ProblemCandidateSerializer)
    @action(detail=True, methods=['post'], permission_action='change')
    def dismiss(self, request, pk=None):
        """Dismiss the candidate with a reason; it is proposed again only once it grows by the regrow factor."""
        data = CandidateDismissSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        candidates.candidate_dismiss(
            candidate=self.get_object(), actor=self.actor(), reason=data.validated_data['reason']
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=pk)).data)
