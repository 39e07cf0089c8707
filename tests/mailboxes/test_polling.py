"""Polling a real IMAP server (Dovecot): new mail opens tickets, replies become comments, automatic mail is ignored,
nothing is processed twice, and processed mail is marked, moved or deleted."""

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError

from incidents.choices import TicketChannel, TicketState
from incidents.models import Ticket
from itsm.choices import Channel, Impact, Role, TimelineKind, Urgency
from itsm.models import Attachment, TimelineEntry, User
from mailboxes import services
from mailboxes.choices import AfterProcessing, Outcome, Security, UnknownSenders
from mailboxes.models import InboundMessage
from mailboxes.tasks import poll_mailboxes_task
from tests.factories import SupportGroupFactory, make_group_with_agent, make_ticket, make_user
from tests.servers import free_port

from .conftest import make_mailbox
from .messages import build

pytestmark = pytest.mark.django_db


def deliver(imap, raw: bytes, folder: str = 'INBOX'):
    imap.deliver(raw, folder=folder)


def poll(mailbox):
    result = services.mailbox_poll(mailbox)
    assert result.error == '', result.error
    return result


def test_a_new_message_from_a_known_person_opens_a_p4_incident(imap, mailbox):
    ada = make_user(email='ada@example.com', first_name='Ada', last_name='Lovelace')
    deliver(imap, build(sender='Ada Lovelace <ADA@example.com>', message_id='<first@mail.example.com>'))

    result = poll(mailbox)

    assert (result.seen, result.outcomes) == (1, {Outcome.OPENED: 1})
    ticket = Ticket.objects.get()
    assert (ticket.caller, ticket.channel, ticket.priority) == (ada, TicketChannel.EMAIL, 4)
    assert (ticket.impact, ticket.urgency) == (Impact.NONE, Urgency.NEGOTIATED)
    assert ticket.short_description == 'Printer on floor 3 is jammed'
    assert ticket.description == 'The printer says paper jam but there is no paper inside.'
    created = TimelineEntry.objects.for_object(ticket).get(kind=TimelineKind.CREATED)
    assert (created.actor, created.channel) == (ada, Channel.EMAIL)
    row = InboundMessage.objects.get()
    assert (row.outcome, row.record_number, row.record, row.sender_user) == (Outcome.OPENED, ticket.number, ticket, ada)
    assert (row.message_id, row.sender, row.mailbox) == ('<first@mail.example.com>', 'ada@example.com', mailbox)
    assert [flags for _, flags in imap.messages()] == [{'\\Seen'}]
    mailbox.refresh_from_db()
    assert mailbox.last_polled_at is not None and mailbox.last_error == ''


def test_a_mailbox_maps_priority_group_and_service(imap, mailbox):
    from cmdb.models import ConfigurationItem
    from tests.cmdb.factories import make_service

    group = SupportGroupFactory(name='Printing')
    service = ConfigurationItem.objects.get(pk=make_service(name='Printing').pk)
    services_fields = {'impact': Impact.MEDIUM, 'urgency': Urgency.URGENT, 'support_group': group, 'service': service}
    for name, value in services_fields.items():
        setattr(mailbox, name, value)
    mailbox.save()
    make_user(email='ada@example.com')
    deliver(imap, build())

    poll(mailbox)

    ticket = Ticket.objects.get()
    assert (ticket.priority, ticket.assignment_group, ticket.service) == (2, group, service)
    assert ticket.state == TicketState.ASSIGNED


def test_an_unknown_sender_becomes_a_requester_when_the_mailbox_allows(imap, mailbox):
    deliver(imap, build(sender='Grace Hopper <grace@navy.example>', subject='Fwd: RE: Laptop will not boot'))

    poll(mailbox)

    grace = User.objects.get(email='grace@navy.example')
    assert (grace.username, grace.first_name, grace.last_name) == ('grace', 'Grace', 'Hopper')
    assert grace.role_slugs() == {Role.REQUESTER} and not grace.has_usable_password()
    ticket = Ticket.objects.get()
    assert (ticket.caller, ticket.short_description) == (grace, 'Laptop will not boot')


