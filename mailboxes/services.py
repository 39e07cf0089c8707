"""Inbound e-mail: polling mailboxes and turning each new message into a ticket, a comment, or a recorded refusal.

Every message is claimed first by its `message_key` (unique), in its own transaction: a message read twice (a second
poll, a second mailbox, two workers at once) is processed once. What the message does happens in a savepoint
inside that transaction; when anything in it fails, the savepoint is rolled back (no half-opened ticket, no
half-registered person) and the claim records `failed` with the reason.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
import ssl
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from itsm import conversation, search
from itsm import services as core_services
from itsm.audit import Actor
from itsm.choices import Channel, Role
from itsm.errors import ApplicationError, NotAllowed
from itsm.models import User
from itsm.records import ProcessRecord

from . import parsing
from .choices import AfterProcessing, Outcome, Security, UnknownSenders
from .models import InboundMessage, Mailbox

logger = logging.getLogger(__name__)


# ----------------------------------------------------------------------------------------- the mailboxes
def own_addresses() -> set[str]:
    """Addresses mail from which is never processed: the desk's sender address and every mailbox's address."""
    found = parsing.addresses(settings.DEFAULT_FROM_EMAIL, settings.SERVER_EMAIL)
    found.update(a.lower() for a in Mailbox.objects.values_list('address', flat=True) if a)
    return found


# ------------------------------------------------------------------------------------------- one message
@dataclass
class Result:
    outcome: str
    reason: str = ''
    record: ProcessRecord | None = None
    sender_user: User | None = None


def process_message(mailbox: Mailbox, raw: bytes, *, own: set[str] | None = None) -> InboundMessage | None:
    """Process one raw message from `mailbox`. Returns its log row, or None when it was processed before."""
    received = timezone.now()
    try:
        parsed = parsing.parse(raw)
    except parsing.MalformedMessage as error:
        return _record_unreadable(mailbox, raw, str(error), received)
    own = own_addresses() if own is None else own
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = InboundMessage.objects.create(
                    mailbox=mailbox,
                    message_key=parsed.key,
                    message_id=parsed.message_id,
                    sender=parsed.sender[:254],
                    subject=parsed.subject[:500],
                    sent_at=parsed.sent_at,
                    received_at=received,
                    outcome=Outcome.FAILED,
                    reason='Being processed.',
                )
        except IntegrityError:
            logger.info('mail %s from %s already processed; skipped', parsed.message_id or parsed.key, parsed.sender)
            return None
        try:
            with transaction.atomic():
                result = _handle(mailbox, parsed, own)
        except (ValidationError, ApplicationError, parsing.MalformedMessage, LookupError, ValueError) as error:
            result = Result(Outcome.FAILED, _error_text(error))
        except Exception as error:  # anything else: the message fails, the poll goes on
            logger.exception('mail %s from %s failed', parsed.message_id, parsed.sender)
            result = Result(Outcome.FAILED, f'Unexpected error: {type(error).__name__}: {error}')
        row.outcome, row.reason = result.outcome, result.reason[:2000]
        row.sender_user = result.sender_user if result.sender_user and result.sender_user.pk else None
        if result.record is not None:
            row.content_type = ContentType.objects.get_for_model(result.record)
            row.object_id, row.record_number = result.record.pk, result.record.number
        row.save()
    log = logger.warning if row.outcome in (Outcome.FAILED, Outcome.REFUSED) else logger.info
    log('mail %s from %s: %s %s %s', row.message_id, row.sender, row.outcome, row.record_number, row.reason)
    return row


def _record_unreadable(mailbox: Mailbox, raw: bytes, reason: str, received) -> InboundMessage | None:
    key = parsing.message_key(raw or b'', '', '', '', '')
    try:
        with transaction.atomic():
            row = InboundMessage.objects.create(
                mailbox=mailbox, message_key=key, received_at=received, outcome=Outcome.FAILED, reason=reason
            )
    except IntegrityError:
        return None
    logger.warning('unreadable mail in %s: %s', mailbox, reason)
    return row


def _error_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        if hasattr(error, 'message_dict'):
            return ' '.join(
                f'{k}: {" ".join(v)}' if k != '__all__' else ' '.join(v) for k, v in error.message_dict.items()
            )
        return ' '.join(error.messages)
    if isinstance(error, ApplicationError):
        return str(error.detail)
    return str(error)


def _handle(mailbox: Mailbox, parsed: parsing.ParsedMessage, own: set[str]) -> Result:
    reason = parsing.ignore_reason(parsed.message, parsed.sender, own)
    if reason:
        return Result(Outcome.IGNORED, reason)
    sender, refusal = _sender(mailbox, parsed)
    if sender is None:
        return Result(Outcome.REFUSED, refusal)
    actor = Actor(user=sender, channel=Channel.EMAIL)
    text = parsing.body_text(parsed.message)
    files = parsing.attachments(parsed.message)
    record = _named_record(parsed.subject)
    if record is not None:
        if not (record.may_work(sender) or record.is_party(sender)):
            reason = f'{parsed.sender} is not a party to {record.number} and may not comment on it.'
            return Result(Outcome.REFUSED, reason, None, sender)
        if record.is_final and not record.may_work(sender):
            # Closed is final: the caller's answer opens a new ticket that names the old one (as the portal,
            # which offers no comment on a closed ticket).
            text = f'Follow-up to {record.number}, which is closed.\n\n{parsing.strip_reply(text)}'.strip()
            return _open(mailbox, parsed, actor, text, files, sender)
        return _comment(record, actor, parsing.strip_reply(text), files, sender)
    return _open(mailbox, parsed, actor, text, files, sender)


def _sender(mailbox: Mailbox, parsed: parsing.ParsedMessage) -> tuple[User | None, str]:
    known = _known_sender(parsed.sender)
    if known is not None:
        return known
    if mailbox.unknown_senders != UnknownSenders.CREATE:
        return None, f'Unknown sender {parsed.sender}: this mailbox accepts mail from known people only.'
    first, _, last = parsed.sender_name.partition(' ')
    try:
        with transaction.atomic():
            user = core_services.user_create(
                username=_free_username(parsed.sender),
                email=parsed.sender,
                first_name=first[:150],
                last_name=last[:150],
                roles=(Role.REQUESTER,),
                actor=Actor.system(channel=Channel.EMAIL),
            )
    except (IntegrityError, ValidationError):
        # Another message from the same newcomer registered them at the same moment: use that account.
        known = _known_sender(parsed.sender)
        if known is None:
            raise
        return known
    return user, ''


def _known_sender(address: str) -> tuple[User | None, str] | None:
    people = list(User.objects.filter(email__iexact=address).order_by('-is_active', 'pk')[:1])
    if not people:
        return None
    if not people[0].is_active:
        return None, f'{address} belongs to a deactivated account.'
    return people[0], ''


def _free_username(address: str) -> str:
    base = (slugify(address.split('@', 1)[0]).replace('-', '.') or 'requester')[:140]
    name, number = base, 1
    while User.objects.filter(username__iexact=name).exists():
        number += 1
        name = f'{base}.{number}'
    return name


def _named_record(subject: str) -> ProcessRecord | None:
    """The process record the subject names: its first reference number that names an existing record."""
    prefixes = search.known_prefixes()
    targets = [t for t in search.targets() if t.number_fields and issubclass(t.model, ProcessRecord)]
    for word in parsing.numbers_in(subject, prefixes):
        candidates = search.number_candidates(word, prefixes)
        for target in targets:
            record = target.model._default_manager.filter(target.number_condition(candidates)).first()
            if record is not None:
                return record
    return None


def _attach(record, actor: Actor, files: list[parsing.Attachment]) -> list[str]:
    """Store the files within the limits; the notes say which were left out and why."""
    left_out = []
    limit = settings.ATTACHMENT_MAX_BYTES
    for index, item in enumerate(files):
        if index >= settings.MAILBOX_MAX_ATTACHMENTS:
            left_out.append(f'{item.filename} (more than {settings.MAILBOX_MAX_ATTACHMENTS} files in one message)')
            continue
        if item.size > limit:
            left_out.append(f'{item.filename} ({_size(item.size)}, over the {_size(limit)} limit)')
            continue
        upload = SimpleUploadedFile(item.filename, item.content, content_type=item.content_type)
        try:
            with transaction.atomic():
                conversation.attach(record, actor=actor, upload=upload)
        except ValidationError as error:
            left_out.append(f'{item.filename} ({_error_text(error).removeprefix("file: ")})')
    return left_out


def _size(size: int) -> str:
    return f'{size / (1024 * 1024):.1f} MB' if size >= 1024 * 1024 else f'{max(1, size // 1024)} KB'


def _left_out_note(left_out: list[str]) -> str:
    return 'Files left out of the e-mail: ' + '; '.join(left_out) + '.' if left_out else ''


def _comment(record, actor: Actor, text: str, files, sender: User) -> Result:
    # Files first, so the comment can say which were left out; the comment then reaches the desk (and resumes a
    # ticket waiting on the caller) through the kit's `commented` hooks, exactly like a portal reply.
    left_out = _attach(record, actor, files)
    stored = len(files) - len(left_out)
    body = text or (f'(Sent {stored} file{"s" if stored != 1 else ""} by e-mail.)' if files else '')
    note = _left_out_note(left_out)
    body = f'{body}\n\n{note}'.strip() if note else body
    if not body:
        return Result(Outcome.IGNORED, 'The reply has no text of its own and no files.', record, sender)
    try:
        conversation.comment(record, actor=actor, body=body)
    except NotAllowed as error:
        return Result(Outcome.REFUSED, str(error.detail), None, sender)
    return Result(Outcome.COMMENTED, note, record, sender)


def _open(mailbox: Mailbox, parsed: parsing.ParsedMessage, actor: Actor, text: str, files, sender: User) -> Result:
    from incidents.choices import TicketChannel
    from incidents.services import ticket_assign, ticket_create

    subject = re.sub(r'^\s*((re|fwd?|aw|wg|tr)\s*:\s*)+', '', parsed.subject, flags=re.IGNORECASE).strip()
    ticket = ticket_create(
        actor=actor,
        channel=TicketChannel.EMAIL,
        caller=sender,
        short_description=(subject or f'E-mail from {parsed.sender}')[:200],
        description=text,
        impact=mailbox.impact or None,
        urgency=mailbox.urgency or None,
        service=mailbox.service,
        route=mailbox.support_group is None,
    )
    if mailbox.support_group is not None:  # the mailbox's group, set by the desk's configuration, not the sender
        ticket = ticket_assign(
            ticket=ticket,
            actor=Actor.system(channel=Channel.EMAIL),
            group=mailbox.support_group,
            reason=f'Mail to {mailbox.name} goes to {mailbox.support_group}.',
        )
    left_out = _attach(ticket, actor, files)
    note = _left_out_note(left_out)
    if note:
        conversation.comment(ticket, actor=Actor.system(channel=Channel.EMAIL), body=note, internal=True)
    return Result(Outcome.OPENED, note, ticket, sender)


# ------------------------------------------------------------------------------------------------ polling
@dataclass
class PollResult:
    mailbox: str
    seen: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    skipped: int = 0
    error: str = ''


def connect(mailbox: Mailbox) -> imaplib.IMAP4:
    """A logged-in connection to the mailbox's server, encrypted unless the mailbox says plain."""
    timeout = settings.MAILBOX_IMAP_TIMEOUT
    if mailbox.security == Security.IMAPS:
        conn = imaplib.IMAP4_SSL(mailbox.host, mailbox.port, ssl_context=_tls_context(), timeout=timeout)
    else:
        conn = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=timeout)
        if mailbox.security == Security.STARTTLS:
            conn.starttls(ssl_context=_tls_context())
    try:
        conn.login(mailbox.username, mailbox.secret())
        # Servers announce more after login (MOVE among them): ask again rather than trust the greeting's list.
        data = _ok(conn.capability(), 'Asking the server what it supports')
        conn.capabilities = tuple(data[0].decode().upper().split())
    except Exception:
        conn.shutdown()
        raise
    return conn


