"""API tokens: made, listed and revoked by their owner; only a hash of the key is stored.

A key reads `pc_1a2b3c4d_<secret>`: `pc_1a2b3c4d` is the visible prefix shown in lists, the rest is a 43-character
random secret. The database keeps the SHA-256 of the whole key (a unique index: authentication is one query) and
never the key itself, so the key is shown once, in the answer that creates it.

Scope: `read_only` allows GET, HEAD and OPTIONS only; `apps` lists the app labels (`incidents`, `cmdb`, ...) whose
endpoints the token reaches, empty for all of them. A token made with a token (the API) cannot reach further or
live longer than the one that made it. Lifetimes: `API_TOKEN_DEFAULT_DAYS` when none is given, at most
`API_TOKEN_MAX_DAYS`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import string

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from . import audit
from .audit import Actor
from .choices import TimelineKind
from .models import ApiToken
from .roles import PROJECT_APPS

KEY_PREFIX = 'pc_'
PREFIX_LENGTH = 8
# `last_used_at` is written at most this often per token, not on every request.
LAST_USED_PRECISION = dt.timedelta(minutes=1)
_ALPHABET = string.ascii_lowercase + string.digits


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def max_expiry(now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) + dt.timedelta(days=settings.API_TOKEN_MAX_DAYS)


def default_expiry(now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) + dt.timedelta(days=settings.API_TOKEN_DEFAULT_DAYS)


def app_choices() -> tuple[str, ...]:
    """The app labels a token may be limited to."""
    return PROJECT_APPS


def _check_scope(*, read_only: bool, apps: list[str], expires_at: dt.datetime, parent: ApiToken | None, now) -> None:
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(apps) - set(app_choices()))
    if unknown:
        errors['apps'] = [f'Unknown app: {", ".join(unknown)}. Choose among {", ".join(app_choices())}.']
    if expires_at <= now:
        errors['expires_at'] = ['The expiry must be in the future.']
    elif expires_at > max_expiry(now):
        errors['expires_at'] = [f'A token lives at most {settings.API_TOKEN_MAX_DAYS} days.']
    if parent is not None:
        if parent.read_only and not read_only:
            errors.setdefault('read_only', []).append('A read-only token can only make read-only tokens.')
        if parent.apps and (not apps or not set(apps) <= set(parent.apps)):
            errors.setdefault('apps', []).append(
                f'This token reaches only {", ".join(parent.apps)}: the new one must be limited to those too.'
            )
        if expires_at > parent.expires_at:
            errors.setdefault('expires_at', []).append(
                'The new token cannot outlive the token that makes it '
                f'(it expires {parent.expires_at.isoformat(timespec="minutes")}).'
            )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def token_create(
    *,
    user,
    actor: Actor,
    name: str = '',
    read_only: bool = False,
    apps: list[str] | tuple[str, ...] = (),
    expires_at: dt.datetime | None = None,
    parent: ApiToken | None = None,
) -> tuple[ApiToken, str]:
    """A new token for `user` and its key (the only time the key is known). `parent` is the token the request
    came with, if any: the new one may not be wider or longer-lived."""
    now = timezone.now()
    apps = sorted(set(apps or ()))
    if expires_at is None:
        expires_at = default_expiry(now)
        if parent is not None:
            expires_at = min(expires_at, parent.expires_at)
    _check_scope(read_only=read_only, apps=apps, expires_at=expires_at, parent=parent, now=now)
    name = (name or '').strip() or f'Token of {now:%Y-%m-%d}'
    if len(name) > 100:
        raise ValidationError({'name': ['At most 100 characters.']})
    prefix = KEY_PREFIX + ''.join(secrets.choice(_ALPHABET) for _ in range(PREFIX_LENGTH))
    key = f'{prefix}_{secrets.token_urlsafe(32)}'
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=prefix,
        key_hash=hash_key(key),
        read_only=read_only,
        apps=apps,
        expires_at=expires_at,
    )
    audit.record(
        user,
        actor=actor,
        kind=TimelineKind.FIELD_CHANGE,
        message=f'API token "{name}" ({prefix}) created, expiring {expires_at.isoformat(timespec="minutes")}',
        data={'api_token': token.pk, 'read_only': read_only, 'apps': apps},
    )
    return token, key


@transaction.atomic
def token_revoke(*, token: ApiToken, actor: Actor) -> ApiToken:
    """Revoke `token` for good; revoking it again changes nothing."""
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=['revoked_at'])
        audit.record(
            token.user,
            actor=actor,
            kind=TimelineKind.FIELD_CHANGE,
            message=f'API token "{token.name}" ({token.prefix}) revoked',
            data={'api_token': token.pk},
        )
    return token


def tokens_revoke_all(*, user, actor: Actor, reason: str) -> int:
    """Revoke every live token of `user` (a new password, signing out everywhere); the timeline says why."""
    now = timezone.now()
    revoked = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
    if revoked:
        audit.record(
            user,
            actor=actor,
            kind=TimelineKind.FIELD_CHANGE,
            message=f'{revoked} API token{"s" if revoked != 1 else ""} revoked: {reason}',
            data={'api_tokens_revoked': revoked},
        )
    return revoked


def token_for_key(key: str) -> ApiToken | None:
    """The token of `key` with its owner (one query), whatever its state."""
    return ApiToken.objects.select_related('user').filter(key_hash=hash_key(key)).first()


def token_touch(token: ApiToken) -> None:
    """Note that `token` was used now, unless that was noted less than a minute ago (no write per request)."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def tokens_of(user):
    """A person's tokens, the newest first (revoked and expired ones too, so they can see what happened)."""
    return ApiToken.objects.filter(user=user).order_by('-created_at', '-id')
