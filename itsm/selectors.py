"""Read-side queries of the shared core, used by pages and the API alike."""

from django.db.models import Count, QuerySet

from .models import SupportGroup, TimelineEntry, User


def user_list() -> QuerySet[User]:
    return User.objects.prefetch_related('groups', 'support_groups')


def support_group_list() -> QuerySet[SupportGroup]:
    return (
        SupportGroup.objects.select_related('manager', 'escalation_group')
        .prefetch_related('members')
        .annotate(member_count=Count('members', distinct=True))
        .order_by('tier', 'name')
    )


def timeline_for(obj, *, public_only: bool = False) -> QuerySet[TimelineEntry]:
    entries = TimelineEntry.objects.for_object(obj).select_related('actor')
    return entries.public() if public_only else entries


def user_groups_of(user: User) -> QuerySet[SupportGroup]:
    return SupportGroup.objects.filter(members=user, active=True)


def member_group_ids(user) -> frozenset[int]:
    """Ids of the support groups `user` belongs to, read once per user object (guards ask it per record)."""
    if user is None or not getattr(user, 'is_authenticated', False):
        return frozenset()
    cached = getattr(user, '_member_group_ids', None)
    if cached is None:
        cached = frozenset(SupportGroup.objects.filter(members=user).values_list('pk', flat=True))
        user._member_group_ids = cached
    return cached
