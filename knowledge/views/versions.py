"""An article's published versions: the history, one version as readers saw it, and a comparison of two versions
(or of a version and the working copy) through `knowledge.versions.compare`: the fields that changed and a unified
line diff of the body, every line escaped."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.views import View

from itsm.permissions import user_can
from itsm.views.generic import StaffOnlyMixin
from itsm.views.records import find_record

from .. import selectors
from ..models import Article, ArticleVersion
from ..rendering import render_markdown
from ..versions import Kind, compare

DRAFT = 'draft'


@dataclass(frozen=True)
class Line:
    """One line of the body's unified diff with its numbers on either side (None where it has none); the text is
    escaped by the template like any other."""

    kind: str  # `knowledge.versions.Kind`: same, added or removed
    text: str
    old_number: int | None
    new_number: int | None


def field_changes(rows) -> list[tuple[str, str, str]]:
    """(label, before, after) of each field that changed, from the field rows of `compare`."""
    changes: dict[str, list[str]] = {}
    for row in rows:
        if row.field != 'body' and row.changed:
            before_after = changes.setdefault(row.label, ['', ''])
            before_after[0 if row.kind == Kind.REMOVED else 1] = row.text
    return [(label, before, after) for label, (before, after) in changes.items()]


def body_lines(rows) -> list[Line]:
    """The body rows of `compare`, numbered on the side(s) each line belongs to."""
    lines, old_number, new_number = [], 0, 0
    for row in rows:
        if row.field != 'body':
            continue
        old_number += row.kind != Kind.ADDED
        new_number += row.kind != Kind.REMOVED
        lines.append(
            Line(
                row.kind,
                row.text,
                old_number if row.kind != Kind.ADDED else None,
                new_number if row.kind != Kind.REMOVED else None,
            )
        )
    return lines


def side_label(key: str) -> str:
    return 'Working copy' if key == DRAFT else f'Version {key}'


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
        rendered = render_markdown(shown.body)
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

    def side(self, article: Article, versions: dict[int, ArticleVersion], value: str):
        """The version numbered `value`, the working copy for `draft`, else None."""
        if value == DRAFT:
            return article
        if value.isdigit():
            return versions.get(int(value))
        return None

    def get(self, request, number):
        article = self.article()
        versions = {v.version: v for v in selectors.article_versions(article)}
        latest = max(versions, default=None)
        asked_from = request.GET.get('from', '').strip() or (str(latest) if latest else DRAFT)
        asked_to = request.GET.get('to', '').strip() or DRAFT
        old, new = self.side(article, versions, asked_from), self.side(article, versions, asked_to)
        errors = [
            f'{article.number} has no version “{asked}”.'
            for asked, side in ((asked_from, old), (asked_to, new))
            if side is None
        ]
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
            rows = compare(old, new)
            lines = body_lines(rows)
            context.update(
                old_label=side_label(asked_from),
                new_label=side_label(asked_to),
                changes=field_changes(rows),
                lines=lines,
                body_changed=any(line.kind != Kind.SAME for line in lines),
            )
        return render(request, 'knowledge/article_compare.html', context, status=400 if errors else 200)


version_urls = [
    path('<recordnumber:number>/versions/', VersionListView.as_view(), name='article_versions'),
    path('<recordnumber:number>/versions/<int:version>/', VersionDetailView.as_view(), name='article_version'),
    path('<recordnumber:number>/compare/', CompareView.as_view(), name='article_compare'),
]
