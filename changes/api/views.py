"""Changes over the API: `/api/v1/changes/` (one POST per action, comments, timeline), their implementation tasks at
`/api/v1/change-tasks/` (with theirs) and the standard-change catalogue at `/api/v1/change-models/` (tasks nested,
read) and `/api/v1/change-model-tasks/`."""

from __future__ import annotations

from django.db.models import Prefetch

from incidents.models import Ticket
from itsm.api.records import RecordViewSet
from itsm.api.viewsets import ItsmModelViewSet

from .. import selectors, services
from ..filters import ChangeFilterSet, ChangeModelFilterSet, ChangeModelTaskFilterSet, ChangeTaskFilterSet
from ..models import Change, ChangeModel, ChangeModelTask, ChangeTask
from . import serializers as s


class ChangeViewSet(RecordViewSet):
    """Requests for change, addressed by number. They are never deleted: they are closed, rejected or cancelled."""

    queryset = Change.objects.all()
    serializer_class = s.ChangeSerializer
    filterset_class = ChangeFilterSet
    http_method_names = ['get', 'post', 'patch', 'head', 'options']

    def get_queryset(self):
        queryset = selectors.change_list(user=self.request.user)
        # The linked incidents as the person may see them (a security incident only for those cleared for it).
        incidents = Prefetch('incidents', queryset=Ticket.objects.visible_to(self.request.user))
        if self.action in ('retrieve', 'list'):
            queryset = queryset.prefetch_related('tasks__assignment_group', 'tasks__assignee', 'problems')
        return queryset.prefetch_related(incidents).order_by('-opened_at', '-id')

    def get_serializer_class(self):
        if self.action == 'create':
            return s.ChangeCreateSerializer
        return s.ChangeUpdateSerializer if self.action in ('partial_update', 'update') else s.ChangeSerializer

    def perform_create(self, serializer):
        change = services.change_create(actor=self.actor(), **dict(serializer.validated_data))
        serializer.instance = self.reload(change)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        if 'incidents' in data:
            # Links to incidents the person may not see are not theirs to remove: they stay.
            hidden = Ticket.objects.filter(changes=serializer.instance).exclude(
                pk__in=Ticket.objects.visible_to(self.request.user).values('pk')
            )
            data['incidents'] = [*data['incidents'], *hidden]
        change = services.change_update(change=serializer.instance, actor=self.actor(), **data)
        serializer.instance = self.reload(change)


class ChangeTaskViewSet(RecordViewSet):
    """Implementation tasks, addressed by number, with their actions (begin, finish, cancel)."""

    queryset = ChangeTask.objects.all()
    serializer_class = s.ChangeTaskSerializer
    filterset_class = ChangeTaskFilterSet
    http_method_names = ['get', 'post', 'patch', 'head', 'options']

    def get_queryset(self):
        return selectors.task_list(user=self.request.user).order_by('change__number', 'position', 'pk')

    def get_serializer_class(self):
        return s.ChangeTaskUpdateSerializer if self.action in ('partial_update', 'update') else s.ChangeTaskSerializer

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        task = services.task_create(
            actor=self.actor(),
            change=data['change'],
            title=data['short_description'],
            description=data.get('description', ''),
            assignment_group=data.get('assignment_group'),
            assignee=data.get('assignee'),
            position=data.get('position'),
        )
        serializer.instance = self.reload(task)

    def perform_update(self, serializer):
        task = services.task_update(
            changetask=serializer.instance, actor=self.actor(), **dict(serializer.validated_data)
        )
        serializer.instance = self.reload(task)


class ChangeModelViewSet(ItsmModelViewSet):
    """The standard-change catalogue: pre-approved models with their plans and tasks (change managers keep it)."""

    queryset = ChangeModel.objects.all()
    serializer_class = s.ChangeModelSerializer
    filterset_class = ChangeModelFilterSet

    def get_queryset(self):
        return selectors.change_model_detail()


class ChangeModelTaskViewSet(ItsmModelViewSet):
    """The tasks every change of a model gets, in order."""

    queryset = ChangeModelTask.objects.all()
    serializer_class = s.ChangeModelTaskSerializer
    filterset_class = ChangeModelTaskFilterSet

    def get_queryset(self):
        return selectors.change_model_task_list()
