"""Changes and their implementation tasks through the generated workflow tests (tests/workflow.py): every action of
`CHANGE_ACTIONS` and `TASK_ACTIONS` from every state, through the pages and the API, with its timeline entry, its
refusals (409 for the state, 400 for missing input, 403 for people without the right) and the query count of the
record pages and their API history as the timeline grows."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from changes import services
from changes.choices import ChangeOutcome, ChangeState, TaskState
from changes.models import Cab, CabRule, Change, ChangeTask
from cmdb.choices import CIClass
from itsm import conversation
from itsm.audit import Actor
from itsm.choices import Role, Tier, TimelineKind
from tests.changes.factories import window
from tests.cmdb.factories import make_ci
from tests.factories import make_group_with_agent, make_user
from tests.workflow import API, UI, WorkflowTable

S = ChangeState
SYSTEM = Actor.system()
MANAGER_ACTIONS = ('assess', 'request_authorization', 'schedule', 'reschedule', 'reject', 'bypass_test_gate', 'close')


def make_cast():
    """A group of engineers, a change manager, a CAB with one member, the rule that lets changes outside production
    skip the CAB, and the people who must be refused."""
    group, engineer = make_group_with_agent(name='Platform Engineering', tier=Tier.L3, role=Role.L3_ENGINEER)
    member = make_user(Role.CAB_MEMBER)
    cab = Cab.objects.create(name='Change advisory board', policy='any')
    cab.members.add(member)
    CabRule.objects.create(position=10, name='Outside production skips the CAB', outside_production=True, route='skip')
    return SimpleNamespace(
        manager=make_user(Role.CHANGE_MANAGER),
        group=group,
        engineer=engineer,
        member=member,
        cab=cab,
        outsider=make_user(Role.SERVICE_DESK_AGENT),
        reader=make_user(Role.MANAGER),
        requester=make_user(Role.REQUESTER),
    )


def authorise(change: Change, people) -> Change:
    """The CAB member approves `change` (awaiting authorisation) in a meeting whose agenda has it."""
    from changes.cab import cast_vote, meeting_create

    meeting = meeting_create(
        actor=SYSTEM,
        cab=change.cab,
        starts_at=change.planned_start - dt.timedelta(days=2),
        window_start=change.planned_start - dt.timedelta(hours=1),
        window_end=change.planned_start + dt.timedelta(hours=1),
    )
    cast_vote(change=change, actor=Actor(user=people.member), vote='approve', meeting=meeting)
    return Change.objects.get(pk=change.pk)


def build_change(people, state: str, *, skip_cab: bool = False, authorised: bool = False) -> Change:
    """A normal change of the engineers' group in `state`. `skip_cab`: on a staging CI, so the rules let it skip
    the CAB (otherwise its CAB authorises it on the way to Scheduled)."""
    start, end = window()
    change = services.change_create(
        actor=SYSTEM,
        short_description='Upgrade the message broker',
        change_type='normal',
        assignment_group=people.group,
        cis=[make_ci(CIClass.APPLICATION, environment='staging')] if skip_cab else [],
        planned_start=start,
        planned_end=end,
        implementation_plan='Rolling upgrade node by node.',
        backout_plan='Reinstall the previous release from the package cache.',
    )
    steps = {
        S.DRAFT: [],
        S.SUBMITTED: ['submit'],
        S.ASSESSMENT: ['submit', 'assess'],
        S.AUTHORIZATION: ['submit', 'assess', 'request_authorization'],
        S.SCHEDULED: ['submit', 'assess', 'request_authorization', 'authorise', 'schedule'],
        S.IMPLEMENTATION: ['submit', 'assess', 'request_authorization', 'authorise', 'schedule', 'start'],
        S.REVIEW: ['submit', 'assess', 'request_authorization', 'authorise', 'schedule', 'start', 'complete'],
        S.CLOSED: ['submit', 'assess', 'request_authorization', 'authorise', 'schedule', 'start', 'complete', 'close'],
        S.REJECTED: ['submit', 'assess', 'reject'],
        S.CANCELLED: ['cancel'],
    }[state]
    for step in steps:
        change = Change.objects.get(pk=change.pk)
        if step == 'authorise':
            authorise(change, people)
        elif step == 'reject':
            services.change_reject(change=change, actor=SYSTEM, reason='Not now.')
        elif step == 'cancel':
            services.change_cancel(change=change, actor=SYSTEM, reason='No longer needed.')
        elif step == 'close':
            services.change_close(change=change, actor=SYSTEM, outcome=ChangeOutcome.SUCCESSFUL)
        else:
            getattr(services, f'change_{step}')(change=change, actor=SYSTEM)
    change = Change.objects.get(pk=change.pk)
    if authorised and change.state == S.AUTHORIZATION:
        change = authorise(change, people)
    return change


class TestChangeWorkflow(WorkflowTable):
    model = Change
    api_base = '/api/v1/changes/'
    page_prefix = 'change'
    forbidden = {
        # Requesters never see changes; readers (other staff) read them; an agent outside the change's group and
        # not its requester or owner works none of it.
        '*': ('requester', 'reader', 'outsider'),
        # The change manager runs the process: the engineers who draft and implement it may not.
        **{name: ('requester', 'reader', 'outsider', 'engineer') for name in MANAGER_ACTIONS},
    }
    expected_changes = {
        'assess': {'risk_level', 'cab_route', 'risk_assessed_at'},
        'schedule': {'planned_start'},
        'reschedule': {'planned_start', 'planned_end'},
        'reject': {'rejection_reason', 'closed_at'},
        'record_tests': {'test_results', 'tests_passed'},
        'bypass_test_gate': {'test_gate_bypass_reason'},
        'start': {'actual_start'},
        'complete': {'actual_end'},
        'close': {'outcome', 'closed_at'},
        'cancel': {'cancel_reason', 'closed_at'},
    }
    query_reads = ((UI, 'page'), (API, 'timeline'), (API, 'detail'))
    action = ''

    def make_people(self):
        return make_cast()

    def make_record(self, state):
        # Scheduling from assessment is for changes whose route skips the CAB; from authorisation, once approved.
        schedule = self.action == 'schedule'
        return build_change(self.people, state, skip_cab=schedule and state == S.ASSESSMENT, authorised=schedule)

    def actor_for(self, name, record, channel):
        return self.people.manager if name in MANAGER_ACTIONS else self.people.engineer

    def viewer(self):
        return self.people.manager

    def entry_kind(self, name):
        return TimelineKind.LINK if name == 'add_task' else super().entry_kind(name)

    def valid_input(self, name, record, channel):
        later = (record.planned_start or window()[0]) + dt.timedelta(days=1)
        times = {'planned_start': later, 'planned_end': later + dt.timedelta(hours=3)}
        if channel == UI:
            times = {key: value.strftime('%Y-%m-%dT%H:%M') for key, value in times.items()}
        else:
            times = {key: value.isoformat() for key, value in times.items()}
        inputs = {
            'schedule': times,
            'reschedule': times,
            'reject': {'reason': 'The business cannot take the outage this month.'},
            'cancel': {'reason': 'The supplier withdrew the release.'},
            'bypass_test_gate': {'reason': 'The test environment is down; the fix is urgent.'},
            'record_tests': {'test_results': 'Rehearsed on staging: all checks green.', 'tests_passed': 'true'},
            'close': {'outcome': ChangeOutcome.SUCCESSFUL, 'review_notes': 'Went as planned.'},
            'add_task': {'title': 'Drain the first node', 'description': 'Move the queues away first.'},
        }
        if channel == API and name == 'record_tests':
            return {**inputs[name], 'tests_passed': True}
        return inputs.get(name, {'note': 'Ready.'})

    def query_urls(self, record):
        return {
            'page': self.detail_url(record),
            'timeline': f'{self.api_base}{record.number}/timeline/',
            'detail': f'{self.api_base}{record.number}/',
        }

    def add_timeline_entries(self, record, count):
        p = self.people
        for i in range(count):
            author = Actor(user=(p.manager, p.engineer)[i % 2])
            conversation.comment(record, actor=author, body=f'Preparation note {i}', internal=bool(i % 2))

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
        """Every change action acts on one change: none is routed apart."""
        assert [a.name for a in self.collection_actions()] == []


class TestChangeTaskWorkflow(WorkflowTable):
    model = ChangeTask
    api_base = '/api/v1/change-tasks/'
    page_prefix = 'changetask'
    forbidden = {'*': ('requester', 'reader', 'outsider')}
    expected_changes = {
        'begin': {'assignee', 'started_at'},
        'finish': {'done_at', 'closed_at'},
        'cancel': {'closed_at'},
    }
    query_reads = ((UI, 'page'), (API, 'timeline'))

    def make_people(self):
        return make_cast()

    def make_record(self, state):
        change = build_change(self.people, S.IMPLEMENTATION)
        task = services.task_create(
            actor=SYSTEM, change=change, title='Drain the first node', assignment_group=self.people.group
        )
        if state == TaskState.IN_PROGRESS:
            task = services.task_begin(changetask=task, actor=Actor(user=self.people.engineer))
        elif state == TaskState.DONE:
            task = services.task_finish(changetask=task, actor=SYSTEM)
        elif state == TaskState.CANCELLED:
            task = services.task_cancel(changetask=task, actor=SYSTEM, reason='Not needed.')
        return ChangeTask.objects.get(pk=task.pk)

    def actor_for(self, name, record, channel):
        return self.people.engineer

    def viewer(self):
        return self.people.manager

    def valid_input(self, name, record, channel):
        return {'reason': 'Done by the previous step.'} if name == 'cancel' else {'note': 'On it.'}

    def query_urls(self, record):
        return {'page': self.detail_url(record), 'timeline': f'{self.api_base}{record.number}/timeline/'}

    def add_timeline_entries(self, record, count):
        for i in range(count):
            conversation.comment(record, actor=Actor(user=self.people.engineer), body=f'Step {i}', internal=True)

    def test_collection_action(self):
        assert [a.name for a in self.collection_actions()] == []
