"""Test data of on-call, made through the services."""

from __future__ import annotations

import datetime as dt

from itsm.audit import Actor
from itsm.choices import Role, Tier
from oncall import services
from oncall.models import EscalationPolicy, OnCallOverride, OnCallSchedule, RotationLayer
from tests.factories import SupportGroupFactory, make_user

SYSTEM = Actor.system()


def make_group(*, members: int = 2, manager=None, **fields):
    people = [make_user(Role.L2_ENGINEER) for _ in range(members)]
    manager = manager or make_user(Role.MANAGER)
    fields.setdefault('tier', Tier.L2)
    group = SupportGroupFactory(members=people, manager=manager, **fields)
    return group, people


def make_schedule(*, group=None, name: str | None = None, **fields) -> OnCallSchedule:
    group = group or make_group()[0]
    name = name or f'Schedule {OnCallSchedule.objects.count() + 1}'
    return services.schedule_create(actor=SYSTEM, group=group, name=name, **fields)


def make_layer(*, schedule=None, members=None, **fields) -> RotationLayer:
    schedule = schedule or make_schedule()
    if members is None:
        members = list(schedule.group.members.order_by('pk'))
    fields.setdefault('name', f'Layer {RotationLayer.objects.count() + 1}')
    fields.setdefault('position', (max([layer.position for layer in schedule.layers.all()] or [0])) + 1)
    fields.setdefault('rotation_start', dt.date(2026, 1, 5))
    return services.layer_create(
        actor=SYSTEM, schedule=schedule, members=[getattr(m, 'pk', m) for m in members], **fields
    )


def make_override(*, schedule=None, person=None, start=None, end=None, **fields) -> OnCallOverride:
    schedule = schedule or make_schedule()
    person = person or make_user(Role.L2_ENGINEER)
    start = start or dt.datetime(2026, 12, 24, 18, tzinfo=dt.UTC)
    end = end or start + dt.timedelta(hours=12)
    return services.override_create(actor=SYSTEM, schedule=schedule, person=person, start=start, end=end, **fields)


def make_policy(*, group=None, levels=None, **fields) -> EscalationPolicy:
    group = group or make_group()[0]
    fields.setdefault('name', f'Policy of {group}')
    levels = levels or [{'notify': 'schedule', 'minutes': 10}, {'notify': 'manager'}]
    return services.policy_create(actor=SYSTEM, group=group, levels=levels, **fields)


def make_oncall_group(*, levels=None, members: int = 2):
    """A group with a 24x7 weekly schedule of its members and a policy (`levels`, or on call 10 min → manager)."""
    group, people = make_group(members=members)
    schedule = make_schedule(group=group, name='Primary')
    make_layer(schedule=schedule, members=people, name='Weekly', handoff='weekly')
    policy = make_policy(group=group, levels=levels)
    return group, people, schedule, policy
