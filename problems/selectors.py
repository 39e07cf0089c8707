"""Read-side queries for problems, shared by the pages and the API.

Every list joins what its rows show (`select_related`) and fetches many-to-many relations in one query each
(`prefetch_related`), so a page costs the same number of queries whatever its length.
"""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from itsm.models import User

from .models import CategoryPriority, KnownErrorUse, Problem

RELATED = ('owner', 'assignee', 'assignment_group', 'opened_by', 'category', 'subcategory')


def _items():
    from cmdb.models import ConfigurationItem

    return ConfigurationItem.objects.only('id', 'number', 'name', 'ci_class').order_by('name')


def problem_list(*, user: User | None = None, problems: QuerySet[Problem] | None = None) -> QuerySet[Problem]:
    """Problems with what lists and the API show of them: people, group, classification, services and CIs,
    and how many incidents are linked."""
    problems = Problem.objects.all() if problems is None else problems
    problems = (
        problems.select_related(*RELATED)
        .prefetch_related(Prefetch('services', queryset=_items()), Prefetch('cis', queryset=_items()))
        .annotate(incident_count=Count('incident_links', distinct=True))
    )
    return problems.visible_to(user) if user is not None else problems


def problem_detail() -> QuerySet[Problem]:
    """Problems with what their page shows."""
    return problem_list()


QUEUES = {
    'open': 'Open',
    'mine': 'Mine',
    'my_groups': 'My groups',
    'vendor': 'Waiting on supplier',
    'unassessed': 'To assess',
    'all': 'All',
}


def problem_queue(*, user: User, name: str) -> QuerySet[Problem]:
    """One of the problem list's tabs (`QUEUES`): open problems, highest priority and oldest first (`all`: every
    problem, newest first)."""
    problems = problem_list()
    if name == 'all':
        return problems.order_by('-opened_at', '-id')
    problems = problems.open()
    if name == 'mine':
        problems = problems.filter(Q(owner=user) | Q(assignee=user))
    elif name == 'my_groups':
        problems = problems.filter(assignment_group__members=user)
    elif name == 'vendor':
        problems = problems.filter(awaiting_vendor_since__isnull=False)
    elif name == 'unassessed':
        problems = problems.filter(state__in=Problem.workflow.triage_states)
    elif name != 'open':
        raise ValueError(f'unknown problem queue {name!r}')
    return problems.order_by('priority', 'opened_at', 'id')


def open_problems_by_priority() -> dict[int, int]:
    """Open problems per priority, for the list's summary."""
    rows = Problem.objects.open().values('priority').annotate(count=Count('id')).order_by('priority')
    return {row['priority']: row['count'] for row in rows}


def category_priority_list() -> QuerySet[CategoryPriority]:
    return CategoryPriority.objects.select_related('category').order_by('category__name')


def known_error_uses(*, user: User) -> QuerySet[KnownErrorUse]:
    """Known errors applied to incidents, as `user` may see them: none for requesters, and only the incidents
    they may see (a security incident's use stays with those cleared for it)."""
    from incidents.models import Ticket

    uses = KnownErrorUse.objects.select_related('known_error', 'incident', 'applied_by', 'incident__problem_link')
    if user.is_requester_only:
        return uses.none()
    return uses.filter(incident__in=Ticket.objects.visible_to(user).values('pk'))
