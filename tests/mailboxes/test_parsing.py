"""Reading e-mails without a server or a database: senders, automatic mail, reply text, HTML, files, numbers."""

import pytest

from mailboxes import parsing

from .messages import build

OWN = {'desk@example.org', 'servicedesk@localhost'}


def parsed(**kwargs) -> parsing.ParsedMessage:
    return parsing.parse(build(**kwargs))


def test_sender_subject_and_message_id_are_read():
    message = parsed(sender='"Lovelace, Ada" <Ada@Example.COM>', message_id='<abc@mail.example.com>')
    assert message.sender == 'ada@example.com'
    assert message.sender_name == 'Lovelace, Ada'
    assert message.subject == 'Printer on floor 3 is jammed'
    assert message.message_id == '<abc@mail.example.com>'
    assert message.sent_at is not None


def test_the_same_message_id_gives_the_same_key_whatever_its_case_and_brackets():
    one = parsing.message_key(b'x', '<ABC@host>', 'a@b', 'd', 's')
    assert one == parsing.message_key(b'y', 'abc@host', 'other@b', 'd2', 's2')
    assert one != parsing.message_key(b'x', '<abd@host>', 'a@b', 'd', 's')


def test_without_message_id_the_key_is_a_stable_hash_of_sender_date_subject_and_body():
    raw = build(message_id=None)
    assert parsing.parse(raw).message_id == ''
    assert parsing.parse(raw).key == parsing.parse(raw).key
    assert parsing.parse(raw).key != parsing.parse(raw.replace(b'no paper', b'a sheet')).key


@pytest.mark.parametrize(
    'raw',
    [b'', b'   \r\n', b'Subject: nobody sent this\r\n\r\ntext\r\n', b'From: not an address\r\n\r\ntext\r\n'],
)
def test_a_message_without_a_usable_sender_is_malformed(raw):
    with pytest.raises(parsing.MalformedMessage):
        parsing.parse(raw)


@pytest.mark.parametrize(
    ('headers', 'sender', 'expected'),
    [
        ({'Auto-Submitted': 'auto-replied'}, 'ada@example.com', 'Auto-Submitted'),
        ({'Auto-Submitted': 'auto-generated; owner-email="x@y"'}, 'ada@example.com', 'Auto-Submitted'),
        ({'Precedence': 'bulk'}, 'ada@example.com', 'Precedence: bulk'),
        ({'Precedence': 'junk'}, 'ada@example.com', 'Precedence: junk'),
        ({'Precedence': 'list'}, 'ada@example.com', 'Precedence: list'),
        ({'Precedence': 'auto_reply'}, 'ada@example.com', 'Precedence: auto_reply'),
        ({'X-Auto-Response-Suppress': 'All'}, 'ada@example.com', 'X-Auto-Response-Suppress'),
        ({'X-Autoreply': 'yes'}, 'ada@example.com', 'X-Autoreply'),
        ({'X-Autorespond': 'Out of office'}, 'ada@example.com', 'X-Autorespond'),
        ({'Return-Path': '<>'}, 'ada@example.com', 'empty Return-Path'),
        ({}, 'MAILER-DAEMON@mx.example.com', 'Bounce from'),
        ({}, 'postmaster@example.com', 'Bounce from'),
        ({}, 'desk@example.org', 'own address'),
        ({}, 'servicedesk@localhost', 'own address'),
    ],
)
def test_automatic_mail_bounces_and_our_own_mail_are_ignored(headers, sender, expected):
    message = parsed(sender=sender, headers=headers)
    assert expected in parsing.ignore_reason(message.message, message.sender, OWN)


def test_a_delivery_report_is_a_bounce():
    raw = (
        b'From: Mail Delivery System <mx@example.com>\r\nTo: desk@example.org\r\nSubject: Undelivered\r\n'
        b'MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        b'--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n--b--\r\n'
    )
    message = parsing.parse(raw)
    assert 'multipart/report' in parsing.ignore_reason(message.message, message.sender, OWN)


def test_a_person_writing_is_not_ignored():
    message = parsed(headers={'Auto-Submitted': 'no', 'Return-Path': '<ada@example.com>', 'Precedence': 'normal'})
    assert parsing.ignore_reason(message.message, message.sender, OWN) == ''


def test_own_addresses_are_read_from_display_forms():
    assert parsing.addresses('Pitcrew Service Desk <servicedesk@localhost>', '', 'it@Example.org') == {
        'servicedesk@localhost',
        'it@example.org',
    }


