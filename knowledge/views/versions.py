"""An article's published versions: the history, one version as readers saw it, and a comparison of two versions
(or of a version and the working copy) with field changes and an escaped line diff."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.views import View

from itsm.permissions import user_can
from itsm.views.generic import StaffOnlyMixin
from itsm.views.records import find_record

from .. import selectors
from ..choices import ArticleType, Audience
from ..models import Article, ArticleVersion

DRAFT = 'draft'


@dataclass(frozen=True)
class Side:
    """One side of a comparison: a published version or the working copy, with the fields compared."""

    label: str
    key: str
    title: str
    summary: str
    body: str
    article_type: str
    audience: str
    record: Any

    @classmethod
    def of_version(cls, version: ArticleVersion) -> Side:
        return cls(
            f'Version {version.version}',
            str(version.version),
            version.title,
            version.summary,
            version.body,
            version.article_type,
            version.audience,
            version,
        )

    @classmethod
    def of_working_copy(cls, article: Article) -> Side:
        return cls(
            'Working copy',
            DRAFT,
            article.short_description,
            article.summary,
            article.body,
            article.article_type,
            article.audience,
            article,
        )


FIELDS = (
    ('title', 'Title', None),
    ('summary', 'Summary', None),
    ('article_type', 'Type', ArticleType),
    ('audience', 'Audience', Audience),
)


def field_changes(old: Side, new: Side) -> list[tuple[str, str, str]]:
    """(label, old, new) of each compared field that differs, choices by their labels."""
    changes = []
    for name, label, choices in FIELDS:
        before, after = getattr(old, name), getattr(new, name)
        if before != after:
            if choices is not None:
                before, after = choices(before).label, choices(after).label
            changes.append((label, before, after))
    return changes


@dataclass(frozen=True)
class DiffRow:
    """One row of the side-by-side diff: `kind` is equal, changed, added or removed; texts are escaped by the
    template."""

    kind: str
    old_number: int | None
    old: str
    new_number: int | None
    new: str


def line_diff(old: str, new: str) -> list[DiffRow]:
    """The bodies line by line, side by side."""
    a, b = old.splitlines(), new.splitlines()
    rows = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == 'equal':
            pairs = zip(range(i1, i2), range(j1, j2), strict=True)
            rows += [DiffRow('equal', i + 1, a[i], j + 1, b[j]) for i, j in pairs]
            continue
        olds, news = list(range(i1, i2)), list(range(j1, j2))
        for k in range(max(len(olds), len(news))):
            i = olds[k] if k < len(olds) else None
            j = news[k] if k < len(news) else None
            kind = 'changed' if i is not None and j is not None else ('removed' if j is None else 'added')
            rows.append(
                DiffRow(
                    kind,
                    None if i is None else i + 1,
                    '' if i is None else a[i],
                    None if j is None else j + 1,
                    '' if j is None else b[j],
                )
            )
    return rows


class ArticleViewMixin(StaffOnlyMixin):
    """Desk pages about one article's versions: staff who may view articles."""

    def article(self) -> Article:
        if not user_can(self.request.user, Article, 'view'):
            raise PermissionDenied
        return find_record(selectors.article_detail(), self.kwargs['number'])


class VersionListView(ArticleViewMixin, View):
    def get(self, request, number):
        article = self.article()
        versions = list(selectors.article_versions(article))
        return render(
            request,
            'knowledge/article_versions.html',
            {'object': article, 'article': article, 'versions': versions, 'title': f'{article.number} versions'},
        )


class VersionDetailView(ArticleViewMixin, View):
    def get(self, request, number, version):
        article = self.article()
        shown = selectors.article_version(article, version)
        if shown is None:
            raise Http404(f'{article.number} has no version {version}.')
        rendered = import_module('knowledge.rendering').render_markdown(shown.body)
        return render(
            request,
            'knowledge/article_version.html',
            {
                'object': article,
                'article': article,
                'version': shown,
                'rendered_body': rendered,
                'title': f'{article.number} version {shown.version}',
            },
        )


class CompareView(ArticleViewMixin, View):
    """`?from=<version>&to=<version or draft>`; without them, the latest published version against the working
    copy (or the two latest versions)."""

    def side(self, article: Article, versions: dict[int, ArticleVersion], value: str) -> Side | None:
        if value == DRAFT:
            return Side.of_working_copy(article)
        if value.isdigit() and int(value) in versions:
            return Side.of_version(versions[int(value)])
        return None

    def get(self, request, number):
        article = self.article()
        versions = {v.version: v for v in selectors.article_versions(article)}
        latest = max(versions, default=None)
        default_from = str(latest) if latest else DRAFT
        asked_from = request.GET.get('from', '').strip() or default_from
        asked_to = request.GET.get('to', '').strip() or DRAFT
        old, new = self.side(article, versions, asked_from), self.side(article, versions, asked_to)
        errors = []
        if old is None:
            errors.append(f'{article.number} has no version “{asked_from}”.')
        if new is None:
            errors.append(f'{article.number} has no version “{asked_to}”.')
        context = {
            'object': article,
            'article': article,
            'versions': list(versions.values()),
            'from_key': asked_from,
            'to_key': asked_to,
            'errors': errors,
            'title': f'Compare {article.number}',
        }
        if not errors:
            rows = line_diff(old.body, new.body)
            context.update(
                old=old,
                new=new,
                changes=field_changes(old, new),
                rows=rows,
                body_changed=any(row.kind != 'equal' for row in rows),
            )
        return render(request, 'knowledge/article_compare.html', context, status=400 if errors else 200)


version_urls = [
    path('<recordnumber:number>/versions/', VersionListView.as_view(), name='article_versions'),
    path('<recordnumber:number>/versions/<int:version>/', VersionDetailView.as_view(), name='article_version'),
    path('<recordnumber:number>/compare/', CompareView.as_view(), name='article_compare'),
]
