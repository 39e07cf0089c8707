"""The problem management dashboard (`problems:dashboard`) and the problems or incidents behind each figure
(`problems:dashboard_drilldown`). Figures come from `problems.measures`; the charts use the reports' Chart.js
specification and script."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.views import View

from cmdb.selectors import service_choices
from incidents.selectors import category_choices
from itsm.choices import Priority
from reports.choices import Interval
from reports.views.common import slice_from_request

from .. import measures

__all__ = ['ProblemDashboardView', 'ProblemDrillDownView']

PAGE_SIZE = 50
COLOURS = {0: 'red', 1: 'orange', 2: 'purple', 3: 'blue', 4: 'gray'}
PARTS = {
    'open_problems': {band.key: band.label.lower() for band in measures.AGE_BANDS},
    'recurrence': {'recurred': f'incidents recurred within {measures.RECURRENCE_DAYS} days'},
    'known_error_share': {'known_error': 'a known error applied', 'problem': 'linked to a problem'},
}


def _guard(user) -> None:
    if not user.has_perm('problems.view_problem'):
        raise PermissionDenied


def _slice(request):
    """The page's slice: dates, trend interval (by week unless asked), and the filters the problem measures
    read."""
    slice_, errors = slice_from_request(request)
    slice_ = slice_.replace(kind='', group=None, channel='', agent=None)
    if not request.GET.get('interval') and slice_.days > 7:
        # Problems come a few a week: weekly trends read better than days mostly at zero.
        slice_ = slice_.replace(interval=Interval.WEEK if slice_.days <= 400 else Interval.MONTH)
    errors = {name: messages for name, messages in errors.items() if name in ('from', 'to', *measures.FILTERS)}
    return slice_, errors


def _chart(chart_id: str, title: str, labels, datasets, *, y: dict, x: str, empty: bool, help_text: str, y2=None):
    return {
        'id': chart_id,
        'data_id': f'{chart_id}-data',
        'title': title,
        'help': help_text,
        'empty': empty,
        'spec': {'labels': labels, 'datasets': datasets, 'x': x, 'y': y, 'y2': y2},
    }


def charts_for(figures: dict[str, Any], slice_) -> dict[str, dict]:
    period = dict(Interval.choices)[slice_.interval]
    definitions = measures.MEASURES
    charts = {}
    open_ = figures['open_problems']
    charts['open'] = _chart(
        'chart-open-problems',
        'Open problems by age and priority',
        [band['label'] for band in open_['bands']],
        [
            {
                'label': label,
                'type': 'bar',
                'data': [band['by_priority'][index]['count'] for band in open_['bands']],
                'color': COLOURS[value],
                'unit': 'problems',
                'urls': [band['by_priority'][index]['url'] for band in open_['bands']],
            }
            for index, (value, label) in enumerate(Priority.choices)
        ],
        y={'title': 'Open problems', 'unit': 'problems', 'integer': True},
        x='Age since opened',
        empty=not open_['count'],
        help_text=definitions['open_problems'].definition,
    )
    rca = figures['time_to_root_cause']['series']
    charts['rca'] = _chart(
        'chart-time-to-root-cause',
        'Time to root cause',
        [p['label'] for p in rca],
        [
            {
                'label': 'Mean',
                'type': 'line',
                'data': [p['mean_hours'] for p in rca],
                'color': 'indigo',
                'unit': 'h',
                'urls': [p['problems_url'] for p in rca],
            },
            {
                'label': 'Median',
                'type': 'line',
                'data': [p['median_hours'] for p in rca],
                'color': 'purple',
                'unit': 'h',
                'urls': [p['problems_url'] for p in rca],
            },
            {
                'label': 'Root causes found',
                'type': 'bar',
                'data': [p['count'] for p in rca],
                'color': 'teal',
                'unit': 'problems',
                'axis': 'y2',
                'urls': [p['problems_url'] for p in rca],
            },
        ],
        y={'title': 'Hours from opened to root cause', 'unit': 'h'},
        y2={'title': 'Root causes found', 'unit': 'problems', 'integer': True},
        x=period,
        empty=not figures['time_to_root_cause']['count'],
        help_text=definitions['time_to_root_cause'].definition,
    )
    share = figures['known_error_share']['series']
    charts['share'] = _chart(
        'chart-known-error-share',
        'Incidents with a known error or problem',
        [p['label'] for p in share],
        [
            {
                'label': 'With a known error or problem',
                'type': 'line',
                'data': [p['percent'] for p in share],
                'color': 'green',
                'unit': '%',
                'urls': [p['problem_url'] for p in share],
            },
            {
                'label': 'Known error applied',
                'type': 'bar',
                'data': [p['known_error'] for p in share],
                'color': 'orange',
                'unit': 'incidents',
                'axis': 'y2',
                'urls': [p['known_error_url'] for p in share],
            },
            {
                'label': 'Linked to a problem',
                'type': 'bar',
                'data': [p['problem'] for p in share],
                'color': 'blue',
                'unit': 'incidents',
                'axis': 'y2',
                'urls': [p['problem_url'] for p in share],
            },
        ],
        y={'title': 'Incidents opened', 'unit': '%', 'min': 0, 'max': 100},
        y2={'title': 'Incidents', 'unit': 'incidents', 'integer': True},
        x=period,
        empty=not figures['known_error_share']['incidents'],
        help_text=definitions['known_error_share'].definition,
    )
    per = figures['incidents_per_problem']['series']
    charts['per_problem'] = _chart(
        'chart-incidents-per-problem',
        'Incidents per problem',
        [p['label'] for p in per],
        [
            {
                'label': 'Problems opened',
                'type': 'bar',
                'data': [p['problems'] for p in per],
                'color': 'azure',
                'unit': 'problems',
                'urls': [p['problems_url'] for p in per],
            },
            {
                'label': 'Incidents per problem',
                'type': 'line',
                'data': [p['per_problem'] for p in per],
                'color': 'red',
                'unit': 'per problem',
                'axis': 'y2',
                'urls': [p['problems_url'] for p in per],
            },
        ],
        y={'title': 'Problems opened', 'unit': 'problems', 'integer': True},
        y2={'title': 'Incidents per problem', 'unit': 'per problem'},
        x=period,
        empty=not figures['incidents_per_problem']['problems'],
        help_text=definitions['incidents_per_problem'].definition,
    )
    return charts


def _filter_bar(slice_, errors) -> dict[str, Any]:
    return {
        'form_errors': errors,
        'values': slice_.params(),
        'slice': slice_,
        'intervals': Interval.choices,
        'priorities': Priority.choices,
        'services': service_choices(),
        'categories': category_choices(),
        'selected_priority': slice_.priorities[0] if len(slice_.priorities) == 1 else None,
    }


class ProblemDashboardView(LoginRequiredMixin, View):
    """Problem management's measures: open problems by age and priority, time to root cause, incidents per
    problem, incidents with a known error or problem, and recurrence after closure; every figure links to the
    problems (or incidents) behind it."""

    def get(self, request):
        _guard(request.user)
        slice_, errors = _slice(request)
        figures = measures.dashboard(slice_)
        context = {
            'title': 'Problem management dashboard',
            'slice': slice_,
            'figures': figures,
            'definitions': measures.MEASURES,
            'charts': charts_for(figures, slice_),
            'trend': [
                {'rca': rca, 'per': per, 'share': share, 'rec': rec}
                for rca, per, share, rec in zip(
                    figures['time_to_root_cause']['series'],
                    figures['incidents_per_problem']['series'],
                    figures['known_error_share']['series'],
                    figures['recurrence']['series'],
                    strict=True,
                )
            ],
            'filters': _filter_bar(slice_, errors),
            'slice_query': slice_.params(),
        }
        return render(request, 'problems/dashboard.html', context)


class ProblemDrillDownView(LoginRequiredMixin, View):
    """The problems behind a figure of the dashboard, or for the incidents' share the incidents."""

    def get(self, request):
        _guard(request.user)
        slug = request.GET.get('measure', '')
        measure = measures.MEASURES.get(slug)
        if measure is None:
            raise Http404('No such measure.')
        part = request.GET.get('part', '')
        if part and part not in PARTS.get(slug, {}):
            raise Http404('No such part of the figure.')
        slice_, _errors = _slice(request)
        if slug == 'known_error_share':
            if not request.user.has_perm('incidents.view_incident'):
                raise PermissionDenied
            rows = measures.incidents_behind(slice_, part=part).select_related('assignment_group', 'assignee')
            rows = rows.order_by('-opened_at', '-pk')
            incidents = True
        else:
            rows = measures.problems_behind(slug, slice_, part=part).select_related('owner', 'assignment_group')
            rows = rows.order_by('-opened_at', '-pk')
            incidents = False
        page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get('page'))
        context = {
            'title': f'{measure.label}: {"incidents" if incidents else "problems"}',
            'measure': measure,
            'part_label': PARTS.get(slug, {}).get(part, ''),
            'slice': slice_,
            'slice_query': slice_.params(),
            'incidents': incidents,
            'page_obj': page,
            'rows': page.object_list,
            'now_measure': slug == 'open_problems',
        }
        return render(request, 'problems/dashboard_drilldown.html', context)
