"""Who hears what about a major incident: the recipient list at declaration, updates, hand-off and restoration, the
cadence owner's reminder, and the update listeners the status page follows updates through."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from itsm import hooks, notify
from itsm.audit import Actor
from itsm.choices import Role
from major_incidents import cadence, notifications, services
from major_incidents.choices import MajorIncidentState, UpdateAudience, UpdateStatus
from major_incidents.models import MajorIncident, MajorIncidentUpdate
from tests.factories import make_user
from tests.major_incidents.factories import MajorIncidentFactory, make_incident_manager, make_public_service

pytestmark = pytest.mark.django_db
S = MajorIncidentState


@pytest.fixture
def manager():
    return make_incident_manager()


@pytest.fixture
def major(manager):
    service = make_public_service('Learning platform', announce_list='teachers@example.com')
    return MajorIncidentFactory(
        state=S.ASSESSMENT, services=[service], incident_manager=manager, short_description='Moodle down'
    )


def sent(words: str) -> list:
    return [m for m in mail.outbox if words in m.subject]


def test_register_wires_the_audience_and_the_hooks():
    notifications.register()  # idempotent: ready() already ran it
    assert hooks.subscribers(hooks.CREATED, MajorIncident()).count(notifications.on_created) == 1
    assert hooks.subscribers(hooks.TRANSITIONED, MajorIncident()).count(notifications.on_transitioned) == 1
    assert notifications.RECIPIENTS in notify._audiences


def test_the_declaration_text(manager, django_capture_on_commit_callbacks):
    service = make_public_service('Learning platform', announce_list='teachers@example.com')
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        major = services.major_declare(
            actor=Actor(user=manager),
            short_description='Moodle <down> & out',
            description='Nobody can open a course.',
            services=[service],
        )
    [message] = sent('Major incident declared')
    assert 'teachers@example.com' in message.to
    assert f'{major.number} is declared a major incident' in message.body
    assert 'Moodle <down> & out' in message.body  # plain text: nothing escaped
    assert 'Services: Learning platform' in message.body
    assert f'Incident manager: {manager}' in message.body
    assert 'Nobody can open a course.' in message.body


def test_the_update_text(major, manager, django_capture_on_commit_callbacks):
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        services.major_post_update(
            major=major,
            actor=Actor(user=manager),
            audience=UpdateAudience.RECIPIENTS,
            status=UpdateStatus.IDENTIFIED,
            subject='Database failover',
            body='The database failed over; courses load again for most users.',
        )
    [message] = sent('Database failover')
    assert f'Update on {major.number} – Identified: Database failover' in message.body
    assert 'courses load again for most users' in message.body
    assert 'Next update by' in message.body


def test_internal_and_public_updates_send_no_email_to_the_list(major, manager, django_capture_on_commit_callbacks):
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        internal = services.major_post_update(
            major=major, actor=Actor(user=manager), audience=UpdateAudience.INTERNAL, body='Bridge call at 10.'
        )
        public = services.major_post_update(
            major=major,
            actor=Actor(user=manager),
            audience=UpdateAudience.PUBLIC,
            status=UpdateStatus.INVESTIGATING,
            body='We are looking into it.',
        )
    assert mail.outbox == []
    assert (internal.recipient_count, public.recipient_count) == (0, 0)


def test_the_hand_off_and_restored_texts(major, manager, django_capture_on_commit_callbacks):
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        services.major_hand_off(
            major=major, actor=Actor(user=manager), handoff_owner='LMS vendor', note='Their engineers are on it.'
        )
    [handed] = sent('handed off')
    assert 'LMS vendor now owns the fix' in handed.body
    assert 'Expected fix: not yet known' in handed.body
    assert 'Their engineers are on it.' in handed.body
    major = services.major_contain(major=MajorIncident.objects.get(pk=major.pk), actor=Actor(user=manager))
    with django_capture_on_commit_callbacks(execute=True):
        services.major_resolve(major=major, actor=Actor(user=manager), resolution='The vendor patched the plugin.')
    [restored] = sent('Service restored')
    assert 'The vendor patched the plugin.' in restored.body
    assert set(restored.to) == set(major.recipients.values_list('email', flat=True))


def test_the_reminder_text_names_the_missed_update(major, manager, django_capture_on_commit_callbacks):
    comms = make_user(Role.SERVICE_DESK_AGENT)
    services.major_set_team(major=major, actor=Actor(user=manager), communications_lead=comms)
    due = timezone.now() - dt.timedelta(minutes=12)
    MajorIncident.objects.filter(pk=major.pk).update(next_update_due=due)
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        cadence.send_overdue_reminders()
    [reminder] = sent('overdue')
    assert reminder.to == [comms.email]
    assert '(12 min overdue)' in reminder.body
    assert 'Post one now' in reminder.body


def test_update_listeners_run_inside_the_posting_transaction(major, manager, django_capture_on_commit_callbacks):
    seen, after_commit = [], []

    def listener(update):
        seen.append(MajorIncidentUpdate.objects.filter(pk=update.pk).exists())
        transaction.on_commit(lambda: after_commit.append(update.pk))

    notifications.register_update_listener(listener)
    notifications.register_update_listener(listener)
    try:
        assert notifications.update_listeners().count(listener) == 1
        with django_capture_on_commit_callbacks(execute=True):
            update = services.major_post_update(
                major=major, actor=Actor(user=manager), audience=UpdateAudience.INTERNAL, body='Noted.'
            )
        assert seen == [True] and after_commit == [update.pk]
    finally:
        notifications.unregister_update_listener(listener)
    assert listener not in notifications.update_listeners()


def test_a_failing_listener_rolls_the_update_back(major, manager):
    def broken(update):
        raise RuntimeError('the status page is unreachable')

    notifications.register_update_listener(broken)
    try:
        with pytest.raises(RuntimeError):
            services.major_post_update(
                major=major, actor=Actor(user=manager), audience=UpdateAudience.INTERNAL, body='Noted.'
            )
    finally:
        notifications.unregister_update_listener(broken)
    assert not MajorIncidentUpdate.objects.filter(major_incident=major).exists()