def _tls_context() -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=settings.MAILBOX_CA_FILE or None)
    return context


def _quote(folder: str) -> str:
    return '"' + folder.replace('\\', '\\\\').replace('"', '\\"') + '"'


def _ok(answer, what: str):
    status, data = answer
    if status != 'OK':
        detail = b' '.join(d for d in data if isinstance(d, bytes)).decode(errors='replace')
        raise imaplib.IMAP4.error(f'{what} failed: {detail}')
    return data


def mailbox_poll(mailbox: Mailbox) -> PollResult:
    """Read the mailbox's unread mail, process each message, then mark, move or delete it as the mailbox says.

    A message is acted on only once it is recorded (whatever the outcome), so mail read while the database was
    unreachable stays unread for the next poll. Connection and server errors are kept as the mailbox's last error.
    """
    result = PollResult(mailbox=mailbox.name)
    own = own_addresses()
    try:
        conn = connect(mailbox)
    except (OSError, imaplib.IMAP4.error, ValidationError) as error:
        return _poll_done(mailbox, result, f'Cannot log in to {mailbox.host}:{mailbox.port}: {_error_text(error)}')
    error_text = ''
    try:
        _ok(conn.select(_quote(mailbox.folder)), f'Opening folder {mailbox.folder}')
        uids = _ok(conn.uid('SEARCH', None, 'UNSEEN'), 'Searching unread mail')[0].split()
        uids = uids[: settings.MAILBOX_POLL_BATCH]
        if mailbox.after_processing == AfterProcessing.MOVE and uids:
            conn.create(_quote(mailbox.move_to))  # fails harmlessly when the folder exists
        deleted = False
        for uid in uids:
            data = _ok(conn.uid('FETCH', uid, '(BODY.PEEK[])'), f'Fetching message {uid.decode()}')
            raw = next((item[1] for item in data if isinstance(item, tuple)), None)
            if raw is None:
                continue
            result.seen += 1
            row = process_message(mailbox, raw, own=own)
            if row is None:
                result.skipped += 1
            else:
                result.outcomes[row.outcome] = result.outcomes.get(row.outcome, 0) + 1
            deleted |= _after(conn, mailbox, uid)
        if deleted:
            conn.expunge()
    except (OSError, imaplib.IMAP4.error) as error:
        error_text = f'{mailbox.host}:{mailbox.port}: {error}'
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            conn.logout()
    return _poll_done(mailbox, result, error_text)


