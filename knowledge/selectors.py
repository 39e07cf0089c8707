"""Read-side queries for knowledge articles, shared by the pages and the API.

Lists join what their rows show and fetch many-to-many relations in one query each, so a page costs the same
number of queries however many articles, versions, votes or services there are.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Case, F, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone

from .choices import ArticleState
from .models import Article, ArticleVersion

RELATED = ('owner', 'opened_by', 'published_version', 'known_error')


def _items():
    from cmdb.models import ConfigurationItem

    return ConfigurationItem.objects.only('id', 'number', 'name', 'ci_class').order_by('name')


def _categories():
    from incidents.models import Category

    return Category.objects.select_related('parent').order_by('name')


def article_list(*, user=None, articles: QuerySet[Article] | None = None, today: dt.date | None = None):
    """Articles with what lists show: owner, services, the share of helpful votes (None without votes) and whether
    a live article's review date has passed (by `today`, the desk's date)."""
    today = today or timezone.localdate()
    articles = Article.objects.all() if articles is None else articles
    votes = F('helpful_count') + F('not_helpful_count')
    articles = (
        articles.select_related('owner', 'published_version')
        .prefetch_related(Prefetch('services', queryset=_items()))
        .annotate(
            helpful_percent=Case(
                When(Q(helpful_count__gt=0) | Q(not_helpful_count__gt=0), then=F('helpful_count') * 100 / votes),
                default=Value(None),
                output_field=IntegerField(),
            ),
            review_overdue=Case(
                When(
                    Q(review_by__lt=today, published_version__isnull=False) & ~Q(state=ArticleState.RETIRED),
                    then=Value(1),
                ),
                default=Value(0),
                output_field=IntegerField(),
            ),
        )
    )
    return articles.visible_to(user) if user is not None else articles


def article_detail() -> QuerySet[Article]:
    """Articles with what their page shows: people, the published version and its approver, the known error,
    services, configuration items and categories."""
    return Article.objects.select_related(
        *RELATED, 'published_version__approved_by', 'published_version__author'
    ).prefetch_related(
        Prefetch('services', queryset=_items()),
        Prefetch('cis', queryset=_items()),
        Prefetch('categories', queryset=_categories()),
    )


TABS = {
    'published': 'Published',
    'work': 'Drafts & review',
    'mine': 'Mine',
    'retired': 'Retired',
    'all': 'All',
}


def article_tab(*, user, name: str, today: dt.date | None = None) -> QuerySet[Article]:
    """One of the list's tabs (`TABS`): live articles, work in progress (draft or in review), the person's own
    (owned or written), retired ones, or every article; most recently changed first."""
    articles = article_list(today=today)
    if name == 'published':
        articles = articles.live()
    elif name == 'work':
        articles = articles.filter(state__in=(ArticleState.DRAFT, ArticleState.REVIEW))
    elif name == 'mine':
        articles = articles.filter(Q(owner=user) | Q(opened_by=user))
    elif name == 'retired':
        articles = articles.filter(state=ArticleState.RETIRED)
    elif name != 'all':
        raise ValueError(f'unknown article tab {name!r}')
    return articles.order_by('-updated_at', '-id')


def article_versions(article: Article) -> QuerySet[ArticleVersion]:
    """The article's published versions, newest first, with who wrote and approved each."""
    return article.versions.select_related('author', 'approved_by').order_by('-version')


def article_version(article: Article, version: int) -> ArticleVersion | None:
    return article_versions(article).filter(version=version).first()


def review_due(*, today: dt.date | None = None) -> QuerySet[Article]:
    """Live articles past their review date with their owners, most overdue first."""
    from .reviews import past_review

    return past_review(today=today or timezone.localdate()).select_related('owner').order_by('review_by', 'id')


def with_published(articles) -> list:
    """Give each article `shown`, the version readers see (one query for those not loaded with it), so lists show
    the published title and summary even while a new version is drafted on the working copy."""
    articles = list(articles)
    cached = Article.published_version.is_cached
    missing = [a.published_version_id for a in articles if a.published_version_id and not cached(a)]
    versions = ArticleVersion.objects.in_bulk(missing) if missing else {}
    for article in articles:
        article.shown = article.published_version if cached(article) else versions.get(article.published_version_id)
    return articles
