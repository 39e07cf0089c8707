"""The workflow helper, exercised on a real model: a support group promoted from one tier to the next."""

import pytest
from django.core.exceptions import ValidationError

from itsm.audit import Actor
from itsm.choices import Channel, Role, Tier, TimelineKind
from itsm.errors import InvalidTransition
from itsm.models import TimelineEntry
from itsm.workflow import Transition, Workflow, lock
from tests.factories import SupportGroupFactory, make_user

TIERS = Workflow(
    field='tier',
    transitions=[
        Transition('promote', 'Promote', sources=(Tier.L1,), target=Tier.L2, requires=('manager',)),
        Transition('rename', 'Rename', sources=(Tier.L1, Tier.L2), target=Tier.L2),
        Transition('demote', 'Demote', sources=(Tier.L2,), target=Tier.L1),
    ],
)


@pytest.fixture
def group(db):
    return SupportGroupFactory(tier=Tier.L1)


def test_allowed_lists_actions_of_the_current_state(group):
    assert [t.name for t in TIERS.allowed(group)] == ['promote', 'rename']


def test_run_moves_state_applies_changes_and_records_one_entry(group):
    manager = make_user(Role.SERVICE_DESK_AGENT)
    actor = Actor(user=manager, channel=Channel.API)
    entry = TIERS.run(group, 'promote', actor=actor, changes={'manager': manager}, message='grown up')
    group.refresh_from_db()
    assert group.tier == Tier.L2
    assert entry.kind == TimelineKind.TRANSITION
    assert entry.data == {'action': 'promote', 'from': 'L1', 'to': 'L2'}
    assert entry.actor == manager and entry.channel == Channel.API
    assert [c['field'] for c in entry.changes] == ['manager']
    assert entry.changes[0]['after'] == str(manager)


def test_illegal_move_is_refused_and_changes_nothing(group):
    with pytest.raises(InvalidTransition) as excinfo:
        TIERS.run(group, 'demote', actor=Actor.system())
    assert excinfo.value.code == 'invalid_transition'
    assert excinfo.value.status_code == 409
    assert 'Demote' in excinfo.value.detail or 'demote' in excinfo.value.detail
    group.refresh_from_db()
    assert group.tier == Tier.L1
    assert not TimelineEntry.objects.for_object(group).filter(kind=TimelineKind.TRANSITION).exists()


def test_missing_required_field_names_the_field(group):
    with pytest.raises(ValidationError) as excinfo:
        TIERS.run(group, 'promote', actor=Actor.system())
    assert 'manager' in excinfo.value.message_dict
    group.refresh_from_db()
    assert group.tier == Tier.L1


def test_unknown_action_is_refused(group):
    with pytest.raises(InvalidTransition):
        TIERS.run(group, 'teleport', actor=Actor.system())


def test_lock_rereads_the_row(group):
    group.name = 'changed in memory only'
    assert lock(group).name != 'changed in memory only'
