"""The recipient list: built from the services at declaration (one row per address, first reason wins), grown when
a service is added, and edited by the response team."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cmdb.choices import RaciRole
from itsm.audit import Actor
from itsm.choices import Role, Tier, TimelineKind
from itsm.errors import Conflict, NotAllowed
from itsm.models import TimelineEntry
from major_incidents import services
from major_incidents.choices import MajorIncidentState, RecipientSource
from major_incidents.recipients import announce_addresses, build_recipients, candidates_for
from tests.cmdb.factories import assign
from tests.factories import SupportGroupFactory, make_user
from tests.major_incidents.factories import (
    MajorIncidentFactory,
    RecipientFactory,
    make_incident_manager,
    make_public_service,
)

pytestmark = pytest.mark.django_db
S = MajorIncidentState


@pytest.fixture
def manager():
    return make_incident_manager()


def listed(major) -> dict[str, str]:
    return dict(major.recipients.values_list('email', 'source'))


def test_announce_lists_split_on_lines_and_commas_and_drop_what_is_not_an_address():
    text = 'news@example.com, staff@example.com\n\n  students@example.com;not an address\nhalf@'
    assert announce_addresses(text) == ['news@example.com', 'staff@example.com', 'students@example.com']
    assert announce_addresses('') == []


def test_one_row_per_address_for_the_first_reason(manager):
    owner = make_user(Role.SERVICE_OWNER)
    # The owner is also on the service's announce list (in capitals): listed once, as the owner.
    service = make_public_service(owner=owner, announce_list=f'{owner.email.upper()}\nlist@example.com')
    major = services.major_declare(actor=Actor(user=manager), short_description='Down', services=[service])
    rows = listed(major)
    assert rows[owner.email] == RecipientSource.SERVICE_OWNER
    assert owner.email.upper() not in rows
    assert rows['list@example.com'] == RecipientSource.ANNOUNCE_LIST


def test_groups_without_an_address_reach_their_active_members_and_inactive_people_are_left_out(manager):
    member, gone = make_user(Role.L2_ENGINEER), make_user(Role.L2_ENGINEER)
    gone.is_active = False
    gone.save()
    team = SupportGroupFactory(name='Mail team', tier=Tier.L2, email='', members=[member, gone])
    inactive_desk = SupportGroupFactory(name='Old desk', tier=Tier.L1, email='old-desk@example.com', active=False)
    owner = make_user(Role.SERVICE_OWNER)
    service = make_public_service(owner=owner)
    assign(service.service_details, RaciRole.ACCOUNTABLE, person=owner)
    assign(service.service_details, RaciRole.INFORMED, group=team)
    found = {c.email: c.source for c in candidates_for([service])}
    assert found[member.email] == RecipientSource.RACI
    assert gone.email not in found
    assert inactive_desk.email not in found


def test_a_service_added_later_brings_its_people_but_not_the_desk_again(manager):
    first = make_public_service()
    major = MajorIncidentFactory(state=S.ASSESSMENT, services=[first], incident_manager=manager)
    before = set(listed(major))
    business = make_user(Role.BUSINESS_OWNER)
    second = make_public_service(business_owner=business, announce_list='print@example.com')
    services.major_update(major=major, actor=Actor(user=manager), services=[first, second])
    after = listed(major)
    assert set(after) - before == {business.email, 'print@example.com'}
    assert after[business.email] == RecipientSource.BUSINESS_OWNER


def test_the_team_adds_and_removes_addresses(manager):
    major = MajorIncidentFactory(state=S.ASSESSMENT, incident_manager=manager)
    actor = Actor(user=manager)
    recipient = services.recipient_add(major=major, actor=actor, email='dean@example.com', name='The dean')
    assert (recipient.source, str(recipient)) == (RecipientSource.ADDED, 'The dean <dean@example.com>')
    person = make_user(Role.MANAGER)
    by_person = services.recipient_add(major=major, actor=actor, person=person)
    assert (by_person.email, by_person.person) == (person.email, person)
    with pytest.raises(Conflict) as duplicate:
        services.recipient_add(major=major, actor=actor, email='DEAN@example.com')
    assert 'already on the recipient list' in duplicate.value.detail
    with pytest.raises(ValidationError) as error:
        services.recipient_add(major=major, actor=actor, email='not an address')
    assert 'email' in error.value.message_dict
    with pytest.raises(ValidationError):
        services.recipient_add(major=major, actor=actor)
    services.recipient_remove(major=major, actor=actor, recipient=recipient)
    assert not major.recipients.filter(email='dean@example.com').exists()
    messages = list(
        TimelineEntry.objects.for_object(major).filter(kind=TimelineKind.FIELD_CHANGE).values_list('message', flat=True)
    )
    assert 'The dean <dean@example.com> added to the recipient list' in messages
    assert 'The dean <dean@example.com> removed from the recipient list' in messages


def test_only_the_team_edits_the_list_and_never_once_closed(manager):
    major = MajorIncidentFactory(state=S.ASSESSMENT, incident_manager=manager)
    comms = make_user(Role.SERVICE_DESK_AGENT)
    services.major_set_team(major=major, actor=Actor(user=manager), communications_lead=comms)
    major.refresh_from_db()
    assert services.recipient_add(major=major, actor=Actor(user=comms), email='a@example.com').pk
    for outsider in (make_user(Role.SERVICE_DESK_AGENT), make_user(Role.SERVICE_OWNER), make_user(Role.REQUESTER)):
        with pytest.raises(NotAllowed):
            services.recipient_add(major=major, actor=Actor(user=outsider), email='b@example.com')
    other = RecipientFactory(major_incident=MajorIncidentFactory(incident_manager=manager))
    with pytest.raises(Conflict):
        services.recipient_remove(major=major, actor=Actor(user=manager), recipient=other)
    closed = MajorIncidentFactory(state=S.CLOSED, incident_manager=manager)
    with pytest.raises(Conflict):
        services.recipient_add(major=closed, actor=Actor(user=manager), email='late@example.com')


def test_building_the_list_costs_the_same_queries_however_many_services_and_groups(manager):
    def scoped_services(count: int) -> list:
        found = []
        for n in range(count):
            owner, business = make_user(Role.SERVICE_OWNER), make_user(Role.BUSINESS_OWNER)
            service = make_public_service(owner=owner, business_owner=business, announce_list=f'list{n}@example.com')
            assign(service.service_details, RaciRole.ACCOUNTABLE, person=owner)
            assign(service.service_details, RaciRole.INFORMED, group=SupportGroupFactory(tier=Tier.L2, email=''))
            found.append(service)
        return found

    def count(size: int) -> int:
        for _ in range(size):
            SupportGroupFactory(tier=Tier.L1, email='', members=[make_user(Role.SERVICE_DESK_AGENT)])
            make_user(Role.MANAGER)
        major = MajorIncidentFactory(services=scoped_services(size), incident_manager=manager)
        major.recipients.all().delete()
        with CaptureQueriesContext(connection) as queries:
            rows = build_recipients(major, initiator=manager)
        assert len(rows) >= 4 * size
        return len(queries.captured_queries)

    assert count(1) == count(3)
