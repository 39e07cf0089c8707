"""Knowledge measures over a `reports` slice: views, the helpful share of votes, reuse in resolutions, deflections
and articles past their review date.

Each is a function of a `reports.slices.Slice` (and, for the dashboard, an optional article type) answering its
figures and, where it has a trend, a `series` entry per period. `register()` (called by the app's ready) adds them to
`reports.registry`, so `/api/v1/metrics/{measure}/` serves them beside the desk's; the knowledge dashboard
(`knowledge.views.dashboard`) shows them. Filters: service and category, read on the article.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Count, F, FloatField, Q, Sum
from django.db.models.functions import Cast
from django.urls import reverse

from reports.registry import RegisteredMeasure
from reports.slices import Slice, period_start

from .models import Article, ArticleUse, ArticleViewDay, ArticleVote, Deflection

__all__ = [
    'FILTERS',
    'MEASURES',
    'articles_past_review',
    'dashboard',
    'deflections',
    'helpful_share',
    'least_helpful',
    'past_review_list',
    'reuse',
    'top_by_uses',
    'top_by_views',
    'views',
]

FILTERS = ('service', 'category')
# Fewer votes than this say little about an article: the least-helpful list leaves it out.
MIN_VOTES = 2
RELATIONS = {'service': 'services', 'category': 'categories'}


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _article_q(slice_: Slice, prefix: str = '', article_type: str = '') -> Q:
    """The slice's filters on the article (reached through `prefix`, e.g. 'article__')."""
    condition = Q()
    if article_type:
        condition &= Q(**{f'{prefix}article_type': article_type})
    through = {'service': Article.services.through, 'category': Article.categories.through}
    targets = {'service': 'configurationitem', 'category': 'category'}
    for name in FILTERS:
        value = getattr(slice_, name)
        if value is None:
            continue
        if value == 0:
            condition &= Q(**{f'{prefix}{RELATIONS[name]}__isnull': True})
            continue
        rows = through[name].objects.filter(**{targets[name]: value}).values('article')
        condition &= Q(**{f'{prefix}pk__in': rows})
    return condition


def _counted(moments, slice_: Slice) -> dict[str, Any]:
    per_period: dict[dt.date, int] = defaultdict(int)
    for moment in moments:
        per_period[slice_.period_of(moment)] += 1
    return {
        'count': sum(per_period.values()),
        'series': slice_.series(lambda key: {'count': per_period[key]}),
    }


#
# The measures
#


def views(slice_: Slice, *, article_type: str = '') -> dict[str, Any]:
    """Article views on the days of the slice, per period (one row per article and day, summed in the database)."""
    rows = (
        ArticleViewDay.objects.filter(
            _article_q(slice_, 'article__', article_type), day__gte=slice_.start, day__lte=slice_.end
        )
        .values('day')
        .annotate(total=Sum('views'))
        .values_list('day', 'total')
    )
    per_period: dict[dt.date, int] = defaultdict(int)
    for day, total in rows:
        per_period[period_start(day, slice_.interval)] += total
    return {'count': sum(per_period.values()), 'series': slice_.series(lambda key: {'count': per_period[key]})}


def helpful_share(slice_: Slice, *, article_type: str = '') -> dict[str, Any]:
    """Of the votes cast (or changed) in the slice, the share saying the article helped."""
    rows = ArticleVote.objects.filter(
        _article_q(slice_, 'article__', article_type), slice_.within('voted_at')
    ).values_list('voted_at', 'helpful')
    per_period: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0])
    for voted_at, helpful in rows:
        counts = per_period[slice_.period_of(voted_at)]
        counts[0] += 1
        counts[1] += int(helpful)

    def figures(votes: int, helpful: int) -> dict[str, Any]:
        return {'votes': votes, 'helpful': helpful, 'not_helpful': votes - helpful, 'percent': _percent(helpful, votes)}

    votes = sum(c[0] for c in per_period.values())
    helpful = sum(c[1] for c in per_period.values())
    return {**figures(votes, helpful), 'series': slice_.series(lambda key: figures(*per_period[key]))}


def reuse(slice_: Slice, *, article_type: str = '') -> dict[str, Any]:
    """Incidents an article helped resolve ("used to resolve"), counted on the day it was linked."""
    moments = ArticleUse.objects.filter(
        _article_q(slice_, 'article__', article_type), slice_.within('used_at')
    ).values_list('used_at', flat=True)
    return _counted(moments, slice_)


def deflections(slice_: Slice, *, article_type: str = '') -> dict[str, Any]:
    """Reports the portal never had to log: the requester said an article solved it."""
    moments = Deflection.objects.filter(
        _article_q(slice_, 'article__', article_type), slice_.within('deflected_at')
    ).values_list('deflected_at', flat=True)
    return _counted(moments, slice_)