def test_an_unknown_sender_is_refused_and_never_answered_when_the_mailbox_says_so(imap, mailbox):
    mailbox.unknown_senders = UnknownSenders.REFUSE
    mailbox.save()
    deliver(imap, build(sender='stranger@elsewhere.example'))

    result = poll(mailbox)

    assert result.outcomes == {Outcome.REFUSED: 1}
    row = InboundMessage.objects.get()
    assert row.outcome == Outcome.REFUSED and 'Unknown sender stranger@elsewhere.example' in row.reason
    assert not User.objects.filter(email='stranger@elsewhere.example').exists()
    assert not Ticket.objects.exists()
    assert mail.outbox == []
    assert [flags for _, flags in imap.messages()] == [{'\\Seen'}]


def test_a_reply_naming_a_ticket_becomes_a_comment_without_the_quoted_history(imap, mailbox):
    ada = make_user(email='ada@example.com')
    ticket = make_ticket(caller=ada, state=TicketState.PENDING)
    body = (
        'It works again since this morning, thanks.\n\n'
        'Sent from my iPhone\n\n'
        'On Mon, 7 Dec 2026 at 10:00, Service Desk <desk@example.org> wrote:\n> Please restart it.\n'
    )
    deliver(imap, build(subject=f'Re: [{ticket.number}] {ticket.short_description}', body=body))

    poll(mailbox)

    comment = TimelineEntry.objects.for_object(ticket).get(kind=TimelineKind.COMMENT)
    assert (comment.message, comment.actor, comment.channel) == (
        'It works again since this morning, thanks.',
        ada,
        Channel.EMAIL,
    )
    assert Ticket.objects.count() == 1
    ticket.refresh_from_db()
    assert ticket.state == TicketState.ACCEPTED  # waiting on the caller, resumed by the reply like a portal answer
    row = InboundMessage.objects.get()
    assert (row.outcome, row.record_number) == (Outcome.COMMENTED, ticket.number)


def test_staff_may_reply_to_any_ticket(imap, mailbox):
    group, agent = make_group_with_agent()
    agent.email = 'agent@example.org'
    agent.save()
    ticket = make_ticket(group=group, agent=agent, state=TicketState.ACCEPTED)
    deliver(imap, build(sender='agent@example.org', subject=f'RE: {ticket.number}', body='Replacing the toner now.'))

    poll(mailbox)

    comment = TimelineEntry.objects.for_object(ticket).get(kind=TimelineKind.COMMENT)
    assert (comment.message, comment.actor) == ('Replacing the toner now.', agent)


def test_a_strangers_reply_to_someone_elses_ticket_is_refused(imap, mailbox):
    ticket = make_ticket(caller=make_user(email='ada@example.com'))
    make_user(email='mallory@example.com')
    deliver(imap, build(sender='mallory@example.com', subject=f'Re: [{ticket.number}]', body='Close this please.'))

    result = poll(mailbox)

    assert result.outcomes == {Outcome.REFUSED: 1}
    assert not TimelineEntry.objects.for_object(ticket).filter(kind=TimelineKind.COMMENT).exists()
    assert Ticket.objects.count() == 1
    row = InboundMessage.objects.get()
    assert ticket.number in row.reason and 'may not' in row.reason
    assert mail.outbox == [] or all('mallory@example.com' not in m.to for m in mail.outbox)


def test_a_subject_number_that_names_no_record_opens_a_new_ticket(imap, mailbox):
    make_user(email='ada@example.com')
    deliver(imap, build(subject='Re: INC9999999 printer'))

    assert poll(mailbox).outcomes == {Outcome.OPENED: 1}


