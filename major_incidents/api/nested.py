"""What hangs off one major incident, under `/api/v1/major-incidents/{number}/`:

- `updates/`: GET the updates, newest first; POST one (the response team), as `post-update` does;
- `children/`: GET the child incidents; POST incident numbers to link; DELETE `children/{incident number}/`;
- `recipients/`: GET the recipient list; POST someone; DELETE `recipients/{id}/`;
- `review/`: GET the post-incident review; PUT/PATCH starts it if need be and edits it; POST `review/open-problem/`.

Each endpoint needs the model permission of what it touches; the service then asks the action's guard.
"""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.response import Response

from incidents.models import Ticket
from itsm.audit import Actor
from itsm.views.records import find_record

from .. import review as reviews
from .. import services
from ..models import MajorIncident, MajorIncidentChild, MajorIncidentUpdate, PostIncidentReview, Recipient
from . import serializers as s

NUMBER = OpenApiParameter('number', str, OpenApiParameter.PATH, description='The major incident (MIR0001001).')
INCIDENT = OpenApiParameter('incident', str, OpenApiParameter.PATH, description='The child incident (INC0001001).')
# Whoever links children may unlink them (the `link_children` guard decides both): DELETE needs `change` here.
CHILD_PERMISSIONS = {'GET': 'view', 'HEAD': 'view', 'OPTIONS': 'view', 'POST': 'add', 'DELETE': 'change'}
RECIPIENT = OpenApiParameter('pk', int, OpenApiParameter.PATH, description='The recipient.')


class OneMajorViewSet(viewsets.GenericViewSet):
    """Base: a collection of one major incident, found by the `number` in the URL (404 if there is none)."""

    permission_action: str | dict | None = None

    def actor(self) -> Actor:
        return Actor.from_request(self.request)

    def major(self) -> MajorIncident:
        if not hasattr(self, '_major'):
            self._major = find_record(MajorIncident.objects.all(), self.kwargs['number'])
        return self._major

    def listed(self, queryset):
        page = self.paginate_queryset(self.filter_queryset(queryset))  # unknown query parameters are a 400
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


