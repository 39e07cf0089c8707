"""The incident lifecycle of domain §4: every action from every state, allowed or refused."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from incidents import services
from incidents.choices import PendingReason, ResolutionCode, TicketState
from incidents.models import Ticket
from itsm.audit import Actor
from itsm.choices import Role, Tier, TimelineKind
from itsm.errors import InvalidTransition, NotAllowed
from itsm.models import TimelineEntry
from tests.factories import SupportGroupFactory, make_group_with_agent, make_ticket, make_user

pytestmark = pytest.mark.django_db

S = TicketState
ALLOWED = {
    'assign': {S.NEW: S.ASSIGNED, S.ASSIGNED: S.ASSIGNED},
    'accept': {S.ASSIGNED: S.ACCEPTED},
    'pend': {S.ACCEPTED: S.PENDING},
    'resume': {S.PENDING: S.ACCEPTED},
    'escalate': {S.ASSIGNED: S.ASSIGNED, S.ACCEPTED: S.ASSIGNED},
    'complete': {S.ACCEPTED: S.COMPLETED},
    'confirm': {S.COMPLETED: S.CLOSED},
    'reject': {S.COMPLETED: S.ACCEPTED},
}
CASES = [(action, state) for action in ALLOWED for state in S.values]


def perform(action: str, ticket: Ticket, agent, other_group):
    actor = Actor(user=agent, channel='ui')
    if action == 'assign':
        return services.ticket_assign(ticket=ticket, actor=actor, group=other_group)
    if action == 'accept':
        return services.ticket_accept(ticket=ticket, actor=actor)
    if action == 'pend':
        return services.ticket_pend(ticket=ticket, actor=actor, reason=PendingReason.VENDOR)
    if action == 'resume':
        return services.ticket_resume(ticket=ticket, actor=actor)
    if action == 'escalate':
        return services.ticket_escalate(ticket=ticket, actor=actor, group=other_group, reason='needs L2')
    if action == 'complete':
        return services.ticket_complete(
            ticket=ticket, actor=actor, resolution_code=ResolutionCode.SOLVED_WORKAROUND, resolution_notes='Restarted.'
        )
    if action == 'confirm':
        return services.ticket_confirm(ticket=ticket, actor=Actor(user=ticket.caller))
    return services.ticket_reject(ticket=ticket, actor=Actor(user=ticket.caller), reason='Still broken')


@pytest.mark.parametrize(('action', 'state'), CASES, ids=[f'{a}-from-{s}' for a, s in CASES])
def test_action_from_state(action, state):
    group, agent = make_group_with_agent()
    other_group = SupportGroupFactory(name='Other group', members=[agent])
    ticket = make_ticket(state=state, group=group, agent=agent)
    before = TimelineEntry.objects.for_object(ticket).filter(kind=TimelineKind.TRANSITION).count()
    if state in ALLOWED[action]:
        result = perform(action, ticket, agent, other_group)
        result.refresh_from_db()
        assert result.state == ALLOWED[action][state]
        last = TimelineEntry.objects.for_object(ticket).filter(kind=TimelineKind.TRANSITION).last()
        assert last.data['action'] == action and last.data['from'] == state
    else:
        with pytest.raises(InvalidTransition) as excinfo:
            perform(action, ticket, agent, other_group)
        assert excinfo.value.code == 'invalid_transition'
        ticket.refresh_from_db()
        assert ticket.state == state
        assert TimelineEntry.objects.for_object(ticket).filter(kind=TimelineKind.TRANSITION).count() == before


def test_milestones_are_stamped_in_order():
    ticket = make_ticket(state=S.CLOSED)
    assert ticket.opened_at <= ticket.assigned_at <= ticket.accepted_at <= ticket.completed_at <= ticket.closed_at


def test_reassignment_to_another_group_counts():
    group, agent = make_group_with_agent()
    ticket = make_ticket(state=S.ASSIGNED, group=group, agent=agent)
    second = SupportGroupFactory(name='Network Ops')
    services.ticket_assign(ticket=ticket, actor=Actor(user=agent), group=second)
    ticket.refresh_from_db()
    assert (ticket.assignment_group, ticket.reassignment_count) == (second, 1)


def test_first_assignment_is_not_a_reassignment():
    ticket = make_ticket(state=S.ASSIGNED)
    assert ticket.reassignment_count == 0


def test_escalation_goes_to_the_next_tier_and_counts():
    l2, engineer = make_group_with_agent(name='L2 team', tier=Tier.L2, role=Role.L2_ENGINEER)
    l1 = SupportGroupFactory(name='Desk', tier=Tier.L1, escalation_group=l2)
    agent = make_user(Role.SERVICE_DESK_AGENT)
    l1.members.add(agent)
    ticket = make_ticket(state=S.ACCEPTED, group=l1, agent=agent)
    services.ticket_escalate(ticket=ticket, actor=Actor(user=agent), reason='Needs server access')
    ticket.refresh_from_db()
    assert (ticket.state, ticket.assignment_group, ticket.assignee, ticket.reassignment_count) == (
        S.ASSIGNED,
        l2,
        None,
        1,
    )
    entry = TimelineEntry.objects.for_object(ticket).filter(kind=TimelineKind.TRANSITION).last()
    assert entry.message == 'Needs server access' and entry.data['action'] == 'escalate'


def test_escalation_needs_a_reason_and_a_target():
    group, agent = make_group_with_agent()
    ticket = make_ticket(state=S.ACCEPTED, group=group, agent=agent)
    with pytest.raises(ValidationError) as excinfo:
        services.ticket_escalate(ticket=ticket, actor=Actor(user=agent), reason='')
    assert 'reason' in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        services.ticket_escalate(ticket=ticket, actor=Actor(user=agent), reason='help')
    assert 'group' in excinfo.value.message_dict


def test_only_a_member_of_the_assigned_group_accepts():
    ticket = make_ticket(state=S.ASSIGNED)
    outsider = make_user(Role.SERVICE_DESK_AGENT)
    with pytest.raises(NotAllowed):
        services.ticket_accept(ticket=ticket, actor=Actor(user=outsider))
    ticket.refresh_from_db()
    assert ticket.state == S.ASSIGNED


def test_pending_needs_a_reason_naming_the_field():
    group, agent = make_group_with_agent()
    ticket = make_ticket(state=S.ACCEPTED, group=group, agent=agent)
    with pytest.raises(ValidationError) as excinfo:
        services.ticket_pend(ticket=ticket, actor=Actor(user=agent), reason='')
    assert 'pending_reason' in excinfo.value.message_dict


def test_complete_needs_code_and_notes():
    group, agent = make_group_with_agent()
    ticket = make_ticket(state=S.ACCEPTED, group=group, agent=agent)
    with pytest.raises(ValidationError) as excinfo:
        services.ticket_complete(ticket=ticket, actor=Actor(user=agent), resolution_code='', resolution_notes='')
    assert {'resolution_code', 'resolution_notes'} <= set(excinfo.value.message_dict)
    ticket.refresh_from_db()
    assert ticket.state == S.ACCEPTED


def test_reject_counts_a_reopen_and_needs_a_reason():
    ticket = make_ticket(state=S.COMPLETED)
    with pytest.raises(ValidationError):
        services.ticket_reject(ticket=ticket, actor=Actor(user=ticket.caller), reason=' ')
    services.ticket_reject(ticket=ticket, actor=Actor(user=ticket.caller), reason='Printer jams again')
    ticket.refresh_from_db()
    assert (ticket.state, ticket.reopen_count, ticket.completed_at) == (S.ACCEPTED, 1, None)


def test_a_stranger_cannot_confirm():
    ticket = make_ticket(state=S.COMPLETED)
    with pytest.raises(NotAllowed):
        services.ticket_confirm(ticket=ticket, actor=Actor(user=make_user(Role.REQUESTER)))


def test_auto_close_after_n_days_is_idempotent(settings):
    settings.INCIDENT_AUTO_CLOSE_DAYS = 5
    old = make_ticket(state=S.COMPLETED)
    recent = make_ticket(state=S.COMPLETED)
    Ticket.objects.filter(pk=old.pk).update(completed_at=timezone.now() - dt.timedelta(days=6))
    assert services.ticket_close_stale() == 1
    assert services.ticket_close_stale() == 0
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.state, recent.state) == (S.CLOSED, S.COMPLETED)
    entries = TimelineEntry.objects.for_object(old).filter(kind=TimelineKind.TRANSITION, data__action='auto_close')
    assert entries.count() == 1 and entries.get().channel == 'system'


def test_auto_close_task_runs_the_service(settings):
    from incidents.tasks import incident_auto_close_task

    old = make_ticket(state=S.COMPLETED)
    Ticket.objects.filter(pk=old.pk).update(completed_at=timezone.now() - dt.timedelta(days=30))
    assert incident_auto_close_task.delay().get() == 1


def test_closed_ticket_cannot_be_edited():
    agent = make_user(Role.SERVICE_DESK_AGENT)
    ticket = make_ticket(state=S.CLOSED)
    with pytest.raises(Exception) as excinfo:
        services.ticket_update(ticket=ticket, actor=Actor(user=agent), short_description='new text')
    assert getattr(excinfo.value, 'code', '') == 'closed'


def test_conversion_keeps_history_and_old_number_finds_it():
    agent = make_user(Role.SERVICE_DESK_AGENT)
    case = make_ticket(kind='case')
    assert case.number.startswith('CS')
    history = TimelineEntry.objects.for_object(case).count()
    incident = services.ticket_convert(ticket=case, actor=Actor(user=agent), to_kind='incident')
    assert incident.number.startswith('INC') and incident.alternate_number == case.number
    assert Ticket.objects.by_number(case.number).get().pk == case.pk
    assert TimelineEntry.objects.for_object(incident).count() == history + 1
    back = services.ticket_convert(ticket=incident, actor=Actor(user=agent), to_kind='case')
    assert back.number == case.number and back.alternate_number == incident.number


def test_parent_link_refuses_cycles():
    agent = make_user(Role.SERVICE_DESK_AGENT)
    master, child = make_ticket(), make_ticket()
    services.ticket_link_parent(ticket=child, actor=Actor(user=agent), parent=master)
    with pytest.raises(ValidationError):
        services.ticket_link_parent(ticket=master, actor=Actor(user=agent), parent=child)
    with pytest.raises(ValidationError):
        services.ticket_link_parent(ticket=master, actor=Actor(user=agent), parent=master)


def test_only_an_open_incident_can_be_a_parent():
    agent = make_user(Role.SERVICE_DESK_AGENT)
    child, case, closed = make_ticket(), make_ticket(kind='case'), make_ticket(state='closed')
    for parent, why in ((case, 'is a case'), (closed, 'is closed')):
        with pytest.raises(ValidationError) as refused:
            services.ticket_link_parent(ticket=child, actor=Actor(user=agent), parent=parent)
        assert why in str(refused.value.message_dict['parent'])
        with pytest.raises(ValidationError):
            make_ticket(parent=parent)
    child.refresh_from_db()
    assert child.parent_id is None
    master = make_ticket()
    services.ticket_link_parent(ticket=child, actor=Actor(user=agent), parent=master)
    services.ticket_update(ticket=child, actor=Actor(user=agent), short_description='still editable')  # any parent


def test_requester_cannot_write_work_notes_but_can_comment():
    ticket = make_ticket()
    with pytest.raises(NotAllowed):
        services.ticket_comment(ticket=ticket, actor=Actor(user=ticket.caller), body='secret', internal=True)
    entry = services.ticket_comment(ticket=ticket, actor=Actor(user=ticket.caller), body='any news?')
    assert entry.public and entry.kind == TimelineKind.COMMENT


def test_backdated_opened_at_only_for_integrations():
    requester = make_user(Role.REQUESTER)
    past = timezone.now() - dt.timedelta(days=3)
    with pytest.raises(NotAllowed):
        services.ticket_create(actor=Actor(user=requester), caller=requester, short_description='x', opened_at=past)
    bot = make_user(Role.INTEGRATION)
    ticket = services.ticket_create(actor=Actor(user=bot), caller=requester, short_description='x', opened_at=past)
    assert ticket.opened_at == past


def test_demo_data_has_every_state_and_is_idempotent():
    call_command('load_demo_data')
    counts = Ticket.objects.count(), TimelineEntry.objects.count()
    call_command('load_demo_data')
    assert (Ticket.objects.count(), TimelineEntry.objects.count()) == counts
    assert set(Ticket.objects.values_list('state', flat=True)) == set(S.values)
    assert set(Ticket.objects.values_list('kind', flat=True)) == {'incident', 'case'}
