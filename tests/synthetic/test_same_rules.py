"""The generator, the importer and the services follow one set of lifecycle and SLA rules.

`synthetic.tickets` (behind `manage.py generate_data`) and `imports` write tickets, histories and clocks in bulk
without calling the ticket services; the services run every step through `TICKET_WORKFLOW` and let
`sla.services` keep the clocks. So that the rules live in one place:

- every generated history is a legal path in `TICKET_WORKFLOW` (each step's `from` among its transition's
  sources, its `to` the transition's target, each step starting where the one before ended);
- for the same event sequence, the services end where the generator did: a generated ticket of each distinct
  path through the lifecycle is opened again through `ticket_create` with the same inputs and its transitions are
  replayed through `ticket_assign`, `ticket_accept`, … `ticket_close_stale`, with the same actors, groups,
  reasons and resolutions; state, counters, milestones, history and SLA/OLA clocks must agree;
- the importer, which keeps a source's history as `import` entries, claims no lifecycle transition, and the
  milestones of what it imports agree with the workflow's state categories.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.utils import timezone

from incidents import services
from incidents.choices import TICKET_WORKFLOW, TicketState
from incidents.models import Ticket
from itsm.audit import Actor
from itsm.choices import TimelineKind
from itsm.errors import InvalidTransition
from itsm.models import SupportGroup, TimelineEntry
from synthetic import dataset
from synthetic import tickets as generator
from tests.imports.helpers import SERVICENOW_EXCERPT, run_import

pytestmark = pytest.mark.django_db

GENERATED = {'incidents': 400, 'cis': 150, 'seed': 7, 'days': 20}
MILESTONES = ('assigned_at', 'accepted_at', 'completed_at', 'closed_at')
# Times in recorded changes: a replay sets them when it runs, so only whether each is set is compared.
MOMENTS = {*MILESTONES, 'opened_at', 'pending_until', 'attention_since'}
# A hand-over before anyone accepted is an `assign` from Assigned: told apart to check the sample covers it.
REASSIGN = 'reassign'
# Children completing with their parent: the generator makes no parent tickets (tests/incidents/test_parent_children.py
# and the major-incident cascade cover it).
GENERATED_STEPS = {*TICKET_WORKFLOW.transitions} - {'complete_with_parent'}


def generate() -> dataset.Manifest:
    call_command('generate_data', **GENERATED, no_progress=True)
    return dataset.current()


def ticket_type() -> ContentType:
    return ContentType.objects.get_for_model(Ticket)


def histories(tickets) -> dict[int, list[TimelineEntry]]:
    """Each ticket's timeline (oldest first): creation, transitions, re-targets, warnings and breaches."""
    by_ticket: dict[int, list[TimelineEntry]] = {t.pk: [] for t in tickets}
    entries = TimelineEntry.objects.filter(content_type=ticket_type(), object_id__in=list(by_ticket))
    for entry in entries.select_related('actor').order_by('at', 'id'):
        by_ticket[entry.object_id].append(entry)
    return by_ticket


def transitions(history: list[TimelineEntry]) -> list[TimelineEntry]:
    return [e for e in history if e.kind == TimelineKind.TRANSITION]


def legal_path(number: str, steps: list[TimelineEntry]) -> str:
    """Check that `steps` is a path through TICKET_WORKFLOW from New; returns the state it ends in."""
    state = TicketState.NEW
    for entry in steps:
        action, source, target = entry.data['action'], entry.data['from'], entry.data['to']
        transition = TICKET_WORKFLOW.get(action)
        assert source == state, f'{number}: {action} starts from {source}, the step before ended in {state}'
        assert source in transition.sources, f'{number}: {action} is not allowed from {source}'
        assert target == transition.target, f'{number}: {action} leads to {transition.target}, not {target}'
        state = target
    return state


def path_of(steps: list[TimelineEntry]) -> tuple[str, ...]:
    return tuple(
        REASSIGN if e.data['action'] == 'assign' and e.data['from'] == TicketState.ASSIGNED else e.data['action']
        for e in steps
    )


def changes(entry: TimelineEntry, *, names: dict[str, str] | None = None) -> list[tuple]:
    """An entry's field changes (field, before, after), with times reduced to whether they are set and the values
    of the fields in `names` replaced by the text given there."""
    names = names or {}
    return sorted(
        (c['field'], c['before'] is not None, c['after'] is not None)
        if c['field'] in MOMENTS
        else (c['field'], c['before'], names.get(c['field'], c['after']))
        for c in entry.changes
    )


@dataclass
class Outcome:
    """What a ticket ended as, in terms that do not depend on when each step happened."""

    ticket: dict
    history: list[tuple]
    created: list[tuple]
    retargets: int
    clocks: list[tuple]


