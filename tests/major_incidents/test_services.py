"""Major-incident services: declaration defaults, refusals, the team, updates on the cadence, children and the
cascade completion, hand-off, dual validation and closure."""

from __future__ import annotations

import datetime as dt
from importlib import import_module

import pytest
from django.apps import apps
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cmdb.choices import RaciRole
from incidents.choices import TicketState
from incidents.models import Ticket
from itsm.audit import Actor
from itsm.choices import Impact, Role, Tier, TimelineKind, Urgency
from itsm.errors import Conflict, InvalidTransition, NotAllowed
from itsm.models import TimelineEntry
from major_incidents import notifications, services
from major_incidents.choices import (
    CandidateStatus,
    MajorIncidentState,
    RecipientSource,
    ResponseMode,
    UpdateAudience,
    UpdateStatus,
    ValidationRole,
)
from major_incidents.models import MajorIncident, MajorIncidentChild, UpdateTemplate, Validation
from tests.cmdb.factories import assign
from tests.factories import SupportGroupFactory, make_group_with_agent, make_ticket, make_user
from tests.major_incidents.factories import (
    CandidateFactory,
    MajorIncidentFactory,
    UpdateTemplateFactory,
    drive,
    make_incident_manager,
    make_public_service,
    write_review,
)

pytestmark = pytest.mark.django_db
S = MajorIncidentState
SYSTEM = Actor.system()


def entries(record, kind=None):
    found = TimelineEntry.objects.for_object(record).order_by('id')
    return found.filter(kind=kind) if kind else found


@pytest.fixture
def manager():
    return make_incident_manager()


@pytest.fixture
def owners():
    return make_user(Role.SERVICE_OWNER), make_user(Role.BUSINESS_OWNER)


@pytest.fixture
def service(owners):
    return make_public_service(
        'Student e-mail', owner=owners[0], business_owner=owners[1], announce_list='it-news@example.com, bad-address'
    )


def as_(user):
    return Actor(user=user)


def high_priority_incident(service, **fields):
    return make_ticket(
        short_description='Webmail does not load',
        service=service,
        impact=Impact.HIGH,
        urgency=Urgency.CRITICAL,
        **fields,
    )


# ------------------------------------------------------------------------------------------------- declaring
def test_declaring_from_an_incident_takes_its_service_report_time_priority_and_owners(manager, owners, service):
    incident = high_priority_incident(service)
    major = services.major_declare(actor=as_(manager), short_description='E-mail down', source_incident=incident)
    assert major.number.startswith('MIR')
    assert list(major.services.all()) == [service]
    assert major.outage_started_at == incident.opened_at
    assert major.priority == min(incident.priority, 1)
    assert (major.service_owner, major.business_owner) == owners
    assert major.incident_manager == manager
    assert major.declared_at is not None
    assert MajorIncidentChild.objects.get(incident=incident).major_incident == major
    interval = 30 if major.priority == 0 else 60
    assert major.update_interval_minutes == interval
    assert major.next_update_due == major.declared_at + dt.timedelta(minutes=interval)
    assert entries(major, TimelineKind.CREATED).get().message == f'Major incident declared from {incident.number}'


def test_a_low_priority_source_incident_gives_p1(manager, service):
    incident = make_ticket(short_description='Slow webmail', service=service)
    assert incident.priority > 1
    major = services.major_declare(actor=as_(manager), short_description='E-mail slow', source_incident=incident)
    assert major.priority == 1
    assert major.update_interval_minutes == 60


def test_declaring_from_a_candidate_links_its_incidents_and_marks_it_declared(manager):
    candidate = CandidateFactory(size=3)
    incidents = list(candidate.incidents.order_by('opened_at'))
    major = services.major_declare(actor=as_(manager), short_description='Flood on one service', candidate=candidate)
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.DECLARED
    assert (candidate.major_incident, candidate.decided_by) == (major, manager)
    assert candidate.decided_at is not None
    assert set(MajorIncidentChild.objects.filter(major_incident=major).values_list('incident_id', flat=True)) == {
        i.pk for i in incidents
    }
    assert major.outage_started_at == incidents[0].opened_at
    assert list(major.services.all()) == [candidate.service]
    with pytest.raises(Conflict):
        services.major_declare(actor=as_(manager), short_description='Again', candidate=candidate)


