"""Incidents on the benchmark data set (1,000,000 tickets by default): queue pages, detail page, API list and
API create, and the Python time of drawing a 50-row table.

The tickets are the shared data set's (`bench.dataset`): a year of a desk's work in 16 groups, most closed, the
last days' still open in every state, each with its history and SLA clocks. Pages are timed through Django's test
client, so the figures are server time: URL routing, middleware, permissions, queries and template rendering.
The agent is the one with the most open tickets; the detail pages are those of random tickets. The tickets the
API creates are removed afterwards. The table rows time only the rendering of a page's table (its rows already
read), the part a template tag per cell used to make cost about 50 ms.
"""

from __future__ import annotations

import dataclasses
import random
import time

from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.db.models import Count
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import resolve, reverse
from django_htmx.middleware import HtmxDetails

from bench import Result, dataset, measure
from incidents.choices import OPEN_STATES
from incidents.models import Ticket
from incidents.views.queues import QueueView
from incidents.views.tickets import TicketListView
from itsm.models import SupportGroup, User
from synthetic.reference import EMAIL_DOMAIN, USER_PREFIX

SAMPLES = 60
CREATES = 300
SEED = 4242


def _get(client: Client, url: str, *, htmx: bool = False) -> int:
    response = client.get(url, headers={'HX-Request': 'true'} if htmx else {})
    if response.status_code != 200:
        raise RuntimeError(f'{url} answered {response.status_code}')
    return 1


def _busiest_agent() -> User:
    busiest = (
        Ticket.objects.filter(state__in=OPEN_STATES, assignee__isnull=False)
        .values('assignee')
        .annotate(n=Count('pk'))
        .order_by('-n')
        .first()
    )
    return User.objects.get(pk=busiest['assignee'])


def _table_render(agent: User, view_class, url: str):
    """A call that draws the table of the page at `url` (its rows read once beforehand) and returns its rows."""
    request = RequestFactory().get(url)
    request.user, request.session = agent, SessionStore()
    request.htmx, request._messages = HtmxDetails(request), FallbackStorage(request)
    request.resolver_match = resolve(request.path)
    view = view_class()
    view.setup(request)
    context = {**view.base_context(), **view.get_context()}
    rows = len(context['object_list'])

    def draw() -> int:
        render_to_string(view.table_template_name, context, request)
        return rows

    return draw


def run() -> list[Result]:
    from django.conf import settings

    manifest = dataset.ensure()
    # Notifications render and 'send' in-process: no broker or SMTP server takes part in the timings.
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.EMAIL_BACKEND = 'django.core.mail.backends.locmem.EmailBackend'
    rng = random.Random(SEED)
    agent = _busiest_agent()
    groups = list(SupportGroup.objects.filter(email__endswith=f'@{EMAIL_DOMAIN}').order_by('pk'))
    numbers = list(
        Ticket.objects.filter(pk__in=rng.sample(range(manifest.first_ticket, manifest.last_ticket + 1), SAMPLES))
        .order_by('pk')
        .values_list('number', flat=True)
    )
    total, open_count = Ticket.objects.count(), Ticket.objects.filter(state__in=OPEN_STATES).count()
    mine = Ticket.objects.filter(state__in=OPEN_STATES, assignee=agent).count()

    client = Client()
    client.force_login(agent)
    queue = reverse('incidents:queue')
    results = [
        measure(
            f'queue page "all open" ({open_count:,} open of {total:,})',
            [lambda: _get(client, f'{queue}?q=all')] * SAMPLES,
        ),
        measure(f'queue page "my work" ({mine} open)', [lambda: _get(client, f'{queue}?q=mine')] * SAMPLES),
        measure(
            'waiting in my groups, below my work, after the page',
            [lambda: _get(client, reverse('incidents:queue_waiting'), htmx=True)] * SAMPLES,
        ),
        measure(
            f'queue page of one group ({len(groups)} groups)',
            [lambda g=g: _get(client, reverse('incidents:queue_group', args=[g.pk])) for g in groups] * 3,
        ),
        measure(
            'ticket detail page (random tickets)',
            [lambda n=n: _get(client, reverse('incidents:ticket_detail', kwargs={'number': n})) for n in numbers],
        ),
        measure(
            'ticket related records and panels, after the page (random tickets)',
            [
                lambda n=n: _get(client, reverse('incidents:ticket_related', kwargs={'number': n}), htmx=True)
                for n in numbers
            ],
        ),
        measure('ticket list /tickets/ (newest first, 50 a page)', [lambda: _get(client, '/tickets/')] * SAMPLES),
        measure('API list /api/v1/incidents/ (50 a page)', [lambda: _get(client, '/api/v1/incidents/')] * SAMPLES),
        measure(
            'API list filtered (state=assigned, priority=2)',
            [lambda: _get(client, '/api/v1/incidents/?state=assigned&priority=2')] * SAMPLES,
        ),
        measure('API list by cursor, first page', [lambda: _get(client, '/api/v1/incidents/?cursor=')] * SAMPLES),
        measure(
            'draw the 50-row table of "all open" (Python)',
            [_table_render(agent, QueueView, f'{queue}?q=all')] * SAMPLES,
        ),
        measure(
            'draw the 50-row ticket list table (Python)', [_table_render(agent, TicketListView, '/tickets/')] * SAMPLES
        ),
    ]

    callers = list(
        User.objects.filter(username__startswith=f'{USER_PREFIX}user.')
        .order_by('pk')
        .values_list('username', flat=True)
    )

    def create(n: int) -> int:
        response = client.post(
            '/api/v1/incidents/',
            {'short_description': f'API create {n}', 'caller': callers[n % len(callers)], 'impact': 'low'},
            content_type='application/json',
        )
        if response.status_code != 201:
            raise RuntimeError(f'create answered {response.status_code}: {response.content[:200]}')
        return 1

    try:
        started = time.perf_counter()
        # One create first, untimed, warms what a running server holds (the desk's rules, content types).
        created = measure('API create', [lambda n=n: create(n) for n in range(CREATES)], warmup=1)
        rate = (CREATES + 1) / (time.perf_counter() - started)
    finally:
        dataset.remove_added(manifest)
    results.append(dataclasses.replace(created, operation=f'API create: {rate:.0f} incidents/s, one client'))
    return results
