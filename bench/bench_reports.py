"""KPI reporting on 1,000,000 incidents over two years (PostgreSQL): the SLA/KPI overview, the team dashboard and
`/api/v1/metrics/` over a year, served from the daily rollups, against the live path over the same tickets.

The desk is generated with a fixed seed and loaded with COPY: 15 support groups of 8 agents, 40 services (the
CMDB estate's when `bench_cmdb_impact` built one) each handled mostly by one group, 10 categories, six channels,
priorities skewed towards P3/P4, log-normal accept and resolve times by priority, reassignments and reopens,
the tickets of the last days still open; every ticket has SLA response and resolution clocks and, in the 8
groups with an OLA, an OLA resolve clock (about 2.5 million clocks). The rollups are then built from scratch
(`rollup_rebuild`, timed). The data is kept between runs and rebuilt only when its size or version differs.
BENCH_REPORTS_TICKETS sets another size (the operations then show how time scales with rows).

Timed: each page or endpoint through its view (server time: selectors, SQL, JSON or template rendering).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import os
import random
import re
import tempfile
import time
from collections.abc import Iterable

from django.contrib.auth.models import Group
from django.db import connection
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.test import APIRequestFactory, force_authenticate

from bench import Result, measure
from cmdb.models import ConfigurationItem
from incidents.models import Category, Ticket
from itsm.choices import Role
from itsm.models import NumberSequence, SupportGroup, User
from itsm.numbering import format_number
from reports.api.views import MetricView
from reports.models import DailyRollup
from reports.services import rollup_rebuild, rollup_refresh
from reports.views.dashboards import OverviewView, TeamDashboardView
from sla.models import BusinessCalendar, OperationalLevelAgreement, ServiceLevelAgreement, SlaClock

TICKETS = int(os.environ.get('BENCH_REPORTS_TICKETS', '1000000'))
DAYS = 730
SEED = 611
VERSION = 'bench reports v1'
GROUPS, AGENTS_PER_GROUP, SERVICES, CATEGORIES, CALLERS = 15, 8, 40, 10, 2000
OLA_GROUPS = 8
PRIORITIES = [(0, 0.005), (1, 0.04), (2, 0.15), (3, 0.55), (4, 0.255)]
CHANNELS = [('portal', 0.4), ('email', 0.3), ('phone', 0.2), ('monitoring', 0.07), ('api', 0.02), ('walk_in', 0.01)]
# Median minutes to accept and to resolve, and the SLA's response and resolution targets, per priority.
ACCEPT_MEDIAN = {0: 5, 1: 10, 2: 20, 3: 45, 4: 120}
RESOLVE_MEDIAN = {0: 120, 1: 240, 2: 480, 3: 960, 4: 2880}
RESPONSE_TARGET = {0: 15, 1: 30, 2: 60, 3: 240, 4: 480}
RESOLUTION_TARGET = {0: 240, 1: 480, 2: 1440, 3: 2880, 4: 7200}


#
# Loading
#


def _text(value) -> str:
    if value is None:
        return '\\N'
    if isinstance(value, bool):
        return 't' if value else 'f'
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return f'{value.total_seconds()} seconds'
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value).replace('\\', '\\\\').replace('\t', ' ').replace('\n', ' ')


def _line(model, row: dict) -> str:
    return '\t'.join(_text(row.get(f.attname, _default(f))) for f in model._meta.concrete_fields) + '\n'


def _default(field):
    if field.has_default():
        return field.get_default()
    return None if field.null else ''


def _copy(model, lines: Iterable[str], chunk: int = 200_000) -> int:
    """COPY text lines (from `_line`) into the model's table, a chunk at a time."""
    columns = ', '.join(f.attname for f in model._meta.concrete_fields)
    total, buffer = 0, io.StringIO()

    def flush():
        buffer.seek(0)
        with connection.cursor() as cursor:
            cursor.copy_expert(f'COPY {model._meta.db_table} ({columns}) FROM STDIN', buffer)
        buffer.seek(0)
        buffer.truncate()

    for line in lines:
        buffer.write(line)
        total += 1
        if total % chunk == 0:
            flush()
    flush()
    return total


def _pick(rng: random.Random, weighted):
    roll, upto = rng.random(), 0.0
    for value, weight in weighted:
        upto += weight
        if roll < upto:
            return value
    return weighted[-1][0]


def _lognormal_minutes(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0, sigma))


