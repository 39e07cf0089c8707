"""Who may see which figures, the filter bar, and the Chart.js specifications the dashboards draw."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q

from incidents.choices import TicketChannel
from itsm.choices import Priority, TicketKind

from ..choices import Breakdown, Interval
from ..measures import MEASURES
from ..selectors import period_drill_urls
from ..slices import Slice, parse_slice

__all__ = [
    'can_see_agent',
    'can_see_all',
    'can_see_slice',
    'can_see_team',
    'charts_for',
    'filter_bar',
    'slice_from_request',
]

#
# Access
#


def can_see_all(user) -> bool:
    """Managers (and whoever holds `reports.view_dailyrollup`) see every figure."""
    return user.is_authenticated and user.has_perm('reports.view_dailyrollup')


def can_see_team(user, group) -> bool:
    """A group's figures: for everyone who sees all figures, and for the group's lead."""
    return can_see_all(user) or (user.has_perm('reports.view_team_dashboard') and group.manager_id == user.pk)


def can_see_agent(user, person) -> bool:
    """A person's figures: for the person, the leads of their groups, and everyone who sees all figures."""
    if can_see_all(user):
        return True
    if person.pk == user.pk and user.has_perm('reports.view_own_kpis'):
        return True
    return user.has_perm('reports.view_team_dashboard') and person.support_groups.filter(manager=user).exists()


def can_see_slice(user, slice_: Slice) -> bool:
    """Whether a slice (of a drill-down or an export) stays within what the person may see."""
    from itsm.models import SupportGroup, User

    if can_see_all(user):
        return True
    if slice_.agent:
        person = User.objects.filter(pk=slice_.agent).first()
        if person is not None and can_see_agent(user, person):
            return True
    if slice_.group:
        group = SupportGroup.objects.filter(pk=slice_.group).first()
        if group is not None and can_see_team(user, group):
            return True
    return False


def slice_from_request(request, **fixed: Any) -> tuple[Slice, dict[str, list[str]]]:
    """The slice the page's query asks for, and the errors of the parameters it had to ignore."""
    params = {k: v for k, v in request.GET.items() if v != ''}
    try:
        slice_ = parse_slice(params)
    except ValidationError as error:
        errors = error.message_dict
        kept = {k: v for k, v in params.items() if k not in errors}
        try:
            slice_ = parse_slice(kept)
        except ValidationError:
            slice_ = parse_slice({})
    else:
        errors = {}
    if fixed:
        slice_ = slice_.replace(**fixed)
    return slice_, errors


def filter_bar(slice_: Slice, errors: dict, *, fixed: tuple[str, ...] = (), breakdown: str = '') -> dict[str, Any]:
    """What the filter bar shows: the options of each filter and the values chosen."""
    from cmdb.selectors import service_choices
    from incidents.selectors import category_choices
    from itsm.models import SupportGroup

    groups = SupportGroup.objects.filter(Q(active=True) | Q(pk=slice_.group or 0)).values_list('pk', 'name')
    return {
        'form_errors': errors,
        'values': slice_.params(),
        'slice': slice_,
        'fixed': fixed,
        'intervals': Interval.choices,
        'kinds': TicketKind.choices,
        'priorities': Priority.choices,
        'channels': TicketChannel.choices,
        'groups': [] if 'group' in fixed else list(groups),
        'services': service_choices(),
        'categories': category_choices(),
        'breakdowns': [(v, label) for v, label in Breakdown.choices if v not in fixed and v != 'kind'],
        'breakdown': breakdown,
        'selected_priority': slice_.priorities[0] if len(slice_.priorities) == 1 else None,
    }


