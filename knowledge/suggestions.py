"""What to suggest while something is being reported: articles a requester may read as they type the short
description in the portal, and, on the desk (the new-ticket form and the incident page), articles and known errors
for the text, the configuration item and the service.

Reads only: the search itself is `knowledge.search.suggest_articles`, which keeps to what the person may read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cmdb.models import ConfigurationItem

# Fewer characters than this match too much to be worth a search.
MIN_TEXT_LENGTH = 3
LIMIT = 5


@dataclass
class Suggestions:
    """Articles (search hits, with snippets) and known errors to show for one text, CI and service."""

    articles: list = field(default_factory=list)
    known_errors: list = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.articles or self.known_errors)


def find_item(value) -> ConfigurationItem | None:
    """A CI or a service from what a form field holds: its id (a select) or its number (a text box)."""
    value = str(value or '').strip()
    if not value:
        return None
    if value.isdigit():
        # Ids only from selects; a number too long for a key is nothing, not a database error.
        return ConfigurationItem.objects.filter(pk=int(value)).first() if len(value) < 10 else None
    lookup = {'number': value.upper()[:30]}
    return ConfigurationItem.objects.filter(**lookup).only('id', 'number', 'name', 'ci_class').first()


def _clean(text: str) -> str:
    return ' '.join((text or '').split())[:200]


def portal_suggestions(text: str, *, user, service=None, limit: int = LIMIT) -> list:
    """Articles for requesters and agents that match what a requester is typing (never desk-only ones: the search
    keeps to `Article.objects.readable_by(user)`)."""
    from .search import suggest_articles

    text = _clean(text)
    if len(text) < MIN_TEXT_LENGTH:
        return []
    return list(suggest_articles(text, user=user, service=service, limit=limit))


def desk_suggestions(
    text: str, *, user, ci=None, service=None, exclude_articles=(), incident=None, limit: int = LIMIT
) -> Suggestions:
    """For the desk: live articles the agent may read and active known errors, for the text, the CI and the service.
    Known errors of the CI or the service come first, then those sharing words with the text. On an incident's page
    (`incident`), only the text matches not applied to it: the problems panel offers those of its CI and service.
    The same queries whatever is found."""
    from problems.known_errors import known_errors_for, known_errors_matching_text

    from .search import suggest_articles

    text = _clean(text)
    long_enough = len(text) >= MIN_TEXT_LENGTH
    articles = []
    if long_enough:
        hits = suggest_articles(text, user=user, service=service, ci=ci, limit=limit + len(exclude_articles))
        articles = [hit for hit in hits if hit.article.pk not in set(exclude_articles)][:limit]
    if incident is not None:
        by_text = known_errors_matching_text(text, user=user, limit=limit, incident=incident) if long_enough else []
        return Suggestions(articles=articles, known_errors=by_text)
    ci_id, service_id = getattr(ci, 'pk', None), getattr(service, 'pk', None)
    by_text = known_errors_matching_text(text, user=user, limit=limit * 3) if long_enough else []
    known = known_errors_for(ci_id=ci_id, service_id=service_id, user=user, limit=limit)
    seen = {ke.pk for ke in known}
    known += [ke for ke in by_text if ke.pk not in seen]
    return Suggestions(articles=articles, known_errors=known[:limit])
