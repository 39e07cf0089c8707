"""Major-incident records across all major incidents, each at its own `/api/v1/major-incident-<kind>/`:

- `children`, `recipients`: read, link or add one (naming the major incident), delete;
- `updates`, `validations`, `cadence-reminders`: read (updates are posted on the major incident; validations are its
  `validate` action; reminders are sent by the cadence job);
- `update-templates`: the templated updates incident managers maintain (CRUD);
- `candidates`: what the candidate rules found; incident managers `dismiss` one (declaring is a create on
  `/major-incidents/` naming the candidate);
- `action-items`: the long-term actions of the reviews (`done`, `reopen`);
- `reviews`: the post-incident reviews (edited through `/major-incidents/{number}/review/`).
"""

from __future__ import annotations

import django_filters
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from incidents.models import Ticket
from itsm.api.serializers import ReasonSerializer
from itsm.api.viewsets import ItsmModelViewSet
from itsm.audit import Actor
from itsm.filters import TextSearchFilterSet

from .. import candidates, services
from .. import review as reviews
from ..choices import CandidateReason, CandidateStatus, UpdateAudience, ValidationRole
from ..models import (
    ActionItem,
    CadenceReminder,
    MajorIncidentCandidate,
    MajorIncidentChild,
    MajorIncidentUpdate,
    PostIncidentReview,
    Recipient,
    UpdateTemplate,
    Validation,
)
from . import serializers as s
from .nested import CHILD_PERMISSIONS


# -------------------------------------------------------------------------------------------------- filters
class OfMajorFilterSet(django_filters.FilterSet):
    """`?major_incident=MIR0001001`: the rows of one major incident."""

    major_incident = django_filters.CharFilter(method='filter_major', label='Major incident (number)')

    def filter_major(self, queryset, name, value):
        return queryset.filter(major_incident__number=value.strip().upper())


class ChildFilterSet(OfMajorFilterSet):
    incident = django_filters.CharFilter(method='filter_incident', label='Incident (number)')

    class Meta:
        model = MajorIncidentChild
        fields: list[str] = []

    def filter_incident(self, queryset, name, value):
        return queryset.filter(incident__number=value.strip().upper())


class RecipientFilterSet(OfMajorFilterSet):
    email = django_filters.CharFilter(field_name='email', lookup_expr='iexact')

    class Meta:
        model = Recipient
        fields = ['source']


class UpdateFilterSet(OfMajorFilterSet):
    audience = django_filters.ChoiceFilter(choices=UpdateAudience.choices)
    on_time = django_filters.BooleanFilter()

    class Meta:
        model = MajorIncidentUpdate
        fields: list[str] = []


class ValidationFilterSet(OfMajorFilterSet):
    role = django_filters.ChoiceFilter(choices=ValidationRole.choices)

    class Meta:
        model = Validation
        fields: list[str] = []


class CadenceReminderFilterSet(OfMajorFilterSet):
    class Meta:
        model = CadenceReminder
        fields: list[str] = []


class ReviewFilterSet(OfMajorFilterSet):
    class Meta:
        model = PostIncidentReview
        fields: list[str] = []


class UpdateTemplateFilterSet(TextSearchFilterSet):
    search_fields = ('name', 'subject', 'body')

    class Meta:
        model = UpdateTemplate
        fields = ['audience', 'active']


class CandidateFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=CandidateStatus.choices)
    reason = django_filters.ChoiceFilter(choices=CandidateReason.choices)

    class Meta:
        model = MajorIncidentCandidate
        fields: list[str] = []


class ActionItemFilterSet(TextSearchFilterSet):
    search_fields = ('description', 'notes')
    owner = django_filters.CharFilter(method='filter_owner', label='Owner (username, or "me")')
    open = django_filters.BooleanFilter(method='filter_open', label='Not done yet')
    overdue = django_filters.BooleanFilter(method='filter_overdue', label='Open and past its due date')
    major_incident = django_filters.CharFilter(method='filter_major', label='Major incident (number)')

    class Meta:
        model = ActionItem
        fields: list[str] = []

    def filter_owner(self, queryset, name, value):
        value = value.strip()
        if value.lower() == 'me':
            user = getattr(self.request, 'user', None)
            return queryset.filter(owner=user) if user and user.is_authenticated else queryset.none()
        return queryset.filter(owner__username__iexact=value)

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(done_at__isnull=value)

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        due = reviews.action_items_due().values('pk')
        return queryset.filter(pk__in=due) if value else queryset.exclude(pk__in=due)

    def filter_major(self, queryset, name, value):
        return queryset.filter(review__major_incident__number=value.strip().upper())


