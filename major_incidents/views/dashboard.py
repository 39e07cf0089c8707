"""The major-incident dashboard (`major_incidents:dashboard`): the five measures of `major_incidents.measures` over
the last 30, 90 or 365 days, a chart of major incidents per week with the mean time to restore, and the overdue
action items. The chart uses the reports' Chart.js specification and script."""

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
from .. import review as reviews

__all__ = ['dashboard_urls']

PERIODS = {30: 'Last 30 days', 90: 'Last 90 days', 365: 'Last 365 days'}
DEFAULT_DAYS = 90
OVERDUE_SHOWN = 50


def _days(request) -> int:
    try:
        days = int(request.GET.get('days', DEFAULT_DAYS))
    except ValueError:
        return DEFAULT_DAYS
    return days if days in PERIODS else DEFAULT_DAYS


def weekly_chart(figures) -> dict:
    counts = figures['major_incidents']['series']
    restore = figures['major_time_to_restore']['series']
    return {
        'id': 'chart-major-incidents',
        'data_id': 'chart-major-incidents-data',
        'title': 'Major incidents per week and mean time to restore',
        'help': measures.MEASURES['major_time_to_restore'].definition,
        'empty': not figures['major_incidents']['count'] and not figures['major_time_to_restore']['count'],
        'spec': {
            'labels': [p['label'] for p in counts],
            'datasets': [
                {
                    'label': 'Major incidents declared',
                    'type': 'bar',
                    'data': [p['count'] for p in counts],
                    'color': 'red',
                    'unit': 'major incidents',
                },
                {
                    'label': 'Mean time to restore',
                    'type': 'line',
                    'data': [p['mean_hours'] for p in restore],
                    'color': 'indigo',
                    'unit': 'h',
                    'axis': 'y2',
                },
            ],
            'x': 'Week',
            'y': {'title': 'Major incidents', 'unit': 'major incidents', 'integer': True},
            'y2': {'title': 'Hours from outage to restored', 'unit': 'h'},
        },
    }


class MajorIncidentDashboardView(LoginRequiredMixin, StaffOnlyMixin, View):
    def get(self, request):
        if not request.user.has_perm('major_incidents.view_majorincident'):
            raise PermissionDenied
        days = _days(request)
        slice_ = Slice.last_days(days, interval=Interval.WEEK)
        figures = measures.dashboard(slice_)
        overdue = list(
            reviews.action_items_due()
            .select_related('owner', 'review__major_incident')
            .order_by('due_date', 'pk')[:OVERDUE_SHOWN]
        )
        context = {
            'title': 'Major-incident dashboard',
            'days': days,
            'periods': PERIODS,
            'slice': slice_,
            'figures': figures,
            'definitions': measures.MEASURES,
            'chart': weekly_chart(figures),
            'overdue': overdue,
        }
        return render(request, 'major_incidents/dashboard.html', context)


dashboard_urls = [path('dashboard/', MajorIncidentDashboardView.as_view(), name='dashboard')]
