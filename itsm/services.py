"""Writes of the shared core: generic audited create/update/delete, people and support groups."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from . import audit, tokens
from .access import forget_access
from .audit import Actor
from .choices import Attention, Role, TimelineKind
from .errors import Conflict, NotAllowed
from .models import SupportGroup, TimelineEntry, User


def _split_m2m(model: type[models.Model], fields: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    m2m_names = {f.name for f in model._meta.many_to_many}
    plain = {k: v for k, v in fields.items() if k not in m2m_names}
    m2m = {k: v for k, v in fields.items() if k in m2m_names}
    return plain, m2m


@transaction.atomic
def record_create(*, model: type[models.Model], fields: dict[str, Any], actor: Actor) -> models.Model:
    """Create any audited record: validate, save, set many-to-many values, write the `created` entry."""
    plain, m2m = _split_m2m(model, fields)
    obj = model(**plain)
    obj.full_clean()
    obj.save()
    for name, values in m2m.items():
        getattr(obj, name).set(values)
    audit.record_created(obj, actor=actor)
    return obj


@transaction.atomic
def record_update(*, obj: models.Model, fields: dict[str, Any], actor: Actor) -> models.Model:
    """Update any audited record and write one field-change entry with each before/after value."""
    before = audit.snapshot(obj)
    plain, m2m = _split_m2m(type(obj), fields)
    for name, value in plain.items():
        setattr(obj, name, value)
    obj.full_clean()
    obj.save()
    for name, values in m2m.items():
        getattr(obj, name).set(values)
    audit.record_changes(obj, before, actor=actor)
    return obj


@transaction.atomic
def record_delete(*, obj: models.Model, actor: Actor) -> None:
    """Delete a record; its timeline keeps a `deleted` entry with the last values."""
    audit.record(
        obj, actor=actor, kind=TimelineKind.DELETED, message=f'{obj} deleted', data={'values': audit.snapshot(obj)}
    )
    obj.delete()


# ---------------------------------------------------------------------------------------------- people
def _role_groups(roles: Iterable[str]) -> list[Group]:
    roles = list(dict.fromkeys(str(r) for r in roles))
    unknown = sorted(set(roles) - set(Role.values))
    if unknown:
        raise ValidationError({'roles': f'Unknown role: {", ".join(unknown)}. Known roles: {", ".join(Role.values)}.'})
    found = {g.name: g for g in Group.objects.filter(name__in=roles)}
    return [found.get(slug) or Group.objects.get_or_create(name=slug)[0] for slug in roles]


@transaction.atomic
def user_create(
    *,
    username: str,
    actor: Actor,
    email: str = '',
    password: str | None = None,
    roles: Iterable[str] = (Role.REQUESTER,),
    **fields: Any,
) -> User:
    """Create a person with roles; the password is checked against the password policy."""
    user = User(username=username, email=email, **fields)
    if password:
        validate_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=['password'])
    user.save()
    user.groups.set(_role_groups(roles))
    audit.record_created(user, actor=actor, public=False)
    return user


@transaction.atomic
def user_update(
    *, user: User, actor: Actor, roles: Iterable[str] | None = None, password: str | None = None, **fields: Any
) -> User:
    before = audit.snapshot(user)
    for name, value in fields.items():
        setattr(user, name, value)
    if password:
        validate_password(password, user)
        user.set_password(password)
    user.full_clean(exclude=['password'])
    user.save()
    if roles is not None:
        user.groups.set(_role_groups(roles))
        forget_access(user)
    entry = audit.record_changes(user, before, actor=actor, message='Password changed' if password else '')
    if entry is None and password:
        # The password itself is never recorded, but that it changed is.
        audit.record(user, actor=actor, kind=TimelineKind.FIELD_CHANGE, message='Password changed')
    if password:
        # Whoever knew the old password may have made tokens with it: they end with it (other sessions end through
        # the session hash, which covers the password).
        tokens.tokens_revoke_all(user=user, actor=actor, reason='the password was changed')
    return user


@transaction.atomic
def user_erase(*, user: User, actor: Actor) -> User:
    """Erase a person's personal data (a requester, or former staff already deactivated): name, username, e-mail,
    phone, department, location and the values in their own history are replaced. The person stays, so every
    ticket, comment and timeline entry that names them stays consistent and reads "Erased person N"."""
    if actor.user is None or not actor.user.has_role(Role.ADMINISTRATOR):
        raise NotAllowed('Only administrators may erase a person.')
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.pk == actor.user.pk:
        raise NotAllowed('You cannot erase yourself.')
    if user.is_active and not user.is_requester_only:
        raise Conflict(f'{user} still works here: deactivate them first; erasing is for requesters and former staff.')
    if user.erased_at is not None:
        return user
    TimelineEntry.objects.for_object(user).redact()
    user.first_name, user.last_name = 'Erased', f'person {user.pk}'
    user.username = f'erased-{user.pk}'
    user.email = user.phone = user.department = user.location = ''
    user.vip = False
    user.is_active = False
    user.set_unusable_password()
    now = timezone.now()
    user.sessions_ended_at = user.erased_at = now
    user.save()
    user.groups.clear()
    tokens.tokens_revoke_all(user=user, actor=actor, reason='personal data erased')
    audit.record(user, actor=actor, kind=TimelineKind.FIELD_CHANGE, message='Personal data erased', data={})
    return user


@transaction.atomic
def user_sign_out_everywhere(*, user: User, actor: Actor) -> User:
    """End every session of `user` (this one included) and revoke their API tokens."""
    user = User.objects.select_for_update().get(pk=user.pk)
    user.sessions_ended_at = timezone.now()
    user.save(update_fields=['sessions_ended_at'])
    audit.record(user, actor=actor, kind=TimelineKind.FIELD_CHANGE, message='Signed out everywhere')
    tokens.tokens_revoke_all(user=user, actor=actor, reason='signed out everywhere')
    return user


@transaction.atomic
def user_deactivate(*, user: User, actor: Actor) -> User:
    """People are never deleted (their names stay in every history they appear in): they are deactivated."""
    return user_update(user=user, actor=actor, is_active=False)


# -------------------------------------------------------------------------------------- support groups
@transaction.atomic
def support_group_create(*, name: str, actor: Actor, members: Iterable[User] = (), **fields: Any) -> SupportGroup:
    return record_create(model=SupportGroup, fields={'name': name, 'members': list(members), **fields}, actor=actor)


@transaction.atomic
def support_group_update(*, group: SupportGroup, actor: Actor, **fields: Any) -> SupportGroup:
    if fields.get('escalation_group') is not None and fields['escalation_group'].pk == group.pk:
        raise ValidationError({'escalation_group': 'A group cannot escalate to itself.'})
    return record_update(obj=group, fields=fields, actor=actor)


# ------------------------------------------------------------------------------------ attention markers
def record_flag(record, attention: str) -> None:
    """Mark a process record as needing its workers' eye again (`itsm.choices.Attention`: the customer replied,
    the record was reopened), from now. A record already marked keeps since when it waits, and its marker unless
    the new one outranks it (a reopening outranks a reply).

    The marker is bookkeeping, like `updated_at`: one UPDATE, no history entry (the reply or the reopening that
    set it is in the history already)."""
    changes = attention_changes(record, attention)
    if changes:
        type(record)._default_manager.filter(pk=record.pk).update(**changes)
        record.attention, record.attention_since = changes['attention'], changes['attention_since']


def attention_changes(record, attention: str) -> dict[str, Any]:
    """The field values that mark `record` with `attention` (by `record_flag`'s rules), for a service that saves
    them with a transition so its timeline entry lists them; {} when the record keeps its marker."""
    rank = Attention.values.index  # declaration order: a reopening outranks a reply
    if record.attention and rank(record.attention) >= rank(attention):
        return {}
    since = record.attention_since if record.attention else timezone.now()
    return {'attention': attention, 'attention_since': since}


def record_seen(record, user) -> dict[str, Any] | None:
    """Someone who works `record` opened it: clear its attention marker. Returns what was cleared
    (`attention`, `label`, `since`) so the page that opened it can still say why it was marked, or None.

    No query when the record has no marker; one UPDATE when it has. Readers who do not work the record (and
    requesters) leave the marker for those who do."""
    if not record.attention or not record.may_work(user):
        return None
    seen = {
        'attention': record.attention,
        'label': Attention(record.attention).label,
        'since': record.attention_since,
    }
    type(record)._default_manager.filter(pk=record.pk).update(attention=Attention.NONE, attention_since=None)
    record.attention, record.attention_since = Attention.NONE, None
    return seen
