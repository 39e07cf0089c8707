"""A secret shown once: kept in the session for the next page that asks for it, then forgotten.

A new API token, a webhook's signing secret or a monitoring source's token is made by a POST that redirects (so a
reload never makes another one); the page it lands on takes the secret from here and shows it that one time.
"""

from __future__ import annotations

SESSION_KEY = 'shown-once:{slot}'


def keep_for_next_page(request, slot: str, secret: str) -> None:
    """Hold `secret` for the next `take_once(request, slot)` of this session (`slot` names what it belongs to)."""
    request.session[SESSION_KEY.format(slot=slot)] = secret


def take_once(request, slot: str) -> str:
    """The secret held for `slot`, removed from the session ('' when there is none)."""
    return request.session.pop(SESSION_KEY.format(slot=slot), '') or ''
