"""The inbox's writes: delivering a notification to the people it names, mentions, reading, preferences.

`deliver` is a channel of the notification kit (`itsm.notify.register_channel`): every message the kit sends, to any
audience and from any app, lands in the inbox of each person it reaches, by their address, through the group
address they are a member of, or by name (`notify(people=...)`). A person only gets a message about a record they
may see: requesters hear only of their own records and never of internal messages.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from itsm import notify, services
from itsm.audit import Actor
from itsm.models import User
from itsm.permissions import user_can

from .choices import MENTION_EVENT, topic_of
from .models import EmailPreference, Notification

# `@username`: the characters Django allows in a username; a trailing full stop ends the sentence, not the name.
MENTION = re.compile(r'(?<![\w@.+-])@([\w.@+-]+)')
MAX_MENTIONS = 20


def may_see(record, user, *, public: bool) -> bool:
    """Whether `user` may hear about `record`: staff who may view it, or (for a public message) its requesters."""
    if user.is_requester_only:
        return public and record.is_party(user)
    # A restricted record (a security incident) only to those `visible_to` lets see it.
    return user_can(user, type(record), 'view') and (not hasattr(record, 'is_visible_to') or record.is_visible_to(user))


def people_reached(message: notify.Message) -> list[User]:
    """The active people a message reaches: by address, as members of a group address, or named."""
    addresses = set(message.recipients)
    condition = Q(pk__in=message.people)
    if addresses:
        condition |= Q(email__in=addresses) | Q(support_groups__email__in=addresses)
    people = User.objects.filter(condition, is_active=True).distinct().prefetch_related('groups')
    return [person for person in people if may_see(message.record, person, public=message.public)]


def deliver(message: notify.Message) -> list[Notification]:
    """The inbox channel: one unread notification for each person the message reaches (not who caused it)."""
    record = message.record
    content_type = ContentType.objects.get_for_model(record)
    text = str(getattr(record, 'short_description', '') or record)[:300]
    rows = [
        Notification(
            recipient=person,
            content_type=content_type,
            object_id=record.pk,
            number=getattr(record, 'number', '')[:20],
            event=message.event[:40],
            topic=topic_of(message.event),
            label=(message.label or message.event)[:120],
            text=text,
            actor_id=message.actor_id,
        )
        for person in people_reached(message)
        if person.pk != message.actor_id
    ]
    return Notification.objects.bulk_create(rows)


def email_opt_outs(message: notify.Message) -> list[str]:
    """The e-mail filter: addresses of people who turned this topic of message off."""
    if not message.recipients:
        return []
    topic = topic_of(message.event)
    return list(
        EmailPreference.objects.filter(user__email__in=message.recipients, **{topic: False}).values_list(
            'user__email', flat=True
        )
    )


def mentioned(record, *, body: str, author, internal: bool) -> list[User]:
    """Staff named with `@username` in `body` who may see `record` (never requesters, never the author)."""
    names = []
    for name in MENTION.findall(body or ''):
        name = name.rstrip('.')
        if name and name.casefold() not in {n.casefold() for n in names}:
            names.append(name)
    if not names:
        return []
    condition = Q()
    for name in names[:MAX_MENTIONS]:
        condition |= Q(username__iexact=name)
    people = User.objects.filter(condition, is_active=True).prefetch_related('groups')
    found = []
    for person in people:
        if author is not None and person.pk == author.pk:
            continue
        if person.is_requester_only or not may_see(record, person, public=not internal):
            continue
        if internal and not record.may_work(person):
            continue
        found.append(person)
    return found


def notify_mentions(record, *, actor: Actor, entry, **kwargs: Any) -> list[str]:
    """Hook of `commented` and `noted`: tell the staff mentioned in a comment or a work note."""
    internal = not entry.public
    people = mentioned(record, body=entry.message, author=actor.user, internal=internal)
    if not people:
        return []
    who = str(actor.user) if actor.user is not None else 'Someone'
    where = 'a work note' if internal else 'a comment'
    return notify.notify(
        record,
        MENTION_EVENT,
        [],
        label=f'{who} mentioned you in {where}'[:120],
        extra={'note': entry.message, 'author': who, 'internal': internal},
        people=people,
        actor=actor.user,
    )


def mark_read(*, notification: Notification, user) -> Notification:
    """Mark one of the person's own notifications read (once: the first reading time stays)."""
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, recipient=user, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    return notification


def mark_all_read(*, user) -> int:
    """Mark every unread notification of the person read; returns how many."""
    return Notification.objects.for_user(user).unread().update(read_at=timezone.now())


def preferences_for(user) -> EmailPreference:
    """The person's e-mail preferences (all on until they save some)."""
    return EmailPreference.objects.get_or_create(user=user)[0]


@transaction.atomic
def preferences_update(*, user, fields: dict[str, bool], actor: Actor) -> EmailPreference:
    """Save which topics reach the person by e-mail; the change is kept in the preferences' history."""
    preference = EmailPreference.objects.select_for_update().get(pk=preferences_for(user).pk)
    allowed = {name: bool(value) for name, value in fields.items() if name in EmailPreference.TOPICS}
    return services.record_update(obj=preference, fields=allowed, actor=actor)