def test_declaring_directly_starts_the_outage_now(manager, service):
    before = timezone.now()
    major = services.major_declare(actor=as_(manager), short_description='Wi-Fi down', services=[service])
    assert before <= major.outage_started_at <= timezone.now()
    assert major.source_incident is None
    assert not major.child_links.exists()


def test_only_incident_managers_administrators_integrations_and_jobs_declare(service):
    for role in (Role.SERVICE_DESK_AGENT, Role.L2_ENGINEER, Role.SERVICE_OWNER, Role.REQUESTER):
        with pytest.raises(NotAllowed):
            services.major_declare(actor=as_(make_user(role)), short_description='Down', services=[service])
    for role in (Role.ADMINISTRATOR, Role.INTEGRATION):
        assert services.major_declare(actor=as_(make_user(role)), short_description='Down', services=[service]).pk
    assert services.major_declare(actor=SYSTEM, short_description='Down', services=[service]).pk


def test_an_incident_of_another_open_major_incident_is_refused_naming_it(manager, service):
    incident = high_priority_incident(service)
    first = services.major_declare(actor=as_(manager), short_description='E-mail down', source_incident=incident)
    with pytest.raises(Conflict) as refused:
        services.major_declare(actor=as_(manager), short_description='Again', source_incident=incident)
    assert first.number in refused.value.detail
    assert MajorIncident.objects.count() == 1


def test_declaration_refuses_bad_input(manager, service):
    with pytest.raises(ValidationError) as error:
        services.major_declare(actor=as_(manager), short_description='  ', services=[service])
    assert 'short_description' in error.value.message_dict
    later = timezone.now() + dt.timedelta(hours=1)
    with pytest.raises(ValidationError) as error:
        services.major_declare(
            actor=as_(manager), short_description='Down', services=[service], outage_started_at=later
        )
    assert 'outage_started_at' in error.value.message_dict
    server = make_public_service().service_details.ci  # a service is fine...
    from tests.cmdb.factories import make_ci

    with pytest.raises(ValidationError) as error:
        services.major_declare(actor=as_(manager), short_description='Down', services=[server, make_ci()])
    assert 'services' in error.value.message_dict
    case = make_ticket(kind='case', short_description='Need a licence')
    with pytest.raises(ValidationError):
        services.major_declare(actor=as_(manager), short_description='Down', source_incident=case)


def test_the_declaration_builds_the_recipient_list_and_tells_it(manager, owners, service, settings):
    settings.MAJOR_SENIOR_STAFF_ADDRESSES = ['cio@example.com']
    senior = make_user(Role.MANAGER)
    desk = SupportGroupFactory(name='Help desk', tier=Tier.L1, email='helpdesk@example.com')
    SupportGroupFactory(name='Servers', tier=Tier.L2, email='servers@example.com')
    informed = make_user(Role.REQUESTER)
    consulted_group = SupportGroupFactory(name='Mail team', tier=Tier.L2, email='mailteam@example.com')
    responsible = make_user(Role.L2_ENGINEER)
    details = service.service_details
    # The service owner is also RACI-accountable: listed once, for the first reason.
    assign(details, RaciRole.ACCOUNTABLE, person=owners[0])
    assign(details, RaciRole.INFORMED, person=informed)
    assign(details, RaciRole.CONSULTED, group=consulted_group)
    assign(details, RaciRole.RESPONSIBLE, person=responsible)
    mail.outbox = []
    major = services.major_declare(actor=as_(manager), short_description='E-mail down', services=[service])
    sources = dict(major.recipients.values_list('email', 'source'))
    assert sources == {
        manager.email: RecipientSource.INITIATOR,
        owners[0].email: RecipientSource.SERVICE_OWNER,
        owners[1].email: RecipientSource.BUSINESS_OWNER,
        informed.email: RecipientSource.RACI,
        'mailteam@example.com': RecipientSource.RACI,
        senior.email: RecipientSource.SENIOR_STAFF,
        'cio@example.com': RecipientSource.SENIOR_STAFF,
        desk.email: RecipientSource.HELP_DESK,
        'it-news@example.com': RecipientSource.ANNOUNCE_LIST,
    }
    assert responsible.email not in sources


def test_the_declaration_message_reaches_the_list(manager, service, django_capture_on_commit_callbacks):
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        major = services.major_declare(actor=as_(manager), short_description='E-mail down', services=[service])
    declared = [m for m in mail.outbox if 'declared' in m.subject]
    assert len(declared) == 1
    assert set(declared[0].to) == set(major.recipients.values_list('email', flat=True))
    assert major.number in declared[0].body


