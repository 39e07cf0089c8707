"""E-mail notifications: who gets which message, sent by Celery after commit, recorded on the timeline."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from incidents import services
from incidents.choices import PendingReason, ResolutionCode, TicketState
from incidents.models import ResponseTemplate
from itsm.audit import Actor
from itsm.choices import Role, TimelineKind
from itsm.models import TimelineEntry
from tests.factories import SupportGroupFactory, make_group_with_agent, make_ticket, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(db):
    group, agent = make_group_with_agent(name='Service Desk')
    group.email = 'desk@example.com'
    group.manager = make_user(Role.INCIDENT_MANAGER, username='boss', email='boss@example.com')
    group.save()
    caller = make_user(Role.REQUESTER, username='robin', email='robin@example.com')
    return group, agent, caller


def test_the_callers_journey_sends_each_message_once(desk, django_capture_on_commit_callbacks):
    group, agent, caller = desk
    actor = Actor(user=agent)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = services.ticket_create(actor=Actor(user=caller), caller=caller, short_description='VPN down')
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_assign(ticket=ticket, actor=actor, group=group)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_accept(ticket=ticket, actor=actor)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_pend(ticket=ticket, actor=actor, reason=PendingReason.CUSTOMER, note='Which office?')
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_resume(ticket=ticket, actor=actor)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_complete(
            ticket=ticket, actor=actor, resolution_code=ResolutionCode.SOLVED_REMOTELY, resolution_notes='Reset token'
        )
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_confirm(ticket=ticket, actor=Actor(user=caller))

    sent = [(m.to, m.subject) for m in mail.outbox]
    assert [to for to, _ in sent] == [
        ['robin@example.com'],  # received
        ['desk@example.com'],  # assigned
        ['robin@example.com'],  # accepted
        ['robin@example.com'],  # pending
        ['robin@example.com'],  # completed: please confirm
        ['robin@example.com'],  # closed
    ]
    assert all(subject.startswith(f'[{ticket.number}]') for _, subject in sent)
    assert 'please confirm' in sent[4][1].lower()
    assert 'Which office?' in mail.outbox[3].body
    assert f'/portal/{ticket.number}/' in mail.outbox[4].body
    recorded = TimelineEntry.objects.for_object(ticket).filter(kind=TimelineKind.NOTIFICATION)
    assert recorded.count() == 6
    assert recorded.first().data['recipients'] == ['robin@example.com']


def test_nothing_is_sent_when_the_transaction_rolls_back(desk, django_capture_on_commit_callbacks):
    group, agent, caller = desk
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.ticket_create(actor=Actor(user=caller), caller=caller, short_description='VPN down')
    assert callbacks  # queued for commit (with other apps' after-commit work), not sent inside the transaction
    assert mail.outbox == []


def test_group_without_address_mails_its_members(desk, django_capture_on_commit_callbacks):
    _, agent, caller = desk
    member = make_user(Role.L2_ENGINEER, email='l2@example.com')
    quiet = SupportGroupFactory(name='L2', email='', members=[member, agent])
    ticket = make_ticket(caller=caller)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_assign(ticket=ticket, actor=Actor(user=agent), group=quiet)
    assert mail.outbox[-1].to == sorted([member.email, agent.email])


def test_hierarchical_escalation_notifies_the_group_manager(desk, django_capture_on_commit_callbacks):
    group, agent, caller = desk
    ticket = make_ticket(caller=caller, state=TicketState.ACCEPTED, group=group, agent=agent)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_escalate_hierarchical(
            ticket=ticket, actor=Actor(user=agent), reason='Customer threatens to leave'
        )
    message = mail.outbox[-1]
    assert message.to == ['boss@example.com']
    assert 'Customer threatens to leave' in message.body
    ticket.refresh_from_db()
    assert ticket.state == TicketState.ACCEPTED


def test_hierarchical_escalation_without_manager_is_refused(desk):
    _, agent, caller = desk
    lonely, member = make_group_with_agent(name='No manager')
    ticket = make_ticket(caller=caller, state=TicketState.ACCEPTED, group=lonely, agent=member)
    with pytest.raises(ValidationError):
        services.ticket_escalate_hierarchical(ticket=ticket, actor=Actor(user=member), reason='help')


def test_agent_comment_mails_the_caller_but_work_notes_do_not(desk, django_capture_on_commit_callbacks):
    group, agent, caller = desk
    ticket = make_ticket(caller=caller)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_comment(ticket=ticket, actor=Actor(user=agent), body='Internal', internal=True)
        services.ticket_comment(ticket=ticket, actor=Actor(user=agent), body='Please restart', internal=False)
    assert [m.to for m in mail.outbox] == [['robin@example.com']]
    assert 'Please restart' in mail.outbox[0].body


def test_templates_fill_placeholders(desk):
    group, agent, caller = desk
    caller.first_name, caller.last_name = 'Robin', 'Meyer'
    caller.save()
    agent.first_name, agent.last_name = 'Sam', 'Desk'
    agent.save()
    ticket = make_ticket(caller=caller, state=TicketState.ACCEPTED, group=group, agent=agent)
    template = ResponseTemplate.objects.create(name='Hi', text='Hello {caller_name}, {agent_name} on {number}. {nope}')
    text = services.render_template_text(template, ticket=ticket, agent=agent)
    assert text == f'Hello Robin Meyer, Sam Desk on {ticket.number}. {{nope}}'


def test_templates_are_not_format_strings(desk):
    # People write templates: braces, positional fields, indexing and format specs are left as typed, never run.
    group, agent, caller = desk
    ticket = make_ticket(caller=caller, state=TicketState.ACCEPTED, group=group, agent=agent)
    for text in ('}', '{', '{0}', '{number[999]}', '{number:>5000000}', '{number!r}', '{{number}}', '{caller_name.x}'):
        assert services.render_template_text(text, ticket=ticket, agent=agent) == text.replace(
            '{{number}}', '{' + ticket.number + '}'
        )
    assert services.render_template_text('Ref {number}}', ticket=ticket, agent=agent) == f'Ref {ticket.number}}}'


def test_attachments_respect_size_and_type(desk, settings):
    _, agent, caller = desk
    settings.ATTACHMENT_MAX_BYTES = 1024
    ticket = make_ticket(caller=caller)
    ok = services.ticket_attach(
        ticket=ticket, actor=Actor(user=caller), upload=SimpleUploadedFile('log.txt', b'x' * 100, 'text/plain')
    )
    assert ok.size == 100 and ok.public
    with pytest.raises(ValidationError) as excinfo:
        services.ticket_attach(
            ticket=ticket, actor=Actor(user=caller), upload=SimpleUploadedFile('big.txt', b'x' * 2048, 'text/plain')
        )
    assert 'file' in excinfo.value.message_dict
    with pytest.raises(ValidationError):
        services.ticket_attach(
            ticket=ticket, actor=Actor(user=caller), upload=SimpleUploadedFile('run.exe', b'MZ', 'application/x-msdos')
        )
    assert TimelineEntry.objects.for_object(ticket).filter(kind=TimelineKind.ATTACHMENT).count() == 1


def test_a_title_with_line_breaks_is_mailed_on_one_line(desk, django_capture_on_commit_callbacks):
    from rest_framework.test import APIClient

    _, _, caller = desk
    client = APIClient()
    client.force_authenticate(caller)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            '/api/v1/incidents/', {'short_description': 'VPN\r\ndown\nBcc: someone@example.org'}, format='json'
        )
    assert response.status_code == 201, response.content
    [message] = mail.outbox
    assert '\n' not in message.subject and '\r' not in message.subject
    assert message.subject.endswith('VPN down Bcc: someone@example.org')
    assert message.to == ['robin@example.com'] and not message.bcc


def test_a_failing_notification_never_fails_the_request(desk, django_capture_on_commit_callbacks, caplog):
    from rest_framework.test import APIClient

    from itsm import notify

    def broken(message):
        raise ConnectionError('mail server unreachable')

    notify._channels.insert(0, broken)
    try:
        client = APIClient()
        client.force_authenticate(desk[2])
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post('/api/v1/incidents/', {'short_description': 'Printer jam'}, format='json')
    finally:
        notify._channels.remove(broken)
    assert response.status_code == 201, response.content
    assert 'mail server unreachable' in caplog.text
