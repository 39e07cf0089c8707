"""Reading a raw e-mail: who sent it, whether it is automatic, its text without quoted history, its files.

Pure functions without the database, so each rule is tested on its own (`tests/mailboxes/test_parsing.py`).
"""

from __future__ import annotations

import datetime as dt
import email
import hashlib
import html
import os
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from html.parser import HTMLParser

from django.utils import timezone


class MalformedMessage(Exception):
    """The message cannot be read; the text says what is wrong with it."""


@dataclass
class Attachment:
    filename: str
    content: bytes
    content_type: str

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass
class ParsedMessage:
    message: EmailMessage
    key: str
    message_id: str
    sender: str
    sender_name: str
    subject: str
    sent_at: dt.datetime | None
    attachments: list[Attachment] = field(default_factory=list)

    def header(self, name: str) -> str:
        return header_text(self.message, name)


def header_text(message: EmailMessage, name: str) -> str:
    """A header's value as text; an undecodable one reads as its raw characters instead of failing."""
    try:
        value = message.get(name)
    except (ValueError, TypeError, IndexError, LookupError):
        value = message.get_all(name, failobj=[''])[0] if hasattr(message, 'get_all') else ''
    return ' '.join(str(value or '').split())


def parse(raw: bytes) -> ParsedMessage:
    """Parse a message as read from the server. Raises MalformedMessage when it has no usable sender."""
    if not raw or not raw.strip():
        raise MalformedMessage('The message is empty.')
    message = email.message_from_bytes(raw, policy=policy.default)
    from_value = header_text(message, 'From')
    name, address = parseaddr(from_value)
    if not address or '@' not in address:
        raise MalformedMessage(f'The message has no readable sender address (From: {from_value[:200] or "missing"}).')
    message_id = header_text(message, 'Message-ID').strip()[:500]
    subject = header_text(message, 'Subject')
    return ParsedMessage(
        message=message,
        key=message_key(raw, message_id, address, header_text(message, 'Date'), subject),
        message_id=message_id,
        sender=address.strip().lower(),
        sender_name=name.strip(),
        subject=subject,
        sent_at=sent_at(header_text(message, 'Date')),
    )


def message_key(raw: bytes, message_id: str, sender: str, date: str, subject: str) -> str:
    """What identifies a message for good: its Message-ID, else a hash of sender, date, subject and the raw body."""
    if message_id:
        source = 'id:' + message_id.strip().strip('<>').lower()
    else:
        body = raw.split(b'\r\n\r\n', 1)[-1] if b'\r\n\r\n' in raw else raw.split(b'\n\n', 1)[-1]
        digest = hashlib.sha256(body).hexdigest()
        source = f'hash:{sender.lower()}|{date}|{subject}|{digest}'
    return hashlib.sha256(source.encode('utf-8', 'replace')).hexdigest()


