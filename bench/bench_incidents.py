"""Incidents at 100,000 tickets (PostgreSQL): queue page, detail page, API list and API create throughput.

The tickets are spread over a year, 20 support groups and 2,000 callers, in every state, and loaded with COPY
(kept between runs, rebuilt when the size differs). A few hundred tickets are opened and worked through the
services so the detail page has a real history. Pages are timed through Django's test client, so the figures
are server time: URL routing, middleware, permissions, queries and template rendering.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import time

from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bench import Result, measure
from incidents import services
from incidents.choices import ResolutionCode, TicketState
from incidents.models import Ticket
from itsm.audit import Actor
from itsm.choices import Impact, Role, Tier, Urgency
from itsm.models import NumberSequence, SupportGroup, User
from itsm.numbering import format_number
from itsm.services import support_group_create, user_create

TICKETS = 100_000
CALLERS = 2_000
GROUPS = 20
SAMPLES = 60
CREATES = 300
SEED = 4242
STATES = [
    (TicketState.CLOSED, 0.62),
    (TicketState.COMPLETED, 0.06),
    (TicketState.ACCEPTED, 0.14),
    (TicketState.PENDING, 0.05),
    (TicketState.ASSIGNED, 0.10),
    (TicketState.NEW, 0.03),
]


def _people() -> tuple[list[User], list[SupportGroup], User]:
    system = Actor.system()
    agent = User.objects.filter(username='bench.agent').first() or user_create(
        username='bench.agent', roles=[Role.SERVICE_DESK_AGENT, Role.L2_ENGINEER], actor=system
    )
    existing = User.objects.filter(username__startswith='bench.caller').count()
    User.objects.bulk_create(
        [User(username=f'bench.caller{n}', email=f'caller{n}@example.com') for n in range(existing, CALLERS)]
    )
    callers = list(User.objects.filter(username__startswith='bench.caller').order_by('pk')[:CALLERS])
    groups = []
    for n in range(GROUPS):
        group = SupportGroup.objects.filter(name=f'Bench group {n}').first() or support_group_create(
            name=f'Bench group {n}', tier=[Tier.L1, Tier.L2, Tier.L3][n % 3], members=[agent], actor=system
        )
        groups.append(group)
    return callers, groups, agent


def _load(callers: list[User], groups: list[SupportGroup], agent: User) -> None:
    """COPY `TICKETS` incidents with consistent milestones into an empty ticket table."""
    rng = random.Random(SEED)
    now = timezone.now()
    impacts, urgencies = Impact.values, Urgency.values
    states, weights = zip(*STATES, strict=True)
    buffer = io.StringIO()
    for n in range(1, TICKETS + 1):
        state = rng.choices(states, weights)[0]
        opened = now - dt.timedelta(minutes=rng.randint(10, 365 * 24 * 60))
        i, u = rng.randint(0, 4), rng.randint(0, 4)
        group = rng.choice(groups) if state != TicketState.NEW else None
        assigned = opened + dt.timedelta(minutes=rng.randint(1, 120)) if group else None
        accepted = assigned + dt.timedelta(minutes=rng.randint(1, 240)) if state not in ('new', 'assigned') else None
        completed = accepted + dt.timedelta(hours=rng.randint(1, 72)) if state in ('completed', 'closed') else None
        closed = completed + dt.timedelta(days=rng.randint(0, 5)) if state == 'closed' else None
        assignee = agent.pk if accepted else None
        values = [
            format_number('INC', 1000 + n), 'incident', f'Benchmark incident {n}', '', '', state,
            rng.choice(callers).pk, agent.pk, 'portal', impacts[i], urgencies[u], -(-(i + u) // 2),
            group.pk if group else None, assignee, rng.randint(0, 2), 0, '', '', '',
            'solved_permanently' if completed else '', 'Fixed.' if completed else '',
            opened, assigned, accepted, completed, closed, opened, closed or completed or accepted or opened,
        ]  # fmt: skip
        buffer.write('\t'.join('\\N' if v is None else str(v) for v in values) + '\n')
    buffer.seek(0)
    columns = ', '.join([
        'number', 'kind', 'short_description', 'description', 'symptom', 'state', 'caller_id', 'opened_by_id',
        'channel', 'impact', 'urgency', 'priority', 'assignment_group_id', 'assignee_id', 'reassignment_count',
        'reopen_count', 'priority_override_reason', 'pending_reason', 'pending_note', 'resolution_code',
        'resolution_notes', 'opened_at', 'assigned_at', 'accepted_at', 'completed_at', 'closed_at', 'created_at',
        'updated_at',
    ])  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute('TRUNCATE incidents_ticket CASCADE')
        cursor.cursor.copy_expert(f'COPY incidents_ticket ({columns}) FROM STDIN', buffer)
        cursor.execute('ANALYZE incidents_ticket')
    NumberSequence.objects.update_or_create(prefix='INC', defaults={'last': 1000 + TICKETS})


def _worked_tickets(callers: list[User], groups: list[SupportGroup], agent: User) -> list[Ticket]:
    """Tickets with a real history (comments, transitions, notifications) for the detail page."""
    existing = list(Ticket.objects.filter(short_description__startswith='Worked benchmark').order_by('pk'))
    actor = Actor(user=agent)
    for n in range(len(existing), SAMPLES):
        ticket = services.ticket_create(
            actor=Actor(user=callers[n]), caller=callers[n], short_description=f'Worked benchmark incident {n}',
            description='Long description ' * 20, impact=Impact.MEDIUM, urgency=Urgency.URGENT, notify=False,
        )  # fmt: skip
        ticket = services.ticket_assign(ticket=ticket, actor=actor, group=groups[n % GROUPS], notify=False)
        ticket = services.ticket_accept(ticket=ticket, actor=actor)
        for k in range(6):
            services.ticket_comment(ticket=ticket, actor=actor, body=f'Step {k}: checked logs.', internal=k % 2 == 0)
        services.ticket_complete(
            ticket=ticket, actor=actor, resolution_code=ResolutionCode.SOLVED_WORKAROUND, resolution_notes='Done.'
        )
        existing.append(ticket)
    return existing


def _get(client: Client, url: str) -> int:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f'{url} answered {response.status_code}')
    return 1


def run() -> list[Result]:
    from django.conf import settings

    # Notifications render and 'send' in-process: no broker or SMTP server takes part in the timings.
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.EMAIL_BACKEND = 'django.core.mail.backends.locmem.EmailBackend'
    callers, groups, agent = _people()
    if Ticket.objects.filter(short_description__startswith='Benchmark incident').count() != TICKETS:
        _load(callers, groups, agent)
    worked = _worked_tickets(callers, groups, agent)
    total = Ticket.objects.count()

    client = Client()
    client.force_login(agent)
    results = [
        measure(
            f'queue page "all open" ({total:,} tickets)',
            [lambda: _get(client, reverse('incidents:queue') + '?q=all')] * SAMPLES,
        ),
        measure('queue page "my work"', [lambda: _get(client, reverse('incidents:queue') + '?q=mine')] * SAMPLES),
        measure(
            'queue page of one group',
            [lambda g=g: _get(client, reverse('incidents:queue_group', args=[g.pk])) for g in groups] * 3,
        ),
        measure('ticket detail page', [lambda t=t: _get(client, t.get_absolute_url()) for t in worked]),
        measure('API list /api/v1/incidents/ (50 a page)', [lambda: _get(client, '/api/v1/incidents/')] * SAMPLES),
        measure(
            'API list filtered (state=assigned, priority=2)',
            [lambda: _get(client, '/api/v1/incidents/?state=assigned&priority=2')] * SAMPLES,
        ),
    ]

    api = Client()
    api.force_login(agent)
    timings = []
    started = time.perf_counter()
    for n in range(CREATES):
        t0 = time.perf_counter()
        response = api.post(
            '/api/v1/incidents/',
            {'short_description': f'API create {n}', 'caller': callers[n].username, 'impact': 'low'},
            content_type='application/json',
        )
        timings.append((time.perf_counter() - t0) * 1000)
        if response.status_code != 201:
            raise RuntimeError(f'create answered {response.status_code}: {response.content[:200]}')
    elapsed = time.perf_counter() - started
    timings.sort()
    results.append(
        Result(
            operation=f'API create: {CREATES / elapsed:.0f} incidents/s, one client',
            rows=CREATES,
            median_ms=timings[len(timings) // 2],
            p95_ms=timings[int(0.95 * (len(timings) - 1))],
            queries=0,
        )
    )
    return results
