"""The managers' SLA/KPI overview, team dashboards for group leads, each agent's KPI page, CSV of every table
and the page of measure definitions."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.views import View

from itsm.models import SupportGroup, User

from .. import exports, selectors
from ..choices import Breakdown
from ..measures import MEASURES
from ..slices import Slice
from .common import can_see_agent, can_see_all, can_see_team, charts_for, filter_bar, guard, slice_from_request

__all__ = [
    'AgentDashboardView',
    'DefinitionsView',
    'ExportView',
    'OverviewView',
    'TeamDashboardView',
    'TeamListView',
]

EXPORT_TABLES = ('kpis', 'trend', 'breakdown', 'priority', 'agreements', 'ola', 'backlog', 'agents')


# Breakdowns whose values run into the hundreds or thousands (services, agents) show the busiest on the page, with
# a link to all of them; the CSV export always holds all of them.
LIMITED_BREAKDOWNS = (Breakdown.SERVICE, Breakdown.AGENT)
BREAKDOWN_ROWS = 25


def _breakdown_choice(request, default: str = Breakdown.GROUP) -> str:
    value = request.GET.get('breakdown', default)
    return value if value in Breakdown.values else default


def _context(request, data: dict[str, Any], errors, *, fixed=(), breakdown='', scope: dict | None = None) -> dict:
    slice_: Slice = data['slice']
    scope = scope or {}
    query = {**slice_.params(), **({'breakdown': breakdown} if breakdown else {}), **scope}
    return {
        **data,
        'filters': filter_bar(slice_, errors, fixed=fixed, breakdown=breakdown),
        'charts': charts_for(data),
        'export_query': query,
        'slice_query': slice_.params(),
        'definitions_url': 'reports:definitions',
    }


class OverviewView(LoginRequiredMixin, View):
    """SLA/KPI overview for managers: every measure, its trend and breakdowns, drill-down from every figure."""

    def get(self, request):
        guard(can_see_all(request.user))
        slice_, errors = slice_from_request(request)
        breakdown = _breakdown_choice(request)
        show_all = request.GET.get('rows') == 'all' or breakdown not in LIMITED_BREAKDOWNS
        data = selectors.overview(slice_, breakdown_by=breakdown, breakdown_limit=None if show_all else BREAKDOWN_ROWS)
        context = _context(request, data, errors, breakdown=breakdown)
        context['title'] = 'SLA/KPI overview'
        context['breakdown_label'] = Breakdown(breakdown).label.lower()
        context['link_agents'] = breakdown == Breakdown.AGENT
        return render(request, 'reports/overview.html', context)


class TeamListView(LoginRequiredMixin, View):
    """The groups whose dashboard the person may open: those they lead, or every group for managers."""

    def get(self, request):
        guard(request.user.has_perm('reports.view_team_dashboard') or can_see_all(request.user))
        groups = SupportGroup.objects.active().select_related('manager')
        if not can_see_all(request.user):
            groups = groups.filter(manager=request.user)
        return render(request, 'reports/team_list.html', {'title': 'Team dashboards', 'groups': list(groups)})


class TeamDashboardView(LoginRequiredMixin, View):
    """A support group's figures for its lead: KPIs, OLA compliance, trends and one row per agent."""

    def get(self, request, group_id: int):
        group = get_object_or_404(SupportGroup.objects.select_related('manager'), pk=group_id)
        guard(can_see_team(request.user, group))
        slice_, errors = slice_from_request(request)
        data = selectors.team_dashboard(group, slice_)
        context = _context(request, data, errors, fixed=('group',), scope={'team': group.pk})
        context['title'] = f'Team dashboard: {group.name}'
        context['members'] = list(group.members.order_by('last_name', 'first_name'))
        return render(request, 'reports/team.html', context)


class AgentDashboardView(LoginRequiredMixin, View):
    """A person's KRAs and KPIs over the tickets assigned to them (their own page, or as their lead)."""

    def get(self, request, user_id: int | None = None):
        person = request.user if user_id is None else get_object_or_404(User, pk=user_id)
        guard(can_see_agent(request.user, person))
        slice_, errors = slice_from_request(request)
        data = selectors.agent_dashboard(person, slice_)
        context = _context(request, data, errors, fixed=('agent',), scope={'person': person.pk})
        context['title'] = 'My KPIs' if person == request.user else f'KPIs of {person}'
        context['own'] = person == request.user
        return render(request, 'reports/agent.html', context)


class ExportView(LoginRequiredMixin, View):
    """CSV of one table of a dashboard, with the same filters (`team=<group>` or `person=<id>` for theirs)."""

    def get(self, request, table: str):
        if table not in EXPORT_TABLES:
            raise Http404(f'No table "{table}".')
        slice_, _errors = slice_from_request(request)
        team, person = request.GET.get('team', ''), request.GET.get('person', '')
        if team.isdigit():
            group = get_object_or_404(SupportGroup, pk=int(team))
            guard(can_see_team(request.user, group))
            data = selectors.team_dashboard(group, slice_)
        elif person.isdigit():
            someone = get_object_or_404(User, pk=int(person))
            guard(can_see_agent(request.user, someone))
            data = selectors.agent_dashboard(someone, slice_)
        else:
            guard(can_see_all(request.user))
            data = selectors.overview(slice_, breakdown_by=_breakdown_choice(request))
        if table == 'kpis':
            text = exports.kpis_csv(data['kpis'])
        elif table == 'trend':
            text = exports.trend_csv(data['trend'])
        elif table == 'backlog':
            text = exports.backlog_csv(data['backlog'])
        elif table == 'priority':
            text = exports.breakdown_csv(data['by_priority'], 'priority')
        elif table == 'agents':
            rows = data.get('by_agent')
            if rows is None:
                rows = selectors.breakdown(data['slice'], 'agent')
            text = exports.breakdown_csv(rows, 'agent')
        elif table == 'agreements':
            rows = data.get('agreements')
            if rows is None:
                rows = selectors.breakdown(data['slice'], 'agreement', measures=('sla_compliance',))
            text = exports.breakdown_csv(rows, 'agreement')
        elif table == 'ola':
            rows = data.get('ola_groups')
            if rows is None:
                rows = selectors.breakdown(data['slice'], 'group', measures=('ola_compliance',))
            text = exports.breakdown_csv(rows, 'group')
        else:
            by = data.get('breakdown_by', Breakdown.GROUP)
            text = exports.breakdown_csv(data.get('breakdown') or selectors.breakdown(data['slice'], by), by)
        name = f'{table}-{slice_.start:%Y%m%d}-{slice_.end:%Y%m%d}.csv'
        return exports.csv_response(text, name)


class DefinitionsView(LoginRequiredMixin, View):
    """What each measure means and which day it counts on."""

    def get(self, request):
        return render(request, 'reports/definitions.html', {'title': 'Measure definitions', 'measures': MEASURES})
