"""Test e-mails built the way mail clients write them."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from django.utils import timezone


def build(
    *,
    sender: str = 'Ada Lovelace <ada@example.com>',
    to: str = 'Service Desk <desk@example.org>',
    subject: str = 'Printer on floor 3 is jammed',
    body: str = 'The printer says paper jam but there is no paper inside.',
    html: str | None = None,
    message_id: str | None = 'auto',
    headers: dict[str, str] | None = None,
    files: list[tuple[str, bytes, str]] = (),
) -> bytes:
    message = EmailMessage()
    message['From'] = sender
    message['To'] = to
    message['Subject'] = subject
    message['Date'] = format_datetime(timezone.now())
    if message_id == 'auto':
        message['Message-ID'] = make_msgid(domain='mail.example.com')
    elif message_id:
        message['Message-ID'] = message_id
    for name, value in (headers or {}).items():
        message[name] = value
    if body is not None:
        message.set_content(body)
    if html is not None:
        if body is None:
            message.set_content(html, subtype='html')
        else:
            message.add_alternative(html, subtype='html')
    for filename, content, content_type in files:
        maintype, subtype = content_type.split('/', 1)
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()
