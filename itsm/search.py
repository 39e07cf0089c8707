"""Global search: apps register the models the top-bar search box looks through.

An app registers its models in its AppConfig's `ready()`::

    from itsm import search
    search.register(Incident, fields=['short_description', 'description'], number_prefix='INC')

A query that is exactly a reference number (`inc0001001`) goes straight to that record; any other query lists
matches per model, limited to models the person may view and, when the model's queryset has `visible_to(user)`,
to the records they may see.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db import models
from django.db.models import Q
from django.urls import NoReverseMatch, reverse

from .permissions import user_can

NUMBER_PATTERN = re.compile(r'^\s*([A-Za-z]{2,8})(\d{3,12})\s*$')


@dataclass(frozen=True)
class SearchTarget:
    """One searchable model: the text fields looked through and its reference-number prefix, if it has one."""

    model: type[models.Model]
    fields: tuple[str, ...]
    number_prefix: str = ''
    select_related: tuple[str, ...] = field(default=())
    title: str = ''

    @property
    def label(self) -> str:
        return self.title or str(self.model._meta.verbose_name_plural).capitalize()

    @property
    def list_url(self) -> str:
        opts = self.model._meta
        try:
            return reverse(f'{opts.app_label}:{opts.model_name}_list')
        except NoReverseMatch:
            return ''

    def summary(self, obj, length: int = 160) -> str:
        """The searched values of a hit that its title does not already show, for the result list."""
        title = str(obj)
        parts = []
        for name in self.fields:
            value = getattr(obj, name, '')
            if name == 'number' or not isinstance(value, str) or not value.strip() or value in title:
                continue
            parts.append(' '.join(value.split()))
        text = ' · '.join(parts)
        return text if len(text) <= length else text[: length - 1].rstrip() + '…'

    def queryset_for(self, user) -> models.QuerySet:
        queryset = self.model._default_manager.all()
        if hasattr(queryset, 'visible_to'):
            queryset = queryset.visible_to(user)
        if self.select_related:
            queryset = queryset.select_related(*self.select_related)
        return queryset


@dataclass
class SearchResults:
    target: SearchTarget
    hits: list
    more: bool

    def rows(self) -> list[tuple[models.Model, str]]:
        return [(hit, self.target.summary(hit)) for hit in self.hits]

    @property
    def label(self) -> str:
        return self.target.label


_registry: dict[type[models.Model], SearchTarget] = {}


def register(
    model: type[models.Model],
    *,
    fields: list[str],
    number_prefix: str = '',
    select_related: tuple[str, ...] = (),
    title: str = '',
) -> SearchTarget:
    """Make `model` searchable over `fields`. Numbered models are also found by (part of) their number.

    `title` heads the model's results (default: its verbose plural name).
    """
    prefix = (number_prefix or getattr(model, 'number_prefix', '') or '').upper()
    names = tuple(fields)
    if prefix and 'number' not in names:
        names = ('number', *names)
    target = SearchTarget(
        model=model, fields=names, number_prefix=prefix, select_related=tuple(select_related), title=title
    )
    _registry[model] = target
    return target


def targets() -> list[SearchTarget]:
    return list(_registry.values())


def targets_for(user) -> list[SearchTarget]:
    return [t for t in _registry.values() if user_can(user, t.model, 'view')]


def find_by_number(user, query: str) -> models.Model | None:
    """The record whose reference number is exactly `query` (any case), if the person may see it."""
    match = NUMBER_PATTERN.match(query or '')
    if not match:
        return None
    prefix = match.group(1).upper()
    for target in targets_for(user):
        if target.number_prefix == prefix:
            return target.queryset_for(user).filter(number=query.strip().upper()).first()
    return None


def search(user, query: str, *, limit: int = 10) -> list[SearchResults]:
    """Matches per model the person may view, each capped at `limit` rows (`more` tells when there were more)."""
    terms = (query or '').split()
    if not terms:
        return []
    results = []
    for target in targets_for(user):
        condition = Q()
        for term in terms:
            any_field = Q()
            for name in target.fields:
                any_field |= Q(**{f'{name}__icontains': term})
            condition &= any_field
        rows = list(target.queryset_for(user).filter(condition).distinct()[: limit + 1])
        if rows:
            results.append(SearchResults(target=target, hits=rows[:limit], more=len(rows) > limit))
    return results


def _register_core() -> None:
    from .models import SupportGroup, User

    register(User, fields=['username', 'first_name', 'last_name', 'email', 'department', 'phone'], title='People')
    register(SupportGroup, fields=['name', 'description', 'email'])


_register_core()