# ----------------------------------------------------------------------------------------------- the team
def test_activation_names_the_team_and_each_must_be_active_staff(manager, service):
    major = MajorIncidentFactory(services=[service], incident_manager=manager)
    lead, comms, supporter = (
        make_user(Role.L3_ENGINEER),
        make_user(Role.SERVICE_DESK_AGENT),
        make_user(Role.L2_ENGINEER),
    )
    with pytest.raises(ValidationError) as error:
        services.major_activate(major=major, actor=as_(manager), tech_lead=make_user(Role.REQUESTER))
    assert 'tech_lead' in error.value.message_dict
    gone = make_user(Role.L2_ENGINEER, is_active=False)
    with pytest.raises(ValidationError):
        services.major_activate(major=major, actor=as_(manager), support_staff=[gone])
    major = services.major_activate(
        major=major, actor=as_(manager), tech_lead=lead, communications_lead=comms, support_staff=[supporter]
    )
    assert major.state == S.ACTIVATION
    assert (major.incident_manager, major.tech_lead, major.communications_lead) == (manager, lead, comms)
    assert list(major.support_staff.all()) == [supporter]
    text = entries(major, TimelineKind.TRANSITION).last().message
    assert f'Tech lead: {lead}' in text and f'Communications lead: {comms}' in text and str(supporter) in text
    staff = entries(major, TimelineKind.FIELD_CHANGE).last()
    assert staff.changes == [
        {'field': 'support_staff', 'label': 'Support staff', 'before': [], 'after': [str(supporter)]}
    ]


def test_set_team_changes_and_clears_roles_but_never_the_incident_manager(manager, service):
    major = MajorIncidentFactory(state=S.ASSESSMENT, services=[service], incident_manager=manager)
    lead = make_user(Role.L3_ENGINEER)
    major = services.major_set_team(major=major, actor=as_(manager), tech_lead=lead)
    assert major.tech_lead == lead
    major = services.major_set_team(major=major, actor=as_(manager), tech_lead=None)
    assert major.tech_lead is None
    with pytest.raises(ValidationError):
        services.major_set_team(major=major, actor=as_(manager), incident_manager=None)
    with pytest.raises(ValidationError) as error:
        services.major_set_team(major=major, actor=as_(manager), incident_manager=lead)
    assert 'not an incident manager' in error.value.message_dict['incident_manager'][0]
    with pytest.raises(NotAllowed):
        services.major_set_team(major=major, actor=as_(make_user(Role.SERVICE_DESK_AGENT)), tech_lead=lead)
    assert entries(major, TimelineKind.FIELD_CHANGE).filter(message__startswith='Response team').count() == 2


# ---------------------------------------------------------------------------------------------- the stages
def test_stage_moves_record_their_note_for_staff_only(manager, service):
    major = MajorIncidentFactory(state=S.ACTIVATION, services=[service], incident_manager=manager)
    major = services.major_assess(major=major, actor=as_(manager), note='Three buildings affected.')
    entry = entries(major, TimelineKind.TRANSITION).last()
    assert (entry.message, entry.public, entry.data['to']) == ('Three buildings affected.', False, S.ASSESSMENT)
    with pytest.raises(InvalidTransition):
        services.major_resolve(major=major, actor=as_(manager), resolution='Fixed')
    major = services.major_start_resolution(major=major, actor=as_(manager))
    assert major.state == S.RESOLUTION


def test_resolving_needs_a_resolution_and_stops_the_cadence(manager, service):
    major = MajorIncidentFactory(state=S.RESOLUTION, services=[service], incident_manager=manager)
    with pytest.raises(ValidationError) as error:
        services.major_resolve(major=major, actor=as_(manager), resolution='  ')
    assert 'resolution' in error.value.message_dict
    major = services.major_resolve(major=major, actor=as_(manager), resolution='Restarted the mail store.')
    assert major.state == S.REVIEW
    assert major.restored_at is not None and major.next_update_due is None
    assert major.resolution == 'Restarted the mail store.'


