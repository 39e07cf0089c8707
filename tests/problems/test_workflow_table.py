"""Problems through the generated workflow tests (tests/workflow.py): every action of `PROBLEM_ACTIONS` from every
problem state, through the problem pages and the API, with its timeline entry, its refusals (409 for the state,
400 for missing input, 403 for people without the right) and the query count of the problem page and its API
history as the timeline grows."""

from __future__ import annotations

from types import SimpleNamespace

from itsm import conversation
from itsm.audit import Actor
from itsm.choices import Role, Tier
from problems import services
from problems.choices import AnalysisMethod, ProblemState, RootCauseCategory
from problems.models import Problem
from tests.factories import make_group_with_agent, make_user
from tests.problems.factories import drive
from tests.workflow import API, UI, WorkflowTable

S = ProblemState
SYSTEM = Actor.system()
MANAGER_ACTIONS = ('assess', 'resolve', 'close', 'reopen', 'cancel')


class TestProblemWorkflow(WorkflowTable):
    model = Problem
    api_base = '/api/v1/problems/'
    page_prefix = 'problem'
    forbidden = {
        # Requesters never see problems; readers (other staff) read them; an agent outside the analysing group
        # works no problem of another group.
        '*': ('requester', 'reader', 'outsider'),
        # Owning, resolving, closing, cancelling and reopening are the problem manager's: the analyst may not.
        **{name: ('requester', 'reader', 'outsider', 'analyst') for name in MANAGER_ACTIONS},
    }
    expected_changes = {
        'assess': {'owner'},
        'record_analysis': {'root_cause', 'root_cause_category'},
        'resolve': {'resolution', 'resolved_at'},
        'close': {'closed_at'},
        'reopen': {'resolved_at'},
        'cancel': {'cancel_reason', 'closed_at'},
        'await_vendor': {'awaiting_vendor_since', 'vendor', 'vendor_reference'},
        'vendor_responded': {'awaiting_vendor_since'},
    }
    query_reads = ((UI, 'page'), (API, 'timeline'), (API, 'detail'))
    action = ''  # the action under test: records for "Supplier responded" are waiting on the supplier

    def make_people(self):
        group, analyst = make_group_with_agent(name='Platform Engineering', tier=Tier.L3, role=Role.L3_ENGINEER)
        return SimpleNamespace(
            manager=make_user(Role.PROBLEM_MANAGER),
            group=group,
            analyst=analyst,
            outsider=make_user(Role.SERVICE_DESK_AGENT),
            reader=make_user(Role.MANAGER),
            requester=make_user(Role.REQUESTER),
        )

    def make_record(self, state):
        p = self.people
        problem = services.problem_create(
            actor=SYSTEM, short_description='Mail clients lose their connection', assignment_group=p.group
        )
        if state == S.ROOT_CAUSE_ANALYSIS:
            problem = drive(problem, state, owner=p.manager)
            problem = services.problem_record_analysis(
                problem=problem, actor=SYSTEM, root_cause='The mail gateway drops idle sessions after 60 seconds.'
            )
        else:
            problem = drive(problem, state, owner=p.manager)
        if self.action == 'vendor_responded' and state in Problem.workflow.open_states:
            problem = services.problem_await_vendor(problem=problem, actor=SYSTEM, vendor='Mailgate Ltd')
        return Problem.objects.get(pk=problem.pk)

    def actor_for(self, name, record, channel):
        return self.people.manager if name in MANAGER_ACTIONS else self.people.analyst

    def viewer(self):
        return self.people.manager

    def valid_input(self, name, record, channel):
        p = self.people
        inputs = {
            'analyse': {'note': 'Starting with the gateway logs.'},
            'start_fix': {'note': 'Patch in preparation.'},
            'close': {'note': 'No recurrence in two weeks.'},
            'vendor_responded': {'note': 'They sent a patch.'},
            'record_analysis': {
                'symptoms': record.symptoms,
                'root_cause': 'Idle sessions are dropped by the gateway firmware 4.2.',
                'root_cause_category': RootCauseCategory.SOFTWARE,
                'contributing_factors': '',
                'analysis_method': AnalysisMethod.FIVE_WHYS,
                'workaround': 'Reconnect from the client menu.',
            },
            'resolve': {'resolution': 'Firmware 4.3 installed on both gateways.', 'change_reference': 'CHG0001001'},
            'reopen': {'reason': 'The disconnections came back.'},
            'cancel': {'reason': 'A duplicate of another problem.'},
            'await_vendor': {'vendor': 'Mailgate Ltd', 'vendor_reference': 'MG-4471', 'note': 'Case opened.'},
        }
        if name in inputs:
            return inputs[name]
        if name == 'assess':
            if channel == API:
                return {'owner': p.manager.username, 'group': p.group.name, 'note': 'Recurring, worth a look.'}
            return {'owner': p.manager.pk, 'assignment_group': p.group.pk, 'note': 'Recurring, worth a look.'}
        raise AssertionError(f'declare valid input for the new action "{name}" in {type(self).__name__}')

    def query_urls(self, record):
        return {
            'page': self.detail_url(record),
            'timeline': f'{self.api_base}{record.number}/timeline/',
            'detail': f'{self.api_base}{record.number}/',
        }

    def add_timeline_entries(self, record, count):
        p = self.people
        for i in range(count):
            author = Actor(user=(p.manager, p.analyst)[i % 2])
            conversation.comment(record, actor=author, body=f'Finding {i}', internal=bool(i % 2))

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
        """Every problem action acts on one problem: none is routed apart (the generated test has no cases)."""
        assert [a.name for a in self.collection_actions()] == []
        assert all(a.detail for a in self.actions())
