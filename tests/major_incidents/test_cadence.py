"""The update cadence: defaults by priority, the interval rules, and the reminder to the communications lead sent
exactly once per missed update, however many beats overlap."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from inbox.models import Notification
from itsm.audit import Actor
from itsm.celery import app
from itsm.choices import Role, TimelineKind
from itsm.models import TimelineEntry
from major_incidents import cadence, services, tasks
from major_incidents.choices import MajorIncidentState, UpdateAudience
from major_incidents.models import CadenceReminder, MajorIncident
from tests.factories import make_user
from tests.major_incidents.factories import MajorIncidentFactory, make_incident_manager

pytestmark = pytest.mark.django_db
S = MajorIncidentState


@pytest.fixture
def team():
    return make_incident_manager(), make_user(Role.SERVICE_DESK_AGENT)


def overdue_major(team, state=S.ASSESSMENT, minutes=5, **fields):
    manager, comms = team
    major = MajorIncidentFactory(state=state, incident_manager=manager, **fields)
    if comms is not None:
        major = services.major_set_team(major=major, actor=Actor(user=manager), communications_lead=comms)
    due = timezone.now() - dt.timedelta(minutes=minutes)
    MajorIncident.objects.filter(pk=major.pk).update(next_update_due=due)
    return MajorIncident.objects.get(pk=major.pk)


def reminders_to(person):
    return [m for m in mail.outbox if person.email in m.to and 'overdue' in m.subject]


def test_default_intervals_follow_the_priority(settings):
    settings.MAJOR_UPDATE_CADENCE_MINUTES = {0: 30, 1: 60, 2: 120}
    assert [cadence.default_interval(p) for p in (0, 1, 2, 3, 4)] == [30, 60, 120, 120, 120]


def test_an_overdue_update_reminds_the_communications_lead_once(team, django_capture_on_commit_callbacks):
    major = overdue_major(team)
    comms = team[1]
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        assert cadence.send_overdue_reminders() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert cadence.send_overdue_reminders() == 0  # an overlapping or later beat: nothing more
    reminder = CadenceReminder.objects.get(major_incident=major)
    assert (reminder.due_at, reminder.sent_to) == (major.next_update_due, comms)
    sent = reminders_to(comms)
    assert len(sent) == 1 and major.number in sent[0].subject
    assert '5 min overdue' in sent[0].body
    assert Notification.objects.filter(recipient=comms, object_id=major.pk, event='update_overdue').count() == 1
    note = TimelineEntry.objects.for_object(major).filter(kind=TimelineKind.WORK_NOTE, data__has_key='cadence_reminder')
    assert note.count() == 1 and str(comms) in note.get().message


def test_without_a_communications_lead_the_incident_manager_is_reminded(team, django_capture_on_commit_callbacks):
    manager = team[0]
    major = overdue_major((manager, None))
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        assert cadence.send_overdue_reminders() == 1
    assert CadenceReminder.objects.get(major_incident=major).sent_to == manager
    assert len(reminders_to(manager)) == 1


def test_each_missed_update_gets_its_own_reminder(team, django_capture_on_commit_callbacks):
    manager, comms = team
    major = overdue_major(team)
    with django_capture_on_commit_callbacks(execute=True):
        cadence.send_overdue_reminders()
    # A late update moves the cadence on; when the next one is missed too, that one is reminded of as well.
    services.major_post_update(major=major, actor=Actor(user=comms), audience=UpdateAudience.RECIPIENTS, body='News')
    major.refresh_from_db()
    assert major.next_update_due > timezone.now()
    assert cadence.send_overdue_reminders() == 0
    later = major.next_update_due + dt.timedelta(minutes=1)
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        assert cadence.send_overdue_reminders(now=later) == 1
        assert cadence.send_overdue_reminders(now=later + dt.timedelta(minutes=1)) == 0
    assert CadenceReminder.objects.filter(major_incident=major).count() == 2
    assert len(reminders_to(comms)) == 1


def test_no_reminders_once_the_service_is_restored_or_before_the_update_is_due(team):
    overdue_major(team, state=S.REVIEW)
    MajorIncidentFactory(state=S.ASSESSMENT, incident_manager=team[0])  # its first update is not due yet
    cancelled = overdue_major(team)
    services.major_cancel(major=cancelled, actor=Actor(user=team[0]), reason='Not a major incident.')
    assert cadence.send_overdue_reminders() == 0
    assert not CadenceReminder.objects.exists()


def test_the_task_and_its_beat_entry(team, settings):
    overdue_major(team)
    assert tasks.major_update_reminders_task.delay().get() == 1
    assert tasks.major_update_reminders_task() == 0
    entry = app.conf.beat_schedule['major-update-reminders']
    assert entry['task'] == 'major_incidents.tasks.major_update_reminders_task'
    assert entry['schedule'] == 60.0


def test_interval_refusals_explain_themselves(team, settings):
    major = MajorIncidentFactory(state=S.ASSESSMENT, incident_manager=team[0], priority=0)
    assert cadence.interval_refusal(major, 30) == ''
    assert 'at least' in cadence.interval_refusal(major, 4)
    assert '8 hours' in cadence.interval_refusal(major, 31)
    assert 'once a day' in cadence.interval_refusal(major, settings.MAJOR_MAX_UPDATE_INTERVAL_MINUTES + 1)
    later = major.outage_started_at + dt.timedelta(hours=settings.MAJOR_LONG_OUTAGE_HOURS)
    assert cadence.interval_refusal(major, 240, now=later) == ''
