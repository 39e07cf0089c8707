"""Demo on-call for Server and Storage: a 24x7 weekly rotation with a business-hours layer over it, an override
next weekend, an escalation policy (on call → Kenji Sato → the group manager), and two P1 incidents that paged the
person on call: one acknowledged, one still waiting.

Idempotent: nothing is added while the demo schedule exists. Needs the core demo people and groups.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from itsm.audit import Actor
from itsm.choices import Channel, Impact, Urgency
from itsm.models import SupportGroup, User

from . import services
from .models import OnCallSchedule, Page

GROUP = 'Server and Storage'
SCHEDULE = 'Server and Storage on call'


def load(log=print) -> None:
    if OnCallSchedule.objects.filter(name=SCHEDULE).exists():
        return
    group = SupportGroup.objects.filter(name=GROUP).first()
    people = {u.username: u for u in User.objects.filter(username__in=['admin', 'agent', 'l2', 'l2net', 'l3'])}
    manager = User.objects.filter(username='problem.manager').first()
    if group is None or len(people) < 5 or manager is None:
        log('oncall: the core demo people and groups are missing, nothing loaded')
        return
    actor = Actor(user=people['admin'], channel=Channel.UI)
    today = timezone.localdate()
    monday = today - dt.timedelta(days=today.weekday())
    with transaction.atomic():
        schedule = services.schedule_create(actor=actor, group=group, name=SCHEDULE)
        services.layer_create(
            actor=actor,
            schedule=schedule,
            name='Around the clock',
            position=1,
            members=[people['l2'].pk, people['l2net'].pk, people['l3'].pk],
            handoff='weekly',
            handoff_time=dt.time(9),
            handoff_weekday=0,
            rotation_start=monday - dt.timedelta(days=14),
        )
        services.layer_create(
            actor=actor,
            schedule=schedule,
            name='Business hours',
            position=2,
            members=[people['l2'].pk, manager.pk],
            handoff='daily',
            handoff_time=dt.time(9),
            rotation_start=monday,
            restrict_days=[0, 1, 2, 3, 4],
            restrict_from=dt.time(9),
            restrict_to=dt.time(17),
        )
        saturday = monday + dt.timedelta(days=5)
        start = dt.datetime.combine(saturday, dt.time(18), tzinfo=services.zone_of(schedule))
        services.override_create(
            actor=actor,
            schedule=schedule,
            person=people['l3'],
            start=start,
            end=start + dt.timedelta(hours=12),
            note='Covers Saturday night for Omar',
        )
        services.policy_create(
            actor=actor,
            group=group,
            name='Server and Storage escalation',
            levels=[
                {'notify': 'schedule', 'minutes': 15},
                {'notify': 'person', 'person': people['l3'].pk, 'minutes': 15},
                {'notify': 'manager'},
            ],
        )
    from incidents import services as tickets

    desk = Actor(user=people['agent'], channel=Channel.UI)
    for title in ('Storage array in rack B reports a degraded volume', 'Nightly backups failing on srv-backup-01'):
        with transaction.atomic():
            tickets.ticket_create(
                actor=desk,
                caller=people['agent'],
                short_description=title,
                impact=Impact.SEVERE,
                urgency=Urgency.CRITICAL,
                assignment_group=group,
            )
    first = Page.objects.filter(record_title__startswith='Storage array').first()
    if first is not None:
        services.page_acknowledge(page=first, actor=Actor(user=first.recipient, channel=Channel.UI), via='ui')
    log(f'oncall: schedule "{SCHEDULE}" with two layers, an override, a policy and {Page.objects.count()} pages')
