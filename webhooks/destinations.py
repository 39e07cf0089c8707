"""Where a webhook may go (SSRF rules) and the one HTTP POST that sends it.

A destination's host is resolved (every A and AAAA record) and refused when any address is loopback, private,
link-local, multicast, reserved, unspecified or otherwise not globally routable, including IPv4 addresses written
in IPv6 form (`::ffff:127.0.0.1`), unless an administrator allowed private destinations on the subscription.
The check runs when a subscription is saved and again before every request (DNS may have changed since), and
the request connects to the very address that was checked, so a second lookup cannot swap it for another.
Redirects are never followed; the response body is read up to `EXCERPT_BYTES`.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

EXCERPT_BYTES = 1024


class DestinationRefused(Exception):
    """A destination the rules refuse (the message says why)."""


def resolve_host(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (IP literals resolve to themselves)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def refusal(address: str) -> str:
    """Why `address` is not a public destination ('' when it is)."""
    ip = ipaddress.ip_address(address.split('%', 1)[0])
    if ip.version == 6:
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            reason = refusal(str(embedded))
            return f'{reason} (written as {address})' if reason else ''
    for name, flag in (
        ('unspecified', ip.is_unspecified),
        ('loopback', ip.is_loopback),
        ('link-local', ip.is_link_local),
        ('multicast', ip.is_multicast),
        ('private', ip.is_private),
        ('reserved', ip.is_reserved),
    ):
        if flag:
            return f'{address} is a {name} address'
    if not ip.is_global:
        return f'{address} is not a public address'
    return ''


@dataclass(frozen=True)
class Destination:
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


def check(url: str, *, allow_private: bool) -> Destination:
    """Parse and resolve `url`; raise `DestinationRefused` saying why it may not be used."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise DestinationRefused(f'The URL is not valid: {error}.') from None
    scheme = parts.scheme.lower()
    if scheme not in ('http', 'https'):
        raise DestinationRefused('Only http:// and https:// URLs are allowed.')
    if scheme == 'http' and settings.WEBHOOK_HTTPS_ONLY:
        raise DestinationRefused('This desk only sends webhooks to https:// URLs.')
    if parts.username or parts.password:
        raise DestinationRefused('Put no user name or password in the URL: verify the signature instead.')
    host = parts.hostname
    if not host:
        raise DestinationRefused('The URL has no host.')
    port = port or (443 if scheme == 'https' else 80)
    try:
        addresses = resolve_host(host, port)
    except (OSError, UnicodeError):
        raise DestinationRefused(f'The host {host} could not be resolved.') from None
    if not addresses:
        raise DestinationRefused(f'The host {host} could not be resolved.')
    if not allow_private:
        for address in addresses:
            reason = refusal(address)
            if reason:
                raise DestinationRefused(
                    f'{host} is not allowed: {reason}. Only an administrator may allow private destinations.'
                )
    path = parts.path or '/'
    if parts.query:
        path = f'{path}?{parts.query}'
    return Destination(scheme, host, port, path, tuple(addresses))


def validate_url(url: str, *, allow_private: bool) -> None:
    """`check` for forms and serializers: a ValidationError on `url`."""
    try:
        check(url, allow_private=allow_private)
    except DestinationRefused as error:
        raise ValidationError({'url': str(error)}) from None


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address while the request keeps the URL's host name (Host header)."""

    def __init__(self, host, port, *, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self):
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, *, address, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self):
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


@dataclass(frozen=True)
class Response:
    status: int | None  # None when no HTTP answer came (refused, timeout, connection error)
    excerpt: str
    duration_ms: int
    error: str = ''

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def post(url: str, body: bytes, headers: dict[str, str], *, allow_private: bool) -> Response:
    """POST `body` to `url` once (checked again now); never raises for the receiver's failures."""
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        destination = check(url, allow_private=allow_private)
    except DestinationRefused as error:
        return Response(None, '', elapsed(), str(error)[:500])
    connection_class = _PinnedHTTPSConnection if destination.scheme == 'https' else _PinnedHTTPConnection
    connection = connection_class(
        destination.host,
        destination.port,
        address=destination.addresses[0],
        timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
    )
    try:
        connection.request('POST', destination.path, body=body, headers=headers)
        answer = connection.getresponse()
        # Text only (PostgreSQL refuses NUL in text), shown escaped wherever it appears.
        excerpt = answer.read(EXCERPT_BYTES).decode('utf-8', errors='replace').replace('\x00', '')
        status = answer.status
    except (OSError, http.client.HTTPException, ssl.SSLError) as error:
        return Response(None, '', elapsed(), f'{type(error).__name__}: {error}'[:500])
    finally:
        connection.close()
    error = ''
    if 300 <= status < 400:
        error = f'Redirects are not followed (Location: {(answer.getheader("Location") or "")[:200]}).'
    elif not 200 <= status < 300:
        error = f'HTTP {status}'
    return Response(status, excerpt, elapsed(), error)