def _people_and_reference_data(now: dt.datetime):
    """Agents, callers, a manager, groups with members, services, categories, SLAs and OLAs."""
    role_groups = {g.name: g for g in Group.objects.filter(name__in=[Role.SERVICE_DESK_AGENT, Role.MANAGER])}
    if not User.objects.filter(username='bench-manager').exists():
        people = [User(username='bench-manager', first_name='Bench', last_name='Manager', password='!')]
        people += [User(username=f'bench-agent-{i}', first_name='Agent', last_name=str(i), password='!')
                   for i in range(GROUPS * AGENTS_PER_GROUP)]  # fmt: skip
        people += [User(username=f'bench-caller-{i}', password='!') for i in range(CALLERS)]
        User.objects.bulk_create(people, batch_size=1000)
    manager = User.objects.get(username='bench-manager')
    manager.groups.add(role_groups[Role.MANAGER])
    agents = list(User.objects.filter(username__startswith='bench-agent-').order_by('id'))
    for agent in agents:
        agent.groups.add(role_groups[Role.SERVICE_DESK_AGENT])
    callers = list(User.objects.filter(username__startswith='bench-caller-').values_list('pk', flat=True))
    groups = []
    for index in range(GROUPS):
        group, _ = SupportGroup.objects.get_or_create(name=f'Bench group {index:02d}')
        members = agents[index * AGENTS_PER_GROUP : (index + 1) * AGENTS_PER_GROUP]
        group.members.set(members)
        groups.append((group.pk, [m.pk for m in members]))
    services = list(ConfigurationItem.objects.filter(ci_class='service').order_by('id').values_list('pk', flat=True))
    if len(services) < SERVICES:
        first = ConfigurationItem.objects.count() + 1
        for index in range(SERVICES - len(services)):
            ConfigurationItem.objects.create(
                name=f'Bench service {index}', ci_class='service', number=format_number('CI', 900_000 + first + index)
            )
        services = list(
            ConfigurationItem.objects.filter(ci_class='service').order_by('id').values_list('pk', flat=True)
        )
    services = services[:SERVICES]
    categories = [
        Category.objects.get_or_create(name=f'Bench category {i}', parent=None)[0].pk for i in range(CATEGORIES)
    ]
    calendar = BusinessCalendar.objects.builtin_24x7()
    slas = {}
    for priority in range(5):
        slas[priority], _ = ServiceLevelAgreement.objects.get_or_create(
            ticket_kind='incident', priority=priority, service=None, active=True,
            defaults={'name': f'Bench P{priority}', 'calendar': calendar, 'response_minutes': RESPONSE_TARGET[priority],
                      'resolution_minutes': RESOLUTION_TARGET[priority]},
        )  # fmt: skip
    olas = {}
    for group_id, _members in groups[:OLA_GROUPS]:
        olas[group_id], _ = OperationalLevelAgreement.objects.get_or_create(
            support_group_id=group_id, priority=None, active=True,
            defaults={'name': f'Bench OLA {group_id}', 'calendar': calendar, 'accept_minutes': 60,
                      'resolve_minutes': 2880},
        )  # fmt: skip
    return manager, groups, callers, services, categories, calendar, slas, olas


