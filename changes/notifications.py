"""Who is informed of a change, and when (domain §8: everyone whose environment a change affects is informed).

`recipients_for(change)` lists each person or group once, with every reason they are there: the owners of the
affected CIs and services, the people and groups the services' RACI matrices mark "consulted" or "informed", the
members of the change's CAB, its requester and its owner. The change page lists them (`changes/_recipients.html`,
a record panel) and the notification kit reaches them through the `change_informed` audience at submission, at
authorisation (`on_changed`: the CAB's policy is met, `changes.cab` records `authorized_at` and announces the
change), at scheduling, and at the start and the end of implementation (`on_transitioned`). The texts are
`templates/changes/email/<event>.txt`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Prefetch

from cmdb.choices import RaciRole
from cmdb.models import ConfigurationItem, RaciAssignment
from itsm import notify
from itsm.models import SupportGroup, TimelineEntry, User

from .choices import ChangeState


class Event(models.TextChoices):
    SUBMITTED = 'submitted', 'Change submitted'
    AUTHORIZED = 'authorized', 'Change authorised'
    SCHEDULED = 'scheduled', 'Change scheduled'
    STARTED = 'started', 'Change implementation started'
    IMPLEMENTED = 'implemented', 'Change implementation finished'


AUDIENCE = 'change_informed'
# The message each lifecycle step sends (the authorisation is no step of its own: see `on_changed`).
ON_TRANSITION = {
    'submit': Event.SUBMITTED,
    'schedule': Event.SCHEDULED,
    'reschedule': Event.SCHEDULED,
    'start': Event.STARTED,
    'complete': Event.IMPLEMENTED,
}


@dataclass
class Recipient:
    """A person or a group told about a change, with why (one line per reason)."""

    person: User | None = None
    group: SupportGroup | None = None
    why: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.person or self.group)

    @property
    def emails(self) -> list[str]:
        if self.person is not None:
            return [self.person.email] if self.person.is_active and self.person.email else []
        if self.group.email:
            return [self.group.email]
        return sorted(m.email for m in self.group.active_members if m.email)


class _Recipients:
    def __init__(self):
        self.found: dict[tuple[str, int], Recipient] = {}

    def add(self, why: str, *, person: User | None = None, group: SupportGroup | None = None) -> None:
        if person is None and group is None:
            return
        key = ('person', person.pk) if person is not None else ('group', group.pk)
        recipient = self.found.setdefault(key, Recipient(person=person, group=group))
        if why not in recipient.why:
            recipient.why.append(why)

    def sorted(self) -> list[Recipient]:
        # People first, then groups, each by name.
        return sorted(self.found.values(), key=lambda r: (r.person is None, r.name.lower()))


def _groups_with_members():
    members = User.objects.filter(is_active=True).only('pk', 'email', 'username', 'first_name', 'last_name')
    return Prefetch('support_group__members', queryset=members, to_attr='active_members')


def recipients_for(change) -> list[Recipient]:
    """Everyone informed of `change`, each once with all their reasons. Six queries whatever the change holds."""
    found = _Recipients()
    people = User.objects.in_bulk([pk for pk in (change.requester_id, change.owner_id) if pk])
    if change.requester_id:
        found.add('Requested the change', person=people.get(change.requester_id))
    if change.owner_id:
        found.add('Owns the change', person=people.get(change.owner_id))
    for ci in ConfigurationItem.objects.filter(changes=change, owner__isnull=False).select_related('owner'):
        found.add(f'Owns {ci.number} {ci.name}', person=ci.owner)
    services = list(ConfigurationItem.objects.filter(service_changes=change).select_related('owner'))
    for service in services:
        if service.owner_id:
            found.add(f'Owns the service {service.name}', person=service.owner)
    if services:
        names = {service.pk: service.name for service in services}
        raci = (
            RaciAssignment.objects.filter(service_id__in=names, role__in=[RaciRole.CONSULTED, RaciRole.INFORMED])
            .select_related('person', 'support_group')
            .prefetch_related(_groups_with_members())
            .order_by('service_id', 'role', 'activity', 'pk')
        )
        for cell in raci:
            why = f'{cell.get_role_display()} on {cell.get_activity_display().lower()} of {names[cell.service_id]}'
            found.add(why, person=cell.person, group=cell.support_group)
    if change.cab_id:
        for member in User.objects.filter(cabs=change.cab_id, is_active=True).order_by('pk'):
            found.add('Member of the CAB', person=member)
    return found.sorted()


def informed(change, **extra) -> list[str]:
    """The `change_informed` audience: the addresses of `recipients_for(change)`."""
    return sorted({email for recipient in recipients_for(change) for email in recipient.emails})


def change_event(change, event: str, *, actor=None) -> list[str]:
    """Queue the message for `event` to everyone informed, once the surrounding transaction commits."""
    return notify.notify(change, str(event), [AUDIENCE], label=Event(event).label, actor=actor)


def on_transitioned(change, *, actor, action: str, notify: bool = True, **kwargs) -> None:
    if notify and action in ON_TRANSITION:
        change_event(change, ON_TRANSITION[action], actor=actor.user)


def on_changed(change, *, actor, **kwargs) -> None:
    """Tell of the authorisation once, when the entry just written records `authorized_at` being set."""
    if change.state != ChangeState.AUTHORIZATION or change.authorized_at is None:
        return
    latest = (
        TimelineEntry.objects.filter(content_type=ContentType.objects.get_for_model(change), object_id=change.pk)
        .order_by('-at', '-pk')
        .only('changes')
        .first()
    )
    changes = latest.changes if latest is not None else []
    if any(c.get('field') == 'authorized_at' and c.get('before') in (None, '') for c in changes):
        change_event(change, Event.AUTHORIZED, actor=actor.user)


def recipients_panel(request, change) -> dict:
    """The change page's "Who is informed" card."""
    return {'recipients': recipients_for(change)}


def register() -> None:
    """Subscribe the notifications and show the recipients on the change page (from `ChangesConfig.ready`)."""
    from itsm import hooks
    from itsm.views.records import register_panel

    from .models import Change

    notify.register_audience(AUDIENCE, informed)
    hooks.subscribe(hooks.TRANSITIONED, on_transitioned, model=Change)
    hooks.subscribe(hooks.CHANGED, on_changed, model=Change)
    register_panel(Change, 'changes/_recipients.html', recipients_panel)
