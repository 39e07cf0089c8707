"""The notification kit: `notify(record, event, audience)` for every process record.

An app says what happened (`event`, a slug whose text is `templates/<app>/email/<event>.txt`) and to whom (names
of audiences: `requester`, `assignee`, `group`, `manager`, or any an app registers, such as a service's owner).
The kit resolves the audiences to addresses and writes a pending row to the outbox (`itsm.outbox.OutboxMessage`) in
the caller's transaction: a rollback drops it, a commit keeps it even when the broker is down. After commit a task
delivers it promptly; the worker renders the message, hands it to every channel (e-mail and the inbox; apps register
more) and marks the row sent together with the timeline entry, in one transaction. Anything that must go out exactly
once (SLA warnings) claims the announcement itself and calls `deliver` directly, which goes through a row too.

Delivery guarantees. Delivery locks the row (`SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has one
writer at a time), so two deliverers never send one row; the `notification-outbox` beat sweep delivers rows a lost
task or a killed worker left pending after `NOTIFY_OUTBOX_GRACE_SECONDS`, and retries transient failures with
backoff until `NOTIFY_MAX_ATTEMPTS` (then the row is marked failed, visible in the admin). A mail server's permanent
refusal (5xx) of an address is kept on the row and never retried. Channels that write to the database (the inbox)
write in the delivery's transaction, so they happen exactly once per row. The one window that cannot be closed:
the mail server has accepted an e-mail and the worker dies before the transaction commits. The row is then
delivered again, and that copy carries the same Message-ID (derived from the row's `key`), so receiving mail
systems and clients that deduplicate by Message-ID show it once. `deliver(key=...)` gives a caller's own claim
(an SLA announcement) the same stability across its retries.

Extension points, so that apps add channels without the core knowing them:

- `register_channel(channel)`: `channel(message)` receives every rendered `Message` (an in-app inbox, webhooks);
- `register_email_filter(fn)`: `fn(message)` names addresses the e-mail channel leaves out of one message (people
  who turned that kind of message off), so e-mail preferences live with the app that stores them;
- `register_event_template(event, template)`: the text of an event any record may send (a mention);
- `notify(..., people=[...], actor=...)`: named people besides the audiences (a mention), and who caused the message.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import smtplib
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from . import audit, timezones
from .audit import Actor
from .choices import TimelineKind
from .oncommit import task_after_commit, transaction_memo
from .outbox import OutboxMessage, OutboxStatus

logger = logging.getLogger(__name__)

Resolver = Callable[..., Iterable[str]]


def _emails(*people) -> list[str]:
    return [p.email for p in people if p is not None and p.email and p.is_active]


def group_addresses(group) -> list[str]:
    """A group's own address, or its active members' when it has none."""
    if group is None:
        return []
    if group.email:
        return [group.email]
    return sorted(email for email in group.members.filter(is_active=True).values_list('email', flat=True) if email)


def _restricted(record) -> bool:
    return bool(getattr(record, 'is_restricted', False))


def _group(record, group=None, **extra) -> list[str]:
    """The group's address (or its members'). A restricted record (a security incident) held by a group that is
    not an active security group does not go to its shared address: only to those members who may see it."""
    group = group or record.assignment_group
    if group is None or not _restricted(record) or (group.security and group.active):
        return group_addresses(group)
    members = group.members.filter(is_active=True).exclude(email='').prefetch_related('groups')
    return sorted(person.email for person in members if record.is_visible_to(person))


def _requester(record, **extra) -> list[str]:
    # The first requester field names the person the record is for (the caller of a ticket).
    field = record.caller_field()
    return _emails(getattr(record, field)) if field else []


def _manager(record, group=None, **extra) -> list[str]:
    """The group's manager; for a restricted record, only when they may see it."""
    group = group or record.assignment_group
    manager = group.manager if group is not None else None
    if manager is not None and _restricted(record) and not record.is_visible_to(manager):
        return []
    return _emails(manager)


_audiences: dict[str, Resolver] = {
    'requester': _requester,
    'assignee': lambda record, **extra: _emails(record.assignee),
    'group': _group,
    'manager': _manager,
}


def register_audience(name: str, resolver: Resolver) -> None:
    """Let `notify(..., audience=[name])` reach whom `resolver(record, **extra)` returns."""
    _audiences[name] = resolver


def resolve(record, audience: Iterable[str], **extra) -> dict[str, list[str]]:
    """Addresses per audience name (names that reach nobody are left out)."""
    found = {}
    for name in audience:
        try:
            resolver = _audiences[name]
        except KeyError:
            raise ValueError(f'Unknown audience "{name}".') from None
        addresses = sorted(set(resolver(record, **extra)))
        if addresses:
            found[name] = addresses
    return found


