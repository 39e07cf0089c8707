"""Signing in with a password, guarded against guessing: the one path the sign-in page and the API's token
exchange share.

Attempts are counted per account and per client address in the cache (Redis when `REDIS_URL` is set, so every
web process shares the counts), before the password is checked and atomically, so parallel guesses cannot slip past
the limit. A successful sign-in takes its attempt back and clears its account's count. Once a count passes its
limit, sign-ins for that account or from that address are refused, the right password included, until
`SIGNIN_FAILURE_WINDOW_SECONDS` after the first counted attempt. Written here rather than with a package such as
django-axes because the desk already has the shared store and needs the same rule on a page and an API endpoint;
nothing else from such a package is wanted.

The client address is `REMOTE_ADDR`, unless `TRUSTED_PROXY_COUNT` says how many reverse proxies stand in front
of the desk: then it is the address that many hops from the right of `X-Forwarded-For`, which those proxies wrote.
A header sent by the client itself is never believed beyond that.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.utils import timezone

from itsm.counters import count_up

KEY = 'signin-failures:{kind}:{value}'


def client_address(request) -> str:
    """The address of whoever sent `request`, trusting `X-Forwarded-For` only as far as the configured proxies."""
    remote = request.META.get('REMOTE_ADDR', '') or ''
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get('HTTP_X_FORWARDED_FOR', '').split(',') if part.strip()]
    # Each trusted proxy appended the address it received the request from: the client is `proxies` from the right.
    return forwarded[-proxies] if len(forwarded) >= proxies else remote


@dataclass(frozen=True)
class Refusal:
    """Sign-ins are refused for `wait_seconds` more."""

    wait_seconds: int

    @property
    def message(self) -> str:
        minutes = max(1, math.ceil(self.wait_seconds / 60))
        return (
            'Too many failed sign-ins for this account or from your address. '
            f'Try again in {minutes} minute{"s" if minutes != 1 else ""}, '
            'or ask an administrator to reset your password.'
        )


def _keys(request, username: str) -> list[tuple[str, int]]:
    return [
        (KEY.format(kind='account', value=username.strip().casefold()), settings.SIGNIN_ACCOUNT_FAILURES),
        (KEY.format(kind='address', value=client_address(request)), settings.SIGNIN_ADDRESS_FAILURES),
    ]


def _count(key: str, window: int) -> int:
    """Add one attempt to `key`'s count, atomically; a new count lives `window` seconds from its first attempt."""
    attempts = count_up(cache, key, window)
    if attempts == 1:
        cache.set(f'{key}:since', timezone.now().timestamp(), timeout=window)
    return attempts


def _refusal(keys: list[str]) -> Refusal:
    window = settings.SIGNIN_FAILURE_WINDOW_SECONDS
    now = timezone.now().timestamp()
    since = [cache.get(f'{key}:since') for key in keys]
    waits = [window - (now - started) for started in since if started is not None]
    return Refusal(max(1, math.ceil(max(waits, default=window))))


def sign_in(request, username: str, password: str):
    """(user, None) for the right password while sign-ins are allowed; (None, Refusal) once the account or the
    address has used up its attempts; (None, None) for a wrong username or password."""
    window = settings.SIGNIN_FAILURE_WINDOW_SECONDS
    keys = _keys(request, username)
    over = [key for key, limit in keys if _count(key, window) > limit]
    if over:
        return None, _refusal(over)
    user = authenticate(request, username=username, password=password)
    if user is None:
        return None, None
    account, address = keys[0][0], keys[1][0]
    cache.delete_many([account, f'{account}:since'])
    with contextlib.suppress(ValueError):  # a good sign-in does not use up its address's attempts
        cache.decr(address)
    return user, None
