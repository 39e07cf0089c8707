"""Incidents and cases through the generated workflow tests (tests/workflow.py): every action of
`TICKET_ACTIONS` from every ticket state, through the ticket pages and the API, with its timeline entry, its
refusals (409 for the state, 400 for missing input, 403 for people without the right) and the query count of the
ticket page and its API history as the timeline grows."""

from __future__ import annotations

from types import SimpleNamespace

from django.core.files.uploadedfile import SimpleUploadedFile

from incidents.choices import PendingReason, ResolutionCode, TicketState
from incidents.models import Case, Incident
from itsm import conversation
from itsm.audit import Actor
from itsm.choices import Role, TicketKind, Tier, TimelineKind
from tests.factories import make_group_with_agent, make_ticket, make_user
from tests.workflow import API, UI, WorkflowTable

S = TicketState


class TicketWorkflow(WorkflowTable):
    """What tickets need: a desk group with a manager, a second-tier group to hand over to, and the people."""

    kind = TicketKind.INCIDENT
    forbidden = {
        # The caller sees their ticket but works none of it; a reader (manager role) sees every ticket.
        '*': ('requester', 'reader'),
        'accept': ('requester', 'reader', 'agent_outside_group'),
        # Take is tried on a New ticket no group holds: any desk agent may take it, an engineer may not.
        'take': ('requester', 'reader', 'engineer'),
        # The caller may confirm or reject; another requester may not, nor may a reader.
        'confirm': ('reader', 'stranger'),
        'reject': ('reader', 'stranger'),
        # Marking a security incident: incident managers, administrators and security groups only.
        'security': ('requester', 'reader', 'agent'),
    }
    # The API does not tell a requester that someone else's ticket exists.
    forbidden_status = {(API, 'stranger'): 404}
    expected_changes = {
        'assign': {'assignment_group'},
        'accept': {'assignee', 'accepted_at'},
        'pend': {'pending_reason', 'pending_note'},
        'resume': {'pending_reason'},
        'escalate': {'assignment_group', 'reassignment_count'},
        'complete': {'resolution_code', 'resolution_notes', 'completed_at'},
        'confirm': {'closed_at'},
        'reject': {'reopen_count', 'resolution_code', 'resolution_notes', 'completed_at'},
        'priority': {'priority', 'priority_override_reason'},
        'parent': {'parent'},
        'convert': {'kind'},
        'security': {'security_incident'},
    }
    query_reads = ((UI, 'page'), (API, 'timeline'))

    def make_people(self):
        manager = make_user(Role.INCIDENT_MANAGER)
        l2, engineer = make_group_with_agent(name='Desktop L2', tier=Tier.L2, role=Role.L2_ENGINEER)
        desk, agent = make_group_with_agent(name='Service Desk')
        desk.manager, desk.escalation_group = manager, l2
        desk.save()
        caller = make_user(Role.REQUESTER)
        return SimpleNamespace(
            desk=desk,
            agent=agent,
            manager=manager,
            l2=l2,
            engineer=engineer,
            caller=caller,
            requester=caller,
            stranger=make_user(Role.REQUESTER),
            reader=make_user(Role.MANAGER),
            agent_outside_group=make_user(Role.SERVICE_DESK_AGENT),
        )

    def make_record(self, state):
        p = self.people
        return make_ticket(kind=self.kind, caller=p.caller, state=state, group=p.desk, agent=p.agent)

    def actor_for(self, name, record, channel):
        if name in ('confirm', 'reject') and channel == API:
            return self.people.caller  # the caller answers for themselves; the page acts on their behalf
        if name == 'security':
            return self.people.manager
        return self.people.agent

    def viewer(self):
        return self.people.agent

    def valid_input(self, name, record, channel):
        group = self.people.l2
        group_ref = group.name if channel == API else group.pk
        inputs = {
            'accept': {},
            'take': {},
            'confirm': {},
            'assign': {'group': group_ref, 'reason': 'Printer queue'},
            'pend': {'reason': PendingReason.VENDOR, 'note': 'Part ordered'},
            'resume': {'note': 'Part arrived'},
            'escalate': {'group': group_ref, 'reason': 'Needs a second-line engineer'},
            'complete': {'resolution_code': ResolutionCode.SOLVED_WORKAROUND, 'resolution_notes': 'Restarted it.'},
            'reject': {'reason': 'It still jams'},
            'escalate_management': {'reason': 'The resolution target is at risk'},
            'priority': {'priority': (record.priority + 1) % 5, 'reason': 'Board meeting at noon'},
            'security': {'security_incident': True if channel == API else 'true', 'reason': 'Phishing report'},
        }
        if name in inputs:
            return inputs[name]
        if name == 'parent':
            return {'parent': make_ticket(kind=TicketKind.INCIDENT, caller=self.people.caller).number}
        if name == 'convert':
            other = TicketKind.CASE if record.kind == TicketKind.INCIDENT else TicketKind.INCIDENT
            return {'to': other} if channel == API else {}
        raise AssertionError(f'declare valid input for the new action "{name}" in {type(self).__name__}')

    def entry_kind(self, name):
        if name == 'escalate_management':
            return TimelineKind.WORK_NOTE  # the ticket stays put; the history notes whom it was escalated to
        return super().entry_kind(name)

    def collection_transition(self, name):
        return {'accept_next': 'accept'}.get(name, '')

    def test_action(self, case):
        """Take runs two transitions from New (assign, accept) and one from Assigned: it ends Accepted with the
        taker as assignee and one timeline entry per transition; anywhere else it is refused with a 409."""
        if case.action != 'take':
            super().test_action(case)
            return
        record = self.make_record(case.state)
        user = self.actor_for(case.action, record, case.channel)
        before = self.observe(record)
        response = self.post(case.channel, case.action, record, user, {})
        if case.state not in (S.NEW, S.ASSIGNED):
            self.assert_status(response, 409, case)
            self.assert_unchanged(before, case)
            return
        success = self.page_success_status if case.channel == UI else self.api_success_status
        self.assert_status(response, success, case)
        record = self.reload(record.pk)
        assert (record.state, record.assignee_id) == (S.ACCEPTED, user.pk), case.id
        entries = list(self.timeline(record).filter(pk__gt=before.last_entry_id, kind=TimelineKind.TRANSITION))
        moves = [(e.data['action'], e.data['from'], e.data['to'], e.actor_id, e.channel) for e in entries]
        expected = [('accept', S.ASSIGNED, S.ACCEPTED, user.pk, case.channel)]
        if case.state == S.NEW:
            expected.insert(0, ('assign', S.NEW, S.ASSIGNED, user.pk, case.channel))
        assert moves == expected, f'{case.id}: {moves}'

    def query_urls(self, record):
        return {'page': self.detail_url(record), 'timeline': f'{self.api_base}{record.number}/timeline/'}

    def add_timeline_entries(self, record, count):
        p = self.people
        for i in range(count):
            match i % 4:
                case 0:
                    conversation.comment(record, actor=Actor(user=p.caller), body=f'Any news? ({i})')
                case 1:
                    conversation.comment(
                        record, actor=Actor(user=p.agent), body=f'Checked the logs ({i})', internal=True
                    )
                case 2:
                    conversation.comment(record, actor=Actor(user=p.engineer), body=f'On it ({i})')
                case _:
                    upload = SimpleUploadedFile(f'log-{i}.txt', b'spooler error 0x1', content_type='text/plain')
                    conversation.attach(record, actor=Actor(user=p.agent), upload=upload)


class TestIncidentWorkflow(TicketWorkflow):
    model = Incident
    kind = TicketKind.INCIDENT
    api_base = '/api/v1/incidents/'
    page_prefix = 'ticket'  # /tickets/INC0001001/accept/


class TestCaseWorkflow(TicketWorkflow):
    model = Case
    kind = TicketKind.CASE
    api_base = '/api/v1/cases/'
    page_prefix = 'case'  # /cases/CS0001001/accept/


def test_every_declared_action_is_generated():
    """The tables above cover the whole ActionSet: a new action gets its tests (and needs its input) at once."""
    for table in (TestIncidentWorkflow, TestCaseWorkflow):
        generated = {c.action for c in table.action_cases()} | {c.action for c in table.collection_cases()}
        assert generated == set(table.actions().actions), table.__name__
        assert {c.state for c in table.action_cases()} == set(S.values)