@dataclass
class Message:
    """One rendered notification, as every channel receives it."""

    record: Any
    event: str
    subject: str
    body: str
    recipients: list[str]
    url: str
    public: bool
    data: dict[str, Any] = field(default_factory=dict)
    label: str = ''
    # Ids of people named by `notify(people=...)`, reached even without an address, and of who caused the message.
    people: list[int] = field(default_factory=list)
    actor_id: int | None = None
    # The body rendered in a recipient's own time zone, by address, where it differs from `body` (the desk's zone).
    bodies: dict[str, str] = field(default_factory=dict)
    # A message that must reach its recipients (an on-call page): no e-mail filter (preference) leaves anyone out.
    mandatory: bool = False
    # The timeline entry's text (the subject when empty).
    summary: str = ''
    # The outbox row: `key` is the stable identity channels use to send it once (the e-mails' Message-ID);
    # `emailed` and `refused` carry what the mail server accepted or refused for good across attempts.
    key: str = ''
    outbox_id: int | None = None
    emailed: set[str] = field(default_factory=set)
    refused: dict[str, str] = field(default_factory=dict)


EmailFilter = Callable[[Message], Iterable[str]]
_email_filters: list[EmailFilter] = []


def register_email_filter(email_filter: EmailFilter) -> None:
    """Leave the addresses `email_filter(message)` returns out of that message's e-mail."""
    if email_filter not in _email_filters:
        _email_filters.append(email_filter)


def email_recipients(message: Message) -> list[str]:
    """The message's addresses that still want it by e-mail (all of them for a mandatory message)."""
    if message.mandatory:
        return list(message.recipients)
    left_out = {address for email_filter in _email_filters for address in email_filter(message)}
    return [address for address in message.recipients if address not in left_out]


def _mail_domain() -> str:
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    domain = address.rpartition('@')[2].strip().lower()
    return re.sub(r'[^a-z0-9.-]', '', domain) or 'pitcrew.invalid'


def message_id(key: str, recipients: Iterable[str]) -> str:
    """The Message-ID of the e-mail of notification `key` to `recipients`: the same on every attempt, so a copy
    sent again after a worker died between the mail server's acceptance and the commit is recognised as one."""
    digest = hashlib.sha256(','.join(sorted(recipients)).encode()).hexdigest()[:12]
    return f'<{re.sub(r"[^A-Za-z0-9.-]", "-", key)}.{digest}@{_mail_domain()}>'


def _permanent(exc: Exception) -> str:
    """The mail server's reply when it refused the message for good (5xx for this message), else ''. Refusals
    of the whole server (authentication, the sender address) are configuration to fix, so they are retried."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        replies = exc.recipients.values()
        if replies and all(500 <= int(code) < 600 for code, _ in replies):
            return '; '.join(f'{code} {_text(reply)}' for code, reply in replies)
        return ''
    if isinstance(exc, smtplib.SMTPAuthenticationError | smtplib.SMTPSenderRefused):
        return ''
    if isinstance(exc, smtplib.SMTPResponseException) and 500 <= exc.smtp_code < 600:
        return f'{exc.smtp_code} {_text(exc.smtp_error)}'
    return ''


def _text(reply) -> str:
    return reply.decode(errors='replace') if isinstance(reply, bytes) else str(reply)


def send_email(message: Message) -> None:
    """The e-mail channel: one e-mail per body (recipients in other time zones get their own), each with the
    message's stable Message-ID; addresses accepted or refused for good on an earlier attempt are skipped."""
    by_body: dict[str, list[str]] = {}
    for address in email_recipients(message):
        if address not in message.emailed and address not in message.refused:
            by_body.setdefault(message.bodies.get(address, message.body), []).append(address)
    for body, recipients in by_body.items():
        headers = {'Message-ID': message_id(message.key, recipients)} if message.key else {}
        try:
            EmailMultiAlternatives(subject=message.subject, body=body, to=recipients, headers=headers).send()
        except Exception as exc:
            reply = _permanent(exc)
            if not reply:
                raise
            message.refused.update(dict.fromkeys(recipients, reply[:500]))
            continue
        message.emailed.update(recipients)


_channels: list[Callable[[Message], None]] = [send_email]


def register_channel(channel: Callable[[Message], None]) -> None:
    """Deliver every notification through `channel` too (webhooks, paging)."""
    if channel not in _channels:
        _channels.append(channel)