# ------------------------------------------------------------------------------------------------- viewsets
class ReadOnlyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_action: str | None = None

    def actor(self) -> Actor:
        return Actor.from_request(self.request)


class MajorIncidentChildViewSet(mixins.CreateModelMixin, mixins.DestroyModelMixin, ReadOnlyViewSet):
    """Child incidents of every major incident, last linked first. POST links one incident to a major incident
    (agents and incident managers); DELETE unlinks it."""

    queryset = MajorIncidentChild.objects.all()
    serializer_class = s.MajorChildSerializer
    filterset_class = ChildFilterSet
    permission_action = CHILD_PERMISSIONS

    def get_queryset(self):
        # A security incident among them only for those who may see it (`visible_to`).
        visible = Ticket.objects.visible_to(self.request.user).values('pk')
        return (
            MajorIncidentChild.objects.filter(incident__in=visible)
            .select_related('major_incident', 'incident__caller', 'linked_by')
            .order_by('-linked_at', '-pk')
        )

    @extend_schema(request=s.MajorChildLinkSerializer, responses={201: s.MajorChildSerializer})
    def create(self, request, *args, **kwargs):
        payload = s.MajorChildLinkSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        major, incident = payload.validated_data['major_incident'], payload.validated_data['incident']
        services.major_link_children(major=major, actor=self.actor(), incidents=[incident])
        link = self.get_queryset().get(incident=incident)
        return Response(s.MajorChildSerializer(link).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.major_unlink_child(major=instance.major_incident, actor=self.actor(), incident=instance.incident)


class RecipientViewSet(mixins.CreateModelMixin, mixins.DestroyModelMixin, ReadOnlyViewSet):
    """Recipient lists of every major incident. POST adds someone to one (naming it); DELETE removes them."""

    queryset = Recipient.objects.all()
    serializer_class = s.MajorRecipientSerializer
    filterset_class = RecipientFilterSet

    def get_queryset(self):
        return Recipient.objects.select_related('major_incident', 'person').order_by('major_incident_id', 'email')

    @extend_schema(request=s.MajorRecipientAddSerializer, responses={201: s.MajorRecipientSerializer})
    def create(self, request, *args, **kwargs):
        payload = s.MajorRecipientAddSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        recipient = services.recipient_add(major=data.pop('major_incident'), actor=self.actor(), **data)
        recipient = self.get_queryset().get(pk=recipient.pk)
        return Response(s.MajorRecipientSerializer(recipient).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.recipient_remove(major=instance.major_incident, actor=self.actor(), recipient=instance)


class MajorIncidentUpdateViewSet(ReadOnlyViewSet):
    """Updates of every major incident, newest first (posted through `/major-incidents/{number}/updates/`)."""

    queryset = MajorIncidentUpdate.objects.all()
    serializer_class = s.MajorUpdateSerializer
    filterset_class = UpdateFilterSet

    def get_queryset(self):
        return MajorIncidentUpdate.objects.select_related('major_incident', 'posted_by').order_by('-posted_at', '-pk')


class ValidationViewSet(ReadOnlyViewSet):
    """The service owners' and business owners' validations (given through the `validate` action)."""

    queryset = Validation.objects.all()
    serializer_class = s.MajorValidationSerializer
    filterset_class = ValidationFilterSet

    def get_queryset(self):
        return Validation.objects.select_related('major_incident', 'validated_by').order_by('-validated_at', '-pk')


class CadenceReminderViewSet(ReadOnlyViewSet):
    """Reminders sent to communications leads for missed updates, one per missed update."""

    queryset = CadenceReminder.objects.all()
    serializer_class = s.CadenceReminderSerializer
    filterset_class = CadenceReminderFilterSet

    def get_queryset(self):
        return CadenceReminder.objects.select_related('major_incident', 'sent_to').order_by('-due_at', '-pk')


class PostIncidentReviewViewSet(ReadOnlyViewSet):
    """Post-incident reviews, newest first (written through `/major-incidents/{number}/review/`)."""

    queryset = PostIncidentReview.objects.all()
    serializer_class = s.PostIncidentReviewSerializer
    filterset_class = ReviewFilterSet

    def get_queryset(self):
        return (
            PostIncidentReview.objects.select_related('major_incident', 'problem', 'author')
            .prefetch_related('action_items__owner', 'action_items__done_by', 'action_items__review__major_incident')
            .order_by('-created_at', '-pk')
        )


class UpdateTemplateViewSet(ItsmModelViewSet):
    """Templated updates (placeholders such as {number}, {title}, {services}, {next_update}); incident managers
    maintain them."""

    queryset = UpdateTemplate.objects.all()
    serializer_class = s.UpdateTemplateSerializer
    filterset_class = UpdateTemplateFilterSet
    http_method_names = ['get', 'post', 'patch', 'delete', 'head', 'options']

    def get_queryset(self):
        return UpdateTemplate.objects.order_by('audience', 'name')


class MajorIncidentCandidateViewSet(ReadOnlyViewSet):
    """Major-incident candidates, proposed first, then the newest. Declaring one is a POST to `/major-incidents/`
    with `candidate`; `dismiss` says why it is not one."""

    queryset = MajorIncidentCandidate.objects.all()
    serializer_class = s.MajorCandidateSerializer
    filterset_class = CandidateFilterSet
    http_method_names = ['get', 'post', 'head', 'options']

    def get_queryset(self):
        # Candidates and their incidents as the person may see them (a security incident only for those cleared).
        user = self.request.user
        incidents = Prefetch('incidents', queryset=Ticket.objects.visible_to(user).only('pk', 'number'))
        return candidates.visible_candidates(candidates.candidate_list(), user).prefetch_related(incidents)

    @extend_schema(request=s.MajorCandidateDismissSerializer, responses=s.MajorCandidateSerializer)
    @action(detail=True, methods=['post'], permission_action='change')
    def dismiss(self, request, pk=None):
        """Not a major incident: say why (incident managers; only a proposed candidate, else 409)."""
        payload = s.MajorCandidateDismissSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        candidates.candidate_dismiss(
            candidate=self.get_object(), actor=self.actor(), reason=payload.validated_data['reason']
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=pk)).data)


