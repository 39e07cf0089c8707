"""Process records over the API: CRUD by number, one POST per declared action, the conversation and the history.

A `RecordViewSet` subclass that names its `queryset` gets, from the model's `ActionSet`:

- `POST /<records>/{number}/<action-slug>/` for each action on a record: the action's serializer is the input,
  the record (`serializer_class`) the answer;
- `POST /<records>/<action-slug>/` for each action on no one record (accept-next): the record it took, or 204;

and, for every record type, `GET|POST /<records>/{number}/comments/` and `GET /<records>/{number}/timeline/`.
Each endpoint needs the model permission its action declares (`Action.permission`); the service then asks the
action's guard, so the API refuses exactly what the pages refuse.

Versions (`itsm.api.etags`): the record's detail, its PATCH/PUT and its action answers carry its `ETag`;
`If-None-Match` on the detail answers 304 when nothing changed; `If-Match` on any write to one record (PATCH, PUT,
an action, a comment) answers 412 when the record changed since. With `If-Match`, the request runs in one
transaction that locks the record's row before comparing, so nobody writes between the comparison and the write.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action as route
from rest_framework.response import Response

from itsm import conversation
from itsm.choices import TimelineKind
from itsm.selectors import timeline_for
from itsm.views.records import acted_on, find_record, run_action
from itsm.workflow import Action

from . import etags
from .serializers import CommentOutputSerializer, CommentSerializer, TimelineEntrySerializer
from .viewsets import ItsmModelViewSet, NumberLookupMixin

__all__ = ('RecordViewSet', 'action_endpoint')

WRITE_METHODS = ('POST', 'PUT', 'PATCH')


def describe(action: Action, workflow) -> str:
    """The schema's description of an action: the move it makes (`Completed → Closed.`), then what it is for."""
    text = action.description
    if action.transition:
        transition = workflow.get(action.transition)
        labels = dict(workflow.states.choices) if workflow.states else {}
        sources = ' or '.join(str(labels.get(state, state)) for state in transition.sources)
        text = f'{sources} → {labels.get(transition.target, transition.target)}. {text}'.strip()
    return text or action.label


def action_endpoint(action: Action, workflow, record_serializer):
    """The viewset method of one declared action, routed and described in the OpenAPI schema."""

    def endpoint(self, request, number=None):
        return self.take_action(action, request)

    endpoint.__name__ = endpoint.__qualname__ = action.name
    endpoint.__doc__ = describe(action, workflow)
    responses = {200: record_serializer}
    if not action.detail:
        responses[204] = OpenApiResponse(description=f'Nothing to {action.label.lower()}.')
    routed = route(detail=action.detail, methods=['post'], url_path=action.slug, permission_action=action.permission)
    return extend_schema(request=action.serializer_class(), responses=responses, summary=action.label)(routed(endpoint))


class RecordViewSet(NumberLookupMixin, ItsmModelViewSet):
    """Records of one process model, addressed by number, with an endpoint per declared action."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        actions = getattr(getattr(cls.queryset, 'model', None), 'actions', None)
        for declared in actions or ():
            if declared.name in vars(cls):
                continue  # the subclass writes this endpoint itself
            if hasattr(RecordViewSet, declared.name):
                raise ImproperlyConfigured(f'Action "{declared.name}" would hide {cls.__name__}.{declared.name}.')
            setattr(cls, declared.name, action_endpoint(declared, actions.workflow, cls.serializer_class))

    def get_object(self):
        record = find_record(self.get_queryset(), self.kwargs[self.lookup_field])
        self.check_object_permissions(self.request, record)
        return record

    def _preconditioned(self, request, kwargs) -> bool:
        return (
            request.method in WRITE_METHODS
            and bool(request.headers.get('If-Match'))
            and bool(kwargs.get(self.lookup_field))
        )

    def dispatch(self, request, *args, **kwargs):
        if not self._preconditioned(request, kwargs):
            return super().dispatch(request, *args, **kwargs)
        # One transaction from the If-Match comparison (`initial`) to the write; a refused write leaves nothing.
        with transaction.atomic():
            response = super().dispatch(request, *args, **kwargs)
            if response.status_code >= 400:
                transaction.set_rollback(True)
        return response

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if self._preconditioned(request, kwargs):
            record = self.get_object()
            model = type(record)
            locked = model._default_manager.select_for_update().filter(pk=record.pk)
            current = etags.etag_for(model, record.pk, locked.values_list('updated_at', flat=True).get())
            if etags.if_match_fails(request.headers.get('If-Match'), current):
                raise etags.PreconditionFailed(current)

    def current_etag(self) -> str:
        """The ETag of the record the URL names, as stored now (by its number, or an earlier one it had)."""
        model = self.get_queryset().model
        return etags.etag_of(find_record(model._default_manager.all(), self.kwargs[self.lookup_field]))

    def retrieve(self, request, *args, **kwargs):
        record = self.get_object()
        current = etags.etag_of(record)
        if etags.if_none_match_hits(request.headers.get('If-None-Match'), current):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={'ETag': current})
        return Response(self.get_serializer(record).data, headers={'ETag': current})

    def update(self, request, *args, **kwargs):
        response = super().update(request, *args, **kwargs)
        response['ETag'] = self.current_etag()
        return response

    def reload(self, record):
        """The record again after an action, with what its serializer shows."""
        return find_record(self.get_queryset(), record.number)

    def take_action(self, action: Action, request) -> Response:
        record = self.get_object() if action.detail else None
        data = {}
        input_class = action.serializer_class()
        if input_class is not None:
            payload = input_class(data=request.data, context=self.get_serializer_context())
            payload.is_valid(raise_exception=True)
            data = dict(payload.validated_data)
        result = acted_on(record, run_action(action, record, actor=self.actor(), data=data))
        if result is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        result = self.reload(result)
        return Response(self.get_serializer(result).data, headers={'ETag': etags.etag_of(result)})

    @extend_schema(methods=['get'], responses=CommentOutputSerializer(many=True))
    @extend_schema(methods=['post'], request=CommentSerializer, responses={201: CommentOutputSerializer})
    @route(detail=True, methods=['get', 'post'], permission_action='view')
    def comments(self, request, number=None):
        """Customer-visible comments and internal work notes (requesters never see work notes)."""
        record = self.get_object()
        if request.method == 'POST':
            payload = CommentSerializer(data=request.data)
            payload.is_valid(raise_exception=True)
            entry = conversation.comment(record, actor=self.actor(), **payload.validated_data)
            return Response(CommentOutputSerializer(entry).data, status=status.HTTP_201_CREATED)
        entries = timeline_for(record, public_only=request.user.is_requester_only)
        entries = entries.filter(kind__in=[TimelineKind.COMMENT, TimelineKind.WORK_NOTE])
        return Response(CommentOutputSerializer(entries, many=True).data)

    @extend_schema(responses=TimelineEntrySerializer(many=True))
    @route(detail=True, methods=['get'], permission_action='view')
    def timeline(self, request, number=None):
        """Every entry of the record's history; requesters see only the public ones."""
        record = self.get_object()
        entries = timeline_for(record, public_only=request.user.is_requester_only)
        return Response(TimelineEntrySerializer(entries, many=True).data)