_event_templates: dict[str, str] = {}


def register_event_template(event: str, template: str) -> None:
    """Render `event` with `template` on any record (instead of `<app>/email/<event>.txt`)."""
    _event_templates[event] = template


# Keys of `extra` that carry the named people and the actor to the worker; channels get them on the `Message`.
PEOPLE_KEY, ACTOR_KEY = 'notify_people', 'notify_actor'


def site_url(path: str) -> str:
    return f'{settings.SITE_URL}{path}'


def notify(
    record,
    event: str,
    audience: Iterable[str],
    *,
    label: str = '',
    extra: dict | None = None,
    public: bool = False,
    people: Iterable = (),
    actor=None,
) -> list[str]:
    """Tell `audience` about `event` on `record`; returns the addresses it will go to.

    Writes a pending outbox row in the caller's transaction and queues its delivery after commit (so nothing goes
    out for work that rolls back, and a broker that is down delays the message instead of losing it).
    `label` is the event's text in the subject; `public` marks the timeline entry as one the requester sees (a
    message to them); `extra` reaches the template and is kept with the entry. `people` are persons told besides
    the audiences (by address, and by name to channels such as the inbox); `actor` is the person who caused it.
    """
    by_audience = resolve(record, audience)
    people = [person for person in people if person is not None and person.is_active]
    recipients = sorted(
        {address for addresses in by_audience.values() for address in addresses} | set(_emails(*people))
    )
    if not recipients and not people:
        return []
    extra = dict(extra or {})
    if people:
        extra[PEOPLE_KEY] = sorted(person.pk for person in people)
    if actor is not None:
        extra[ACTOR_KEY] = actor.pk
    row = _store(record, event, recipients, label=label, extra=extra, public=public)
    _kick_after_commit(row.pk)
    return recipients


def _grace() -> dt.timedelta:
    return dt.timedelta(seconds=settings.NOTIFY_OUTBOX_GRACE_SECONDS)


def _store(record, event: str, recipients, *, label: str, extra: dict, public: bool, **fields) -> OutboxMessage:
    now = timezone.now()
    return OutboxMessage.objects.create(
        content_type=ContentType.objects.get_for_model(record),
        object_id=record.pk,
        event=event[:60],
        label=label,
        recipients=list(recipients),
        public=public,
        extra=extra,
        created_at=now,
        # Delivered at once by the task queued after commit; the sweep takes it only when that task never ran.
        next_attempt_at=now + _grace(),
        **{'key': uuid.uuid4().hex, **fields},
    )


def _kick_after_commit(outbox_id: int) -> None:
    """One task after the commit for every row the transaction wrote (a routed create writes two: the caller's
    receipt and the group's assignment), rather than one message to the broker per row."""
    from .tasks import deliver_notification_task

    outbox_ids = transaction_memo('notify:outbox-ids', list)
    outbox_ids.append(outbox_id)
    # The rows have committed by then: a broker that cannot take the task is logged and the sweep delivers them.
    task_after_commit('notify:deliver', deliver_notification_task, outbox_ids)


def subject_for(record, label: str) -> str:
    return f'[{record.number}] {label}: {record.short_description}'[:200]


def render(
    record,
    event: str,
    recipients: list[str],
    *,
    label: str,
    extra: dict | None = None,
    public: bool = False,
    subject: str = '',
    template: str = '',
    context: dict | None = None,
    data: dict | None = None,
    summary: str = '',
    mandatory: bool = False,
) -> Message | None:
    """The message every channel receives (None when it reaches nobody)."""
    extra = dict(extra or {})
    people = list(extra.pop(PEOPLE_KEY, []))
    actor_id = extra.pop(ACTOR_KEY, None)
    if not recipients and not people:
        return None
    path = record.notification_path(requester=public) if hasattr(record, 'notification_path') else ''
    path = path or record.get_absolute_url()
    # One line: a title typed with line breaks must not break the e-mail's headers (Django refuses them outright).
    subject = ' '.join((subject or subject_for(record, label)).split())[:200]
    template = template or _event_templates.get(event) or f'{record._meta.app_label}/email/{event}.txt'
    values = {'record': record, record._meta.model_name: record, 'event': event, 'event_label': label}
    with timezone.override(timezones.desk_zone()):
        body = render_to_string(template, {**values, 'url': site_url(path), **extra, **(context or {})})
    bodies = {}
    for zone, addresses in timezones.zones_of_addresses(recipients):
        if zone != timezones.desk_zone():
            with timezone.override(zone):
                text = render_to_string(template, {**values, 'url': site_url(path), **extra, **(context or {})})
            bodies.update(dict.fromkeys(addresses, text))
    return Message(
        record,
        event,
        subject,
        body,
        list(recipients),
        site_url(path),
        public,
        {'event': event, **(data or {})},
        label=label,
        people=people,
        actor_id=actor_id,
        bodies=bodies,
        mandatory=mandatory,
        summary=summary,
    )