@extend_schema_view(list=extend_schema(parameters=[NUMBER]), create=extend_schema(parameters=[NUMBER]))
class MajorUpdatesViewSet(OneMajorViewSet):
    """The updates of a major incident, newest first."""

    queryset = MajorIncidentUpdate.objects.all()
    serializer_class = s.MajorUpdateSerializer
    # Posting is the response team's (the action's guard); the model permission is only to read updates.
    permission_action = {'GET': 'view', 'HEAD': 'view', 'OPTIONS': 'view', 'POST': 'view'}

    def get_queryset(self):
        return (
            MajorIncidentUpdate.objects.filter(major_incident=self.major())
            .select_related('major_incident', 'posted_by')
            .order_by('-posted_at', '-pk')
        )

    def list(self, request, number=None):
        return self.listed(self.get_queryset())

    @extend_schema(request=s.UpdatePostSerializer, responses={201: s.MajorUpdateSerializer})
    def create(self, request, number=None):
        """Post an update: internal, e-mailed to the recipient list, or public on the status page."""
        payload = s.UpdatePostSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        update = services.major_post_update(major=self.major(), actor=self.actor(), **payload.validated_data)
        update = self.get_queryset().get(pk=update.pk)
        return Response(s.MajorUpdateSerializer(update).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(parameters=[NUMBER]),
    create=extend_schema(parameters=[NUMBER]),
    destroy=extend_schema(parameters=[NUMBER, INCIDENT]),
)
class MajorChildrenViewSet(OneMajorViewSet):
    """The incidents worked as part of a major incident, last linked first."""

    queryset = MajorIncidentChild.objects.all()
    serializer_class = s.MajorChildSerializer
    permission_action = CHILD_PERMISSIONS

    def get_queryset(self):
        # A security incident among them only for those who may see it (`visible_to`).
        visible = Ticket.objects.visible_to(self.request.user).values('pk')
        return (
            MajorIncidentChild.objects.filter(major_incident=self.major(), incident__in=visible)
            .select_related('major_incident', 'incident__caller', 'linked_by')
            .order_by('-linked_at', '-pk')
        )

    def list(self, request, number=None):
        return self.listed(self.get_queryset())

    @extend_schema(request=s.LinkChildrenSerializer, responses={201: s.MajorChildSerializer(many=True)})
    def create(self, request, number=None):
        """Link incidents (by number) in one action; an incident already in another major incident is a 409."""
        payload = s.LinkChildrenSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        links = services.major_link_children(major=self.major(), actor=self.actor(), **payload.validated_data)
        rows = self.get_queryset().filter(pk__in=[link.pk for link in links])
        return Response(s.MajorChildSerializer(rows, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def destroy(self, request, number=None, incident=None):
        """Unlink a child incident (it goes on as an ordinary incident)."""
        link = self.get_queryset().filter(incident__number=str(incident).upper()).first()
        if link is None:
            raise Http404(f'{str(incident).upper()} is not a child of {self.major().number}.')
        services.major_unlink_child(major=self.major(), actor=self.actor(), incident=link.incident)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(parameters=[NUMBER]),
    create=extend_schema(parameters=[NUMBER]),
    destroy=extend_schema(parameters=[NUMBER, RECIPIENT]),
)
class MajorRecipientsViewSet(OneMajorViewSet):
    """Who is told about a major incident (built from its services, edited by hand)."""

    queryset = Recipient.objects.all()
    serializer_class = s.MajorRecipientSerializer

    def get_queryset(self):
        return Recipient.objects.filter(major_incident=self.major()).select_related('major_incident', 'person')

    def list(self, request, number=None):
        return self.listed(self.get_queryset())

    @extend_schema(request=s.MajorRecipientSerializer, responses={201: s.MajorRecipientSerializer})
    def create(self, request, number=None):
        """Add someone by e-mail address (and name, or a person by username); an address listed already is a 409."""
        payload = s.MajorRecipientSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        recipient = services.recipient_add(major=self.major(), actor=self.actor(), **payload.validated_data)
        recipient = self.get_queryset().get(pk=recipient.pk)
        return Response(s.MajorRecipientSerializer(recipient).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def destroy(self, request, number=None, pk=None):
        recipient = self.get_queryset().filter(pk=pk).first()
        if recipient is None:
            raise Http404(f'No such recipient on {self.major().number}.')
        services.recipient_remove(major=self.major(), actor=self.actor(), recipient=recipient)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    retrieve=extend_schema(parameters=[NUMBER]),
    update=extend_schema(parameters=[NUMBER]),
    partial_update=extend_schema(parameters=[NUMBER]),
)
class MajorReviewViewSet(OneMajorViewSet):
    """The post-incident review of a major incident."""

    queryset = PostIncidentReview.objects.all()
    serializer_class = s.PostIncidentReviewSerializer

    def review_queryset(self):
        return PostIncidentReview.objects.select_related('major_incident', 'problem', 'author').prefetch_related(
            'action_items__owner', 'action_items__done_by', 'action_items__review__major_incident'
        )

    def answer(self, review) -> Response:
        return Response(s.PostIncidentReviewSerializer(self.review_queryset().get(pk=review.pk)).data)

    def retrieve(self, request, number=None):
        review = self.review_queryset().filter(major_incident=self.major()).first()
        if review is None:
            raise Http404(f'{self.major().number} has no post-incident review yet.')
        return self.answer(review)

    def update(self, request, number=None, partial=False):
        """Start the review if it has none (prefilled with the outage as measured), then edit it."""
        review = reviews.review_start(major=self.major(), actor=self.actor())
        payload = s.PostIncidentReviewSerializer(review, data=request.data, partial=partial)
        payload.is_valid(raise_exception=True)
        review = reviews.review_update(review=review, actor=self.actor(), **payload.validated_data)
        return self.answer(review)

    def partial_update(self, request, number=None):
        return self.update(request, number, partial=True)

    @extend_schema(request=None, responses={201: s.PostIncidentReviewSerializer}, parameters=[NUMBER])
    def open_problem(self, request, number=None):
        """Open a problem record for the root cause (400 without one; 409 while the review's problem is open)."""
        review = self.review_queryset().filter(major_incident=self.major()).first()
        if review is None:
            raise Http404(f'{self.major().number} has no post-incident review yet.')
        reviews.review_open_problem(review=review, actor=self.actor())
        response = self.answer(review)
        response.status_code = status.HTTP_201_CREATED
        return response
