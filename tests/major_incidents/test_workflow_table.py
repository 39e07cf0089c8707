"""Major incidents through the generated workflow tests (tests/workflow.py): every action of
`MAJOR_INCIDENT_ACTIONS` from every stage, through the pages and the API, with its timeline entry, its refusals (409
for the stage, 400 for missing input, 403 for people without the right) and the query count of the record page and
its API reads as the timeline grows."""

from __future__ import annotations

from types import SimpleNamespace

from itsm import conversation
from itsm.audit import Actor
from itsm.choices import Role, TimelineKind
from major_incidents import services
from major_incidents.choices import MajorIncidentState, UpdateAudience, UpdateStatus
from major_incidents.models import MajorIncident
from tests.factories import make_ticket, make_user
from tests.major_incidents.factories import (
    MajorIncidentFactory,
    drive,
    make_incident_manager,
    make_public_service,
    write_review,
)
from tests.workflow import API, UI, WorkflowTable

S = MajorIncidentState
SYSTEM = Actor.system()
MANAGER_ACTIONS = ('activate', 'close', 'reopen', 'cancel')
LEAD_ACTIONS = ('assess', 'contain', 'start_resolution', 'resolve', 'set_team', 'hand_off')
OUTSIDERS = ('requester', 'reader', 'outsider')
TEAM_ROLES = ('incident_manager', 'tech_lead', 'communications_lead', 'service_owner', 'business_owner')