class Desk:
    """The generated desk's reference data, and the rows of one ticket and its clocks."""

    def __init__(self, now: dt.datetime, rng: random.Random):
        self.now, self.rng = now, rng
        (self.manager, self.groups, self.callers, self.services, categories, self.calendar, self.slas,
         self.olas) = _people_and_reference_data(now)  # fmt: skip
        self.home = {service: rng.randrange(GROUPS) for service in self.services}
        self.categories = {service: rng.sample(categories, 3) for service in self.services}
        self.start = now - dt.timedelta(days=DAYS)
        self.clock_ids = iter(range(1, 10 * TICKETS))

    def ticket(self, pk: int) -> dict:
        rng, now = self.rng, self.now
        opened = self.start + dt.timedelta(seconds=DAYS * 86400 * (pk - 1) / TICKETS + rng.randrange(0, 600))
        priority = _pick(rng, PRIORITIES)
        service = rng.choice(self.services)
        group_id, members = self.groups[self.home[service] if rng.random() < 0.85 else rng.randrange(GROUPS)]
        assigned = opened + dt.timedelta(minutes=rng.uniform(0.5, 20))
        accepted = assigned + dt.timedelta(minutes=_lognormal_minutes(rng, ACCEPT_MEDIAN[priority], 1.0))
        completed = accepted + dt.timedelta(minutes=_lognormal_minutes(rng, RESOLVE_MEDIAN[priority], 1.2))
        reopen = 1 if rng.random() < 0.05 else 0
        if reopen:
            completed += dt.timedelta(hours=rng.uniform(4, 72))
        row = {
            'id': pk,
            'created_at': opened,
            'updated_at': min(completed, now),
            'number': format_number('INC', Ticket.number_start + pk - 1),
            'kind': 'incident',
            'short_description': VERSION,
            'caller_id': rng.choice(self.callers),
            'channel': _pick(rng, CHANNELS),
            'category_id': rng.choice(self.categories[service]) if rng.random() < 0.9 else None,
            'service_id': service,
            'priority': priority,
            'impact': 'low',
            'urgency': 'normal',
            'assignment_group_id': group_id,
            'reassignment_count': 0 if rng.random() < 0.8 else (1 if rng.random() < 0.75 else 2),
            'reopen_count': reopen,
            'opened_at': opened,
            'state': 'new',
        }
        if assigned <= now:
            row.update(assigned_at=assigned, state='assigned')
        if accepted <= now:
            row.update(accepted_at=accepted, assignee_id=rng.choice(members), state='accepted')
        if completed <= now:
            row.update(completed_at=completed, resolution_code='solved_permanently', state='completed')
            closed = completed + dt.timedelta(days=rng.uniform(0.1, 5))
            if closed <= now:
                row.update(closed_at=closed, state='closed')
        return row

    def clocks(self, ticket: dict) -> list[dict]:
        """SLA response and resolution clocks from opening, and an OLA resolve clock in groups with an OLA."""
        priority, group_id, sla = ticket['priority'], ticket['assignment_group_id'], self.slas[ticket['priority']]
        targets = [
            ('response', RESPONSE_TARGET[priority], ticket['opened_at'], ticket.get('accepted_at'), sla.pk, None),
            ('resolution', RESOLUTION_TARGET[priority], ticket['opened_at'], ticket.get('completed_at'), sla.pk, None),
        ]
        if group_id in self.olas and ticket.get('assigned_at'):
            ola = self.olas[group_id]
            targets.append(('ola_resolve', 2880, ticket['assigned_at'], ticket.get('completed_at'), None, ola.pk))
        rows = []
        for kind, minutes, started, stop, sla_id, ola_id in targets:
            due = started + dt.timedelta(minutes=minutes)
            breached = due if (stop or self.now) > due else None
            rows.append({
                'id': next(self.clock_ids), 'created_at': started, 'updated_at': stop or started,
                'ticket_id': ticket['id'], 'kind': kind, 'name': kind, 'sla_id': sla_id, 'ola_id': ola_id,
                'support_group_id': group_id if ola_id else None, 'calendar_id': self.calendar.pk,
                'target_minutes': minutes, 'warning_percents': [75, 90], 'pause_states': ['pending'],
                'state': 'breached' if breached else ('met' if stop else 'running'), 'started_at': started,
                'elapsed': (stop or self.now) - started, 'run_started_at': None if stop else started,
                'due_at': due, 'breached_at': breached, 'stopped_at': stop,
                'stop_reason': ('accepted' if kind == 'response' else 'completed') if stop else '',
            })  # fmt: skip
        return rows


def build(now: dt.datetime) -> float:
    """Replace the tickets, clocks and rollups with the generated desk; returns the rollup build seconds."""
    with connection.cursor() as cursor:
        cursor.execute(f'TRUNCATE {Ticket._meta.db_table}, {DailyRollup._meta.db_table} RESTART IDENTITY CASCADE')
    desk = Desk(now, random.Random(SEED))
    # Clocks go in after their tickets (foreign key), so they wait in a scratch file meanwhile.
    with tempfile.TemporaryFile('w+', encoding='utf-8') as clock_file:

        def tickets() -> Iterable[str]:
            for pk in range(1, TICKETS + 1):
                row = desk.ticket(pk)
                clock_file.writelines(_line(SlaClock, clock) for clock in desk.clocks(row))
                yield _line(Ticket, row)

        _copy(Ticket, tickets())
        clock_file.seek(0)
        _copy(SlaClock, clock_file)
    with connection.cursor() as cursor:
        for model in (Ticket, SlaClock):
            table = model._meta.db_table
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
        for model in (Ticket, SlaClock, User, SupportGroup):
            cursor.execute(f'VACUUM ANALYZE {model._meta.db_table}')
    NumberSequence.objects.update_or_create(prefix='INC', defaults={'last': Ticket.number_start + TICKETS - 1})
    started = time.perf_counter()
    rollup_rebuild()
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(f'VACUUM ANALYZE {DailyRollup._meta.db_table}')
    return seconds