def test_reopening_restores_the_cadence_and_cancelling_needs_a_reason(manager, service):
    major = MajorIncidentFactory(state=S.REVIEW, services=[service], incident_manager=manager)
    with pytest.raises(ValidationError):
        services.major_reopen(major=major, actor=as_(manager), reason='')
    major = services.major_reopen(major=major, actor=as_(manager), reason='Mail is down again.')
    assert major.state == S.RESOLUTION and major.restored_at is None
    assert major.next_update_due > timezone.now() + dt.timedelta(minutes=major.update_interval_minutes - 1)
    with pytest.raises(ValidationError):
        services.major_cancel(major=major, actor=as_(manager), reason=' ')
    with pytest.raises(NotAllowed):
        services.major_cancel(major=major, actor=as_(make_user(Role.L3_ENGINEER)), reason='Not major')
    major = services.major_cancel(major=major, actor=as_(manager), reason='One building only.')
    assert (major.state, major.cancel_reason, major.next_update_due) == (S.CANCELLED, 'One building only.', None)
    assert major.closed_at is not None


# ----------------------------------------------------------------------------------------- cascade completion
def test_resolving_completes_the_children_and_each_caller_is_told(manager, service, django_capture_on_commit_callbacks):
    group, agent = make_group_with_agent(name='Mail support')
    accepted = [make_ticket(service=service, state=TicketState.ACCEPTED, group=group, agent=agent) for _ in range(2)]
    waiting = make_ticket(service=service, state=TicketState.ASSIGNED, group=group, agent=agent)
    on_hold = make_ticket(service=service, state=TicketState.PENDING, group=group, agent=agent)
    done = make_ticket(service=service, state=TicketState.COMPLETED, group=group, agent=agent)
    major = MajorIncidentFactory(state=S.RESOLUTION, services=[service], incident_manager=manager)
    services.major_link_children(major=major, actor=as_(agent), incidents=[*accepted, waiting, on_hold, done])
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        major = services.major_resolve(major=major, actor=as_(manager), resolution='Restarted the mail store.')
    # Every open child completes with it, taken or not, on hold or not; each caller is told.
    for ticket in [*accepted, waiting, on_hold]:
        ticket.refresh_from_db()
        assert ticket.state == TicketState.COMPLETED
        assert 'Restarted the mail store.' in ticket.resolution_notes
        told = [m for m in mail.outbox if ticket.caller.email in m.to and ticket.number in m.subject]
        assert told, f'{ticket.caller.email} was not told that {ticket.number} is completed'
    assert major.children_completed == [t.number for t in [*accepted, waiting, on_hold]]
    assert major.children_not_completed == []
    note = entries(major, TimelineKind.WORK_NOTE).get(data__has_key='children_completed')
    assert waiting.number in note.message and on_hold.number in note.message
    assert Ticket.objects.get(pk=done.pk).resolution_notes != ticket.resolution_notes  # finished earlier: untouched
    resolved = [m for m in mail.outbox if 'Service restored' in m.subject]
    assert len(resolved) == 1 and major.number in resolved[0].subject


# ------------------------------------------------------------------------------------------------ children
def test_linking_many_incidents_in_one_call(manager, service):
    major = MajorIncidentFactory(state=S.ASSESSMENT, services=[service], incident_manager=manager)
    agent = make_user(Role.SERVICE_DESK_AGENT)
    incidents = [make_ticket(service=service) for _ in range(3)]
    rows = services.major_link_children(major=major, actor=as_(agent), incidents=incidents)
    assert len(rows) == 3
    # Already linked here: ignored.
    assert services.major_link_children(major=major, actor=as_(agent), incidents=incidents[:1]) == []
    other = MajorIncidentFactory(services=[service], incident_manager=manager)
    with pytest.raises(Conflict) as refused:
        services.major_link_children(major=other, actor=as_(agent), incidents=[make_ticket(), incidents[1]])
    assert major.number in refused.value.detail and incidents[1].number in refused.value.detail
    assert not other.child_links.exists()  # nothing half-linked
    with pytest.raises(ValidationError):
        services.major_link_children(major=other, actor=as_(agent), incidents=[make_ticket(kind='case')])
    with pytest.raises(NotAllowed):
        services.major_link_children(major=other, actor=as_(make_user(Role.SERVICE_OWNER)), incidents=incidents)
    assert entries(incidents[0], TimelineKind.LINK).get().data == {'major_incident': major.number}


def test_unlinking_a_child(manager, service):
    major = MajorIncidentFactory(state=S.ASSESSMENT, services=[service], incident_manager=manager)
    incident = make_ticket(service=service)
    services.major_link_children(major=major, actor=as_(manager), incidents=[incident])
    services.major_unlink_child(major=major, actor=as_(manager), incident=incident)
    assert not MajorIncidentChild.objects.filter(incident=incident).exists()
    with pytest.raises(Conflict):
        services.major_unlink_child(major=major, actor=as_(manager), incident=incident)