def _hand_to_channels(message: Message) -> None:
    """Every channel, then the timeline entry (in the caller's transaction)."""
    for channel in _channels:
        channel(message)
    audit.record(
        message.record,
        actor=Actor.system(),
        kind=TimelineKind.NOTIFICATION,
        message=message.summary or message.subject,
        data={
            **message.data,
            'recipients': list(message.recipients),
            **({'people': message.people} if message.people else {}),
        },
        public=message.public,
    )


def deliver(
    record,
    event: str,
    recipients: list[str],
    *,
    label: str,
    extra: dict | None = None,
    public: bool = False,
    subject: str = '',
    template: str = '',
    context: dict | None = None,
    data: dict | None = None,
    summary: str = '',
    mandatory: bool = False,
    key: str = '',
) -> Message | None:
    """Render one notification and send it now through every channel, recording it on the record's timeline
    (`summary` there, the subject by default), in the caller's transaction.

    It goes through an outbox row like every notification: if the mail server fails for now, the row stays
    pending and the outbox retries it (channels and timeline entry included) instead of failing the caller. `key`
    names the caller's own claim (`sla-event-42`): a second call with a key already handed over sends nothing and
    returns None, and the e-mails' Message-ID derives from it, so a copy sent again after a rollback is one.
    """
    message = render(
        record,
        event,
        recipients,
        label=label,
        extra=extra,
        public=public,
        subject=subject,
        template=template,
        context=context,
        data=data,
        summary=summary,
        mandatory=mandatory,
    )
    if message is None:
        return None
    rendered = {
        'subject': message.subject,
        'body': message.body,
        'bodies': message.bodies,
        'url': message.url,
        'data': message.data,
        'summary': message.summary,
        'mandatory': message.mandatory,
        'people': message.people,
        'actor_id': message.actor_id,
    }
    with transaction.atomic():
        try:
            with transaction.atomic():
                fields = {'rendered': rendered, **({'key': key[:100]} if key else {})}
                row = _store(record, event, message.recipients, label=label, extra={}, public=public, **fields)
        except IntegrityError:
            return None  # this key was handed over already
        message.key, message.outbox_id = row.key, row.pk
        _attempt(row, lambda: message)
    return message


def _message_of(row: OutboxMessage, record) -> Message | None:
    stored = row.rendered
    if stored is None:
        message = render(record, row.event, row.recipients, label=row.label, extra=row.extra, public=row.public)
    else:
        message = Message(
            record,
            row.event,
            stored['subject'],
            stored['body'],
            list(row.recipients),
            stored['url'],
            row.public,
            stored['data'],
            label=row.label,
            people=stored.get('people', []),
            actor_id=stored.get('actor_id'),
            bodies=stored.get('bodies', {}),
            mandatory=stored.get('mandatory', False),
            summary=stored.get('summary', ''),
        )
    if message is not None:
        message.key, message.outbox_id = row.key, row.pk
        message.emailed, message.refused = set(row.emailed), dict(row.refused)
    return message


def retry_delay(attempts: int) -> dt.timedelta:
    """Backoff after the `attempts`-th failure: NOTIFY_RETRY_SECONDS doubled each time, at most an hour."""
    return dt.timedelta(seconds=min(settings.NOTIFY_RETRY_SECONDS * 2 ** (attempts - 1), 3600))


def _attempt(row: OutboxMessage, build: Callable[[], Message | None]) -> bool:
    """One delivery attempt of a row the caller holds (locked, or created in its own transaction)."""
    message = None
    try:
        with transaction.atomic():  # the channels' writes and the entry go, or stay, together
            message = build()
            if message is not None:
                _hand_to_channels(message)
    except Exception as exc:
        _failed(row, message, exc)
        return False
    now = timezone.now()
    row.status, row.sent_at, row.next_attempt_at = OutboxStatus.SENT, now, None
    row.attempts += 1
    if message is not None:
        row.emailed, row.refused = sorted(message.emailed), message.refused
        if message.refused:
            row.last_error = 'Refused for good: ' + '; '.join(f'{a}: {r}' for a, r in sorted(message.refused.items()))
            logger.warning('Notification %s: the mail server refused %s', row.key, row.last_error)
    row.save(update_fields=['status', 'sent_at', 'next_attempt_at', 'attempts', 'emailed', 'refused', 'last_error'])
    return True


