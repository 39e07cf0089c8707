"""The knowledge dashboard (`knowledge:dashboard`, staff): the measures of `knowledge.measures` over the last 30, 90
or 365 days (optionally one article type), a chart of views, uses and deflections per week, the top articles by
views and by uses, the least helpful ones and those past their review date. The chart uses the reports' Chart.js
specification and script."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import path
from django.views import View

from itsm.views.generic import StaffOnlyMixin
from reports.choices import Interval
from reports.slices import Slice

from .. import measures
from ..choices import ArticleType

__all__ = ['dashboard_urls']

PERIODS = {30: 'Last 30 days', 90: 'Last 90 days', 365: 'Last 365 days'}
DEFAULT_DAYS = 90


def _days(request) -> int:
    try:
        days = int(request.GET.get('days', DEFAULT_DAYS))
    except ValueError:
        return DEFAULT_DAYS
    return days if days in PERIODS else DEFAULT_DAYS


def _article_type(request) -> str:
    value = request.GET.get('type', '')
    return value if value in ArticleType.values else ''


def weekly_chart(figures) -> dict:
    views, uses, deflected = (
        figures[k]['series'] for k in ('knowledge_views', 'knowledge_reuse', 'knowledge_deflections')
    )
    return {
        'id': 'chart-knowledge',
        'data_id': 'chart-knowledge-data',
        'title': 'Views, uses and deflections per week',
        'help': 'Views of articles; incidents they helped resolve; portal reports they ended.',
        'empty': not any(figures[k]['count'] for k in ('knowledge_views', 'knowledge_reuse', 'knowledge_deflections')),
        'spec': {
            'labels': [p['label'] for p in views],
            'datasets': [
                {
                    'label': 'Views',
                    'type': 'bar',
                    'data': [p['count'] for p in views],
                    'color': 'blue',
                    'unit': 'views',
                },
                {
                    'label': 'Used to resolve',
                    'type': 'line',
                    'data': [p['count'] for p in uses],
                    'color': 'green',
                    'unit': 'incidents',
                    'axis': 'y2',
                },
                {
                    'label': 'Deflections',
                    'type': 'line',
                    'data': [p['count'] for p in deflected],
                    'color': 'orange',
                    'unit': 'reports',
                    'axis': 'y2',
                },
            ],
            'x': 'Week',
            'y': {'title': 'Views', 'unit': 'views', 'integer': True},
            'y2': {'title': 'Incidents and reports', 'unit': '', 'integer': True},
        },
    }


class KnowledgeDashboardView(LoginRequiredMixin, StaffOnlyMixin, View):
    def get(self, request):
        if not request.user.has_perm('knowledge.view_articleviewday'):
            raise PermissionDenied
        days, article_type = _days(request), _article_type(request)
        slice_ = Slice.last_days(days, interval=Interval.WEEK)
        figures = measures.dashboard(slice_, article_type=article_type)
        context = {
            'title': 'Knowledge dashboard',
            'days': days,
            'periods': PERIODS,
            'article_type': article_type,
            'types': ArticleType.choices,
            'slice': slice_,
            'figures': figures,
            'definitions': measures.MEASURES,
            'chart': weekly_chart(figures),
            'top_views': measures.top_by_views(slice_, article_type=article_type),
            'top_uses': measures.top_by_uses(slice_, article_type=article_type),
            'least_helpful': measures.least_helpful(slice_, article_type=article_type),
            'past_review': measures.past_review_list(slice_, article_type=article_type),
        }
        return render(request, 'knowledge/dashboard.html', context)


dashboard_urls = [path('dashboard/', KnowledgeDashboardView.as_view(), name='dashboard')]
