"""Generated lifecycle tests for a process record: every action from every state, through the page and the API.

A test class names a model (whose `actions` and `workflow` declare what people can do to it and where that leads)
and says how to build a record in each state, what valid input each action takes and who may act. From these
`WorkflowTable` generates, each with an id naming channel, action and state:

- `test_action[<channel>-<action>-from-<state>]`: POST the action as someone who may. When the state allows it
  the record reaches the declared target, and the new timeline entry says what happened: its kind, actor and
  channel, `data.from`/`data.to` for a transition, and field changes whose before/after values match the record
  before and after (every audited field that changed is listed; nothing else is). When the state does not allow
  it: 409 and nothing changes.
- `test_missing_input[<channel>-<action>]`: empty input to an action whose form or serializer has a required field
  is 400 naming every such field, and nothing changes.
- `test_forbidden[<channel>-<action>-<who>]`: each person without the right is refused (403), nothing changes.
- `test_collection_action[<channel>-<action>-from-<state>]`: actions on no one record (accept-next) take the
  record when its state allows the transition they run, and leave it alone otherwise.
- `test_queries_do_not_grow_with_the_timeline[<page>]`: the record page (and any other read listed) runs as many
  queries for a record with a long history as for one with a short history.

    class TestIncidentWorkflow(WorkflowTable):
        model = Incident
        api_base = '/api/v1/incidents/'
        page_prefix = 'ticket'
        ...

The class name must start with `Test` (pytest collects it); the base itself lives outside a `test_*` module.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from django.db import connection
from django.forms import BaseForm
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.module_loading import import_string
from rest_framework.test import APIClient

from itsm import audit
from itsm.choices import Channel, TimelineKind
from itsm.models import TimelineEntry
from itsm.workflow import Action, ActionSet, Workflow

UI, API = Channel.UI.value, Channel.API.value
CHANNELS = (UI, API)


@dataclass(frozen=True)
class Scenario:
    """One generated test: what is sent, through which channel, from which state, as whom."""

    channel: str
    action: str
    state: str = ''
    who: str = ''

    @property
    def id(self) -> str:
        parts = [self.channel, self.action.replace('_', '-')]
        if self.state:
            parts.append(f'from-{self.state}')
        if self.who:
            parts.append(self.who)
        return '-'.join(parts)


@dataclass
class Outcome:
    """What a test saw of the record and its timeline before it sent the request."""

    pk: Any
    snapshot: dict[str, Any]
    state: str
    last_entry_id: int
    entries: int = 0


def state_allows(actions: ActionSet, name: str, state: str) -> bool:
    """Whether the declared table lets action `name` start from `state` (who acts is not asked here)."""
    action = actions.get(name)
    workflow = actions.workflow
    if action.transition:
        return state in workflow.get(action.transition).sources
    return state in action.states if action.states else state not in workflow.final_states


def target_of(actions: ActionSet, name: str, state: str) -> str:
    action = actions.get(name)
    return actions.workflow.get(action.transition).target if action.transition else state


def required_fields(path: str, channel: str) -> tuple[str, ...] | None:
    """The required input fields of a form (pages) or serializer (API) given by dotted path; None when the path
    does not import (the test then fails on the import, naming the broken declaration)."""
    if not path:
        return ()
    try:
        cls = import_string(path)
    except ImportError:
        return None
    if channel == UI:
        return tuple(name for name, f in cls.base_fields.items() if f.required)
    return tuple(name for name, f in cls().fields.items() if f.required and not f.read_only)


def forms_in(response) -> list[BaseForm]:
    """Every form in the context the page rendered with."""
    contexts = response.context if isinstance(response.context, list) else [response.context]
    found = []
    for context in contexts:
        if context is None:
            continue
        for value in context.flatten().values():
            if isinstance(value, BaseForm) and value not in found:
                found.append(value)
    return found


class WorkflowTable(ABC):
    """Generated workflow tests for one process-record model. Subclass as `Test<Model>Workflow` and declare:

    - `model`: the record model; its `actions` (ActionSet) and `workflow` are read.
    - `api_base`: the API collection, e.g. '/api/v1/incidents/'; actions are `<api_base><number>/<slug>/`.
    - `page_prefix`: page URL names are `<namespace>:<page_prefix>_<action>`.
    - `make_people()`, `make_record(state)`, `actor_for(...)`, `valid_input(...)`, `entry_kind(...)`.
    - `forbidden`: who must be refused, per action ('*' for the rest): names of attributes of `self.people`.
    - `outcomes`: statuses that differ from the state table, each with its reason.
    - `expected_changes`: fields an action's timeline entry must at least list.
    """

    pytestmark = pytest.mark.django_db

    model: ClassVar[type] = None
    api_base: ClassVar[str] = ''
    page_prefix: ClassVar[str] = ''
    page_success_status: ClassVar[int] = 302  # a plain (non-htmx) form POST redirects to the record
    api_success_status: ClassVar[int] = 200
    forbidden: ClassVar[dict[str, tuple[str, ...]]] = {}
    forbidden_status: ClassVar[dict[tuple[str, str], int]] = {}  # (channel, who) → status when not 403
    outcomes: ClassVar[dict[tuple[str, str], tuple[int, str]]] = {}  # (action, state) → (status, why)
    expected_changes: ClassVar[dict[str, set[str]]] = {}
    timeline_sizes: ClassVar[tuple[int, int]] = (5, 25)
    query_reads: ClassVar[tuple[tuple[str, str], ...]] = ((UI, 'page'),)  # (channel, name) of `query_urls()`

    # ------------------------------------------------------------------------------- declarations read
    @classmethod
    def actions(cls) -> ActionSet:
        return cls.model.actions

    @classmethod
    def workflow(cls) -> Workflow:
        return cls.model.workflow

    @classmethod
    def record_actions(cls) -> list[Action]:
        return [a for a in cls.actions() if a.detail]

    @classmethod
    def collection_actions(cls) -> list[Action]:
        return [a for a in cls.actions() if not a.detail]

    @classmethod
    def expected(cls, name: str, state: str) -> tuple[int | None, str]:
        """(status, why) when the table's answer is overridden, else (None, '')."""
        return cls.outcomes.get((name, state), (None, ''))

    @classmethod
    def acting_state(cls, name: str) -> str | None:
        """The first state (in the workflow's order) from which the action succeeds: where refusals are tested."""
        for state in cls.workflow().all_states:
            if state_allows(cls.actions(), name, state) and cls.expected(name, state)[0] is None:
                return state
        return None

    # ------------------------------------------------------------------------------- generation
    def pytest_generate_tests(self, metafunc):
        cls = metafunc.cls
        if 'case' not in metafunc.fixturenames or cls is None or cls.model is None:
            return
        name = metafunc.function.__name__
        cases = {
            'test_action': cls.action_cases,
            'test_missing_input': cls.missing_input_cases,
            'test_forbidden': cls.forbidden_cases,
            'test_collection_action': cls.collection_cases,
            'test_queries_do_not_grow_with_the_timeline': cls.query_cases,
        }[name]()
        metafunc.parametrize('case', [pytest.param(case, id=case.id) for case in cases])

    @classmethod
    def action_cases(cls) -> list[Scenario]:
        return [
            Scenario(channel, action.name, state)
            for channel in CHANNELS
            for action in cls.record_actions()
            for state in cls.workflow().all_states
        ]

    @classmethod
    def missing_input_cases(cls) -> list[Scenario]:
        cases = []
        for channel in CHANNELS:
            for action in cls.record_actions():
                fields = required_fields(action.form if channel == UI else action.serializer, channel)
                if fields != () and cls.acting_state(action.name) is not None:
                    cases.append(Scenario(channel, action.name))
        return cases

    @classmethod
    def forbidden_cases(cls) -> list[Scenario]:
        return [
            Scenario(channel, action.name, who=who)
            for channel in CHANNELS
            for action in cls.record_actions()
            if cls.acting_state(action.name) is not None
            for who in cls.forbidden.get(action.name, cls.forbidden.get('*', ()))
        ]

    @classmethod
    def collection_cases(cls) -> list[Scenario]:
        return [
            Scenario(channel, action.name, state)
            for channel in CHANNELS
            for action in cls.collection_actions()
            for state in cls.workflow().all_states
        ]

    @classmethod
    def query_cases(cls) -> list[Scenario]:
        return [Scenario(channel, name) for channel, name in cls.query_reads]

    # ------------------------------------------------------------------------------- what subclasses declare
    @pytest.fixture(autouse=True)
    def _people(self, db):
        self.people = self.make_people()

    @abstractmethod
    def make_people(self) -> Any:
        """The people the tests act as (an object with attributes), created once per test."""

    @abstractmethod
    def make_record(self, state: str):
        """A record in `state` with whatever the actions need there (a group with a manager, a caller...)."""

    @abstractmethod
    def actor_for(self, name: str, record, channel: str):
        """Someone who may take action `name` on `record` through `channel`."""

    @abstractmethod
    def valid_input(self, name: str, record, channel: str) -> dict[str, Any]:
        """Input the action accepts from the record's current state (form data for pages, JSON for the API)."""

    def entry_kind(self, name: str) -> str:
        """The timeline kind an action writes: a transition, unless it keeps the state."""
        moves = self.actions().get(name).transition or self.collection_transition(name)
        return TimelineKind.TRANSITION if moves else TimelineKind.FIELD_CHANGE

    @abstractmethod
    def viewer(self):
        """A staff person who reads the record's page and history."""

    @abstractmethod
    def add_timeline_entries(self, record, count: int) -> None:
        """Grow the record's history by `count` entries (comments, work notes, files by several people)."""

    def query_urls(self, record) -> dict[str, str]:
        """The reads of `query_reads` whose query count must not grow with the timeline, by name."""
        return {'page': self.detail_url(record)}

    # ------------------------------------------------------------------------------- URLs and requests
    def page_url(self, name: str, record) -> str:
        namespace = self.actions().namespace
        return reverse(f'{namespace}:{self.page_prefix}_{name}', kwargs={'number': record.number})

    def detail_url(self, record) -> str:
        return record.get_absolute_url()

    def api_url(self, name: str, record) -> str:
        return f'{self.api_base}{record.number}/{self.actions().get(name).slug}/'

    def collection_page_url(self, name: str) -> str:
        return reverse(f'{self.actions().namespace}:{name}')

    def collection_api_url(self, name: str) -> str:
        return f'{self.api_base}{self.actions().get(name).slug}/'

    def send(self, channel: str, user, url: str, data: dict[str, Any]):
        if channel == API:
            client = APIClient()
            client.force_authenticate(user)
            return client.post(url, data, format='json')
        client = Client()
        client.force_login(user)
        return client.post(url, data)

    def post(self, channel: str, name: str, record, user, data: dict[str, Any]):
        url = self.page_url(name, record) if channel == UI else self.api_url(name, record)
        return self.send(channel, user, url, data)

    # ------------------------------------------------------------------------------- reading the record
    def reload(self, pk):
        return self.model._base_manager.get(pk=pk)

    def timeline(self, record):
        return TimelineEntry.objects.for_object(record).order_by('id')

    def observe(self, record) -> Outcome:
        record = self.reload(record.pk)
        entries = self.timeline(record)
        last = entries.last()
        return Outcome(
            pk=record.pk,
            snapshot=audit.snapshot(record),
            state=self.workflow().state_of(record),
            last_entry_id=last.pk if last else 0,
            entries=entries.count(),
        )

    @staticmethod
    def describe(response) -> str:
        body = getattr(response, 'data', None)
        if body is None:
            forms = [f.errors.as_json() for f in forms_in(response) if f.errors] if response.context else []
            body = f'form errors: {forms}' if forms else response.content.decode(errors='replace')[:1500]
        return f'HTTP {response.status_code}: {body}'

    def assert_status(self, response, expected: int, case: Scenario):
        assert response.status_code == expected, f'{case.id}: expected HTTP {expected}, got {self.describe(response)}'

    def assert_unchanged(self, before: Outcome, case: Scenario):
        after = self.observe(self.reload(before.pk))
        assert after.state == before.state, f'{case.id}: the state moved from {before.state} to {after.state}'
        changed = {k for k in after.snapshot if after.snapshot[k] != before.snapshot.get(k)}
        assert not changed, f'{case.id}: a refused request changed {sorted(changed)}'
        assert after.entries == before.entries, f'{case.id}: a refused request wrote to the timeline'

    def assert_recorded(self, before: Outcome, case: Scenario, user, target: str):
        """The action happened and the timeline says exactly what changed, who did it and through which channel."""
        record = self.reload(before.pk)
        after = self.observe(record)
        assert after.state == target, f'{case.id}: expected state {target}, the record is {after.state}'
        kind = self.entry_kind(case.action)
        new = list(self.timeline(record).filter(pk__gt=before.last_entry_id, kind=kind))
        assert len(new) == 1, f'{case.id}: expected one new "{kind}" timeline entry, found {len(new)}'
        entry = new[0]
        assert entry.actor_id == user.pk, f'{case.id}: the entry names {entry.actor} instead of {user}'
        assert entry.channel == case.channel, f'{case.id}: the entry says channel {entry.channel}'
        action = self.actions().get(case.action)
        transition = action.transition or self.collection_transition(case.action)
        if transition:
            data = {k: entry.data.get(k) for k in ('action', 'from', 'to')}
            assert data == {'action': transition, 'from': before.state, 'to': target}, f'{case.id}: data {data}'
        state_field = self.workflow().field
        listed = {c['field']: c for c in entry.changes}
        assert state_field not in listed, f'{case.id}: the state change belongs in data.from/to, not in changes'
        for name, change in listed.items():
            if name not in after.snapshot:
                continue  # a field the snapshot does not keep (the number): checked by the action's own tests
            assert (change['before'], change['after']) == (before.snapshot[name], after.snapshot[name]), (
                f'{case.id}: the entry says {name} went from {change["before"]!r} to {change["after"]!r}; '
                f'the record went from {before.snapshot[name]!r} to {after.snapshot[name]!r}'
            )
        changed = {k for k in after.snapshot if k != state_field and after.snapshot[k] != before.snapshot.get(k)}
        unlisted = changed - set(listed)
        assert not unlisted, f'{case.id}: fields changed without a word in the timeline: {sorted(unlisted)}'
        missing = self.expected_changes.get(case.action, set()) - set(listed)
        assert not missing, f'{case.id}: the entry does not list {sorted(missing)}'

    def collection_transition(self, name: str) -> str:
        """The transition a collection action runs on the record it picks (accept-next runs accept)."""
        return ''

    # ------------------------------------------------------------------------------- the generated tests
    def test_action(self, case: Scenario):
        record = self.make_record(case.state)
        assert self.workflow().state_of(record) == case.state, f'make_record({case.state!r}) built another state'
        user = self.actor_for(case.action, record, case.channel)
        data = self.valid_input(case.action, record, case.channel)
        before = self.observe(record)
        response = self.post(case.channel, case.action, record, user, data)
        status, why = self.expected(case.action, case.state)
        if status is not None:
            assert response.status_code == status, f'{case.id} ({why}): expected {status}, {self.describe(response)}'
            self.assert_unchanged(before, case)
        elif state_allows(self.actions(), case.action, case.state):
            success = self.page_success_status if case.channel == UI else self.api_success_status
            self.assert_status(response, success, case)
            target = target_of(self.actions(), case.action, case.state)
            if case.channel == API and 'state' in (response.data or {}):
                assert response.data['state'] == target, f'{case.id}: the API answered state {response.data["state"]}'
            self.assert_recorded(before, case, user, target)
        else:
            self.assert_status(response, 409, case)
            if case.channel == API:
                assert response.data.get('code') == 'invalid_transition', f'{case.id}: {response.data}'
            self.assert_unchanged(before, case)

    def test_missing_input(self, case: Scenario):
        action = self.actions().get(case.action)
        fields = required_fields(action.form if case.channel == UI else action.serializer, case.channel)
        if fields is None:  # the declared input does not import: show why
            import_string(action.form if case.channel == UI else action.serializer)
        record = self.make_record(self.acting_state(case.action))
        user = self.actor_for(case.action, record, case.channel)
        before = self.observe(record)
        response = self.post(case.channel, case.action, record, user, {})
        self.assert_status(response, 400, case)
        if case.channel == API:
            named = set(response.data)
        else:
            named = {name for form in forms_in(response) for name in form.errors}
        missing = set(fields) - named
        assert not missing, f'{case.id}: the 400 does not name {sorted(missing)} ({self.describe(response)})'
        self.assert_unchanged(before, case)

    def test_forbidden(self, case: Scenario):
        record = self.make_record(self.acting_state(case.action))
        user = getattr(self.people, case.who)
        data = self.valid_input(case.action, record, case.channel)
        before = self.observe(record)
        response = self.post(case.channel, case.action, record, user, data)
        self.assert_status(response, self.forbidden_status.get((case.channel, case.who), 403), case)
        self.assert_unchanged(before, case)

    def test_collection_action(self, case: Scenario):
        record = self.make_record(case.state)
        user = self.actor_for(case.action, record, case.channel)
        before = self.observe(record)
        url = self.collection_page_url(case.action) if case.channel == UI else self.collection_api_url(case.action)
        response = self.send(case.channel, user, url, {})
        transition = self.workflow().get(self.collection_transition(case.action))
        if case.state in transition.sources:
            success = self.page_success_status if case.channel == UI else self.api_success_status
            self.assert_status(response, success, case)
            self.assert_recorded(before, case, user, transition.target)
        else:
            self.assert_status(response, 302 if case.channel == UI else 204, case)
            self.assert_unchanged(before, case)

    def test_queries_do_not_grow_with_the_timeline(self, case: Scenario):
        record = self.make_record(self.workflow().all_states[0])
        few, many = self.timeline_sizes
        url = self.query_urls(record)[case.action]
        client = APIClient() if case.channel == API else Client()
        client.force_login(self.viewer())

        def count() -> int:
            # Warm per-user caches and what a first look changes (a record's attention marker is cleared when
            # someone working it opens it), so both counts compare history only.
            client.get(url)
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(url)
            assert response.status_code == 200, f'{case.id}: {self.describe(response)}'
            return len(ctx.captured_queries)

        self.add_timeline_entries(record, few)
        small = count()
        self.add_timeline_entries(record, many - few)
        large = count()
        assert small == large, f'{case.id}: {small} queries with {few} entries, {large} with {many}'
