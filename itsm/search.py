"""Global search: apps register the models the top-bar search box looks through.

An app registers its models in its AppConfig's `ready()`::

    from itsm import search
    search.register(Incident, fields=['short_description', 'description'], number_prefix='INC')

A query that names a reference number, whole or partial (`INC0001003`, `inc1003`, `cs1003`, `1003`), goes straight to
the record when exactly one matches and lists them when several do; any other query lists matches per model,
limited to models the person may view and, when the model's queryset has `visible_to(user)`, to the records they
may see (a requester finds only their own records).

Numbers are zero-padded (`INC0001003`), so a partial number is turned into the exact candidate numbers (one per
prefix in use when it has none) and looked up with `number IN (...)` on the unique index, never with a `LIKE`.
Records whose `people` fields name a person (a ticket's caller) are also found by that person's name or username:
the matching people are one subquery, the records one indexed `IN` on the foreign key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db import models
from django.db.models import Q
from django.urls import NoReverseMatch, reverse

from .numbering import format_number, prefixes_in_use
from .permissions import user_can

# A reference number, whole or partial: an optional prefix, then digits (`1003`, `inc1003`, `INC-1003`, `#1003`).
NUMBER_PATTERN = re.compile(r'^#?([A-Za-z]{0,8})[\s#-]?(\d{1,12})$')
# Fields of a person that find the records they are named on.
PERSON_FIELDS = ('username', 'first_name', 'last_name')


@dataclass(frozen=True)
class SearchTarget:
    """One searchable model: the text fields looked through and its reference-number prefix, if it has one."""

    model: type[models.Model]
    fields: tuple[str, ...]
    number_prefix: str = ''
    select_related: tuple[str, ...] = field(default=())
    title: str = ''
    people: tuple[str, ...] = field(default=())

    @property
    def text_fields(self) -> tuple[str, ...]:
        """The fields searched with `icontains`: numbers are matched exactly (`number_condition`)."""
        return tuple(name for name in self.fields if name != 'number')

    @property
    def number_fields(self) -> tuple[str, ...]:
        """Where a record's reference number is: its number, and the one it had before a conversion."""
        if not self.number_prefix:
            return ()
        return ('number', *(name for name in self.fields if name == 'alternate_number'))

    def number_condition(self, candidates: list[str]) -> Q | None:
        if not candidates or not self.number_fields:
            return None
        condition = Q()
        for name in self.number_fields:
            condition |= Q(**{f'{name}__in': candidates})
        return condition

    def people_condition(self, term: str) -> Q | None:
        """Records whose people fields name someone matching `term` (one subquery on people, an indexed `IN`)."""
        if not self.people:
            return None
        from .models import User

        matching = Q()
        for name in PERSON_FIELDS:
            matching |= Q(**{f'{name}__icontains': term})
        people = User.objects.filter(matching).values('pk')
        condition = Q()
        for name in self.people:
            condition |= Q(**{f'{name}__in': people})
        return condition

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
        for name in self.people:
            person = getattr(obj, name, None)
            if person is not None:
                parts.append(f'{self.model._meta.get_field(name).verbose_name.capitalize()}: {person}')
        text = ' · '.join(parts)
        return text if len(text) <= length else text[: length - 1].rstrip() + '…'

    def queryset_for(self, user) -> models.QuerySet:
        queryset = self.model._default_manager.all()
        if hasattr(queryset, 'visible_to'):
            queryset = queryset.visible_to(user)
        related = tuple(dict.fromkeys((*self.select_related, *self.people)))
        if related:
            queryset = queryset.select_related(*related)
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
    people: tuple[str, ...] | None = None,
) -> SearchTarget:
    """Make `model` searchable over `fields`. Numbered models are also found by (part of) their number.

    `title` heads the model's results (default: its verbose plural name). `people` names the fields of the
    person a record is for, whose name or username finds it; left out, a process record's first requester field
    (a ticket's caller).
    """
    prefix = (number_prefix or getattr(model, 'number_prefix', '') or '').upper()
    names = tuple(fields)
    if prefix and 'number' not in names:
        names = ('number', *names)
    if people is None:
        requester_fields = getattr(model, 'requester_fields', ())
        people = tuple(requester_fields[:1])
    target = SearchTarget(
        model=model,
        fields=names,
        number_prefix=prefix,
        select_related=tuple(select_related),
        title=title,
        people=tuple(people),
    )
    _registry[model] = target
    return target