# ------------------------------------------------------------------------------------------------ hand-off
def test_hand_off_tells_the_recipient_list_who_owns_it(manager, service, django_capture_on_commit_callbacks):
    major = MajorIncidentFactory(state=S.ASSESSMENT, services=[service], incident_manager=manager)
    estimate = timezone.now() + dt.timedelta(days=2)
    with pytest.raises(ValidationError):
        services.major_hand_off(major=major, actor=as_(manager), handoff_owner='  ')
    with pytest.raises(NotAllowed):
        services.major_hand_off(major=major, actor=as_(make_user(Role.L2_ENGINEER)), handoff_owner='Web team')
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        major = services.major_hand_off(
            major=major,
            actor=as_(manager),
            handoff_owner='Web platform team',
            handoff_reference='WEB-4512',
            handoff_estimate=estimate,
        )
    assert major.mode == ResponseMode.HANDOFF and major.handed_off_at is not None
    sent = [m for m in mail.outbox if 'handed off' in m.subject]
    assert len(sent) == 1
    assert set(sent[0].to) == set(major.recipients.values_list('email', flat=True))
    assert 'Web platform team' in sent[0].body and 'WEB-4512' in sent[0].body
    assert entries(major, TimelineKind.FIELD_CHANGE).last().message == 'Handed off to Web platform team (WEB-4512)'


# ------------------------------------------------------------------------------------------ validation and close
def test_closing_needs_both_validations_and_a_review_with_a_root_cause(manager, owners, service):
    major = MajorIncidentFactory(state=S.REVIEW, services=[service], incident_manager=manager)
    with pytest.raises(Conflict) as blocked:
        services.major_close(major=major, actor=as_(manager))
    assert 'validation by the service owner' in blocked.value.detail
    with pytest.raises(NotAllowed):
        services.major_validate(major=major, actor=as_(manager))
    validation = services.major_validate(major=major, actor=as_(owners[0]), note='Mail flows again.')
    assert (validation.role, validation.validated_by) == (ValidationRole.SERVICE_OWNER, owners[0])
    with pytest.raises(Conflict):
        services.major_validate(major=major, actor=as_(owners[0]))
    services.major_validate(major=major, actor=as_(owners[1]))
    with pytest.raises(Conflict) as blocked:
        services.major_close(major=major, actor=as_(manager))
    assert 'root cause' in blocked.value.detail
    write_review(major)
    with pytest.raises(NotAllowed):
        services.major_close(major=major, actor=as_(owners[0]))
    major = services.major_close(major=major, actor=as_(manager))
    assert major.state == S.CLOSED and major.closed_at is not None


def test_one_person_holding_both_owner_roles_validates_twice(manager):
    both = make_user(Role.SERVICE_OWNER, Role.BUSINESS_OWNER)
    service = make_public_service(owner=both, business_owner=both)
    major = MajorIncidentFactory(state=S.REVIEW, services=[service], incident_manager=manager)
    services.major_validate(major=major, actor=as_(both))
    services.major_validate(major=major, actor=as_(both))
    assert set(Validation.objects.filter(major_incident=major).values_list('role', flat=True)) == set(
        ValidationRole.values
    )


def test_drive_reaches_closed(manager, service):
    major = MajorIncidentFactory(state=S.CLOSED, services=[service], incident_manager=manager)
    assert major.state == S.CLOSED
    assert drive(MajorIncidentFactory(services=[service]), S.CANCELLED).state == S.CANCELLED


# -------------------------------------------------------------------------------------------------- updates
def test_updates_keep_the_cadence_and_say_whether_they_were_on_time(manager, service):
    major = MajorIncidentFactory(state=S.ASSESSMENT, services=[service], incident_manager=manager, priority=1)
    first_due = major.next_update_due
    update = services.major_post_update(
        major=major,
        actor=as_(manager),
        audience=UpdateAudience.PUBLIC,
        status=UpdateStatus.IDENTIFIED,
        body='Found it.',
    )
    assert (update.due_at, update.on_time) == (first_due, True)
    major.refresh_from_db()
    assert major.last_update_at == update.posted_at
    assert major.next_update_due == update.posted_at + dt.timedelta(minutes=60)
    # Late: the update due passed before this one was posted.
    MajorIncident.objects.filter(pk=major.pk).update(next_update_due=timezone.now() - dt.timedelta(minutes=5))
    late = services.major_post_update(
        major=major, actor=as_(manager), audience=UpdateAudience.RECIPIENTS, body='Still working on it.'
    )
    assert late.on_time is False
    assert 'late' in entries(major, TimelineKind.WORK_NOTE).last().message
    # Internal notes are for the team: they neither satisfy nor move the cadence.
    major.refresh_from_db()
    due = major.next_update_due
    note = services.major_post_update(
        major=major, actor=as_(manager), audience=UpdateAudience.INTERNAL, body='Call at 3.'
    )
    major.refresh_from_db()
    assert (note.due_at, note.on_time, major.next_update_due) == (None, True, due)