def _past_review(slice_: Slice, article_type: str = '', on: dt.date | None = None):
    from .reviews import past_review

    return past_review(today=on).filter(_article_q(slice_, '', article_type))


def articles_past_review(slice_: Slice, *, article_type: str = '', on: dt.date | None = None) -> dict[str, Any]:
    """Live articles whose review date has passed, now, whatever the period."""
    return {
        'count': _past_review(slice_, article_type, on).count(),
        'url': reverse('knowledge:review_due'),
    }


#
# Lists for the dashboard (one query each, whatever the number of articles)
#


def _ranked(slice_: Slice, rows, limit: int) -> list[tuple[Article, int]]:
    totals = dict(rows[:limit])
    articles = Article.objects.filter(pk__in=totals).select_related('owner').in_bulk()
    return [(articles[pk], total) for pk, total in totals.items() if pk in articles]


def top_by_views(slice_: Slice, *, article_type: str = '', limit: int = 5) -> list[tuple[Article, int]]:
    rows = (
        ArticleViewDay.objects.filter(
            _article_q(slice_, 'article__', article_type), day__gte=slice_.start, day__lte=slice_.end
        )
        .values('article')
        .annotate(total=Sum('views'))
        .order_by('-total', 'article')
        .values_list('article', 'total')
    )
    return _ranked(slice_, rows, limit)


def top_by_uses(slice_: Slice, *, article_type: str = '', limit: int = 5) -> list[tuple[Article, int]]:
    rows = (
        ArticleUse.objects.filter(_article_q(slice_, 'article__', article_type), slice_.within('used_at'))
        .values('article')
        .annotate(total=Count('pk'))
        .order_by('-total', 'article')
        .values_list('article', 'total')
    )
    return _ranked(slice_, rows, limit)


def least_helpful(slice_: Slice, *, article_type: str = '', limit: int = 5):
    """Live articles with the lowest share of helpful votes (all their votes), at least `MIN_VOTES` of them."""
    votes = F('helpful_count') + F('not_helpful_count')
    return list(
        Article.objects.live()
        .filter(_article_q(slice_, '', article_type))
        .annotate(vote_total=votes, share=Cast(F('helpful_count'), FloatField()) / Cast(votes, FloatField()))
        .filter(vote_total__gte=MIN_VOTES)
        .select_related('owner')
        .order_by('share', '-vote_total', 'pk')[:limit]
    )


def past_review_list(slice_: Slice, *, article_type: str = '', limit: int = 10):
    return list(_past_review(slice_, article_type).select_related('owner').order_by('review_by', 'pk')[:limit])


#
# Definitions and registration
#

MEASURES: dict[str, RegisteredMeasure] = {
    m.slug: m
    for m in [
        RegisteredMeasure(
            slug='knowledge_views',
            label='Article views',
            unit='views',
            definition='Times articles were read, on the desk and in the portal, per period.',
            counted_on='the day of the view',
            permission='knowledge.view_articleviewday',
            compute=views,
            filters=FILTERS,
        ),
        RegisteredMeasure(
            slug='knowledge_helpful',
            label='Helpful share',
            unit='%',
            definition=(
                'Of the votes cast in the period (a changed vote counts on the day it changed), the share saying '
                'the article helped.'
            ),
            counted_on='the day of the vote',
            permission='knowledge.view_articlevote',
            compute=helpful_share,
            filters=FILTERS,
        ),
        RegisteredMeasure(
            slug='knowledge_reuse',
            label='Reuse in resolutions',
            unit='incidents',
            definition='Incidents an article helped resolve ("used to resolve"), per period.',
            counted_on='the day the article was linked to the incident',
            permission='knowledge.view_articleuse',
            compute=reuse,
            filters=FILTERS,
        ),
        RegisteredMeasure(
            slug='knowledge_deflections',
            label='Deflections',
            unit='reports',
            definition='Reports the portal never had to log because the requester said an article solved it.',
            counted_on='the day the requester said so',
            permission='knowledge.view_deflection',
            compute=deflections,
            filters=FILTERS,
        ),
        RegisteredMeasure(
            slug='knowledge_past_review',
            label='Articles past review',
            unit='articles',
            definition='Live articles whose review date has passed, now, whatever the period.',
            counted_on='now',
            permission='knowledge.view_article',
            compute=articles_past_review,
            filters=FILTERS,
        ),
    ]
}


def dashboard(slice_: Slice, *, article_type: str = '') -> dict[str, Any]:
    """Every knowledge measure over the slice, for the dashboard."""
    return {slug: measure.compute(slice_, article_type=article_type) for slug, measure in MEASURES.items()}


def register() -> None:
    """Serves the measures from the metrics API (called by KnowledgeConfig.ready)."""
    from reports import registry

    for measure in MEASURES.values():
        registry.register(measure)