def _after(conn: imaplib.IMAP4, mailbox: Mailbox, uid: bytes) -> bool:
    """Mark, move or flag the message for deletion; True when an expunge is needed."""
    if mailbox.after_processing == AfterProcessing.MOVE:
        _ok(conn.uid('STORE', uid, '+FLAGS', '(\\Seen)'), 'Marking message read')  # read where it lands too
        if 'MOVE' in conn.capabilities:
            _ok(conn.uid('MOVE', uid, _quote(mailbox.move_to)), f'Moving message to {mailbox.move_to}')
            return False
        _ok(conn.uid('COPY', uid, _quote(mailbox.move_to)), f'Copying message to {mailbox.move_to}')
        _ok(conn.uid('STORE', uid, '+FLAGS', '(\\Deleted \\Seen)'), 'Flagging message deleted')
        return True
    if mailbox.after_processing == AfterProcessing.DELETE:
        _ok(conn.uid('STORE', uid, '+FLAGS', '(\\Deleted \\Seen)'), 'Flagging message deleted')
        return True
    _ok(conn.uid('STORE', uid, '+FLAGS', '(\\Seen)'), 'Marking message read')
    return False


def _poll_done(mailbox: Mailbox, result: PollResult, error: str) -> PollResult:
    result.error = error
    Mailbox.objects.filter(pk=mailbox.pk).update(last_polled_at=timezone.now(), last_error=error[:2000])
    mailbox.refresh_from_db(fields=['last_polled_at', 'last_error'])
    if error:
        logger.warning('mailbox %s: %s', mailbox, error)
    else:
        logger.info('mailbox %s: %s messages, %s', mailbox, result.seen, result.outcomes or 'nothing new')
    return result


def poll_all() -> list[PollResult]:
    """Poll every active mailbox; one mailbox's failure does not stop the others."""
    return [mailbox_poll(mailbox) for mailbox in Mailbox.objects.filter(active=True).order_by('pk')]
