"""Cadence reminders on PostgreSQL: overlapping beats on real parallel connections send one reminder and one
message per missed update."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from inbox.models import Notification
from itsm.audit import Actor
from itsm.choices import Role
from major_incidents import cadence
from major_incidents.choices import MajorIncidentState
from major_incidents.models import CadenceReminder, MajorIncident
from major_incidents.services import major_set_team
from tests.concurrency import run_in_parallel
from tests.factories import make_user
from tests.major_incidents.factories import MajorIncidentFactory, make_incident_manager

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
BEATS = 4


def overdue_majors(count: int) -> list[tuple[MajorIncident, object]]:
    found = []
    for _ in range(count):
        manager, comms = make_incident_manager(), make_user(Role.SERVICE_DESK_AGENT)
        major = MajorIncidentFactory(state=MajorIncidentState.ASSESSMENT, incident_manager=manager)
        major_set_team(major=major, actor=Actor(user=manager), communications_lead=comms)
        MajorIncident.objects.filter(pk=major.pk).update(next_update_due=timezone.now() - dt.timedelta(minutes=2))
        found.append((MajorIncident.objects.get(pk=major.pk), comms))
    return found


def reminders(comms) -> list:
    return [m for m in mail.outbox if comms.email in m.to and 'overdue' in m.subject]


def test_overlapping_beats_remind_once_per_missed_update():
    majors = overdue_majors(3)
    mail.outbox = []

    results = run_in_parallel([cadence.send_overdue_reminders] * BEATS)
    assert [r[0] for r in results] == ['ok'] * BEATS, results
    assert sum(r[1] for r in results) == len(majors), 'each missed update claimed by exactly one beat'
    for major, comms in majors:
        assert CadenceReminder.objects.filter(major_incident=major).count() == 1
        assert len(reminders(comms)) == 1
        assert Notification.objects.filter(recipient=comms, object_id=major.pk, event='update_overdue').count() == 1

    # The next update is missed too: its own reminder, once, however many beats overlap again.
    major, comms = majors[0]
    next_due = timezone.now() - dt.timedelta(minutes=1)
    MajorIncident.objects.filter(pk=major.pk).update(next_update_due=next_due)
    mail.outbox = []
    results = run_in_parallel([cadence.send_overdue_reminders] * BEATS)
    assert [r[0] for r in results] == ['ok'] * BEATS, results
    assert sum(r[1] for r in results) == 1
    assert list(CadenceReminder.objects.filter(major_incident=major).values_list('due_at', flat=True))[0] == next_due
    assert CadenceReminder.objects.filter(major_incident=major).count() == 2
    assert len(reminders(comms)) == 1
