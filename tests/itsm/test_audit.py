import pytest
from django.core.exceptions import PermissionDenied

from itsm import services
from itsm.audit import Actor, record, snapshot
from itsm.choices import Channel, Role, Tier, TimelineKind
from itsm.models import TimelineEntry
from tests.factories import SupportGroupFactory, make_user

pytestmark = pytest.mark.django_db


def test_create_and_update_record_field_level_before_and_after():
    admin = make_user(Role.ADMINISTRATOR)
    actor = Actor(user=admin, channel=Channel.UI)
    group = services.support_group_create(name='Network', actor=actor, tier=Tier.L2)
    created = TimelineEntry.objects.for_object(group).get(kind=TimelineKind.CREATED)
    assert created.actor == admin and created.channel == Channel.UI
    assert {'field': 'tier', 'label': 'tier', 'before': None, 'after': 'L2'} in created.changes

    member = make_user(Role.L2_ENGINEER, first_name='Ada', last_name='Lovelace')
    services.support_group_update(group=group, actor=actor, tier=Tier.L3, members=[member])
    entry = TimelineEntry.objects.for_object(group).get(kind=TimelineKind.FIELD_CHANGE)
    by_field = {c['field']: c for c in entry.changes}
    assert by_field['tier']['before'] == 'L2' and by_field['tier']['after'] == 'L3'
    assert by_field['members']['before'] == [] and by_field['members']['after'] == ['Ada Lovelace']
    assert set(by_field) == {'tier', 'members'}


def test_an_update_that_changes_nothing_writes_nothing():
    group = SupportGroupFactory()
    services.support_group_update(group=group, actor=Actor.system(), name=group.name)
    assert not TimelineEntry.objects.for_object(group).filter(kind=TimelineKind.FIELD_CHANGE).exists()


def test_system_actor_is_recorded_as_system_channel():
    group = SupportGroupFactory()
    entry = record(group, actor=Actor.system(), kind=TimelineKind.WORK_NOTE, message='nightly check')
    assert entry.actor is None and entry.channel == Channel.SYSTEM


def test_timeline_is_append_only():
    group = SupportGroupFactory()
    entry = TimelineEntry.objects.for_object(group).first()
    original = entry.message
    entry.message = 'rewritten'
    with pytest.raises(PermissionDenied):
        entry.save()
    with pytest.raises(PermissionDenied):
        entry.delete()
    with pytest.raises(PermissionDenied):
        TimelineEntry.objects.all().delete()
    with pytest.raises(PermissionDenied):
        TimelineEntry.objects.all().update(message='x')
    assert TimelineEntry.objects.get(pk=entry.pk).message == original


def test_snapshot_never_contains_secrets_or_bookkeeping():
    user = make_user(Role.REQUESTER)
    values = snapshot(user)
    assert 'password' not in values and 'last_login' not in values and 'updated_at' not in values
