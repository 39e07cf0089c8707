"""Read-side queries for changes, their tasks and the catalogue, shared by the pages and the API.

Every list joins what its rows show (`select_related`) and fetches many-to-many relations in one query each
(`prefetch_related`), so a page costs the same number of queries whatever its length.
"""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from itsm.models import User

from .choices import TaskState
from .models import Change, ChangeModel, ChangeModelTask, ChangeTask

RELATED = ('requester', 'owner', 'assignee', 'assignment_group', 'opened_by', 'change_model', 'cab')
OPEN_TASKS = (TaskState.OPEN, TaskState.IN_PROGRESS)


def _items():
    from cmdb.models import ConfigurationItem

    return ConfigurationItem.objects.only('id', 'number', 'name', 'ci_class', 'environment').order_by('name')


def change_list(*, user: User | None = None, changes: QuerySet[Change] | None = None) -> QuerySet[Change]:
    """Changes with what lists and the API show: people, group, model, CIs and services, and their task counts."""
    changes = Change.objects.all() if changes is None else changes
    changes = (
        changes.select_related(*RELATED)
        .prefetch_related(Prefetch('services', queryset=_items()), Prefetch('cis', queryset=_items()))
        .annotate(
            task_count=Count('tasks', distinct=True),
            open_task_count=Count('tasks', filter=Q(tasks__state__in=OPEN_TASKS), distinct=True),
        )
    )
    return changes.visible_to(user) if user is not None else changes


def change_detail() -> QuerySet[Change]:
    """Changes with what their page shows: the list's joins, their tasks in order and their links."""
    from incidents.models import Ticket
    from problems.models import Problem

    tasks = ChangeTask.objects.select_related('assignment_group', 'assignee').order_by('position', 'pk')
    return change_list().prefetch_related(
        Prefetch('tasks', queryset=tasks),
        Prefetch('problems', queryset=Problem.objects.only('id', 'number', 'short_description', 'state')),
        Prefetch(
            'incidents',
            queryset=Ticket.objects.only(
                'id',
                'number',
                'short_description',
                'state',
                'kind',
                'security_incident',
                'caller',
                'opened_by',
                'assignee',
            ),
        ),
    )


QUEUES = {
    'open': 'Open',
    'mine': 'Mine',
    'my_groups': 'My groups',
    'to_assess': 'To assess',
    'upcoming': 'Scheduled',
    'all': 'All',
}


def change_queue(*, user: User, name: str) -> QuerySet[Change]:
    """One of the change list's tabs (`QUEUES`): open changes by planned start (`all`: every change, newest first)."""
    changes = change_list()
    if name == 'all':
        return changes.order_by('-opened_at', '-id')
    changes = changes.open()
    if name == 'mine':
        changes = changes.filter(Q(owner=user) | Q(requester=user) | Q(assignee=user))
    elif name == 'my_groups':
        changes = changes.filter(assignment_group__in=user.support_groups.values('pk'))
    elif name == 'to_assess':
        changes = changes.filter(state='submitted')
    elif name == 'upcoming':
        changes = changes.filter(state='scheduled')
    elif name != 'open':
        raise ValueError(f'unknown change queue {name!r}')
    return changes.order_by('planned_start', 'opened_at', 'id')


def task_list(*, user: User | None = None) -> QuerySet[ChangeTask]:
    tasks = ChangeTask.objects.select_related('change', 'assignment_group', 'assignee', 'opened_by')
    return tasks.visible_to(user) if user is not None else tasks


def change_model_list() -> QuerySet[ChangeModel]:
    return (
        ChangeModel.objects.select_related('assignment_group')
        .annotate(task_count=Count('tasks', distinct=True), change_count=Count('changes', distinct=True))
        .order_by('name')
    )


def change_model_detail() -> QuerySet[ChangeModel]:
    tasks = ChangeModelTask.objects.select_related('assignment_group').order_by('position', 'pk')
    return change_model_list().prefetch_related(Prefetch('tasks', queryset=tasks))


def change_model_task_list() -> QuerySet[ChangeModelTask]:
    return ChangeModelTask.objects.select_related('change_model', 'assignment_group').order_by(
        'change_model__name', 'position', 'pk'
    )