def test_updates_to_the_recipients_are_emailed(manager, service, django_capture_on_commit_callbacks):
    major = MajorIncidentFactory(state=S.ASSESSMENT, services=[service], incident_manager=manager)
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        update = services.major_post_update(
            major=major,
            actor=as_(manager),
            audience=UpdateAudience.RECIPIENTS,
            subject='Mail store restarting',
            body='The mail store restarts <now>; expect 10 minutes.',
        )
    addresses = set(major.recipients.values_list('email', flat=True))
    assert update.recipient_count == len(addresses)
    sent = [m for m in mail.outbox if 'Mail store restarting' in m.subject]
    assert len(sent) == 1 and set(sent[0].to) == addresses
    assert 'The mail store restarts <now>; expect 10 minutes.' in sent[0].body


def test_update_refusals(manager, service):
    major = MajorIncidentFactory(state=S.ASSESSMENT, services=[service], incident_manager=manager)
    with pytest.raises(ValidationError) as error:
        services.major_post_update(major=major, actor=as_(manager), audience=UpdateAudience.PUBLIC, body=' ')
    assert 'body' in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.major_post_update(major=major, actor=as_(manager), audience=UpdateAudience.PUBLIC, body='News')
    assert 'status' in error.value.message_dict
    with pytest.raises(ValidationError):
        services.major_post_update(major=major, actor=as_(manager), audience='everyone', body='News')
    with pytest.raises(NotAllowed):
        services.major_post_update(
            major=major, actor=as_(make_user(Role.SERVICE_DESK_AGENT)), audience=UpdateAudience.INTERNAL, body='Hi'
        )
    closed = MajorIncidentFactory(state=S.CLOSED, services=[service], incident_manager=manager)
    with pytest.raises(InvalidTransition):
        services.major_post_update(major=closed, actor=as_(manager), audience=UpdateAudience.INTERNAL, body='Hi')


def test_the_communications_lead_posts_updates(manager, service):
    comms = make_user(Role.SERVICE_DESK_AGENT)
    major = MajorIncidentFactory(services=[service], incident_manager=manager)
    major = services.major_activate(major=major, actor=as_(manager), communications_lead=comms)
    update = services.major_post_update(major=major, actor=as_(comms), audience=UpdateAudience.INTERNAL, body='Hi')
    assert update.posted_by == comms


def test_a_template_fills_what_is_left_empty(manager, service):
    major = MajorIncidentFactory(state=S.ASSESSMENT, services=[service], incident_manager=manager)
    template = UpdateTemplateFactory(
        status=UpdateStatus.IDENTIFIED, subject='{number} {status}', body='{services}: {impact}. Next: {unknown}.'
    )
    subject, body = services.render_template(template, major)
    assert subject == f'{major.number} Identified'
    assert body == 'Student e-mail: Major outage. Next: {unknown}.'
    update = services.major_post_update(
        major=major, actor=as_(manager), audience=UpdateAudience.PUBLIC, template=template
    )
    assert (update.subject, update.body, update.status, update.template) == (subject, body, 'identified', template)
    mine = services.major_post_update(
        major=major, actor=as_(manager), audience=UpdateAudience.PUBLIC, template=template, body='My own words.'
    )
    assert (mine.subject, mine.body) == (subject, 'My own words.')


def test_update_listeners_hear_every_update(manager, service):
    heard = []
    notifications.register_update_listener(heard.append)
    try:
        major = MajorIncidentFactory(state=S.ASSESSMENT, services=[service], incident_manager=manager)
        update = services.major_post_update(
            major=major, actor=as_(manager), audience=UpdateAudience.PUBLIC, status='investigating', body='Looking.'
        )
    finally:
        notifications.unregister_update_listener(heard.append)
    assert heard == [update]


