"""A major incident's recipient list (domain §6 and §13): who is told of the declaration, the updates, a hand-off and
the restored service.

Built from its services when it is declared, in this order (an address is listed once, for the first reason found):
the person who declared it, the services' owners and business owners, the people and groups their RACI matrices mark
accountable, consulted or informed, senior staff (people holding the manager role and `MAJOR_SENIOR_STAFF_ADDRESSES`),
the help desk (the active L1 groups) and each service's announce list. The team edits the list afterwards; a service
added later brings its people.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from cmdb.choices import RaciRole
from cmdb.models import Service
from cmdb.selectors import recipients_for_services
from itsm import audit
from itsm.choices import Role, Tier, TimelineKind
from itsm.models import SupportGroup, User

from .choices import RecipientSource
from .models import MajorIncident, Recipient

# Responsible people work the outage itself; the others are the ones a major incident is announced to.
RACI_ROLES = (RaciRole.ACCOUNTABLE, RaciRole.CONSULTED, RaciRole.INFORMED)
SEPARATORS = re.compile(r'[\s,;]+')


@dataclass(frozen=True)
class Candidate:
    """One address the list could hold, and why."""

    email: str
    name: str
    source: str
    person: User | None = None


def announce_addresses(text: str) -> list[str]:
    """The valid addresses of an announce list (one per line or separated by commas); the rest is ignored."""
    found = []
    for item in SEPARATORS.split(text or ''):
        try:
            validate_email(item)
        except ValidationError:
            continue
        found.append(item)
    return found


def _group_addresses(group: SupportGroup) -> list[str]:
    """As `itsm.notify.group_addresses` (the group's address, else its active members'), from prefetched members so
    the list costs the same queries however many groups the desk has."""
    if group.email:
        return [group.email]
    return sorted(m.email for m in group.members.all() if m.is_active and m.email)


def _person(person: User | None, source: str) -> list[Candidate]:
    if person is None or not person.is_active or not person.email:
        return []
    return [Candidate(person.email, person.get_full_name() or person.username, source, person)]


def candidates_for(services: Iterable, *, initiator: User | None = None, everyone: bool = True) -> list[Candidate]:
    """Who the list should hold for `services` (CIs of class service), in the order above. `everyone=False` leaves
    out the initiator, senior staff and the help desk: what a service added later brings."""
    ids = [s.pk for s in services]
    details = list(
        Service.objects.filter(pk__in=ids).select_related('ci__owner', 'business_owner').order_by('ci__name')
    )
    found: list[Candidate] = []
    if everyone:
        found += _person(initiator, RecipientSource.INITIATOR)
    for service in details:
        found += _person(service.ci.owner, RecipientSource.SERVICE_OWNER)
    for service in details:
        found += _person(service.business_owner, RecipientSource.BUSINESS_OWNER)
    for raci in recipients_for_services(ids, roles=RACI_ROLES) if ids else []:
        found.append(Candidate(raci.email, raci.name, RecipientSource.RACI))
    if everyone:
        managers = User.objects.filter(is_active=True, groups__name=Role.MANAGER).order_by('username')
        for person in managers:
            found += _person(person, RecipientSource.SENIOR_STAFF)
        for address in settings.MAJOR_SENIOR_STAFF_ADDRESSES:
            found.append(Candidate(address.strip(), '', RecipientSource.SENIOR_STAFF))
        for group in SupportGroup.objects.filter(active=True, tier=Tier.L1).prefetch_related('members'):
            for address in _group_addresses(group):
                found.append(Candidate(address, group.name, RecipientSource.HELP_DESK))
    for service in details:
        for address in announce_addresses(service.announce_list):
            found.append(Candidate(address, f'{service.ci.name} announce list', RecipientSource.ANNOUNCE_LIST))
    return found


def add_candidates(major: MajorIncident, found: Iterable[Candidate]) -> list[Recipient]:
    """Store the addresses `major` does not list yet (the first reason of each wins); returns the new rows."""
    known = {email.lower() for email in major.recipients.values_list('email', flat=True)}
    rows = []
    for candidate in found:
        key = candidate.email.lower()
        if not key or key in known:
            continue
        known.add(key)
        rows.append(
            Recipient(
                major_incident=major,
                email=candidate.email,
                name=candidate.name[:150],
                source=candidate.source,
                person=candidate.person,
            )
        )
    return Recipient.objects.bulk_create(rows)


def build_recipients(major: MajorIncident, *, initiator: User | None = None) -> list[Recipient]:
    """The list at declaration, from the major incident's services."""
    return add_candidates(major, candidates_for(major.services.all(), initiator=initiator))


def add_service_people(major: MajorIncident, services: Iterable) -> list[Recipient]:
    """Services added later bring their owners, RACI people and announce lists."""
    return add_candidates(major, candidates_for(services, everyone=False))


# -------------------------------------------------------------------------------------------------- editing
def _require_team(major: MajorIncident, actor, what: str) -> None:
    from itsm.errors import Conflict, NotAllowed

    from .actions import communicates

    if actor.user is not None and not communicates(major, actor.user):
        raise NotAllowed(f'Only the response team of {major.number} (incident manager, leads) can {what}.')
    if major.is_final:
        raise Conflict(f'{major.number} is {major.get_state_display().lower()}; its recipient list is kept as it was.')


@transaction.atomic
def recipient_add(*, major: MajorIncident, actor, email: str = '', name: str = '', person: User | None = None):
    """Put an address (or a person's) on the list by hand."""
    from itsm.errors import Conflict

    _require_team(major, actor, 'edit the recipient list')
    email = (email or '').strip() or (person.email if person is not None else '')
    if not email:
        raise ValidationError({'email': 'Give an e-mail address (or a person who has one).'})
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({'email': f'"{email}" is not an e-mail address.'}) from None
    existing = major.recipients.filter(email__iexact=email).first()
    if existing is not None:
        raise Conflict(f'{email} is already on the recipient list ({existing.get_source_display()}).', code='exists')
    name = (name or '').strip() or (person.get_full_name() or person.username if person is not None else '')
    recipient = Recipient.objects.create(
        major_incident=major, email=email, name=name[:150], person=person, source=RecipientSource.ADDED
    )
    audit.record(
        major,
        actor=actor,
        kind=TimelineKind.FIELD_CHANGE,
        message=f'{recipient} added to the recipient list',
        data={'recipient_added': email},
    )
    return recipient


@transaction.atomic
def recipient_remove(*, major: MajorIncident, actor, recipient: Recipient) -> None:
    """Take an address off the list: it hears nothing more about this major incident."""
    from itsm.errors import Conflict

    _require_team(major, actor, 'edit the recipient list')
    if recipient.major_incident_id != major.pk:
        raise Conflict(f'{recipient.email} is not on the recipient list of {major.number}.', code='not_listed')
    audit.record(
        major,
        actor=actor,
        kind=TimelineKind.FIELD_CHANGE,
        message=f'{recipient} removed from the recipient list',
        data={'recipient_removed': recipient.email},
    )
    recipient.delete()