#
# Timing
#


def _page(view, user, path: str, params: dict, **kwargs) -> int:
    """Render a dashboard; its rows are the tickets opened in the period it covers."""
    request = RequestFactory().get(path, params)
    request.user = user
    response = view(request, **kwargs)
    assert response.status_code == 200, response.status_code
    opened = re.search(rb'data-measure="volume".*?pc-kpi-value[^>]*>(\d+)', response.content, re.S)
    return int(opened.group(1)) if opened else 0


def _api(user, measure: str, params: dict) -> int:
    request = APIRequestFactory().get(f'/api/v1/metrics/{measure}/', params)
    force_authenticate(request, user=user)
    response = MetricView.as_view()(request, measure=measure)
    response.render()
    assert response.status_code == 200, response.data
    data = response.data
    return int(data.get('count') or data.get('opened') or 0)


def run() -> list[Result]:
    now = timezone.now()
    built = Ticket.objects.filter(pk=1, short_description=VERSION).exists() and Ticket.objects.count() == TICKETS
    results = []
    if not built or not DailyRollup.objects.exists():
        started = time.perf_counter()
        rollup_seconds = build(now)
        total = time.perf_counter() - started
        rows = DailyRollup.objects.count()
        results.append(Result(f'generate {TICKETS:,} tickets and their clocks (COPY)', TICKETS,
                               (total - rollup_seconds) * 1000, (total - rollup_seconds) * 1000, 0))  # fmt: skip
        results.append(Result('rollup_rebuild: every day from scratch', rows, rollup_seconds * 1000,
                              rollup_seconds * 1000, 0))  # fmt: skip
    else:
        rollup_refresh()
    manager = User.objects.get(username='bench-manager')
    today = timezone.localdate()
    year = {'from': (today - dt.timedelta(days=364)).isoformat(), 'to': today.isoformat(), 'interval': 'week'}
    group = SupportGroup.objects.filter(name='Bench group 03').first()
    overview, team = OverviewView.as_view(), TeamDashboardView.as_view()

    def timed(label, call, count=10, warmup=2):
        results.append(measure(label, [call] * count, warmup=warmup))

    timed('overview page, 365 days by week', lambda: _page(overview, manager, '/reports/', year))
    timed('overview page, last 30 days by day', lambda: _page(overview, manager, '/reports/', {}))
    timed('overview page, 365 days, P1 only', lambda: _page(overview, manager, '/reports/', {**year, 'priority': '1'}))
    timed('team dashboard, 365 days by week',
          lambda: _page(team, manager, f'/reports/teams/{group.pk}/', year, group_id=group.pk))  # fmt: skip
    timed('GET /api/v1/metrics/mttr/, 365 days by week', lambda: _api(manager, 'mttr', year))
    timed('GET /api/v1/metrics/mttr/, 365 days by month', lambda: _api(manager, 'mttr', {**year, 'interval': 'month'}))
    timed('GET /api/v1/metrics/mttr/, 365 days, group', lambda: _api(manager, 'mttr', {**year, 'group': group.pk}))
    timed('GET /api/v1/metrics/mttr/, 365 days, P0 (exact)', lambda: _api(manager, 'mttr', {**year, 'priority': '0'}))
    timed('GET /api/v1/metrics/sla_compliance/, 365 days', lambda: _api(manager, 'sla_compliance', year))
    timed('GET /api/v1/metrics/backlog/, 365 days', lambda: _api(manager, 'backlog', year))
    timed('GET /api/v1/metrics/mttr/, 365 days, live path',
          lambda: _api(manager, 'mttr', {**year, 'source': 'live'}), count=3, warmup=1)  # fmt: skip

    # What a refresh finds after ten busy minutes: 100 tickets of the last fortnight worked on, one old one
    # reopened (its completion day moves).
    recent = now - dt.timedelta(days=14)
    touched = list(Ticket.objects.filter(opened_at__gte=recent).order_by('?').values_list('pk', flat=True)[:100])
    touched += list(Ticket.objects.filter(state='closed', opened_at__lt=recent).values_list('pk', flat=True)[:1])

    def refresh() -> int:
        Ticket.objects.filter(pk__in=touched).update(updated_at=timezone.now())
        return len(rollup_refresh().days)

    timed('rollup_refresh: 100 recent tickets and 1 old one changed', refresh, count=3, warmup=1)
    return results