def test_files_are_kept_and_an_oversized_one_is_left_out_with_the_reason(imap, mailbox, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024
    make_user(email='ada@example.com')
    files = [
        ('error.png', b'\x89PNG' + b'x' * 100, 'image/png'),
        ('dump.zip', b'PK' + b'z' * 5000, 'application/zip'),
        ('tool.exe', b'MZ', 'application/octet-stream'),
    ]
    deliver(imap, build(files=files))

    poll(mailbox)

    ticket = Ticket.objects.get()
    kept = Attachment.objects.get()
    assert (kept.record, kept.filename, kept.size, kept.public) == (ticket, 'error.png', 104, True)
    assert kept.file.read() == b'\x89PNG' + b'x' * 100
    note = TimelineEntry.objects.for_object(ticket).get(kind=TimelineKind.WORK_NOTE)
    assert 'dump.zip (4 KB, over the 1 KB limit)' in note.message
    assert 'tool.exe (Files of type application/' in note.message and 'are not accepted.)' in note.message
    assert 'dump.zip' in InboundMessage.objects.get().reason


def test_a_reply_with_files_says_in_its_comment_which_were_left_out(imap, mailbox, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024
    ada = make_user(email='ada@example.com')
    ticket = make_ticket(caller=ada)
    files = [('log.txt', b'line\n' * 10, 'text/plain'), ('video.zip', b'PK' + b'v' * 4000, 'application/zip')]
    deliver(imap, build(subject=f'Re: [{ticket.number}]', body='Here is the log.', files=files))

    poll(mailbox)

    assert list(Attachment.objects.values_list('filename', flat=True)) == ['log.txt']
    comment = TimelineEntry.objects.for_object(ticket).get(kind=TimelineKind.COMMENT)
    assert comment.message.startswith('Here is the log.\n\nFiles left out of the e-mail: video.zip (3 KB, over')


def test_auto_replies_bounces_and_our_own_mail_are_ignored(imap, mailbox):
    make_user(email='ada@example.com')
    deliver(imap, build(subject='Out of office', headers={'Auto-Submitted': 'auto-replied'}))
    deliver(imap, build(sender='MAILER-DAEMON@mx.example.com', subject='Undelivered Mail Returned to Sender'))
    deliver(imap, build(sender='Pitcrew Service Desk <servicedesk@localhost>', subject='[INC0001001] assigned'))
    deliver(imap, build(sender='desk@example.org', subject='Loop'))
    deliver(imap, build(subject='Newsletter', headers={'Precedence': 'bulk'}))

    result = poll(mailbox)

    assert result.outcomes == {Outcome.IGNORED: 5}
    assert not Ticket.objects.exists()
    assert User.objects.filter(email__icontains='mailer-daemon').count() == 0
    reasons = list(InboundMessage.objects.order_by('pk').values_list('reason', flat=True))
    assert 'Auto-Submitted' in reasons[0] and 'Bounce' in reasons[1] and 'own address' in reasons[2]
    assert 'own address' in reasons[3] and 'Precedence: bulk' in reasons[4]


def test_nothing_is_processed_twice(imap, mailbox):
    make_user(email='ada@example.com')
    raw = build(message_id='<once@mail.example.com>')
    deliver(imap, raw)
    deliver(imap, raw)  # delivered twice (two recipients, a retrying server)

    first = poll(mailbox)
    deliver(imap, raw)  # and once more after the first poll
    second = poll(mailbox)
    third = poll(mailbox)

    assert (first.seen, first.outcomes, first.skipped) == (2, {Outcome.OPENED: 1}, 1)
    assert (second.seen, second.outcomes, second.skipped) == (1, {}, 1)
    assert third.seen == 0
    assert Ticket.objects.count() == 1 and InboundMessage.objects.count() == 1
    assert all(flags == {'\\Seen'} for _, flags in imap.messages())


def test_the_same_message_in_two_mailboxes_opens_one_ticket(dovecot, imap, mailbox):
    it = dovecot.account()
    other = make_mailbox(it, name='IT', address='it@example.org')
    make_user(email='ada@example.com')
    raw = build(to='desk@example.org, it@example.org')
    deliver(imap, raw)
    it.deliver(raw)

    assert poll(mailbox).outcomes == {Outcome.OPENED: 1}
    assert poll(other).skipped == 1
    assert Ticket.objects.count() == 1


def test_processed_mail_moves_to_a_folder(imap, mailbox):
    mailbox.after_processing, mailbox.move_to = AfterProcessing.MOVE, 'Processed/Desk'
    mailbox.save()
    make_user(email='ada@example.com')
    deliver(imap, build())
    deliver(imap, build(headers={'Auto-Submitted': 'auto-replied'}))

    poll(mailbox)

    assert imap.messages() == []
    moved = imap.messages(folder='Processed/Desk')
    assert len(moved) == 2 and all('\\Seen' in flags for _, flags in moved)


def test_processed_mail_moves_by_copy_and_delete_where_the_server_has_no_move(dovecot, db):
    account = dovecot.account_without_move()
    mailbox = make_mailbox(account, after_processing=AfterProcessing.MOVE, move_to='Done')
    make_user(email='ada@example.com')
    account.deliver(build())

    poll(mailbox)

    conn = services.connect(mailbox)
    assert 'MOVE' not in conn.capabilities
    conn.logout()
    assert account.messages() == []
    assert ['\\Seen' in flags for _, flags in account.messages(folder='Done')] == [True]
    assert Ticket.objects.count() == 1


def test_processed_mail_is_deleted(imap, mailbox):
    mailbox.after_processing = AfterProcessing.DELETE
    mailbox.save()
    make_user(email='ada@example.com')
    deliver(imap, build())
    deliver(imap, build(sender='bob@example.com', subject='Second'))

    poll(mailbox)

    assert imap.messages() == []
    assert Ticket.objects.count() == 2


def test_mail_already_read_or_in_other_folders_is_left_alone(imap, mailbox):
    make_user(email='ada@example.com')
    imap.deliver(build(subject='Read in a mail client'), flags='(\\Seen)')
    deliver(imap, build(subject='Archived'), folder='Archive')

    assert poll(mailbox).seen == 0
    assert not Ticket.objects.exists()


MALFORMED_CHARSET = (
    b'From: Newcomer <newcomer@example.com>\r\nTo: desk@example.org\r\nSubject: Broken\r\n'
    b'Message-ID: <broken@mail.example.com>\r\nMIME-Version: 1.0\r\n'
    b'Content-Type: text/plain; charset="x-no-such-charset"\r\n\r\nunreadable\r\n'
)


def test_a_malformed_message_is_recorded_failed_and_nothing_is_half_written(imap, mailbox, caplog):
    make_user(email='ada@example.com')
    users = User.objects.count()
    deliver(imap, MALFORMED_CHARSET)  # the sender would be registered, then the text cannot be read
    deliver(imap, b'Subject: no sender at all\r\n\r\nwho wrote this?\r\n')
    deliver(imap, build(subject='A good one after them'))

    with caplog.at_level('WARNING', logger='mailboxes.services'):
        result = poll(mailbox)

    assert result.outcomes == {Outcome.FAILED: 2, Outcome.OPENED: 1}
    broken, unreadable, good = InboundMessage.objects.order_by('pk')
    assert (broken.outcome, broken.message_id) == (Outcome.FAILED, '<broken@mail.example.com>')
    assert 'unknown character set (x-no-such-charset)' in broken.reason
    assert unreadable.outcome == Outcome.FAILED and 'no readable sender address' in unreadable.reason
    assert good.outcome == Outcome.OPENED
    assert User.objects.count() == users  # the newcomer's registration was rolled back with the rest
    assert list(Ticket.objects.values_list('short_description', flat=True)) == ['A good one after them']
    assert 'unknown character set' in caplog.text and 'no readable sender address' in caplog.text
    assert all(flags == {'\\Seen'} for _, flags in imap.messages())  # failed mail is not read again


def test_the_beat_task_polls_every_active_mailbox(imap, mailbox):
    make_user(email='ada@example.com')
    deliver(imap, build())

    result = poll_mailboxes_task.delay().get()

    assert result == {'Service desk': {Outcome.OPENED: 1, 'skipped': 0, 'error': ''}}
    assert Ticket.objects.count() == 1


def test_inactive_mailboxes_are_not_polled(imap, mailbox):
    mailbox.active = False
    mailbox.save()
    deliver(imap, build())

    assert poll_mailboxes_task.delay().get() == {}
    assert not InboundMessage.objects.exists()


def test_a_wrong_password_is_kept_as_the_mailboxs_last_error(imap, mailbox):
    mailbox.password = 'wrong'
    mailbox.save()
    deliver(imap, build())

    result = services.mailbox_poll(mailbox)

    assert 'Cannot log in to 127.0.0.1' in result.error
    mailbox.refresh_from_db()
    assert 'Cannot log in' in mailbox.last_error and mailbox.last_polled_at is not None
    assert not InboundMessage.objects.exists()
    assert all('\\Seen' not in flags for _, flags in imap.messages())  # left for the next poll


def test_an_unreachable_server_is_an_error_not_a_crash(mailbox):
    mailbox.port = free_port()  # nothing listens there
    mailbox.save()

    result = services.mailbox_poll(mailbox)

    assert result.error.startswith('Cannot log in to 127.0.0.1')


def test_the_password_can_come_from_the_environment(imap, mailbox, monkeypatch):
    mailbox.password, mailbox.password_env = '', 'PITCREW_TEST_MAILBOX_PASSWORD'
    mailbox.save()
    make_user(email='ada@example.com')
    deliver(imap, build())

    missing = services.mailbox_poll(mailbox)
    monkeypatch.setenv('PITCREW_TEST_MAILBOX_PASSWORD', imap.password)
    found = services.mailbox_poll(mailbox)

    assert 'PITCREW_TEST_MAILBOX_PASSWORD is not set' in missing.error
    assert (found.error, found.outcomes) == ('', {Outcome.OPENED: 1})


@pytest.mark.parametrize('security', [Security.IMAPS, Security.STARTTLS])
def test_encrypted_connections_check_the_servers_certificate(imap, mailbox, settings, security):
    mailbox.security = security
    mailbox.port = imap.tls_port if security == Security.IMAPS else imap.port
    mailbox.save()
    make_user(email='ada@example.com')
    deliver(imap, build())

    untrusted = services.mailbox_poll(mailbox)
    settings.MAILBOX_CA_FILE = str(imap.cert)
    trusted = services.mailbox_poll(mailbox)

    assert 'CERTIFICATE_VERIFY_FAILED' in untrusted.error
    assert (trusted.error, trusted.outcomes) == ('', {Outcome.OPENED: 1})


def test_the_management_command_polls_and_reports(imap, mailbox, capsys):
    make_user(email='ada@example.com')
    deliver(imap, build())

    call_command('poll_mailboxes', 'Service desk')

    assert 'Service desk: 1 read, 1 opened, 0 already processed' in capsys.readouterr().out
    with pytest.raises(CommandError, match='No mailbox named Nope'):
        call_command('poll_mailboxes', 'Nope')


def test_html_only_mail_opens_a_ticket_with_text_only(imap, mailbox):
    make_user(email='ada@example.com')
    html = '<p>The <b>VPN</b> drops every <i>5 minutes</i>.</p><script>alert(1)</script>'
    deliver(imap, build(body=None, html=html))

    poll(mailbox)

    assert Ticket.objects.get().description == 'The VPN drops every 5 minutes.'


def test_a_callers_reply_to_a_closed_ticket_opens_a_follow_up(imap, mailbox):
    ada = make_user(email='ada@example.com')
    closed = make_ticket(caller=ada, state=TicketState.CLOSED)
    body = 'It is broken again.\n\nOn Mon, 7 Dec 2026, Service Desk <desk@example.org> wrote:\n> Closed.'
    deliver(imap, build(subject=f'Re: [{closed.number}] {closed.short_description}', body=body))

    poll(mailbox)

    follow_up = Ticket.objects.exclude(pk=closed.pk).get()
    assert follow_up.description == f'Follow-up to {closed.number}, which is closed.\n\nIt is broken again.'
    assert follow_up.caller == ada
    assert not TimelineEntry.objects.for_object(closed).filter(kind=TimelineKind.COMMENT).exists()
    closed.refresh_from_db()
    assert closed.state == TicketState.CLOSED


def test_staff_replies_reach_any_kind_of_process_record(imap, mailbox):
    from tests.problems.factories import make_problem

    problem = make_problem()
    manager = make_user(Role.PROBLEM_MANAGER, email='pm@example.org')
    deliver(imap, build(sender='pm@example.org', subject=f'RE: {problem.number} root cause', body='Vendor confirmed.'))

    assert poll(mailbox).outcomes == {Outcome.COMMENTED: 1}
    comment = TimelineEntry.objects.for_object(problem).get(kind=TimelineKind.COMMENT)
    assert (comment.message, comment.actor, comment.channel) == ('Vendor confirmed.', manager, Channel.EMAIL)
