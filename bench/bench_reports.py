"""KPI reporting on the benchmark data set (1,000,000 tickets over a year by default): the SLA/KPI overview, the
team dashboard and `/api/v1/metrics/` over a year, served from the daily rollups, against the live path over the
same tickets.

The tickets are the shared data set's (`bench.dataset`): priorities skewed towards P3/P4, six channels, services
each handled mostly by one group, log-normal accept and resolve times, hand-overs, escalations and reopens, the
tickets of the last days still open; every ticket has its SLA response and resolution clocks and, in the groups
with an OLA, OLA accept and resolve clocks. `generate_data` builds the rollups from scratch (`rollup_rebuild`),
timed in the run that builds the data set; later runs bring them up to date (`rollup_refresh`) first.

Timed: each page or endpoint through its view (server time: selectors, SQL, JSON or template rendering).
"""

from __future__ import annotations

import datetime as dt
import re

from django.db.models import F
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.test import APIRequestFactory, force_authenticate

from bench import Result, dataset, measure
from incidents.models import Ticket
from itsm.models import SupportGroup, User
from reports.api.views import MetricView
from reports.services import rollup_refresh
from reports.views.dashboards import OverviewView, TeamDashboardView
from synthetic.reference import EMAIL_DOMAIN, USER_PREFIX

TEAM = 'Linux Server Team'


def _page(view, user, path: str, params: dict, **kwargs) -> int:
    """Render a dashboard; its rows are the tickets opened in the period it covers."""
    request = RequestFactory().get(path, params)
    request.user = user
    response = view(request, **kwargs)
    assert response.status_code == 200, response.status_code
    opened = re.search(rb'data-measure="volume".*?pc-kpi-value[^>]*>([\d,]+)', response.content, re.S)
    return int(opened.group(1).replace(b',', b'')) if opened else 0


def _api(user, measure: str, params: dict) -> int:
    request = APIRequestFactory().get(f'/api/v1/metrics/{measure}/', params)
    force_authenticate(request, user=user)
    response = MetricView.as_view()(request, measure=measure)
    response.render()
    assert response.status_code == 200, response.data
    data = response.data
    return int(data.get('count') or data.get('opened') or (data.get('overall') or {}).get('total') or 0)


def run() -> list[Result]:
    dataset.ensure()
    rollup_refresh()
    now = timezone.now()
    manager = User.objects.filter(username__startswith=f'{USER_PREFIX}manager.').order_by('pk').first()
    today = timezone.localdate()
    year = {'from': (today - dt.timedelta(days=364)).isoformat(), 'to': today.isoformat(), 'interval': 'week'}
    group = SupportGroup.objects.get(name=TEAM, email__endswith=f'@{EMAIL_DOMAIN}')
    overview, team = OverviewView.as_view(), TeamDashboardView.as_view()
    results = []

    def timed(label, call, count=10, warmup=2):
        results.append(measure(label, [call] * count, warmup=warmup))

    timed('overview page, 365 days by week', lambda: _page(overview, manager, '/reports/', year))
    timed('overview page, last 30 days by day', lambda: _page(overview, manager, '/reports/', {}))
    timed('overview page, 365 days, P1 only', lambda: _page(overview, manager, '/reports/', {**year, 'priority': '1'}))
    for by in ('service', 'agent'):
        timed(
            f'overview page, 365 days broken down by {by}',
            lambda by=by: _page(overview, manager, '/reports/', {**year, 'breakdown': by}),
        )
    timed(
        'team dashboard, 365 days by week',
        lambda: _page(team, manager, f'/reports/teams/{group.pk}/', year, group_id=group.pk),
    )
    timed('GET /api/v1/metrics/mttr/, 365 days by week', lambda: _api(manager, 'mttr', year))
    timed('GET /api/v1/metrics/mttr/, 365 days by month', lambda: _api(manager, 'mttr', {**year, 'interval': 'month'}))
    timed('GET /api/v1/metrics/mttr/, 365 days, group', lambda: _api(manager, 'mttr', {**year, 'group': group.pk}))
    timed('GET /api/v1/metrics/mttr/, 365 days, P0 only', lambda: _api(manager, 'mttr', {**year, 'priority': '0'}))
    timed('GET /api/v1/metrics/sla_compliance/, 365 days', lambda: _api(manager, 'sla_compliance', year))
    timed('GET /api/v1/metrics/backlog/, 365 days', lambda: _api(manager, 'backlog', year))
    timed(
        'GET /api/v1/metrics/mttr/, 365 days, live path',
        lambda: _api(manager, 'mttr', {**year, 'source': 'live'}),
        count=3,
        warmup=1,
    )

    # What a refresh finds after ten busy minutes: 100 tickets of the last fortnight re-prioritised, one old one
    # touched (its rows are those of days long rolled up). Each call moves them one priority on; the priorities
    # they had are put back afterwards, so the data set stays as generated.
    recent = now - dt.timedelta(days=14)
    touched = list(Ticket.objects.filter(opened_at__gte=recent).order_by('?').values_list('pk', flat=True)[:100])
    touched += list(Ticket.objects.filter(state='closed', opened_at__lt=recent).values_list('pk', flat=True)[:1])
    priorities = dict(Ticket.objects.filter(pk__in=touched).values_list('pk', 'priority'))

    def refresh() -> int:
        Ticket.objects.filter(pk__in=touched).update(priority=(F('priority') + 1) % 5, updated_at=timezone.now())
        return rollup_refresh().tickets

    timed('rollup_refresh: 100 recent tickets and 1 old one changed', refresh, count=3, warmup=1)
    for pk, priority in priorities.items():
        Ticket.objects.filter(pk=pk).update(priority=priority, updated_at=timezone.now())
    rollup_refresh()
    return results
