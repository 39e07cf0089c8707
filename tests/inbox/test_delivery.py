"""Every message of the notification kit lands in the inbox of the people it reaches; mentions; e-mail preferences."""

import pytest
from django.core import mail

from inbox import services as inbox_services
from inbox.choices import Topic
from inbox.models import EmailPreference, Notification
from incidents import services
from incidents.choices import PendingReason
from itsm import notify
from itsm.audit import Actor
from itsm.choices import Role, TimelineKind
from itsm.models import TimelineEntry
from tests.factories import SupportGroupFactory, make_ticket, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(db):
    agent = make_user(Role.SERVICE_DESK_AGENT, username='sam', email='sam@example.com')
    colleague = make_user(Role.SERVICE_DESK_AGENT, username='kim', email='kim@example.com')
    outsider = make_user(Role.L2_ENGINEER, username='nina', email='nina@example.com')
    group = SupportGroupFactory(name='Service Desk', email='desk@example.com', members=[agent, colleague])
    caller = make_user(Role.REQUESTER, username='robin', email='robin@example.com')
    return group, agent, colleague, outsider, caller


def inbox_of(user):
    return list(Notification.objects.filter(recipient=user).order_by('id').values_list('event', 'number', 'topic'))


def test_assignment_to_a_group_address_reaches_its_members_not_the_caller(desk, django_capture_on_commit_callbacks):
    group, agent, colleague, outsider, caller = desk
    ticket = make_ticket(caller=caller)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_assign(ticket=ticket, actor=Actor(user=agent), group=group)
    assert [m.to for m in mail.outbox] == [['desk@example.com']]  # the group's own address, mailed once
    assert inbox_of(agent) == [('assigned', ticket.number, Topic.ASSIGNMENTS)]
    assert inbox_of(colleague) == [('assigned', ticket.number, Topic.ASSIGNMENTS)]
    assert inbox_of(outsider) == []
    assert ('assigned', ticket.number, Topic.ASSIGNMENTS) not in inbox_of(caller)


def test_the_caller_hears_of_their_own_ticket_in_their_inbox(desk, django_capture_on_commit_callbacks):
    group, agent, colleague, outsider, caller = desk
    with django_capture_on_commit_callbacks(execute=True):
        ticket = services.ticket_create(actor=Actor(user=caller), caller=caller, short_description='VPN down')
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_assign(ticket=ticket, actor=Actor(user=agent), group=group)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_accept(ticket=ticket, actor=Actor(user=agent))
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_pend(ticket=ticket, actor=Actor(user=agent), reason=PendingReason.CUSTOMER, note='Which?')
    assert [event for event, *_ in inbox_of(caller)] == ['received', 'accepted', 'pending']
    first = Notification.objects.filter(recipient=caller).earliest('id')
    assert (first.label, first.text) == ('We received your request', 'VPN down')


def test_a_requester_never_gets_an_internal_message_about_a_record_not_theirs(desk):
    group, agent, colleague, outsider, caller = desk
    other_callers_ticket = make_ticket()
    message = notify.deliver(
        other_callers_ticket, 'assigned', [caller.email, agent.email], label='Assigned to your group'
    )
    assert message is not None
    assert inbox_of(caller) == []
    assert [event for event, *_ in inbox_of(agent)] == ['assigned']


def test_sla_warnings_reach_the_assignee_inbox(desk):
    group, agent, colleague, outsider, caller = desk
    ticket = make_ticket(caller=caller, state='accepted', group=group, agent=agent)
    notify.deliver(
        ticket,
        'sla_warning',
        [agent.email],
        label='SLA warning',
        template='incidents/email/assigned.txt',
    )
    assert ('sla_warning', ticket.number, Topic.SLA) in inbox_of(agent)
    assert inbox_of(outsider) == []


