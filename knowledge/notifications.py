"""Who hears about a knowledge article, through the notification kit (`itsm.notify`).

An article submitted for review reaches the knowledge managers (someone must approve it); a request for changes and
a publication reach the owner and the author of the version; a review date that has passed reaches the owner (else
the knowledge managers), in the inbox and by e-mail. The texts are `templates/knowledge/email/<event>.txt`.
"""

from __future__ import annotations

from django.db import models

from itsm import hooks, notify
from itsm.models import User

from .actions import MANAGER_ROLES


class Event(models.TextChoices):
    SUBMITTED = 'submitted', 'Article waiting for review'
    CHANGES_REQUESTED = 'changes_requested', 'Changes requested on an article'
    PUBLISHED = 'published', 'Article published'
    REVIEW_DUE = 'review_due', 'Article review due'


OWNER, AUTHOR, MANAGERS = 'article_owner', 'article_author', 'knowledge_managers'
AUDIENCES = {
    Event.SUBMITTED: [MANAGERS],
    Event.CHANGES_REQUESTED: [OWNER, AUTHOR],
    Event.PUBLISHED: [OWNER, AUTHOR],
    Event.REVIEW_DUE: [],  # the owner (else the managers) is named in `people`, for the inbox too
}
ON_TRANSITION = {'submit': Event.SUBMITTED, 'request_changes': Event.CHANGES_REQUESTED, 'publish': Event.PUBLISHED}


def _address(person) -> list[str]:
    return [person.email] if person is not None and person.is_active and person.email else []


def knowledge_managers() -> models.QuerySet:
    return User.objects.filter(is_active=True, groups__name__in=[str(role) for role in MANAGER_ROLES]).distinct()


def owner_addresses(article, **extra) -> list[str]:
    return _address(article.owner)


def author_addresses(article, **extra) -> list[str]:
    """Who wrote the working copy at hand: its last editor, else whoever opened it (on publishing, the author of
    the new version)."""
    from .services import last_editor

    return _address(last_editor(article))


def manager_addresses(article, **extra) -> list[str]:
    return sorted({email for email in knowledge_managers().values_list('email', flat=True) if email})


def article_event(article, event: str, *, extra: dict | None = None, people=(), actor=None) -> list[str]:
    """Queue the message for `event` once the surrounding transaction commits; returns its addresses."""
    return notify.notify(
        article, str(event), AUDIENCES[Event(event)], label=Event(event).label, extra=extra, people=people, actor=actor
    )


def review_due(article) -> list[str]:
    """Remind the owner (else every knowledge manager) that `article` is past its review date."""
    people = [article.owner] if article.owner is not None and article.owner.is_active else list(knowledge_managers())
    return article_event(article, Event.REVIEW_DUE, people=people, extra={'review_by': str(article.review_by)})


def on_transitioned(article, *, actor, action: str, notify: bool = True, **kwargs) -> None:
    if notify and action in ON_TRANSITION:
        article_event(article, ON_TRANSITION[action], actor=actor.user)


def register() -> None:
    from .models import Article

    notify.register_audience(OWNER, owner_addresses)
    notify.register_audience(AUTHOR, author_addresses)
    notify.register_audience(MANAGERS, manager_addresses)
    hooks.subscribe(hooks.TRANSITIONED, on_transitioned, model=Article)