# ------------------------------------------------------------------------------------------------ editing
def test_priority_change_brings_its_default_interval_only_when_the_interval_was_the_default(manager, service):
    major = MajorIncidentFactory(state=S.ASSESSMENT, services=[service], incident_manager=manager, priority=1)
    major = services.major_update(major=major, actor=as_(manager), priority=0)
    assert major.update_interval_minutes == 30
    major = services.major_update(major=major, actor=as_(manager), update_interval_minutes=20)
    major = services.major_update(major=major, actor=as_(manager), priority=1)
    assert major.update_interval_minutes == 20
    assert major.next_update_due == major.declared_at + dt.timedelta(minutes=20)


def test_interval_rules(manager, service, settings):
    major = MajorIncidentFactory(state=S.ASSESSMENT, services=[service], incident_manager=manager, priority=1)
    for minutes, words in ((4, 'at least'), (90, 'longer interval'), (24 * 60 + 1, 'once a day')):
        with pytest.raises(ValidationError) as error:
            services.major_update(major=major, actor=as_(manager), update_interval_minutes=minutes)
        assert words in error.value.message_dict['update_interval_minutes'][0]
    long_ago = timezone.now() - dt.timedelta(hours=settings.MAJOR_LONG_OUTAGE_HOURS + 1)
    major = services.major_update(major=major, actor=as_(manager), outage_started_at=long_ago)
    major = services.major_update(major=major, actor=as_(manager), update_interval_minutes=24 * 60)
    assert major.update_interval_minutes == 24 * 60
    with pytest.raises(ValidationError):
        services.major_update(major=major, actor=as_(manager), outage_started_at=timezone.now() + dt.timedelta(hours=1))


def test_edits_refused_and_new_services_bring_their_people(manager, service):
    major = MajorIncidentFactory(state=S.ASSESSMENT, services=[service], incident_manager=manager)
    with pytest.raises(ValidationError):
        services.major_update(major=major, actor=as_(manager), state=S.CLOSED)
    with pytest.raises(NotAllowed):
        services.major_update(major=major, actor=as_(make_user(Role.SERVICE_DESK_AGENT)), short_description='x')
    owner = make_user(Role.SERVICE_OWNER)
    second = make_public_service('Printing', owner=owner, announce_list='print-news@example.com')
    major = services.major_update(major=major, actor=as_(manager), services=[service, second], public_title='Mail')
    listed = dict(major.recipients.values_list('email', 'source'))
    assert listed[owner.email] == RecipientSource.SERVICE_OWNER
    assert listed['print-news@example.com'] == RecipientSource.ANNOUNCE_LIST
    assert major.title == 'Mail'
    closed = MajorIncidentFactory(state=S.CLOSED, services=[service], incident_manager=manager)
    with pytest.raises(Conflict):
        services.major_update(major=closed, actor=as_(manager), short_description='x')


def test_declaring_costs_the_same_queries_however_many_services(manager):
    def count(size: int) -> int:
        scoped = [
            make_public_service(owner=make_user(Role.SERVICE_OWNER), announce_list=f'list{n}@example.com')
            for n in range(size)
        ]
        with CaptureQueriesContext(connection) as queries:
            services.major_declare(actor=as_(manager), short_description='Campus network down', services=scoped)
        return len(queries.captured_queries)

    count(1)  # warm the content-type cache the timeline uses
    assert count(1) == count(4)


def test_the_default_templates_fill_every_placeholder_and_can_be_removed(manager, service):
    migration = import_module('major_incidents.migrations.0002_default_update_templates')
    names = [t['name'] for t in migration.TEMPLATES]
    defaults = list(UpdateTemplate.objects.filter(name__in=names))
    assert sorted(t.name for t in defaults) == sorted(names)
    assert {t.audience for t in defaults} == set(UpdateAudience.values)
    major = MajorIncidentFactory(state=S.ASSESSMENT, services=[service], incident_manager=manager)
    for template in defaults:
        subject, body = services.render_template(template, major)
        assert '{' not in subject + body, f'{template.name} left a placeholder: {subject} {body}'
        assert major.number in subject or major.title in subject
    migration.remove_templates(apps, None)
    assert not UpdateTemplate.objects.filter(name__in=names).exists()
    migration.add_templates(apps, None)
    assert UpdateTemplate.objects.filter(name__in=names).count() == len(names)