def _failed(row: OutboxMessage, message: Message | None, exc: Exception) -> None:
    now = timezone.now()
    row.attempts += 1
    if message is not None:
        row.emailed, row.refused = sorted(message.emailed), message.refused
    row.last_error = f'{type(exc).__name__}: {exc}'[:2000]
    if row.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
        row.status, row.failed_at, row.next_attempt_at = OutboxStatus.FAILED, now, None
        logger.error('Notification %s (%s) given up after %s attempts: %s', row.key, row.event, row.attempts, exc)
    else:
        row.next_attempt_at = now + retry_delay(row.attempts)
        logger.warning(
            'Notification %s (%s) not delivered (attempt %s, next at %s): %s',
            row.key,
            row.event,
            row.attempts,
            row.next_attempt_at.isoformat(),
            exc,
        )
    row.save(update_fields=['status', 'failed_at', 'next_attempt_at', 'attempts', 'emailed', 'refused', 'last_error'])


def _record_of(row: OutboxMessage):
    model = ContentType.objects.get_for_id(row.content_type_id).model_class()
    return model._default_manager.filter(pk=row.object_id).first() if model is not None else None


def deliver_outbox(outbox_id: int, *, now: dt.datetime | None = None) -> str:
    """Deliver one pending row if nobody else is (the worker's half of `notify`, and the sweep's): lock it,
    render it from the record as it is now, send, and mark it sent with the timeline entry in one transaction.
    Returns the row's status afterwards, or 'skipped' (taken by another deliverer, already done, or not due)."""
    now = now or timezone.now()
    with transaction.atomic():
        row = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=outbox_id, status=OutboxStatus.PENDING)
            .filter(Q(attempts=0) | Q(next_attempt_at__lte=now))
            .first()
        )
        if row is None:
            return 'skipped'
        record = _record_of(row)
        if record is None:
            row.status, row.failed_at, row.next_attempt_at = OutboxStatus.FAILED, now, None
            row.last_error = 'The record no longer exists.'
            row.save(update_fields=['status', 'failed_at', 'next_attempt_at', 'last_error'])
            return row.status
        _attempt(row, lambda: _message_of(row, record))
        return row.status


def outbox_sweep(*, now: dt.datetime | None = None, limit: int = 500, budget_seconds: float = 45) -> dict[str, int]:
    """The `notification-outbox` beat sweep: deliver the rows that are due (kicks lost with the broker or a
    killed worker, retries whose time came), then purge sent rows past `NOTIFY_OUTBOX_RETENTION_DAYS`. Safe to run
    in parallel with the tasks and with itself. Stops after `budget_seconds` so runs do not pile up."""
    now = now or timezone.now()
    started = time.monotonic()
    due = list(
        OutboxMessage.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now)
        .order_by('next_attempt_at', 'pk')
        .values_list('pk', flat=True)[:limit]
    )
    outcome: Counter[str] = Counter()
    for outbox_id in due:
        if time.monotonic() - started > budget_seconds:
            break
        outcome[deliver_outbox(outbox_id, now=now)] += 1
    outcome['purged'] = purge_sent(now=now)
    return dict(outcome)


def purge_sent(*, now: dt.datetime | None = None, batch: int = 5000) -> int:
    """Delete sent rows made before the retention (failed rows stay for an administrator to look at). By
    `created_at`, which is indexed: the sweep runs every minute over a table of a month of notifications."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.NOTIFY_OUTBOX_RETENTION_DAYS)
    old = list(
        OutboxMessage.objects.filter(status=OutboxStatus.SENT, created_at__lt=cutoff)
        .order_by()
        .values_list('pk', flat=True)[:batch]
    )
    return OutboxMessage.objects.filter(pk__in=old).delete()[0] if old else 0


def deliver_queued(content_type_id: int, object_id: int, event: str, recipients, label, extra, public) -> bool:
    """A notification queued by a release before the outbox (a task still on the broker): through a row now."""
    model = ContentType.objects.get_for_id(content_type_id).model_class()
    record = model._default_manager.filter(pk=object_id).first()
    if record is None:
        return False
    row = _store(record, event, recipients, label=label, extra=dict(extra or {}), public=public)
    return deliver_outbox(row.pk) == OutboxStatus.SENT