def outcome(ticket: Ticket, history: list[TimelineEntry]) -> Outcome:
    ticket = Ticket.objects.get(pk=ticket.pk)
    created = next(e for e in history if e.kind == TimelineKind.CREATED)
    clocks = []
    for clock in ticket.sla_clocks.prefetch_related('pauses').order_by('id'):
        # Whether a clock met or breached its target (and which warnings it announced) depends on how long each
        # step took, which a replay in one go does not reproduce. What does not depend on it: which clocks run,
        # for which agreement and group, whether and why each stopped, whether an open one is counting now or
        # paused, and the pauses it went through (the ticket state and reason, and whether each has ended).
        pauses = sorted((p.ticket_state, p.reason, p.ended_at is not None) for p in clock.pauses.all())
        clocks.append(
            (
                clock.kind,
                clock.sla_id,
                clock.ola_id,
                clock.support_group_id,
                clock.stop_reason,
                clock.stopped_at is not None,
                clock.run_started_at is not None,
                tuple(pauses),
            )
        )
    return Outcome(
        ticket={
            'state': ticket.state,
            'priority': ticket.priority,
            'group': ticket.assignment_group_id,
            'assignee': ticket.assignee_id,
            'pending_reason': ticket.pending_reason,
            'resolution_code': ticket.resolution_code,
            'reassignment_count': ticket.reassignment_count,
            'reopen_count': ticket.reopen_count,
            **{name: getattr(ticket, name) is not None for name in MILESTONES},
        },
        history=[
            (
                e.data['action'],
                e.data['from'],
                e.data['to'],
                e.actor_id,
                e.message,
                e.public,
                changes(e),
            )
            for e in transitions(history)
        ],
        # The generator names the service and the CI without their number in the opening entry ("Payroll", where
        # the services write "CI0000242 Payroll"): display text only, compared by the CI's name.
        created=[
            (created.actor_id, created.message),
            *changes(
                created, names={'service': ticket.service and ticket.service.name, 'ci': ticket.ci and ticket.ci.name}
            ),
        ],
        retargets=sum(1 for e in history if e.kind == TimelineKind.SLA_RETARGET),
        clocks=sorted(clocks, key=repr),
    )


def actor_of(entry: TimelineEntry) -> Actor:
    return Actor(user=entry.actor, channel=entry.channel) if entry.actor_id else Actor.system(entry.channel)


def replay(generated: Ticket, history: list[TimelineEntry]) -> Ticket:
    """Open `generated` again through the services and run its transitions, in order, as they were recorded."""
    created = next(e for e in history if e.kind == TimelineKind.CREATED)
    ticket = services.ticket_create(
        actor=actor_of(created),
        kind=generated.kind,
        short_description=generated.short_description,
        caller=generated.caller,
        channel=generated.channel,
        impact=generated.impact,
        urgency=generated.urgency,
        category=generated.category,
        subcategory=generated.subcategory,
        service=generated.service,
        ci=generated.ci,
        notify=False,
        route=False,  # the recorded history holds where the ticket went, routing included
    )
    for entry in transitions(history):
        action, actor = entry.data['action'], actor_of(entry)
        after = {c['field']: c['after'] for c in entry.changes}
        if action == 'assign':
            group = SupportGroup.objects.get(name=after['assignment_group'])
            ticket = services.ticket_assign(ticket=ticket, actor=actor, group=group, notify=False)
        elif action == 'escalate':
            group = SupportGroup.objects.get(name=after['assignment_group'])
            ticket = services.ticket_escalate(ticket=ticket, actor=actor, group=group, reason=entry.data['reason'])
        elif action == 'accept':
            ticket = services.ticket_accept(ticket=ticket, actor=actor)
        elif action == 'pend':
            # The recorded date lies in the past now; the service only takes one in the future.
            until = timezone.now() + dt.timedelta(days=5) if after.get('pending_until') else None
            ticket = services.ticket_pend(
                ticket=ticket, actor=actor, reason=after['pending_reason'], note=after['pending_note'], until=until
            )
        elif action == 'resume':
            ticket = services.ticket_resume(ticket=ticket, actor=actor)
        elif action == 'complete':
            ticket = services.ticket_complete(
                ticket=ticket,
                actor=actor,
                resolution_code=after['resolution_code'],
                resolution_notes=after['resolution_notes'],
            )
        elif action == 'reject':
            ticket = services.ticket_reject(ticket=ticket, actor=actor, reason=entry.data['reason'])
        elif action == 'confirm':
            ticket = services.ticket_confirm(ticket=ticket, actor=actor)
        elif action == 'auto_close':
            # The nightly job, as if the waiting time had passed (it closes every ticket completed by then; the
            # tickets replayed before this one were compared already).
            days = settings.INCIDENT_AUTO_CLOSE_DAYS
            assert services.ticket_close_stale(now=timezone.now() + dt.timedelta(days=days), days=days) >= 1
        else:
            pytest.fail(f'{generated.number}: no service replays "{action}"')
    return ticket