def targets() -> list[SearchTarget]:
    return list(_registry.values())


def targets_for(user) -> list[SearchTarget]:
    return [t for t in _registry.values() if user_can(user, t.model, 'view')]


def number_candidates(text: str, prefixes: set[str] | None = None) -> list[str]:
    """The reference numbers `text` may mean: `inc1003` → INC0001003; `1003` → that number under every prefix in use.

    An unknown prefix (`win10`) means no number. `prefixes` defaults to the prefixes of registered models and of
    the number sequences (a case's CS shares its model with the incident's INC).
    """
    match = NUMBER_PATTERN.match((text or '').strip())
    if not match:
        return []
    prefix, value = match.group(1).upper(), int(match.group(2))
    if value == 0:
        return []
    if prefixes is None:
        prefixes = known_prefixes()
    if prefix:
        return [format_number(prefix, value)] if prefix in prefixes else []
    return [format_number(known, value) for known in sorted(prefixes)]


def known_prefixes() -> set[str]:
    return {t.number_prefix for t in _registry.values() if t.number_prefix} | prefixes_in_use()


def number_matches(user, query: str, *, limit: int = 10) -> list[models.Model]:
    """The records the person may see whose number `query` names, whole or partial (at most `limit`).

    One indexed lookup per numbered model: the one with the query's prefix when a model has it, every numbered
    model otherwise (a prefix a model shares with another kind, `CS`, or digits alone).
    """
    candidates = number_candidates(query)
    if not candidates:
        return []
    numbered = [t for t in targets_for(user) if t.number_fields]
    prefix = NUMBER_PATTERN.match(query.strip()).group(1).upper()
    owners = [t for t in numbered if prefix and t.number_prefix == prefix]
    found: list[models.Model] = []
    for target in owners or numbered:
        rows = target.queryset_for(user).filter(target.number_condition(candidates))
        found.extend(rows.order_by('number')[: limit - len(found)])
        if len(found) >= limit:
            break
    return found


def find_by_number(user, query: str) -> models.Model | None:
    """The one record whose reference number `query` names (`INC0001003`, `inc1003`, `1003`), if the person may
    see it; None when none or several match."""
    matches = number_matches(user, query, limit=2)
    return matches[0] if len(matches) == 1 else None


def search(user, query: str, *, limit: int = 10, exclude=()) -> list[SearchResults]:
    """Matches per model the person may view, each capped at `limit` rows (`more` tells when there were more).

    Every word must match some field: a text field (`icontains`), the number it names (exact candidates) or,
    for records with people, the name of the person (a ticket's caller). Records in `exclude` (already listed
    as number matches) are left out.
    """
    terms = (query or '').split()
    if not terms:
        return []
    prefixes = known_prefixes()
    numbers = {term: number_candidates(term, prefixes) for term in terms}
    results = []
    for target in targets_for(user):
        condition = Q()
        for term in terms:
            any_field = Q()
            for name in target.text_fields:
                any_field |= Q(**{f'{name}__icontains': term})
            for extra in (target.number_condition(numbers[term]), target.people_condition(term)):
                if extra is not None:
                    any_field |= extra
            condition &= any_field
        queryset = target.queryset_for(user).filter(condition)
        shown = [obj.pk for obj in exclude if isinstance(obj, target.model)]
        if shown:
            queryset = queryset.exclude(pk__in=shown)
        rows = list(queryset.distinct()[: limit + 1])
        if rows:
            results.append(SearchResults(target=target, hits=rows[:limit], more=len(rows) > limit))
    return results


def _register_core() -> None:
    from .models import SupportGroup, User

    register(User, fields=['username', 'first_name', 'last_name', 'email', 'department', 'phone'], title='People')
    register(SupportGroup, fields=['name', 'description', 'email'])


_register_core()
