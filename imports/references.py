"""The records imported tickets name: people, support groups, categories, CIs and the agreements that hold the
SLA verdicts a source recorded. Each is found by its natural key, or created once the way its service creates
it, and remembered for the rest of the import.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group as RoleGroup
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from cmdb import services as cmdb_services
from cmdb.choices import CIStatus
from cmdb.models import ConfigurationItem
from incidents.models import Category
from itsm.audit import Actor
from itsm.choices import Role, TicketKind, Tier, TimelineKind
from itsm.models import SupportGroup, TimelineEntry, User
from itsm.services import record_create, support_group_create
from sla import services as sla_services
from sla.models import BusinessCalendar, ServiceLevelAgreement

from .mapping import Mapping
from .plans import TicketPlan

__all__ = ['PERSON_ROLES', 'References']

# Roles an imported person gets from what they were on a ticket (nobody can log in as them: no password).
PERSON_ROLES = {'caller': Role.REQUESTER, 'assignee': Role.SERVICE_DESK_AGENT, 'resolved_by': Role.SERVICE_DESK_AGENT}


def _username_base(label: str) -> str:
    return re.sub(r'[^a-z0-9]+', '.', label.lower()).strip('.')[:120] or 'person'


class References:
    """Finds, or creates once, the records imported tickets name, and remembers their ids.

    People are matched on `external_id` ("system:label"), groups and categories on their names, CIs on their
    natural key (class, name) like the CMDB's own CSV import, and created the way their services create them.
    """

    def __init__(self, mapping: Mapping, actor: Actor):
        self.mapping = mapping
        self.actor = actor
        self.forget()

    def forget(self) -> None:
        """Drop what was learnt: after a rolled-back batch, records it created no longer exist."""
        self.people: dict[str, int] = {}
        self.groups: dict[str, int] = {}
        self.categories: dict[str, int] = {}
        self.subcategories: dict[tuple[int, str], int] = {}
        self.cis: dict[str, int] = {}
        self.services: dict[int, int | None] = {}
        self.agreements: dict[tuple[str, int], ServiceLevelAgreement] = {}

    def prepare(self, plans: list[TicketPlan]) -> None:
        people: dict[str, set[str]] = {}
        groups: set[str] = set()
        categories: set[str] = set()
        subcategories: set[tuple[str, str]] = set()
        cis: set[str] = set()
        memberships: set[tuple[str, str]] = set()
        for plan in plans:
            for values in [plan.values, *(event.values for event in plan.events)]:
                for name in ('caller', 'opened_by', 'assignee', 'resolved_by'):
                    if values.get(name):
                        roles = people.setdefault(values[name], set())
                        if name in PERSON_ROLES:
                            roles.add(PERSON_ROLES[name])
                if values.get('assignment_group'):
                    groups.add(values['assignment_group'])
                    if values.get('assignee'):
                        memberships.add((values['assignment_group'], values['assignee']))
                if values.get('category'):
                    categories.add(values['category'])
                    if values.get('subcategory'):
                        subcategories.add((values['category'], values['subcategory']))
                if values.get('ci'):
                    cis.add(values['ci'])
            for event in plan.events:
                if event.actor:
                    people.setdefault(event.actor, set())
        self._people(people)
        self._groups(groups)
        self._categories(categories, subcategories)
        self._cis(cis)
        if memberships:
            through = SupportGroup.members.through
            through.objects.bulk_create(
                [through(supportgroup_id=self.groups[g], user_id=self.people[p]) for g, p in memberships],
                ignore_conflicts=True,
            )

    def _created_entries(self, objects: Iterable, what: str) -> None:
        objects = list(objects)
        if not objects:
            return
        content_type = ContentType.objects.get_for_model(type(objects[0]))
        now = timezone.now()
        TimelineEntry.objects.bulk_create(
            [
                TimelineEntry(
                    content_type=content_type,
                    object_id=obj.pk,
                    kind=TimelineKind.CREATED,
                    actor=self.actor.user,
                    channel=self.actor.channel,
                    at=now,
                    message=f'Imported from {self.mapping.label} ({what}).',
                    public=False,
                )
                for obj in objects
            ],
            batch_size=1000,
        )

    def _people(self, wanted: dict[str, set[str]]) -> None:
        """People by the hundreds per batch: created in bulk with what `user_create` gives a person without a
        password (an unusable one, their roles, a created entry), instead of one service call each."""
        system = self.mapping.system
        unknown = [label for label in wanted if label not in self.people]
        for start in range(0, len(unknown), 500):
            chunk = unknown[start : start + 500]
            ids = {f'{system}:{label}': label for label in chunk}
            for pk, external_id in User.objects.filter(external_id__in=ids).values_list('pk', 'external_id'):
                self.people[ids[external_id]] = pk
        missing = [label for label in unknown if label not in self.people]
        if missing:
            bases = {label: _username_base(label) for label in missing}
            taken = set(User.objects.filter(username__in=set(bases.values())).values_list('username', flat=True))
            users = []
            for label in missing:
                username = bases[label]
                if username in taken:
                    username = f'{bases[label][:110]}.{system}'[:150]
                    suffix = 2
                    while username in taken or User.objects.filter(username=username).exists():
                        username = f'{bases[label][:100]}.{system}.{suffix}'[:150]
                        suffix += 1
                taken.add(username)
                users.append(
                    User(
                        username=username,
                        first_name=label[:150],
                        external_id=f'{system}:{label}'[:120],
                        password=make_password(None),
                    )
                )
            User.objects.bulk_create(users, batch_size=500)
            for label, user in zip(missing, users, strict=True):
                self.people[label] = user.pk
            self._created_entries(users, 'person')
        roles = {slug: pk for slug, pk in RoleGroup.objects.filter(name__in=Role.values).values_list('name', 'pk')}
        through = User.groups.through
        rows = [
            through(user_id=self.people[label], group_id=roles[role])
            for label, wanted_roles in wanted.items()
            for role in wanted_roles
            if role in roles
        ]
        through.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)

    def _groups(self, names: set[str]) -> None:
        unknown = names - set(self.groups)
        if not unknown:
            return
        self.groups.update(SupportGroup.objects.filter(name__in=unknown).values_list('name', 'pk'))
        for name in sorted(unknown - set(self.groups)):
            group = support_group_create(
                name=name, actor=self.actor, tier=Tier.OTHER, description=f'Imported from {self.mapping.label}.'
            )
            self.groups[name] = group.pk

    def _categories(self, names: set[str], pairs: set[tuple[str, str]]) -> None:
        unknown = names - set(self.categories)
        if unknown:
            found = Category.objects.filter(parent__isnull=True, name__in=unknown).values_list('name', 'pk')
            self.categories.update(found)
            for name in sorted(unknown - set(self.categories)):
                self.categories[name] = record_create(model=Category, fields={'name': name}, actor=self.actor).pk
        wanted = {(self.categories[c], s) for c, s in pairs} - set(self.subcategories)
        if not wanted:
            return
        parents = {parent for parent, _ in wanted}
        found = Category.objects.filter(parent_id__in=parents, name__in={s for _, s in wanted})
        self.subcategories.update({(p, n): pk for p, n, pk in found.values_list('parent_id', 'name', 'pk')})
        for parent, name in sorted(wanted - set(self.subcategories)):
            fields = {'name': name, 'parent': Category.objects.get(pk=parent)}
            self.subcategories[(parent, name)] = record_create(model=Category, fields=fields, actor=self.actor).pk

    def _cis(self, names: set[str]) -> None:
        unknown = names - set(self.cis)
        if not unknown:
            return
        ci_class = self.mapping.fields['ci'].ci_class
        found = ConfigurationItem.objects.filter(ci_class=ci_class, name__in=unknown).values_list('name', 'pk')
        self.cis.update(found)
        for name in sorted(unknown - set(self.cis)):
            ci = cmdb_services.ci_create(
                actor=self.actor,
                name=name[:200],
                ci_class=ci_class,
                status=CIStatus.IN_PRODUCTION,
                description=f'Configuration item named by tickets imported from {self.mapping.label}.',
                message=f'Imported from {self.mapping.label}.',
            )
            self.cis[name] = ci.pk

    def service_for(self, ci_id: int | None) -> int | None:
        """The service an incident on the CI affects, as `ticket_create` suggests it."""
        if ci_id is None:
            return None
        if ci_id not in self.services:
            from cmdb.selectors import suggested_service

            suggestion = suggested_service(ConfigurationItem.objects.get(pk=ci_id))
            self.services[ci_id] = suggestion.id if suggestion else None
        return self.services[ci_id]

    @property
    def agreement_prefix(self) -> str:
        return f'{self.mapping.label} SLA as recorded'

    def recorded_agreements(self):
        """The agreements holding this source's verdicts (whatever kind and priority)."""
        return ServiceLevelAgreement.objects.filter(name__startswith=self.agreement_prefix, active=False)

    def agreement(self, kind: str, priority: int) -> ServiceLevelAgreement:
        """The inactive agreement that holds the verdicts the source recorded for one kind and priority.

        Inactive, so no live ticket ever gets it; one per kind and priority, so its scope is what it says.
        """
        key = (kind, priority)
        if key not in self.agreements:
            label = self.mapping.label
            name = f'{self.agreement_prefix} · {TicketKind(kind).label} P{priority}'
            agreement = ServiceLevelAgreement.objects.filter(
                name=name, ticket_kind=kind, priority=priority, active=False
            ).first()
            if agreement is None:
                agreement = sla_services.sla_create(
                    actor=self.actor,
                    name=name,
                    ticket_kind=kind,
                    priority=priority,
                    calendar=BusinessCalendar.objects.builtin_24x7(),
                    response_minutes=1,
                    resolution_minutes=1,
                    warning_percents=[],
                    pause_states=[],
                    active=False,
                    description=(
                        f'Holds whether tickets imported from {label} met their SLA, as {label} recorded it. '
                        f'{label} exported the verdict, not its targets: each imported resolution clock runs from '
                        'opening to completion, its target is that time, and its state is the recorded verdict. '
                        'Inactive, so it never applies to a ticket worked in Pitcrew.'
                    ),
                )
            self.agreements[key] = agreement
        return self.agreements[key]