def test_a_mention_in_a_work_note_reaches_the_mentioned_engineer(desk, django_capture_on_commit_callbacks):
    group, agent, colleague, outsider, caller = desk
    ticket = make_ticket(caller=caller, state='accepted', group=group, agent=agent)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_comment(
            ticket=ticket,
            actor=Actor(user=agent),
            body='@Nina can you check the switch? cc @robin, @sam.',
            internal=True,
        )
    # The engineer, once; never the requester (an internal note) nor the author.
    mention = Notification.objects.get(recipient=outsider)
    assert (mention.event, mention.topic, mention.actor) == ('mention', Topic.MENTIONS, agent)
    assert mention.label == f'{agent} mentioned you in a work note'
    assert inbox_of(caller) == [] and Notification.objects.filter(recipient=agent, event='mention').count() == 0
    assert [m.to for m in mail.outbox] == [['nina@example.com']]
    assert 'can you check the switch' in mail.outbox[0].body
    entry = TimelineEntry.objects.for_object(ticket).filter(kind=TimelineKind.NOTIFICATION).last()
    assert entry.public is False and entry.data['people'] == [outsider.pk]


def test_a_mention_in_a_public_comment_reaches_staff_only(desk, django_capture_on_commit_callbacks):
    group, agent, colleague, outsider, caller = desk
    ticket = make_ticket(caller=caller, state='accepted', group=group, agent=agent)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_comment(ticket=ticket, actor=Actor(user=caller), body='Thanks @kim and @robin! @nobody')
    assert [event for event, *_ in inbox_of(colleague)] == ['mention']
    assert Notification.objects.get(recipient=colleague).label == f'{caller} mentioned you in a comment'
    assert 'mention' not in [event for event, *_ in inbox_of(caller)]


def test_a_mentioned_person_without_an_address_still_gets_it_in_the_inbox(desk, django_capture_on_commit_callbacks):
    group, agent, colleague, outsider, caller = desk
    outsider.email = ''
    outsider.save()
    ticket = make_ticket(caller=caller, state='accepted', group=group, agent=agent)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_comment(ticket=ticket, actor=Actor(user=agent), body='@nina please look', internal=True)
    assert [event for event, *_ in inbox_of(outsider)] == ['mention']


def test_mention_parsing():
    def names(body):
        return [m.rstrip('.') for m in inbox_services.MENTION.findall(body)]

    assert names('hi @a.b, and @c-d. mail x@example.com') == ['a.b', 'c-d']
    assert names('no mention here') == []


def test_e_mail_preferences_leave_people_out_of_mail_not_out_of_the_inbox(desk, django_capture_on_commit_callbacks):
    group, agent, colleague, outsider, caller = desk
    EmailPreference.objects.create(user=caller, updates=False)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = services.ticket_create(actor=Actor(user=caller), caller=caller, short_description='VPN down')
    assert mail.outbox == []
    assert [event for event, *_ in inbox_of(caller)] == ['received']
    # Other topics still reach them by e-mail.
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_comment(ticket=ticket, actor=Actor(user=agent), body='Which office are you in?')
    assert [m.to for m in mail.outbox] == [['robin@example.com']]


def test_no_preference_keeps_an_on_call_page_from_the_mail(desk):
    group, agent, colleague, outsider, caller = desk
    EmailPreference.objects.create(user=agent, updates=False, sla=False, assignments=False)
    ticket = make_ticket(caller=caller, state='accepted', group=group, agent=agent)
    for event, mandatory, mailed in (('page', True, [agent.email]), ('assigned', False, []), ('noted', False, [])):
        message = notify.Message(
            ticket, event, 'subject', 'body', [agent.email], '/', False, {'event': event}, mandatory=mandatory
        )
        assert notify.email_recipients(message) == mailed, event


def test_preferences_of_one_topic_do_not_touch_the_others(desk):
    group, agent, colleague, outsider, caller = desk
    inbox_services.preferences_update(user=outsider, fields={'mentions': False, 'bogus': False}, actor=Actor.system())
    preference = EmailPreference.objects.get(user=outsider)
    assert [preference.wants(topic) for topic in EmailPreference.TOPICS] == [True, True, True, False, True, True]
    assert TimelineEntry.objects.for_object(preference).filter(kind=TimelineKind.FIELD_CHANGE).exists()
