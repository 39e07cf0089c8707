"""Exactly once on real parallel PostgreSQL connections: overlapping escalation sweeps page each next level once,
and an acknowledgement racing the sweeps either stops the escalation or comes after it, never both."""

import datetime as dt

import pytest

from itsm.audit import Actor
from itsm.models import TimelineEntry
from oncall import services
from oncall.choices import PageState
from oncall.models import Page
from tests.concurrency import run_in_parallel
from tests.factories import make_ticket

from .factories import make_oncall_group

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def open_p1s(count: int):
    group, people, _, _ = make_oncall_group()
    for _ in range(count):
        make_ticket(state='assigned', group=group, agent=people[0], impact='severe', urgency='critical')
    return group


def test_overlapping_sweeps_escalate_each_page_once():
    open_p1s(4)
    assert Page.objects.filter(level=1).count() == 4
    now = max(Page.objects.values_list('escalate_at', flat=True)) + dt.timedelta(seconds=1)
    results = run_in_parallel([lambda: services.escalate_due(now=now) for _ in range(6)])
    assert [r for r in results if r[0] == 'error'] == []
    assert sum(r[1] for r in results) == 4
    assert Page.objects.filter(level=2).count() == 4
    assert set(Page.objects.filter(level=1).values_list('state', flat=True)) == {PageState.ESCALATED}
    timeline = TimelineEntry.objects.filter(data__event='oncall.escalated')
    assert timeline.count() == 4


def test_an_acknowledgement_racing_the_sweeps_wins_or_loses_cleanly():
    open_p1s(1)
    page = Page.objects.get()
    now = page.escalate_at + dt.timedelta(seconds=1)
    ack = lambda: services.page_acknowledge(page=page, actor=Actor(user=page.recipient), via='api', now=now)  # noqa: E731
    results = run_in_parallel([ack, *[lambda: services.escalate_due(now=now) for _ in range(4)]])
    assert [r for r in results if r[0] == 'error'] == []
    assert Page.objects.filter(state=PageState.ACKNOWLEDGED).count() == 1
    assert Page.objects.filter(state=PageState.OPEN).count() == 0  # an escalated page was stopped by the ack
    assert Page.objects.count() <= 2
    assert services.escalate_due(now=now + dt.timedelta(days=1)) == 0