def guard(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


#
# Charts
#


def _chart(
    chart_id: str,
    title: str,
    labels,
    datasets,
    *,
    y: dict,
    y2: dict | None = None,
    x: str = '',
    empty: bool,
    help_text: str = '',
) -> dict:
    return {
        'id': chart_id,
        'data_id': f'{chart_id}-data',
        'title': title,
        'help': help_text,
        'empty': empty,
        'spec': {'labels': labels, 'datasets': datasets, 'x': x, 'y': y, 'y2': y2},
    }


def charts_for(data: dict[str, Any]) -> dict[str, dict]:
    """Trend, breakdown, breach and backlog charts of a dashboard bundle (from `selectors._dashboard`)."""
    slice_: Slice = data['slice']
    trend = data['trend']
    labels = [p['label'] for p in trend]
    period = dict(Interval.choices)[slice_.interval]
    periods = [(point['from'], point['to']) for point in trend]

    def series_urls(measure: str, part: str = '') -> list[str]:
        return period_drill_urls(measure, slice_, periods, part=part)

    charts = {}

    opened = [p['volume']['opened'] for p in trend]
    completed = [p['volume']['completed'] for p in trend]
    charts['volume'] = _chart(
        'chart-volume',
        'Opened vs completed, and backlog',
        labels,
        [
            {
                'label': 'Opened',
                'type': 'bar',
                'data': opened,
                'color': 'blue',
                'unit': 'tickets',
                'urls': series_urls('volume', 'opened'),
            },
            {
                'label': 'Completed',
                'type': 'bar',
                'data': completed,
                'color': 'green',
                'unit': 'tickets',
                'urls': series_urls('volume', 'completed'),
            },
            {
                'label': 'Open at end of period',
                'type': 'line',
                'data': [p['backlog'] for p in trend],
                'color': 'orange',
                'unit': 'tickets',
                'urls': [],
                'axis': 'y',
            },
        ],
        y={'title': 'Tickets', 'unit': 'tickets', 'integer': True},
        x=period,
        empty=not any(opened) and not any(completed) and not data['backlog']['count'],
        help_text=MEASURES['volume'].definition,
    )

    mttr = [p['mttr'] for p in trend]
    charts['mttr'] = _chart(
        'chart-mttr',
        'MTTR trend',
        labels,
        [
            {
                'label': 'Mean',
                'type': 'line',
                'data': [m['mean_hours'] for m in mttr],
                'color': 'red',
                'unit': 'h',
                'urls': series_urls('mttr'),
            },
            {
                'label': 'Median',
                'type': 'line',
                'data': [m['median_hours'] for m in mttr],
                'color': 'purple',
                'unit': 'h',
                'urls': series_urls('mttr'),
            },
            {
                'label': '90th percentile',
                'type': 'line',
                'data': [m['p90_hours'] for m in mttr],
                'color': 'gray',
                'unit': 'h',
                'dashed': True,
                'urls': series_urls('mttr'),
            },
        ],
        y={'title': 'Hours from opened to completed', 'unit': 'h'},
        x=period,
        empty=not any(m['count'] for m in mttr),
        help_text=MEASURES['mttr'].definition,
    )

    sla = [p['sla_compliance'] for p in trend]
    charts['sla'] = _chart(
        'chart-sla',
        'SLA compliance and breaches',
        labels,
        [
            {
                'label': 'Response met',
                'type': 'line',
                'data': [s['response']['percent'] for s in sla],
                'color': 'teal',
                'unit': '%',
                'urls': series_urls('sla_compliance', 'response'),
            },
            {
                'label': 'Resolution met',
                'type': 'line',
                'data': [s['resolution']['percent'] for s in sla],
                'color': 'indigo',
                'unit': '%',
                'urls': series_urls('sla_compliance', 'resolution'),
            },
            {
                'label': 'Targets breached',
                'type': 'bar',
                'data': [s['overall']['breached'] for s in sla],
                'color': 'red',
                'unit': 'targets',
                'axis': 'y2',
                'urls': series_urls('sla_compliance', 'breached'),
            },
        ],
        y={'title': 'Targets met', 'unit': '%', 'min': 0, 'max': 100},
        y2={'title': 'Targets breached', 'unit': 'targets', 'integer': True},
        x=period,
        empty=not any(s['overall']['total'] for s in sla),
        help_text=MEASURES['sla_compliance'].definition,
    )

    answer = [p['answer_rate'] for p in trend]
    charts['answer'] = _chart(
        'chart-answer',
        'Answer rate with volume',
        labels,
        [
            {
                'label': 'Answer rate',
                'type': 'line',
                'data': [a['percent'] for a in answer],
                'color': 'green',
                'unit': '%',
                'urls': series_urls('answer_rate'),
            },
            {
                'label': 'Opened',
                'type': 'bar',
                'data': opened,
                'color': 'azure',
                'unit': 'tickets',
                'axis': 'y2',
                'urls': series_urls('volume', 'opened'),
            },
        ],
        y={'title': 'Accepted within target', 'unit': '%', 'min': 0, 'max': 100},
        y2={'title': 'Tickets opened', 'unit': 'tickets', 'integer': True},
        x=period,
        empty=not any(a['decided'] for a in answer) and not any(opened),
        help_text=MEASURES['answer_rate'].definition,
    )

    rows = data.get('by_priority', [])
    charts['priority'] = _chart(
        'chart-priority',
        'MTTR by priority',
        [r['label'] for r in rows],
        [
            {
                'label': 'Mean',
                'type': 'bar',
                'data': [r['figures']['mttr']['mean_hours'] for r in rows],
                'color': 'red',
                'unit': 'h',
                'urls': [r['urls']['mttr'] for r in rows],
            },
            {
                'label': 'Median',
                'type': 'bar',
                'data': [r['figures']['mttr']['median_hours'] for r in rows],
                'color': 'purple',
                'unit': 'h',
                'urls': [r['urls']['mttr'] for r in rows],
            },
        ],
        y={'title': 'Hours from opened to completed', 'unit': 'h'},
        x='Priority',
        empty=not any(r['figures']['mttr']['count'] for r in rows),
        help_text=MEASURES['mttr'].definition,
    )

    buckets = data['backlog']['buckets']
    charts['backlog'] = _chart(
        'chart-backlog',
        'Backlog by age',
        [b['label'] for b in buckets],
        [
            {
                'label': 'Open tickets',
                'type': 'bar',
                'data': [b['count'] for b in buckets],
                'color': 'orange',
                'unit': 'tickets',
                'urls': [b['url'] for b in buckets],
            }
        ],
        y={'title': 'Open tickets', 'unit': 'tickets', 'integer': True},
        x='Age since opened',
        empty=not data['backlog']['count'],
        help_text=MEASURES['backlog'].definition,
    )
    return charts
