"""Banners under the page header: things waiting for the person looking at any staff page.

Apps register a source once (`register(fn)` from their `AppConfig.ready`); `fn(request)` returns a banner, a list of
banners, or nothing. The core imports no app: it only asks the registered sources. Sources should answer without a
query for people they have nothing for, and with one cheap query otherwise.

The `banners` context processor asks them lazily: a page that never shows banners (requesters' portal pages,
anonymous pages) runs no source at all, and a page that shows them asks each source once per request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import SimpleLazyObject


@dataclass(frozen=True)
class Banner:
    """One line under the page header: `level` is a Tabler alert colour (info, warning, danger, success)."""

    text: str
    url: str = ''
    link_label: str = ''
    level: str = 'info'


Source = Callable[[Any], 'Banner | dict | Iterable[Banner | dict] | None']
_sources: list[Source] = []


def register(source: Source) -> None:
    """Ask `source(request)` for banners on every staff page; registering it twice has no effect."""
    if source not in _sources:
        _sources.append(source)


def unregister(source: Source) -> None:
    if source in _sources:
        _sources.remove(source)


def _as_banner(value: Banner | dict) -> Banner:
    if isinstance(value, Banner):
        return value
    return Banner(
        text=str(value['text']),
        url=value.get('url', ''),
        link_label=value.get('link_label', '') or value.get('label', ''),
        level=value.get('level', 'info'),
    )


def banners_for(request) -> list[Banner]:
    """Every registered source's banners for this request (none for anonymous people and requesters)."""
    user = getattr(request, 'user', None)
    if user is None or not user.is_authenticated or user.is_requester_only:
        return []
    found: list[Banner] = []
    for source in _sources:
        result = source(request)
        if not result:
            continue
        if isinstance(result, Banner | dict):
            result = [result]
        found.extend(_as_banner(item) for item in result)
    return found


def banners(request) -> dict[str, Any]:
    """Context processor: `page_banners`, computed only when a template reads it, once per request."""
    cached = getattr(request, '_page_banners', None)
    if cached is None:
        cached = SimpleLazyObject(lambda: banners_for(request))
        request._page_banners = cached
    return {'page_banners': cached}
