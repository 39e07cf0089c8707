"""`manage.py generate_data` and `synthetic`: valid records, tickets whose states, milestones, histories and
SLA clocks agree, numbering that carries on, pages that render, idempotent runs and --reset; on SQLite
(bulk_create) and PostgreSQL (COPY, with the secondary indexes dropped and built again)."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cmdb.models import ConfigurationItem, Relationship, Service
from incidents import services as incident_services
from incidents.choices import OPEN_STATES
from incidents.models import Ticket
from itsm.audit import Actor
from itsm.models import SupportGroup, TimelineEntry, User
from itsm.numbering import peek_next_value
from reports.models import DailyRollup
from sla.models import ClockEvent, ClockPause, SlaClock
from synthetic import dataset as synthetic
from synthetic import dataset as synthetic_dataset
from synthetic.estate import Layout
from synthetic.progress import Progress

SMALL = {'incidents': 400, 'cis': 150, 'seed': 7, 'days': 20}


def generate(**options) -> synthetic.Manifest:
    call_command('generate_data', **{**SMALL, **options, 'no_progress': True})
    return synthetic.current()


def _clean_sample(model, count: int = 40, **filters) -> None:
    rows = list(model.objects.filter(**filters).order_by('pk'))
    for obj in random.Random(1).sample(rows, min(count, len(rows))):
        obj.full_clean()


def check_data_set(manifest: synthetic.Manifest) -> None:
    """Everything a data set must satisfy, whatever the database."""
    as_of = dt.datetime.fromisoformat(manifest.as_of)
    tickets = {t.pk: t for t in Ticket.objects.filter(pk__gte=manifest.first_ticket, pk__lte=manifest.last_ticket)}
    assert len(tickets) == manifest.incidents
    assert ConfigurationItem.objects.filter(description='Synthetic estate').count() == manifest.cis
    assert Relationship.objects.count() == 3 * manifest.cis
    assert Service.objects.count() == len(manifest.ci_ids('technical_service')) + len(
        manifest.ci_ids('business_service')
    )

    # Model validation on a sample of every kind of record.
    for model in (
        Ticket,
        SlaClock,
        ClockPause,
        ClockEvent,
        TimelineEntry,
        ConfigurationItem,
        Relationship,
        Service,
        SupportGroup,
    ):
        _clean_sample(model)
    _clean_sample(User, username__startswith='syn.')

    # Numbers: unique, in the sequences, rising with the opening time within each prefix.
    for prefix in ('INC', 'CS'):
        numbers = [t.number for t in sorted(tickets.values(), key=lambda t: t.pk) if t.number.startswith(prefix)]
        assert numbers == sorted(numbers)
        assert peek_next_value(prefix) == int(numbers[-1][len(prefix) :]) + 1
    assert peek_next_value('CI') == int(ConfigurationItem.objects.order_by('-number').first().number[2:]) + 1

    # States agree with milestones, in order, and with the last transition in the history.
    states = Counter(t.state for t in tickets.values())
    assert {'accepted', 'completed', 'closed'} <= set(states) and len(states) >= 4, states
    assert states['closed'] > manifest.incidents / 2
    last_transition = {}
    created = set()
    for entry in TimelineEntry.objects.filter(object_id__in=tickets, kind__in=['created', 'transition']).order_by(
        'at', 'id'
    ):
        if entry.kind == 'created':
            created.add(entry.object_id)
        else:
            last_transition[entry.object_id] = entry.data['to']
    assert created == set(tickets)
    for ticket in tickets.values():
        moments = [ticket.opened_at, ticket.assigned_at, ticket.accepted_at, ticket.completed_at, ticket.closed_at]
        present = [m for m in moments if m is not None]
        assert present == sorted(present), ticket.number
        assert ticket.opened_at <= as_of
        assert last_transition.get(ticket.pk, 'new') == ticket.state, ticket.number
        if ticket.state == 'new':
            assert ticket.assignment_group_id is None and ticket.assigned_at is None
        else:
            assert ticket.assignment_group_id and ticket.assigned_at
        if ticket.state == 'assigned':
            assert ticket.assignee_id is None
        if ticket.state in ('accepted', 'pending', 'completed', 'closed'):
            assert ticket.assignee_id and ticket.accepted_at
            assert ticket.assignee.support_groups.filter(pk=ticket.assignment_group_id).exists()
        assert bool(ticket.pending_reason) == (ticket.state == 'pending')
        finished = ticket.state in ('completed', 'closed')
        assert (ticket.completed_at is not None) == finished
        assert bool(ticket.resolution_code) == finished
        assert (ticket.closed_at is not None) == (ticket.state == 'closed')

    # Clocks: what sla.services would keep for these tickets.
    clocks = defaultdict(list)
    for clock in SlaClock.objects.filter(ticket__in=tickets).prefetch_related('events', 'pauses'):
        clocks[clock.object_id].append(clock)
    olas = {g.pk for g in SupportGroup.objects.filter(olas__isnull=False)}
    for pk, ticket in tickets.items():
        kinds = Counter(c.kind for c in clocks[pk])
        assert kinds['response'] == 1 and kinds['resolution'] == 1, ticket.number
        for clock in clocks[pk]:
            if clock.kind == 'response':
                assert clock.stopped_at == ticket.accepted_at
            if clock.kind == 'resolution':
                assert clock.stopped_at == ticket.completed_at
            if clock.kind.startswith('ola_'):
                assert clock.support_group_id in olas
            announced = {e.percent for e in clock.events.all()}
            if clock.stopped_at is not None:
                assert clock.state in ('met', 'breached') and clock.run_started_at is None
                assert clock.next_check_at is None
            else:
                assert clock.state in ('running', 'paused', 'breached')
                assert (clock.run_started_at is not None) == (clock.state != 'paused' and ticket.state != 'pending')
                if clock.next_check_at is not None:
                    assert clock.next_check_at > as_of  # nothing left for the sweep
                    assert clock.next_percent not in announced
            assert (clock.breached_at is not None) == (clock.state == 'breached') == (100 in announced)
            if clock.warned_at is not None:
                assert min(announced) == 75
            assert clock.elapsed <= (clock.stopped_at or as_of) - clock.started_at
            open_pauses = [p for p in clock.pauses.all() if p.ended_at is None]
            assert len(open_pauses) == (1 if clock.stopped_at is None and clock.run_started_at is None else 0)
        if ticket.state in ('new', 'assigned', 'accepted', 'pending'):
            assert any(c.stopped_at is None for c in clocks[pk])
    assert ClockEvent.objects.filter(notified_at__isnull=True).count() == 0


@pytest.mark.django_db
def test_generate_data_makes_a_consistent_desk():
    manifest = generate()
    check_data_set(manifest)
    assert manifest.counts['tickets'] == SMALL['incidents']
    assert DailyRollup.objects.exists()


@pytest.mark.django_db
def test_the_app_keeps_working_on_generated_data():
    manifest = generate(incidents=200)
    agent = User.objects.filter(username__startswith='syn.agent.', support_groups__isnull=False).first()
    caller = User.objects.filter(username__startswith='syn.user.').first()
    following = peek_next_value('INC')
    ticket = incident_services.ticket_create(
        actor=Actor(user=agent), caller=caller, short_description='After generation', notify=False
    )
    assert ticket.number == f'INC{following:07d}'
    assert ticket.sla_clocks.count() == 2

    client = Client()
    client.force_login(agent)
    for query in ('all', 'mine', 'unassigned'):
        assert client.get(reverse('incidents:queue') + f'?q={query}').status_code == 200
    group = SupportGroup.objects.filter(email__endswith='@synthetic.example').first()
    assert client.get(reverse('incidents:queue_group', args=[group.pk])).status_code == 200
    by_state = {}
    for t in Ticket.objects.filter(pk__lte=manifest.last_ticket).order_by('pk'):
        by_state.setdefault(t.state, t)
    for t in by_state.values():
        response = client.get(t.get_absolute_url())
        assert response.status_code == 200, t.number
        assert t.short_description.encode() in response.content
    ci = ConfigurationItem.objects.get(pk=manifest.ci_ids('core')[0])
    assert client.get(ci.get_absolute_url()).status_code == 200
    assert client.get('/api/v1/incidents/').status_code == 200

    manager = User.objects.filter(username__startswith='syn.manager.').first()
    client.force_login(manager)
    assert client.get(reverse('reports:overview')).status_code == 200


@pytest.mark.django_db
def test_a_second_run_keeps_the_data_set_and_reset_replaces_it(capsys):
    outsider = User.objects.create(username='real.person')
    kept = incident_services.ticket_create(
        actor=Actor(user=outsider), caller=outsider, short_description='Not synthetic', notify=False
    )
    first = generate(incidents=150)
    counts = (Ticket.objects.count(), TimelineEntry.objects.count(), SlaClock.objects.count(), User.objects.count())
    again = generate(incidents=150)
    assert 'already present' in capsys.readouterr().err
    assert again == first
    assert counts == (
        Ticket.objects.count(),
        TimelineEntry.objects.count(),
        SlaClock.objects.count(),
        User.objects.count(),
    )

    with pytest.raises(CommandError, match='--reset'):
        generate(incidents=120)

    numbers_before = peek_next_value('INC') - 1
    replaced = generate(incidents=120, cis=120, reset=True)
    assert replaced.incidents == 120 and replaced.cis == 120
    assert Ticket.objects.count() == 121  # the new data set and the ticket that was there before
    assert Ticket.objects.filter(pk=kept.pk, short_description='Not synthetic').exists()
    assert User.objects.filter(username='real.person').exists()
    assert ConfigurationItem.objects.count() == 120
    # Numbers are never reused: the new data set carries on after the old one.
    assert (
        Ticket.objects.filter(pk__gte=replaced.first_ticket).order_by('pk').first().number > f'INC{numbers_before:07d}'
    )
    check_data_set(replaced)


@pytest.mark.django_db
def test_a_backlog_is_added_and_removed_again():
    manifest = generate(incidents=100)
    opened = timezone.now() - dt.timedelta(hours=1)
    ids = synthetic.add_backlog(30, opened_at=opened)
    added = Ticket.objects.filter(pk__in=ids)
    assert added.count() == 30 and set(added.values_list('state', flat=True)) == {'new'}
    clocks = SlaClock.objects.filter(ticket__in=added)
    assert clocks.count() == 60
    assert set(clocks.values_list('state', flat=True)) == {'running'}
    assert all(c.next_check_at > opened for c in clocks)
    synthetic.remove_tickets(ids)
    assert not Ticket.objects.filter(pk__in=ids).exists()
    assert not TimelineEntry.objects.filter(object_id__in=ids, object_id__gt=manifest.last_ticket).exists()
    assert Ticket.objects.count() == 100


def test_options_are_checked():
    with pytest.raises(ValueError, match='at least 100 CIs'):
        Layout.of(50)
    with pytest.raises(CommandError):
        call_command('generate_data', incidents=-1, no_progress=True)


def test_layouts_scale_and_sum_up():
    for cis in (100, 150, 1_000, 10_000, 100_000):
        layout = Layout.of(cis)
        assert sum(len(r) for r in layout.roles.values()) == cis
        assert all(len(r) >= 1 for r in layout.roles.values())
        assert layout.platform()
    full = Layout.of(100_000)
    assert len(full.roles['core']) == 10 and len(full.roles['lan']) == 280 and len(full.domains()) == 350
    assert len(full.platform()) == 500


def test_progress_bar_shows_rate_and_time_left(tmp_path):
    with open(tmp_path / 'progress.txt', 'w+') as stream:
        with Progress('tickets', 200, stream=stream) as bar:
            bar.advance(100)
            assert '100/200' in bar.line() and '/s' in bar.line() and 'left' in bar.line()
            bar.advance(100)
        stream.seek(0)
        assert '100.0%' in stream.read()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_copy_load_on_postgresql(monkeypatch):
    """The COPY path, with the secondary indexes dropped for the load and built again (forced at this size)."""
    monkeypatch.setattr(synthetic_dataset, 'DEFER_INDEXES_FROM', 0)

    def indexes() -> set[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(
                """SELECT i.relname, x.indisunique, x.indisvalid, x.indkey::text, x.indpred IS NOT NULL
                   FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
                   WHERE t.relname IN ('incidents_ticket', 'itsm_timelineentry', 'sla_slaclock', 'cmdb_relationship')"""
            )
            return set(cursor.fetchall())

    before = indexes()
    manifest = generate()
    assert indexes() == before
    assert 'indexes' in manifest.seconds  # the rebuild ran (its time, rounded to 0.1 s, may show 0.0)
    check_data_set(manifest)
    # The id sequences continue after the generated ids.
    ticket = incident_services.ticket_create(
        actor=Actor.system(),
        caller=User.objects.filter(username__startswith='syn.user.').first(),
        short_description='After COPY',
        notify=False,
    )
    assert ticket.pk == manifest.last_ticket + 1
    assert Ticket.objects.filter(state__in=OPEN_STATES).exists()
    generate(incidents=300, reset=True)
    assert Ticket.objects.count() == 300
