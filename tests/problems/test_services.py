"""Problem services: priority from the category, who may do what, the analysis, the supplier wait, the close
blockers and the category priorities that re-prioritise open problems."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cmdb.choices import CIClass
from itsm import hooks
from itsm.audit import Actor
from itsm.choices import Impact, Role, Tier, TimelineKind, Urgency
from itsm.errors import Conflict, InvalidTransition, NotAllowed
from itsm.models import TimelineEntry
from problems import services
from problems.choices import ProblemState
from problems.models import Problem
from tests.cmdb.factories import make_ci
from tests.factories import make_group_with_agent, make_user
from tests.problems.factories import CategoryPriorityFactory, close_blockers, make_category, make_problem

pytestmark = pytest.mark.django_db
S = ProblemState
SYSTEM = Actor.system()


@pytest.fixture
def people():
    group, analyst = make_group_with_agent(name='Platform Engineering', tier=Tier.L3, role=Role.L3_ENGINEER)
    return {
        'manager': make_user(Role.PROBLEM_MANAGER),
        'group': group,
        'analyst': analyst,
        'agent': make_user(Role.SERVICE_DESK_AGENT),
        'requester': make_user(Role.REQUESTER),
    }


def entries(problem, kind=None):
    found = TimelineEntry.objects.for_object(problem).order_by('id')
    return found.filter(kind=kind) if kind else found


# ------------------------------------------------------------------------------------------------ create
def test_priority_comes_from_the_category_through_the_matrix(people):
    row = CategoryPriorityFactory(impact=Impact.SEVERE, urgency=Urgency.IMMEDIATE)
    problem = services.problem_create(
        actor=Actor(user=people['agent']), short_description='Payroll export fails', category=row.category
    )
    assert (problem.impact, problem.urgency, problem.priority) == (Impact.SEVERE, Urgency.IMMEDIATE, 0)
    # A subcategory given alone names its parent's row.
    sub = make_category('Exports', parent=row.category)
    problem = services.problem_create(actor=SYSTEM, short_description='Export slow', subcategory=sub)
    assert problem.priority == 0


def test_a_category_without_a_row_gives_medium_impact_and_normal_urgency():
    problem = services.problem_create(actor=SYSTEM, short_description='Printer spooler hangs', category=make_category())
    assert (problem.impact, problem.urgency, problem.priority) == (Impact.MEDIUM, Urgency.NORMAL, 3)


def test_create_records_the_timeline_and_announces_it(people):
    seen = []

    def handler(record, **kwargs):
        seen.append((record.number, kwargs['actor'].user))

    hooks.subscribe(hooks.CREATED, handler, model=Problem)
    try:
        service = make_ci(CIClass.SERVICE, name='E-mail')
        server = make_ci(CIClass.SERVER, name='mail-gw-01')
        problem = services.problem_create(
            actor=Actor(user=people['agent']),
            short_description='Mail gateway drops sessions',
            services=[service],
            cis=[server],
            symptoms='Clients disconnect every minute.',
        )
    finally:
        hooks.unsubscribe(hooks.CREATED, handler, model=Problem)
    assert problem.number.startswith('PRB')
    assert seen == [(problem.number, people['agent'])]
    assert list(problem.services.all()) == [service] and list(problem.cis.all()) == [server]
    created = entries(problem, TimelineKind.CREATED).get()
    assert created.actor == people['agent']
    assert problem.opened_by == people['agent'] and problem.state == S.NEW


def test_requesters_cannot_raise_problems(people):
    with pytest.raises(NotAllowed):
        services.problem_create(actor=Actor(user=people['requester']), short_description='My laptop is slow')
    assert not Problem.objects.exists()


def test_only_integrations_and_administrators_backdate(people):
    yesterday = timezone.now() - dt.timedelta(days=1)
    with pytest.raises(NotAllowed):
        services.problem_create(actor=Actor(user=people['agent']), short_description='Old one', opened_at=yesterday)
    problem = services.problem_create(
        actor=Actor(user=make_user(Role.INTEGRATION)), short_description='Old one', opened_at=yesterday
    )
    assert problem.opened_at == yesterday


@pytest.mark.parametrize(
    ('field', 'value'),
    [
        ('short_description', '   '),
        ('owner', 'agent'),
        ('subcategory', 'foreign'),
        ('services', 'server'),
    ],
)
def test_create_refuses_bad_input_naming_the_field(people, field, value):
    kwargs = {'short_description': 'Mail gateway drops sessions'}
    if field == 'short_description':
        kwargs[field] = value
    elif field == 'owner':
        kwargs[field] = people['agent']
    elif field == 'subcategory':
        kwargs['category'] = make_category('Network')
        kwargs['subcategory'] = make_category('Toner', parent=make_category('Printing'))
    else:
        kwargs['services'] = [make_ci(CIClass.SERVER)]
    with pytest.raises(ValidationError) as raised:
        services.problem_create(actor=SYSTEM, **kwargs)
    assert field in raised.value.message_dict
    assert not Problem.objects.exists()


# -------------------------------------------------------------------------------------------- lifecycle
def test_every_move_goes_through_the_actions_and_fires_the_transitioned_hook(people):
    moves = []

    def handler(record, **kwargs):
        moves.append((kwargs['action'], kwargs['source'], kwargs['target']))

    hooks.subscribe(hooks.TRANSITIONED, handler, model=Problem)
    try:
        make_problem(S.CLOSED, assignment_group=people['group'])
        make_problem(S.CANCELLED)
    finally:
        hooks.unsubscribe(hooks.TRANSITIONED, handler, model=Problem)
    assert moves == [
        ('assess', S.NEW, S.ASSESSED),
        ('analyse', S.ASSESSED, S.ROOT_CAUSE_ANALYSIS),
        ('start_fix', S.ROOT_CAUSE_ANALYSIS, S.FIX_IN_PROGRESS),
        ('resolve', S.FIX_IN_PROGRESS, S.RESOLVED),
        ('close', S.RESOLVED, S.CLOSED),
        ('cancel', S.NEW, S.CANCELLED),
    ]


def test_assessing_names_a_problem_manager_as_owner(people):
    problem = make_problem()
    manager = Actor(user=people['manager'])
    with pytest.raises(ValidationError) as raised:
        services.problem_assess(problem=problem, actor=manager)
    assert 'owner' in raised.value.message_dict
    with pytest.raises(ValidationError):
        services.problem_assess(problem=problem, actor=manager, owner=people['analyst'])
    problem = services.problem_assess(
        problem=problem, actor=manager, owner=people['manager'], assignment_group=people['group']
    )
    assert (problem.state, problem.owner, problem.assignment_group) == (S.ASSESSED, people['manager'], people['group'])


def test_resolution_requires_a_root_cause_and_a_resolution(people):
    problem = make_problem(S.ROOT_CAUSE_ANALYSIS, assignment_group=people['group'])
    manager = Actor(user=people['manager'])
    with pytest.raises(ValidationError) as raised:
        services.problem_resolve(problem=problem, actor=manager, resolution='Rebooted the gateway.')
    assert 'root_cause' in raised.value.message_dict
    services.problem_record_analysis(problem=problem, actor=Actor(user=people['analyst']), root_cause='Firmware bug.')
    with pytest.raises(ValidationError) as raised:
        services.problem_resolve(problem=problem, actor=manager, resolution='  ')
    assert 'resolution' in raised.value.message_dict
    problem = services.problem_resolve(
        problem=problem, actor=manager, resolution='Firmware upgraded.', change_reference='CHG0001234'
    )
    assert problem.state == S.RESOLVED and problem.resolved_at is not None
    assert problem.change_reference == 'CHG0001234'


def test_analysts_work_the_analysis_but_only_problem_managers_resolve(people):
    problem = make_problem(S.FIX_IN_PROGRESS, assignment_group=people['group'])
    with pytest.raises(NotAllowed):
        services.problem_resolve(problem=problem, actor=Actor(user=people['analyst']), resolution='Done.')
    with pytest.raises(NotAllowed):
        services.problem_record_analysis(problem=problem, actor=Actor(user=people['agent']), root_cause='Guess.')
    services.problem_record_analysis(
        problem=problem, actor=Actor(user=people['analyst']), contributing_factors='No monitoring of the gateway.'
    )
    assert Problem.objects.get(pk=problem.pk).contributing_factors == 'No monitoring of the gateway.'


def test_the_first_root_cause_sets_the_time_it_was_found(people):
    problem = make_problem(S.ROOT_CAUSE_ANALYSIS, assignment_group=people['group'])
    analyst = Actor(user=people['analyst'])
    problem = services.problem_record_analysis(problem=problem, actor=analyst, symptoms='Disconnects.')
    assert problem.root_cause_found_at is None
    problem = services.problem_record_analysis(problem=problem, actor=analyst, root_cause='Idle timeout.')
    found = problem.root_cause_found_at
    assert found is not None
    problem = services.problem_record_analysis(problem=problem, actor=analyst, root_cause='Idle timeout of 60 s.')
    assert problem.root_cause_found_at == found
    entry = entries(problem, TimelineKind.FIELD_CHANGE).last()
    assert {c['field'] for c in entry.changes} == {'root_cause'}


def test_a_root_cause_is_corrected_not_erased_and_nothing_new_is_refused(people):
    problem = make_problem(S.FIX_IN_PROGRESS)
    with pytest.raises(ValidationError) as raised:
        services.problem_record_analysis(problem=problem, actor=SYSTEM, root_cause='')
    assert 'root_cause' in raised.value.message_dict
    with pytest.raises(ValidationError):
        services.problem_record_analysis(problem=problem, actor=SYSTEM, root_cause=problem.root_cause)


def test_the_analysis_is_not_recorded_on_a_new_or_closed_problem():
    for state in (S.NEW, S.RESOLVED, S.CLOSED):
        with pytest.raises(InvalidTransition):
            services.problem_record_analysis(problem=make_problem(state), actor=SYSTEM, root_cause='Late.')


def test_reopen_and_cancel_need_a_reason(people):
    manager = Actor(user=people['manager'])
    with pytest.raises(ValidationError) as raised:
        services.problem_reopen(problem=make_problem(S.RESOLVED), actor=manager, reason=' ')
    assert 'reason' in raised.value.message_dict
    with pytest.raises(ValidationError) as raised:
        services.problem_cancel(problem=make_problem(), actor=manager, reason='')
    assert 'reason' in raised.value.message_dict
    problem = services.problem_reopen(problem=make_problem(S.RESOLVED), actor=manager, reason='It came back.')
    assert (problem.state, problem.resolved_at) == (S.FIX_IN_PROGRESS, None)


# ----------------------------------------------------------------------------------------- supplier wait
def test_waiting_on_the_supplier_is_recorded_and_shown_on_the_timeline(people):
    problem = make_problem(S.ROOT_CAUSE_ANALYSIS, assignment_group=people['group'])
    analyst = Actor(user=people['analyst'])
    with pytest.raises(ValidationError) as raised:
        services.problem_await_vendor(problem=problem, actor=analyst)
    assert 'vendor' in raised.value.message_dict
    problem = services.problem_await_vendor(
        problem=problem, actor=analyst, vendor='Mailgate Ltd', vendor_reference='MG-4471', note='Logs sent.'
    )
    assert problem.awaiting_vendor_since is not None
    entry = entries(problem).last()
    assert entry.message == 'Waiting on Mailgate Ltd: Logs sent.'
    assert {c['field'] for c in entry.changes} == {'vendor', 'vendor_reference', 'awaiting_vendor_since'}
    with pytest.raises(Conflict):
        services.problem_await_vendor(problem=problem, actor=analyst, vendor='Mailgate Ltd')
    problem = services.problem_vendor_responded(problem=problem, actor=analyst, note='Patch received.')
    assert problem.awaiting_vendor_since is None
    entry = entries(problem).last()
    assert entry.message.startswith('Mailgate Ltd responded after ') and entry.message.endswith(': Patch received.')
    assert [c['field'] for c in entry.changes] == ['awaiting_vendor_since']
    with pytest.raises(Conflict):
        services.problem_vendor_responded(problem=problem, actor=analyst)


def test_outsiders_do_not_put_a_problem_on_supplier_wait(people):
    problem = make_problem(S.ASSESSED, assignment_group=people['group'])
    with pytest.raises(NotAllowed):
        services.problem_await_vendor(problem=problem, actor=Actor(user=people['agent']), vendor='Acme')
    assert Problem.objects.get(pk=problem.pk).awaiting_vendor_since is None


def test_resolving_ends_the_supplier_wait(people):
    problem = make_problem(S.FIX_IN_PROGRESS)
    problem = services.problem_await_vendor(problem=problem, actor=SYSTEM, vendor='Acme')
    problem = services.problem_resolve(problem=problem, actor=SYSTEM, resolution='Acme patched it.')
    assert problem.awaiting_vendor_since is None


# -------------------------------------------------------------------------------------------- close blockers
def test_a_registered_close_blocker_keeps_the_problem_resolved():
    problem = make_problem(S.RESOLVED)

    def open_changes(record):
        return [f'CHG0009001 is still being implemented ({record.number}).']

    with close_blockers(open_changes):
        assert services.close_blockers(problem) == [f'CHG0009001 is still being implemented ({problem.number}).']
        with pytest.raises(Conflict) as raised:
            services.problem_close(problem=problem, actor=SYSTEM)
        assert raised.value.code == 'close_blocked' and raised.value.status_code == 409
        assert 'CHG0009001' in raised.value.detail
        assert Problem.objects.get(pk=problem.pk).state == S.RESOLVED
    assert services.close_blockers(problem) == []
    problem = services.problem_close(problem=problem, actor=SYSTEM)
    assert problem.state == S.CLOSED and problem.closed_at is not None


def test_a_blocker_with_nothing_to_say_does_not_block():
    with close_blockers(lambda record: [], lambda record: ['']):
        assert services.problem_close(problem=make_problem(S.RESOLVED), actor=SYSTEM).state == S.CLOSED


# ------------------------------------------------------------------------------------------------- edits
def test_edits_recompute_the_priority_and_only_managers_change_the_owner(people):
    problem = make_problem(S.ASSESSED, assignment_group=people['group'], owner=people['manager'])
    row = CategoryPriorityFactory(impact=Impact.HIGH, urgency=Urgency.CRITICAL)
    analyst = Actor(user=people['analyst'])
    problem = services.problem_update(problem=problem, actor=analyst, category=row.category, vendor='Acme')
    assert (problem.priority, problem.vendor) == (1, 'Acme')
    with pytest.raises(NotAllowed):
        services.problem_update(problem=problem, actor=analyst, owner=make_user(Role.PROBLEM_MANAGER))
    with pytest.raises(NotAllowed):
        services.problem_update(problem=problem, actor=Actor(user=people['agent']), vendor='Other')
    with pytest.raises(ValidationError):
        services.problem_update(problem=problem, actor=analyst, state=S.CLOSED)
    entry = entries(problem, TimelineKind.FIELD_CHANGE).last()
    assert {'category', 'priority', 'vendor'} <= {c['field'] for c in entry.changes}


def test_a_closed_problem_is_not_edited():
    problem = make_problem(S.CLOSED)
    with pytest.raises(Conflict):
        services.problem_update(problem=problem, actor=SYSTEM, short_description='Another text')


# ------------------------------------------------------------------------------------ category priorities
def test_changing_a_category_row_reprioritises_its_open_problems_only():
    category = make_category('Messaging')
    open_problem = make_problem(S.ROOT_CAUSE_ANALYSIS, category=category)
    closed = make_problem(S.CLOSED, category=category)
    other = make_problem(category=make_category('Printing'))
    assert open_problem.priority == closed.priority == 3
    row = services.category_priority_create(actor=SYSTEM, category=category, impact=Impact.HIGH, urgency=Urgency.URGENT)
    assert Problem.objects.get(pk=open_problem.pk).priority == 2
    services.category_priority_update(row=row, actor=SYSTEM, urgency=Urgency.IMMEDIATE)
    assert Problem.objects.get(pk=open_problem.pk).priority == 1
    assert Problem.objects.get(pk=closed.pk).priority == 3
    assert Problem.objects.get(pk=other.pk).priority == 3
    entry = entries(open_problem, TimelineKind.FIELD_CHANGE).last()
    assert entry.message == 'The priority of Messaging changed'
    assert {c['field'] for c in entry.changes} == {'urgency', 'priority'}
    services.category_priority_delete(row=row, actor=SYSTEM)
    assert Problem.objects.get(pk=open_problem.pk).priority == 3


def test_category_rows_are_for_administrators_and_top_level_categories(people):
    category = make_category('Network')
    with pytest.raises(NotAllowed):
        services.category_priority_create(
            actor=Actor(user=people['manager']), category=category, impact=Impact.HIGH, urgency=Urgency.URGENT
        )
    with pytest.raises(ValidationError) as raised:
        services.category_priority_create(
            actor=SYSTEM, category=make_category('Wi-Fi', parent=category), impact=Impact.LOW, urgency=Urgency.NORMAL
        )
    assert 'category' in raised.value.message_dict
    services.category_priority_create(actor=SYSTEM, category=category, impact=Impact.HIGH, urgency=Urgency.URGENT)
    with pytest.raises(Conflict):
        services.category_priority_create(actor=SYSTEM, category=category, impact=Impact.LOW, urgency=Urgency.NORMAL)


# ------------------------------------------------------------------------------------------------- demo data
def test_demo_problems_load_once_in_several_states_with_their_history():
    from io import StringIO

    from django.core.management import call_command

    call_command('load_demo_data', stdout=StringIO())
    states = dict(Problem.objects.values_list('short_description', 'state'))
    call_command('load_demo_data', stdout=StringIO())
    assert dict(Problem.objects.values_list('short_description', 'state')) == states
    assert set(states.values()) == {S.NEW, S.ROOT_CAUSE_ANALYSIS, S.FIX_IN_PROGRESS, S.RESOLVED}
    vpn = Problem.objects.get(state=S.ROOT_CAUSE_ANALYSIS)
    assert vpn.awaiting_vendor_since is not None and vpn.owner.username == 'problem.manager'
    assert vpn.priority == 2  # Network: high impact, urgent
    assert [c.name for c in vpn.cis.all()] == ['vpn-gw-01']
    fixing = Problem.objects.get(state=S.FIX_IN_PROGRESS)
    assert fixing.root_cause and fixing.root_cause_found_at is not None
    actions = set(entries(fixing, TimelineKind.TRANSITION).values_list('data__action', flat=True))
    assert actions == {'assess', 'analyse', 'start_fix'}


# ------------------------------------------------------------------------------------------------ notifications
def test_problem_managers_hear_of_new_problems_and_the_owner_and_group_of_its_progress(
    django_capture_on_commit_callbacks,
):
    from django.core import mail

    group, analyst = make_group_with_agent(name='Messaging', tier=Tier.L2, role=Role.L2_ENGINEER)
    group.email = 'messaging@example.com'
    group.save()
    marta = make_user(Role.PROBLEM_MANAGER, username='marta', email='marta@example.com')
    make_user(Role.PROBLEM_MANAGER, username='inactive.pm', email='gone@example.com', is_active=False)
    agent = make_user(Role.SERVICE_DESK_AGENT, email='sam@example.com')
    with django_capture_on_commit_callbacks(execute=True):
        problem = services.problem_create(
            actor=Actor(user=agent), short_description='Mail <gateway> drops sessions', symptoms='Disconnects.'
        )
    with django_capture_on_commit_callbacks(execute=True):
        problem = services.problem_assess(problem=problem, actor=Actor(user=marta), owner=marta, assignment_group=group)
    with django_capture_on_commit_callbacks(execute=True):
        problem = services.problem_analyse(problem=problem, actor=Actor(user=analyst))
    with django_capture_on_commit_callbacks(execute=True):
        problem = services.problem_record_analysis(problem=problem, actor=Actor(user=analyst), root_cause='Firmware.')
    with django_capture_on_commit_callbacks(execute=True):
        problem = services.problem_resolve(problem=problem, actor=Actor(user=marta), resolution='Firmware 4.3.')
    sent = [(m.to, m.subject) for m in mail.outbox]
    assert sent == [
        (['marta@example.com'], f'[{problem.number}] New problem to assess: Mail <gateway> drops sessions'),
        (
            ['marta@example.com', 'messaging@example.com'],
            f'[{problem.number}] Problem assessed: Mail <gateway> drops sessions',
        ),
        (['messaging@example.com'], f'[{problem.number}] Problem resolved: Mail <gateway> drops sessions'),
    ]
    assert 'Disconnects.' in mail.outbox[0].body and 'Mail <gateway> drops sessions' in mail.outbox[0].body
    assert 'Root cause:\nFirmware.' in mail.outbox[2].body and 'Firmware 4.3.' in mail.outbox[2].body
    notes = entries(problem, TimelineKind.NOTIFICATION)
    assert notes.count() == 3