class TestMajorIncidentWorkflow(WorkflowTable):
    model = MajorIncident
    api_base = '/api/v1/major-incidents/'
    page_prefix = 'majorincident'
    forbidden = {
        # Requesters never see major incidents; other staff read them; an agent outside the team runs nothing.
        '*': OUTSIDERS,
        # Declaring, activating, closing, reopening and cancelling are the incident manager's: not the tech lead's.
        **{name: (*OUTSIDERS, 'lead') for name in MANAGER_ACTIONS},
        # The stages, the team and the hand-off are led by the incident manager and the tech lead.
        **{name: (*OUTSIDERS, 'comms') for name in LEAD_ACTIONS},
        # Only the record's own owners validate the restored service, not even its incident manager.
        'validate': (*OUTSIDERS, 'manager', 'lead'),
        # Any agent links incidents; staff who only read may not.
        'link_children': ('requester', 'reader', 'service_owner'),
    }
    expected_changes = {
        'activate': {'tech_lead', 'communications_lead'},
        'resolve': {'resolution', 'restored_at', 'next_update_due'},
        'close': {'closed_at'},
        'reopen': {'restored_at', 'next_update_due'},
        'cancel': {'cancel_reason', 'closed_at', 'next_update_due'},
        'post_update': {'last_update_at'},
        'set_team': {'tech_lead'},
        'hand_off': {'mode', 'handoff_owner', 'handoff_reference', 'handed_off_at'},
    }
    query_reads = ((UI, 'page'), (API, 'detail'), (API, 'timeline'))
    action = ''  # the action under test: a major incident to close has both validations and its review

    def make_people(self):
        return SimpleNamespace(
            manager=make_incident_manager(),
            lead=make_user(Role.L3_ENGINEER),
            other_lead=make_user(Role.L2_ENGINEER),
            comms=make_user(Role.SERVICE_DESK_AGENT),
            supporter=make_user(Role.L2_ENGINEER),
            service_owner=make_user(Role.SERVICE_OWNER),
            business_owner=make_user(Role.BUSINESS_OWNER),
            agent=make_user(Role.SERVICE_DESK_AGENT),
            outsider=make_user(Role.L2_ENGINEER),
            reader=make_user(Role.MANAGER),
            requester=make_user(Role.REQUESTER),
            colleague=make_incident_manager(),
        )

    def make_record(self, state):
        p = self.people
        self.service = make_public_service(owner=p.service_owner, business_owner=p.business_owner)
        major = MajorIncidentFactory(
            services=[self.service], incident_manager=p.manager, short_description='Student portal unavailable'
        )
        if not (self.action == 'activate' and state == S.DETECTION):  # else the activation names them
            major = services.major_set_team(major=major, actor=SYSTEM, tech_lead=p.lead, communications_lead=p.comms)
        if self.action == 'close' and state == S.REVIEW:
            drive(major, S.REVIEW)
            major = MajorIncident.objects.get(pk=major.pk)
            services.major_validate(major=major, actor=Actor(user=p.service_owner))
            services.major_validate(major=MajorIncident.objects.get(pk=major.pk), actor=Actor(user=p.business_owner))
            write_review(MajorIncident.objects.get(pk=major.pk))
        else:
            drive(major, state)
        return MajorIncident.objects.get(pk=major.pk)

    def actor_for(self, name, record, channel):
        p = self.people
        if name == 'validate':
            return p.service_owner
        if name == 'link_children':
            return p.agent
        if name == 'post_update':
            return p.comms
        return p.manager

    def entry_kind(self, name):
        kinds = {'validate': TimelineKind.WORK_NOTE, 'post_update': TimelineKind.WORK_NOTE}
        kinds['link_children'] = TimelineKind.LINK
        return kinds.get(name) or super().entry_kind(name)

    def viewer(self):
        return self.people.manager

    def team(self, channel, **roles):
        p = self.people
        people = {
            'incident_manager': p.manager,
            'tech_lead': p.lead,
            'communications_lead': p.comms,
            'service_owner': p.service_owner,
            'business_owner': p.business_owner,
            **roles,
        }
        if channel == API:
            data = {name: person.username for name, person in people.items()}
            return {**data, 'support_staff': [p.supporter.username], 'note': 'Bridge call open.'}
        data = {name: person.pk for name, person in people.items()}
        return {**data, 'support_staff': [p.supporter.pk], 'note': 'Bridge call open.'}

    def valid_input(self, name, record, channel):
        p = self.people
        inputs = {
            'assess': {'note': 'Both campuses affected.'},
            'contain': {'note': 'Traffic moved to the standby site.'},
            'start_resolution': {'note': 'Replacing the failed switch.'},
            'resolve': {'resolution': 'The core switch was replaced.', 'note': ''},
            'validate': {'note': 'Students can sign in again.'},
            'close': {'note': 'Review done.'},
            'reopen': {'reason': 'The portal is down again.'},
            'cancel': {'reason': 'One building only: handled as an incident.'},
            'hand_off': {'handoff_owner': 'Portal vendor', 'handoff_reference': 'VND-88', 'note': 'Their bug.'},
            'post_update': {
                'audience': UpdateAudience.RECIPIENTS,
                'status': UpdateStatus.IDENTIFIED,
                'subject': 'Cause found',
                'body': 'A failed switch; replacement under way.',
            },
        }
        if name in inputs:
            return inputs[name]
        if name == 'activate':
            # The support staff are many: the activation records them in an entry of their own (test_services).
            data = self.team(channel)
            del data['support_staff']
            return data
        if name == 'set_team':
            return self.team(channel, tech_lead=p.other_lead)
        if name == 'link_children':
            incident = make_ticket(short_description='Portal times out', service=self.service)
            return {'incidents': [incident.number]} if channel == API else {'others': incident.number}
        raise AssertionError(f'declare valid input for the new action "{name}" in {type(self).__name__}')

    def query_urls(self, record):
        return {
            'page': self.detail_url(record),
            'detail': f'{self.api_base}{record.number}/',
            'timeline': f'{self.api_base}{record.number}/timeline/',
        }

    def add_timeline_entries(self, record, count):
        p = self.people
        for i in range(count):
            author = Actor(user=(p.manager, p.colleague)[i % 2])
            conversation.comment(record, actor=author, body=f'Finding {i}', internal=True)

    # The action under test decides how a record is built (see `make_record`).
    def test_action(self, case):
        self.action = case.action
        super().test_action(case)

    def test_forbidden(self, case):
        self.action = case.action
        super().test_forbidden(case)

    def test_missing_input(self, case):
        self.action = case.action
        super().test_missing_input(case)

    def test_collection_action(self):
        """Every major-incident action acts on one record: none is routed apart (the generated test has no cases)."""
        assert [a.name for a in self.collection_actions()] == []
        assert all(a.detail for a in self.actions())
