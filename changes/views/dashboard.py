"""The change management dashboard (`changes:dashboard`): the change success rate, the share of emergency changes,
the changes that caused incidents and the lead times, over a period with filters (group, service). Figures come
from `changes.measures`; the charts use the reports' Chart.js specification and script."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import path
from django.views import View

from cmdb.selectors import service_choices
from itsm.models import SupportGroup
from reports.choices import Interval
from reports.views.common import slice_from_request

from .. import measures

__all__ = ['ChangeDashboardView', 'dashboard_urls']


def _slice(request):
    """The page's slice: dates, trend interval (by week unless asked over more than a week) and the filters the
    change measures read."""
    slice_, errors = slice_from_request(request)
    slice_ = slice_.replace(kind='', priorities=(), category=None, channel='', agent=None)
    if not request.GET.get('interval') and slice_.days > 7:
        # Changes come a few a week: weekly trends read better than days mostly at zero.
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


def _bar(label: str, data: list, color: str, unit: str, axis: str = 'y') -> dict[str, Any]:
    return {'label': label, 'type': 'bar', 'data': data, 'color': color, 'unit': unit, 'axis': axis}


def _line(label: str, data: list, color: str, unit: str, axis: str = 'y') -> dict[str, Any]:
    return {'label': label, 'type': 'line', 'data': data, 'color': color, 'unit': unit, 'axis': axis}


def charts_for(figures: dict[str, Any], slice_) -> dict[str, dict]:
    period = dict(Interval.choices)[slice_.interval]
    definitions = measures.MEASURES
    success = figures['change_success_rate']['series']
    share = figures['emergency_change_share']['series']
    caused = figures['changes_causing_incidents']['series']
    lead = figures['change_lead_time']['series']
    labels = [p['label'] for p in success]
    return {
        'success': _chart(
            'chart-change-success',
            'Change success rate',
            labels,
            [
                _line('Successful (with or without issues)', [p['percent'] for p in success], 'green', '%'),
                _bar('Failed', [p['failed'] for p in success], 'red', 'changes', 'y2'),
                _bar('Backed out', [p['backed_out'] for p in success], 'orange', 'changes', 'y2'),
            ],
            y={'title': 'Changes closed', 'unit': '%', 'min': 0, 'max': 100},
            y2={'title': 'Changes', 'unit': 'changes', 'integer': True},
            x=period,
            empty=not figures['change_success_rate']['closed'],
            help_text=definitions['change_success_rate'].definition,
        ),
        'emergency': _chart(
            'chart-emergency-share',
            'Changes by type',
            labels,
            [
                _bar('Standard', [p['standard'] for p in share], 'teal', 'changes'),
                _bar('Normal', [p['normal'] for p in share], 'blue', 'changes'),
                _bar('Emergency', [p['emergency'] for p in share], 'red', 'changes'),
                _line('Emergency share', [p['percent'] for p in share], 'orange', '%', 'y2'),
            ],
            y={'title': 'Changes raised', 'unit': 'changes', 'integer': True},
            y2={'title': 'Emergency share', 'unit': '%', 'min': 0, 'max': 100},
            x=period,
            empty=not figures['emergency_change_share']['changes'],
            help_text=definitions['emergency_change_share'].definition,
        ),
        'caused': _chart(
            'chart-changes-causing-incidents',
            'Changes that caused incidents',
            labels,
            [
                _bar('Implemented', [p['implemented'] for p in caused], 'azure', 'changes'),
                _bar('Caused incidents', [p['caused'] for p in caused], 'red', 'changes'),
            ],
            y={'title': 'Changes implemented', 'unit': 'changes', 'integer': True},
            x=period,
            empty=not figures['changes_causing_incidents']['implemented'],
            help_text=definitions['changes_causing_incidents'].definition,
        ),
        'lead': _chart(
            'chart-change-lead-time',
            'Change lead time',
            labels,
            [
                _line('To authorised or scheduled', [p['approval']['mean_hours'] for p in lead], 'indigo', 'h'),
                _line('To closed', [p['closure']['mean_hours'] for p in lead], 'purple', 'h'),
            ],
            y={'title': 'Mean hours from opened', 'unit': 'h'},
            x=period,
            empty=not (
                figures['change_lead_time']['approval']['count'] or figures['change_lead_time']['closure']['count']
            ),
            help_text=definitions['change_lead_time'].definition,
        ),
    }


def _filter_bar(slice_, errors) -> dict[str, Any]:
    return {
        'form_errors': errors,
        'values': slice_.params(),
        'slice': slice_,
        'intervals': Interval.choices,
        'services': service_choices(),
        'groups': list(SupportGroup.objects.order_by('name').values_list('pk', 'name')),
    }


class ChangeDashboardView(LoginRequiredMixin, View):
    """Change management's measures, with a trend per period."""

    def get(self, request):
        if not request.user.has_perm('changes.view_change'):
            raise PermissionDenied
        slice_, errors = _slice(request)
        figures = measures.dashboard(slice_)
        context = {
            'title': 'Change management dashboard',
            'slice': slice_,
            'figures': figures,
            'definitions': measures.MEASURES,
            'charts': charts_for(figures, slice_),
            'trend': [
                {'success': success, 'share': share, 'caused': caused, 'lead': lead}
                for success, share, caused, lead in zip(
                    figures['change_success_rate']['series'],
                    figures['emergency_change_share']['series'],
                    figures['changes_causing_incidents']['series'],
                    figures['change_lead_time']['series'],
                    strict=True,
                )
            ],
            'filters': _filter_bar(slice_, errors),
            'slice_query': slice_.params(),
        }
        return render(request, 'changes/dashboard.html', context)


dashboard_urls = [path('dashboard/', ChangeDashboardView.as_view(), name='dashboard')]