def sent_at(value: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if timezone.is_naive(when):
        when = timezone.make_aware(when, dt.UTC)
    return when


# ------------------------------------------------------------------------------------------- automatic mail
IGNORED_PRECEDENCE = {'bulk', 'junk', 'list', 'auto_reply'}
BOUNCE_SENDERS = {'mailer-daemon', 'postmaster'}


def ignore_reason(message: EmailMessage, sender: str, own_addresses: set[str]) -> str:
    """Why the message must not reach the desk (an auto-reply, a bounce, a mailing list, our own mail), or ''."""
    auto_submitted = header_text(message, 'Auto-Submitted').lower()
    if auto_submitted and auto_submitted.split(';')[0].strip() != 'no':
        return f'Automatic message (Auto-Submitted: {auto_submitted}).'
    precedence = header_text(message, 'Precedence').lower()
    if precedence in IGNORED_PRECEDENCE:
        return f'Bulk or automatic message (Precedence: {precedence}).'
    for name in ('X-Auto-Response-Suppress', 'X-Autoreply', 'X-Autorespond'):
        if message.get(name) is not None:
            return f'Automatic message ({name} header).'
    if message.get_content_type() == 'multipart/report':
        return 'Delivery or read report (multipart/report): a bounce.'
    if sender.split('@', 1)[0].lower() in BOUNCE_SENDERS:
        return f'Bounce from {sender}.'
    if message.get('Return-Path') is not None and header_text(message, 'Return-Path').replace(' ', '') == '<>':
        return 'Bounce (empty Return-Path).'
    if sender.lower() in own_addresses:
        return f'Sent from our own address {sender}: never answered, to avoid a loop.'
    return ''


def addresses(*values: str) -> set[str]:
    """The bare lower-case addresses in `values` ('Desk <desk@x>' → 'desk@x')."""
    return {address.lower() for _, address in getaddresses([v for v in values if v]) if '@' in address}


# ----------------------------------------------------------------------------------------------- the text
class _TextExtractor(HTMLParser):
    BLOCKS = {'p', 'div', 'br', 'li', 'tr', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'pre', 'table', 'hr'}
    SKIPPED = {'script', 'style', 'head', 'title'}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.quoting = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIPPED:
            self.skipping += 1
        elif tag == 'blockquote':
            self.quoting += 1
            self.parts.append('\n')
        elif tag in self.BLOCKS:
            self.parts.append('\n')

    def handle_endtag(self, tag):
        if tag in self.SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag == 'blockquote':
            self.quoting = max(0, self.quoting - 1)
            self.parts.append('\n')
        elif tag in self.BLOCKS:
            self.parts.append('\n')

    def handle_data(self, data):
        if self.skipping:
            return
        if self.quoting:  # quoted history in HTML replies reads as "> " lines, stripped like plain-text quotes
            data = '\n'.join('> ' + line for line in data.split('\n'))
        self.parts.append(data)


def html_to_text(markup: str) -> str:
    """The readable text of an HTML body: tags, scripts and styles dropped, entities decoded. Nothing of the markup
    is kept, so what is stored is plain text whatever the mail contained."""
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    text = html.unescape(''.join(parser.parts)).replace('\xa0', ' ')
    lines = [' '.join(line.split()) for line in text.split('\n')]
    return re.sub(r'\n{3,}', '\n\n', '\n'.join(lines)).strip()


def body_text(message: EmailMessage) -> str:
    """The message's text: its plain-text part when it has one, else its HTML converted to text."""
    part = message.get_body(preferencelist=('plain', 'html'))
    if part is None:
        return ''
    try:
        content = part.get_content()
    except LookupError as error:
        raise MalformedMessage(f'The text is in an unknown character set ({part.get_content_charset()}).') from error
    if not isinstance(content, str):
        return ''
    if part.get_content_type() == 'text/html':
        return html_to_text(content)
    return content.replace('\r\n', '\n').strip()


QUOTE_HEADERS = (
    re.compile(r'^\s*On\b.{0,300}\bwrote:\s*$', re.IGNORECASE),  # Gmail, Apple Mail, Thunderbird
    re.compile(r'^\s*Le\b.{0,300}\ba écrit\s*:\s*$', re.IGNORECASE),
    re.compile(r'^\s*Am\b.{0,300}\bschrieb\b.{0,100}:\s*$', re.IGNORECASE),
    re.compile(r'^\s*-{2,}\s*Original Message\s*-{2,}\s*$', re.IGNORECASE),  # Outlook, older clients
    re.compile(r'^\s*-{2,}\s*Forwarded message\s*-{2,}\s*$', re.IGNORECASE),
    re.compile(r'^\s*_{10,}\s*$'),  # Outlook's rule above its "From: … Sent: …" block
)
OUTLOOK_FROM = re.compile(r'^\s*\*?From:\*?\s', re.IGNORECASE)
OUTLOOK_NEXT = re.compile(r'^\s*\*?(Sent|Date|To|Subject):\*?\s', re.IGNORECASE)
SIGNATURES = (
    re.compile(r'^-- ?$'),  # the standard delimiter "-- "
    re.compile(r'^\s*Sent from my \w+', re.IGNORECASE),  # iPhone, iPad, Android, BlackBerry…
    re.compile(r'^\s*Sent from (Outlook|Mail|Yahoo Mail|Samsung|my mobile)', re.IGNORECASE),
    re.compile(r'^\s*Get Outlook for (iOS|Android)', re.IGNORECASE),
    re.compile(r'^\s*Envoyé de mon \w+', re.IGNORECASE),
    re.compile(r'^\s*Von meinem \w+ gesendet', re.IGNORECASE),
)


def strip_reply(text: str) -> str:
    """A reply's own words: without the quoted history below it and without the sender's signature."""
    lines = text.replace('\r\n', '\n').split('\n')
    kept: list[str] = []
    for index, line in enumerate(lines):
        # Clients wrap a long "On … wrote:" over two lines.
        joined = f'{line} {lines[index + 1]}' if index + 1 < len(lines) else line
        if any(pattern.match(line) or pattern.match(joined) for pattern in QUOTE_HEADERS):
            break
        if OUTLOOK_FROM.match(line) and any(OUTLOOK_NEXT.match(nxt) for nxt in lines[index + 1 : index + 4]):
            break
        if any(pattern.match(line) for pattern in SIGNATURES):
            break
        if line.lstrip().startswith('>'):
            continue
        kept.append(line.rstrip())
    return re.sub(r'\n{3,}', '\n\n', '\n'.join(kept)).strip()


# ---------------------------------------------------------------------------------------------- the files
def attachments(message: EmailMessage) -> list[Attachment]:
    """The files of a message (named parts and inline images), each with a safe file name."""
    found = []
    for number, part in enumerate(message.iter_attachments(), start=1):
        content_type = part.get_content_type()
        if content_type == 'message/rfc822':
            inner = part.get_payload()
            content = (inner[0] if isinstance(inner, list) else inner).as_bytes()
        else:
            content = part.get_payload(decode=True)
        if content is None:
            continue
        found.append(
            Attachment(
                filename=safe_filename(part.get_filename(), number, content_type),
                content=content,
                content_type=content_type,
            )
        )
    return found


def safe_filename(name: str | None, number: int, content_type: str) -> str:
    import mimetypes

    name = os.path.basename((name or '').replace('\\', '/')).strip().strip('.')
    name = re.sub(r'[\x00-\x1f<>:"|?*]', '_', name)[:200]
    if not name:
        extension = '.eml' if content_type == 'message/rfc822' else (mimetypes.guess_extension(content_type) or '')
        name = f'attachment-{number}{extension}'
    return name


# --------------------------------------------------------------------------------------- record numbers
NUMBER_IN_TEXT = re.compile(r'(?<![A-Za-z0-9])([A-Za-z]{2,8})[-#]?(\d{4,12})(?![0-9])')


def numbers_in(subject: str, prefixes: set[str]) -> list[str]:
    """Reference-number-looking words of a subject whose prefix is one of `prefixes` (`[INC0001001]`, `INC-1001`),
    in order of appearance; the caller turns each into exact candidates."""
    found = []
    for prefix, digits in NUMBER_IN_TEXT.findall(subject or ''):
        if prefix.upper() in prefixes:
            word = f'{prefix.upper()}{digits}'
            if word not in found:
                found.append(word)
    return found