def sample(tickets: list[Ticket], by_ticket: dict[int, list[TimelineEntry]]) -> list[Ticket]:
    """The first ticket of each distinct path through the lifecycle (and of each channel, for the actors)."""
    chosen: dict[tuple, Ticket] = {}
    for ticket in tickets:
        chosen.setdefault(path_of(transitions(by_ticket[ticket.pk])), ticket)
        chosen.setdefault(('channel', ticket.channel), ticket)
    return sorted(set(chosen.values()), key=lambda t: t.pk)


def test_every_generated_history_is_a_legal_path():
    manifest = generate()
    tickets = list(Ticket.objects.filter(pk__gte=manifest.first_ticket, pk__lte=manifest.last_ticket))
    by_ticket = histories(tickets)
    paths = Counter()
    for ticket in tickets:
        steps = transitions(by_ticket[ticket.pk])
        assert legal_path(ticket.number, steps) == ticket.state, ticket.number
        paths.update(path_of(steps))
    assert set(paths) == {*GENERATED_STEPS, REASSIGN}, paths


def test_the_generator_takes_its_steps_from_the_workflow_and_refuses_illegal_ones():
    for transition in TICKET_WORKFLOW:
        for source in transition.sources:
            assert generator._lifecycle_target(source, transition.name) == transition.target
        for state in set(TICKET_WORKFLOW.all_states) - set(transition.sources):
            with pytest.raises(InvalidTransition):
                generator._lifecycle_target(state, transition.name)
    with pytest.raises(InvalidTransition):
        generator._lifecycle_target(TicketState.ASSIGNED, 'reassign')  # not a transition: the generator says assign


def test_services_replaying_a_generated_history_end_where_the_generator_did():
    manifest = generate()
    tickets = list(
        Ticket.objects.filter(pk__gte=manifest.first_ticket, pk__lte=manifest.last_ticket)
        .select_related('caller', 'category', 'subcategory', 'service', 'ci')
        .order_by('pk')
    )
    by_ticket = histories(tickets)
    chosen = sample(tickets, by_ticket)
    covered = {step for t in chosen for step in path_of(transitions(by_ticket[t.pk]))}
    assert covered == {*GENERATED_STEPS, REASSIGN}
    # Read every generated outcome before replaying: replayed automatic closures close generated tickets too.
    expected = {t.pk: outcome(t, by_ticket[t.pk]) for t in chosen}
    for generated in chosen:
        replayed = replay(generated, by_ticket[generated.pk])
        got = outcome(replayed, histories([replayed])[replayed.pk])
        path = ' → '.join(path_of(transitions(by_ticket[generated.pk]))) or 'untouched'
        assert got == expected[generated.pk], f'{generated.number} ({generated.channel}: {path})'


def test_the_importer_claims_no_transition_and_keeps_the_workflows_categories():
    out, err, error = run_import(SERVICENOW_EXCERPT, '--format', 'servicenow-event-log', '--no-progress')
    assert error is None, err
    tickets = list(Ticket.objects.exclude(source_number=''))
    assert len(tickets) == 11
    by_ticket = histories(tickets)
    workflow = TICKET_WORKFLOW
    for ticket in tickets:
        kinds = Counter(e.kind for e in by_ticket[ticket.pk])
        # A source's history is kept as it happened there (`import` entries), never as Pitcrew transitions.
        assert kinds[TimelineKind.TRANSITION] == 0 and kinds[TimelineKind.IMPORT] > 0, ticket.source_number
        assert ticket.state in workflow.all_states
        finished = ticket.state in workflow.finished_states
        # Closed by the source without a resolution time: closed, with no completion (it counts in no MTTR).
        without_resolution = any(
            e.data.get('closed_without_resolution') for e in by_ticket[ticket.pk] if e.kind == TimelineKind.IMPORT
        )
        assert not without_resolution or ticket.state in workflow.final_states, ticket.source_number
        assert (ticket.completed_at is not None) == (finished and not without_resolution), ticket.source_number
        assert (ticket.closed_at is not None) == (ticket.state in workflow.final_states), ticket.source_number
        assert (ticket.assigned_at is None) == (ticket.state in workflow.triage_states), ticket.source_number
        taken = ticket.state not in (*workflow.triage_states, *workflow.awaiting_acceptance_states)
        if not taken:
            assert ticket.accepted_at is None, ticket.source_number
        if ticket.resolution_code:
            assert finished, ticket.source_number
