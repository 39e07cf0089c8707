"""The signature of a webhook body: `Pitcrew-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`.

The MAC covers `f'{t}.{body}'` with the subscription's secret, so a receiver that checks it and rejects timestamps
older than `TOLERANCE_SECONDS` knows the body came from the desk and is not a replay of an old one. README.md
("Outbound webhooks") gives receivers the same check to copy.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = 'Pitcrew-Signature'
TOLERANCE_SECONDS = 300


def signature(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f'{timestamp}.'.encode() + body, hashlib.sha256)
    return f't={timestamp},v1={mac.hexdigest()}'


def sign(secret: str, body: bytes, *, now: float | None = None) -> str:
    return signature(secret, body, int(now if now is not None else time.time()))


def verify(secret: str, body: bytes, header: str, *, now: float | None = None) -> bool:
    """Whether `header` signs `body` with `secret` within the tolerance (what a receiver does)."""
    try:
        parts = dict(item.split('=', 1) for item in header.split(','))
        timestamp = int(parts['t'])
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > TOLERANCE_SECONDS:
        return False
    expected = signature(secret, body, timestamp).split('v1=', 1)[1]
    return hmac.compare_digest(expected, parts.get('v1', ''))
