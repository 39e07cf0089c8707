"""Read-side queries of the shared core, used by pages and the API alike."""

from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Count, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode

from .choices import TimelineKind
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
    if getattr(user, '_member_group_ids', None) is None:
        _read_memberships(user)
    return user._member_group_ids


def in_security_group(user) -> bool:
    """Whether `user` belongs to an active security group; read with their groups (guards ask it per record)."""
    if user is None or not getattr(user, 'is_authenticated', False):
        return False
    if getattr(user, '_in_security_group', None) is None:
        _read_memberships(user)
    return user._in_security_group


def _read_memberships(user) -> None:
    keep_memberships(user, SupportGroup.objects.filter(members=user).values_list('pk', 'active', 'security'))


def keep_memberships(user, rows) -> None:
    """Keep on `user` their support groups, from (id, active, security) rows: here, or with their permissions
    (`itsm.access.load_access`)."""
    rows = list(rows)
    user._member_group_ids = frozenset(pk for pk, _, _ in rows)
    user._in_security_group = any(active and security for _, active, security in rows)


# --------------------------------------------------------------------------------------- a person's records
# What a person did on records that a "recent contacts" list shows: what they opened, wrote, moved or attached.
CONTACT_KINDS = (
    TimelineKind.CREATED,
    TimelineKind.COMMENT,
    TimelineKind.WORK_NOTE,
    TimelineKind.TRANSITION,
    TimelineKind.ATTACHMENT,
)


def process_record_models() -> list[type[models.Model]]:
    """Every concrete process-record model (tickets, and problems or changes once they exist)."""
    from .records import ProcessRecord

    return [m for m in apps.get_models() if issubclass(m, ProcessRecord) and not m._meta.proxy]


@dataclass
class PersonRecords:
    """One kind of record a person is the caller of: the open ones first, then the latest finished ones."""

    model: type[models.Model]
    open: list = field(default_factory=list)
    closed: list = field(default_factory=list)
    more_open: bool = False
    more_closed: bool = False
    list_url: str = ''

    @property
    def label(self) -> str:
        return str(self.model._meta.verbose_name_plural).capitalize()

    @property
    def more(self) -> bool:
        return self.more_open or self.more_closed


def person_records(person: User, *, viewer: User, open_limit: int = 10, closed_limit: int = 5) -> list[PersonRecords]:
    """The records `person` is the caller of, as `viewer` may see them: per model, up to `open_limit` open ones
    (queue order when the model has a priority, oldest first) and the `closed_limit` latest finished ones, with
    a link to the full list for staff. Two queries per model, whatever the number of records."""
    found = []
    for model in process_record_models():
        name = model.caller_field()
        if name is None:
            continue
        records = model._default_manager.visible_to(viewer).filter(**{name: person})
        open_states = model.workflow.open_states
        order = ('priority', 'opened_at', 'id') if hasattr(model, 'priority') else ('opened_at', 'id')
        still_open = list(records.filter(state__in=open_states).order_by(*order)[: open_limit + 1])
        finished = list(records.exclude(state__in=open_states).order_by('-opened_at', '-id')[: closed_limit + 1])
        if not still_open and not finished:
            continue
        list_url = ''
        if not viewer.is_requester_only:
            try:
                opts = model._meta
                list_url = f'{reverse(f"{opts.app_label}:{opts.model_name}_list")}?{urlencode({name: person.username})}'
            except NoReverseMatch:
                list_url = ''
        found.append(
            PersonRecords(
                model=model,
                open=still_open[:open_limit],
                closed=finished[:closed_limit],
                more_open=len(still_open) > open_limit,
                more_closed=len(finished) > closed_limit,
                list_url=list_url,
            )
        )
    return found


def person_contacts(person: User, *, public_only: bool, limit: int = 10) -> list[TimelineEntry]:
    """The latest `limit` things `person` did on process records (opened, commented, wrote a work note, moved,
    attached), each with its record; only customer-visible entries when `public_only`. Two queries per kind of
    record at most (the entries, then their records)."""
    types = ContentType.objects.get_for_models(*process_record_models()).values()
    entries = TimelineEntry.objects.filter(actor=person, content_type__in=types, kind__in=CONTACT_KINDS)
    if public_only:
        entries = entries.public()
    entries = entries.select_related('content_type').prefetch_related('record').order_by('-at', '-id')
    return [entry for entry in entries[:limit] if entry.record is not None]
