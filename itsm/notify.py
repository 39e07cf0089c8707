"""The notification kit: `notify(record, event, audience)` for every process record.

An app says what happened (`event`, a slug whose text is `templates/<app>/email/<event>.txt`) and to whom (names
of audiences: `requester`, `assignee`, `group`, `manager`, or any an app registers, such as a service's owner).
The kit resolves the audiences to addresses, queues the delivery once the surrounding transaction commits (never
for uncommitted data), and the worker renders the message, hands it to every channel (e-mail today; webhooks
and on-call paging register their own) and writes the timeline entry. Anything that must go out exactly once
(SLA warnings) claims the announcement itself and calls `deliver` directly.

Extension points, so that apps add channels without the core knowing them:

- `register_channel(channel)`: `channel(message)` receives every rendered `Message` (an in-app inbox, webhooks);
- `register_email_filter(fn)`: `fn(message)` names addresses the e-mail channel leaves out of one message (people
  who turned that kind of message off), so e-mail preferences live with the app that stores them;
- `register_event_template(event, template)`: the text of an event any record may send (a mention);
- `notify(..., people=[...], actor=...)`: named people besides the audiences (a mention), and who caused the message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from . import audit, timezones
from .audit import Actor
from .choices import TimelineKind

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


def _requester(record, **extra) -> list[str]:
    # The first requester field names the person the record is for (the caller of a ticket).
    field = record.caller_field()
    return _emails(getattr(record, field)) if field else []


def _manager(record, group=None, **extra) -> list[str]:
    group = group or record.assignment_group
    return _emails(group.manager) if group is not None else []


_audiences: dict[str, Resolver] = {
    'requester': _requester,
    'assignee': lambda record, **extra: _emails(record.assignee),
    'group': lambda record, group=None, **extra: group_addresses(group or record.assignment_group),
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


EmailFilter = Callable[[Message], Iterable[str]]
_email_filters: list[EmailFilter] = []


def register_email_filter(email_filter: EmailFilter) -> None:
    """Leave the addresses `email_filter(message)` returns out of that message's e-mail."""
    if email_filter not in _email_filters:
        _email_filters.append(email_filter)


def email_recipients(message: Message) -> list[str]:
    """The message's addresses that still want it by e-mail."""
    left_out = {address for email_filter in _email_filters for address in email_filter(message)}
    return [address for address in message.recipients if address not in left_out]


def send_email(message: Message) -> None:
    by_body: dict[str, list[str]] = {}
    for address in email_recipients(message):
        by_body.setdefault(message.bodies.get(address, message.body), []).append(address)
    for body, recipients in by_body.items():
        EmailMultiAlternatives(subject=message.subject, body=body, to=recipients).send()


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
    """Tell `audience` about `event` on `record` after commit; returns the addresses it will go to.

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
    from .tasks import send_notification_task

    extra = dict(extra or {})
    if people:
        extra[PEOPLE_KEY] = sorted(person.pk for person in people)
    if actor is not None:
        extra[ACTOR_KEY] = actor.pk
    content_type_id = ContentType.objects.get_for_model(record).pk
    args = (content_type_id, record.pk, event, recipients, label, extra, public)
    transaction.on_commit(lambda: send_notification_task.delay(*args))
    return recipients


def subject_for(record, label: str) -> str:
    return f'[{record.number}] {label}: {record.short_description}'[:200]


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
) -> Message | None:
    """Render and send one notification now through every channel and record it on the record's timeline
    (`summary` there, the subject by default)."""
    extra = dict(extra or {})
    people = list(extra.pop(PEOPLE_KEY, []))
    actor_id = extra.pop(ACTOR_KEY, None)
    if not recipients and not people:
        return None
    path = record.notification_path(requester=public) if hasattr(record, 'notification_path') else ''
    path = path or record.get_absolute_url()
    subject = subject or subject_for(record, label)
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
    message = Message(
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
    )
    for channel in _channels:
        channel(message)
    audit.record(
        record,
        actor=Actor.system(),
        kind=TimelineKind.NOTIFICATION,
        message=summary or subject,
        data={**message.data, 'recipients': list(recipients), **({'people': people} if people else {})},
        public=public,
    )
    return message


def deliver_queued(content_type_id: int, object_id: int, event: str, recipients, label, extra, public) -> bool:
    """The worker's half of `notify`: the record as it is now (it may have moved on since)."""
    model = ContentType.objects.get_for_id(content_type_id).model_class()
    record = model._default_manager.filter(pk=object_id).first()
    if record is None:
        return False
    return deliver(record, event, recipients, label=label, extra=extra, public=public) is not None