def test_plain_text_is_preferred_over_html():
    message = parsed(body='Plain words.', html='<p>HTML words.</p>')
    assert parsing.body_text(message.message) == 'Plain words.'


def test_html_only_mail_becomes_text_without_any_markup():
    html = (
        '<html><head><style>p {color: red}</style><title>t</title></head><body>'
        '<p>Hello&nbsp;desk,</p><div>the <b>VPN</b> drops &amp; reconnects.</div>'
        '<script>alert("x")</script><img src="cid:1" onerror="alert(1)"></body></html>'
    )
    text = parsing.body_text(parsed(body=None, html=html).message)
    assert text == 'Hello desk,\n\nthe VPN drops & reconnects.'
    assert '<' not in text and 'alert' not in text and 'color' not in text


def test_an_unknown_character_set_is_malformed():
    raw = (
        b'From: ada@example.com\r\nSubject: x\r\nMIME-Version: 1.0\r\n'
        b'Content-Type: text/plain; charset="x-no-such-charset"\r\n\r\ntext\r\n'
    )
    with pytest.raises(parsing.MalformedMessage, match='unknown character set'):
        parsing.body_text(parsing.parse(raw).message)


@pytest.mark.parametrize(
    'reply',
    [
        'Thanks, it works now.\n\nOn Mon, 7 Dec 2026 at 10:00, Service Desk <desk@example.org> wrote:\n> Please retry.',
        'Thanks, it works now.\n\nOn Mon, 7 Dec 2026 at 10:00, Service Desk <\ndesk@example.org> wrote:\n> Retry.',
        'Thanks, it works now.\n\n-----Original Message-----\nFrom: Service Desk\nSent: Monday\nPlease retry.',
        'Thanks, it works now.\n\n________________________________\nFrom: Service Desk <desk@example.org>\n'
        'Sent: Monday, 7 December 2026 10:00\nTo: Ada\nSubject: RE: [INC0001001]\n\nPlease retry.',
        'Thanks, it works now.\n\nFrom: Service Desk <desk@example.org>\nSent: Monday\nTo: Ada\n\nPlease retry.',
        'Thanks, it works now.\n\n-- \nAda Lovelace\nAnalytical Engines Ltd\n+44 20 0000 0000',
        'Thanks, it works now.\n\nSent from my iPhone',
        'Thanks, it works now.\nGet Outlook for Android',
        'Thanks, it works now.\n\nLe lun. 7 déc. 2026 à 10:00, Service Desk <desk@example.org> a écrit :\n> Merci',
    ],
)
def test_quoted_history_and_signatures_are_stripped(reply):
    assert parsing.strip_reply(reply) == 'Thanks, it works now.'


def test_interleaved_quotes_are_dropped_and_the_answers_kept():
    reply = '> Does it print?\nYes, since this morning.\n> And the scanner?\nStill broken.'
    assert parsing.strip_reply(reply) == 'Yes, since this morning.\nStill broken.'


def test_html_blockquotes_count_as_quoted_history():
    html = '<div>Fixed, thanks!</div><blockquote><p>Please restart the router.</p></blockquote>'
    text = parsing.body_text(parsed(body=None, html=html).message)
    assert parsing.strip_reply(text) == 'Fixed, thanks!'


def test_attachments_with_safe_names():
    message = parsed(
        files=[
            ('../../etc/passwd.txt', b'root', 'text/plain'),
            ('report.pdf', b'%PDF-1.4', 'application/pdf'),
            ('', b'\x89PNG', 'image/png'),
        ]
    )
    found = parsing.attachments(message.message)
    assert [(a.filename, a.content, a.content_type) for a in found] == [
        ('passwd.txt', b'root', 'text/plain'),
        ('report.pdf', b'%PDF-1.4', 'application/pdf'),
        ('attachment-3.png', b'\x89PNG', 'image/png'),
    ]


@pytest.mark.parametrize(
    ('subject', 'expected'),
    [
        ('Re: [INC0001001] Printer jammed', ['INC0001001']),
        ('RE: inc0001001 and CHG0000101', ['INC0001001', 'CHG0000101']),
        ('Fwd: PRB-0000101', ['PRB0000101']),
        ('Windows10 on WIN1003 laptop', []),
        ('Order 12345 is late', []),
        ('XINC0001001', []),
    ],
)
def test_record_numbers_in_subjects(subject, expected):
    assert parsing.numbers_in(subject, {'INC', 'CHG', 'PRB', 'CS'}) == expected