class ActionItemViewSet(ItsmModelViewSet):
    """Action items of the post-incident reviews, soonest due first (`?owner=me`, `?open=true`, `?overdue=true`)."""

    queryset = ActionItem.objects.all()
    serializer_class = s.ActionItemSerializer
    filterset_class = ActionItemFilterSet
    http_method_names = ['get', 'post', 'patch', 'head', 'options']

    def get_queryset(self):
        return ActionItem.objects.select_related('review__major_incident', 'owner', 'done_by').order_by(
            'due_date', 'pk'
        )

    def get_serializer_class(self):
        if self.action in ('partial_update', 'update'):
            return s.ActionItemUpdateSerializer
        return s.ActionItemSerializer

    def perform_create(self, serializer):
        item = reviews.action_item_add(actor=self.actor(), **dict(serializer.validated_data))
        serializer.instance = self.get_queryset().get(pk=item.pk)

    def perform_update(self, serializer):
        item = reviews.action_item_update(item=serializer.instance, actor=self.actor(), **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=item.pk)

    def answer(self, item) -> Response:
        return Response(s.ActionItemSerializer(self.get_queryset().get(pk=item.pk)).data)

    @extend_schema(request=s.ActionItemDoneSerializer, responses=s.ActionItemSerializer)
    @action(detail=True, methods=['post'], permission_action='change')
    def done(self, request, pk=None):
        """Mark it done (409 if it is done already)."""
        payload = s.ActionItemDoneSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self.answer(reviews.action_item_done(item=self.get_object(), actor=self.actor(), **payload.data))

    @extend_schema(request=ReasonSerializer, responses=s.ActionItemSerializer)
    @action(detail=True, methods=['post'], permission_action='change')
    def reopen(self, request, pk=None):
        """Reopen a done action item, saying why (409 if it is open)."""
        payload = ReasonSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        item = reviews.action_item_reopen(
            item=self.get_object(), actor=self.actor(), reason=payload.validated_data['reason']
        )
        return self.answer(item)
