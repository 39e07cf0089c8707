"""Lifecycles as data: each process app declares its states, transitions and actions once.

A `Workflow` holds a record's transition table and says what its states mean to the rest of the desk: which are
`paused` (clocks stop counting by default), `finished` (the work is done: resolution targets are met), `final`
(nothing may change any more), `triage` (no group holds the record yet) and `awaiting_acceptance` (a group holds
it, nobody has taken it). The SLA engine, the queues and the generic pages read these instead of state names.

An `ActionSet` declares what people can do to a record: each `Action` names its transition (if it moves the
state), the service that performs it, its input (a form for pages, a serializer for the API) and one guard that
says who may do it now. Services call `check` (or `run`, which checks and moves), pages list `available` actions
and the API exposes one endpoint per action: all three ask the same guard.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.module_loading import import_string

from . import audit, hooks
from .choices import TimelineKind
from .errors import ApplicationError, InvalidTransition


@dataclass(frozen=True)
class Transition:
    """An action that moves a record from one of `sources` to `target`.

    `requires` names fields that must hold a value once the action's changes are applied (a reason, a group...).
    """

    name: str
    label: str
    sources: tuple[str, ...]
    target: str
    requires: tuple[str, ...] = ()


class Workflow:
    """Runs a model's transition table: checks the move, applies its changes, saves, records it, calls the hooks."""

    def __init__(
        self,
        *,
        transitions: Iterable[Transition],
        field: str = 'state',
        states: type[models.TextChoices] | None = None,
        triage: Iterable[str] = (),
        awaiting_acceptance: Iterable[str] = (),
        paused: Iterable[str] = (),
        finished: Iterable[str] = (),
        final: Iterable[str] = (),
    ):
        self.field = field
        self.transitions = {t.name: t for t in transitions}
        self.states = states
        values = list(states.values) if states else sorted({s for t in self for s in (*t.sources, t.target)})
        self.all_states = tuple(values)
        self.triage_states = tuple(triage)
        self.awaiting_acceptance_states = tuple(awaiting_acceptance)
        self.paused_states = tuple(paused)
        self.finished_states = tuple(finished)
        self.final_states = tuple(final)
        # Open: still to be worked on (queues, backlogs). Running: open and not paused by default.
        self.open_states = tuple(s for s in values if s not in self.finished_states)
        self.running_states = tuple(s for s in self.open_states if s not in self.paused_states)

    def __iter__(self):
        return iter(self.transitions.values())

    def get(self, name: str) -> Transition:
        try:
            return self.transitions[name]
        except KeyError:
            raise InvalidTransition(f'Unknown action "{name}".') from None

    def state_of(self, obj: models.Model) -> str:
        return getattr(obj, self.field)

    def state_label(self, obj: models.Model, state: str | None = None) -> str:
        state = self.state_of(obj) if state is None else state
        return str(dict(obj._meta.get_field(self.field).choices or ()).get(state, state))

    def allowed(self, obj: models.Model) -> list[Transition]:
        """The transitions the record's current state allows, in declaration order."""
        state = self.state_of(obj)
        return [t for t in self.transitions.values() if state in t.sources]

    def refusal(self, obj: models.Model, name: str) -> InvalidTransition | None:
        transition = self.get(name)
        state = self.state_of(obj)
        if state in transition.sources:
            return None
        return InvalidTransition(
            f'Cannot {transition.label.lower()} {obj}: it is {self.state_label(obj)}.',
            extra={'state': state, 'action': name},
        )

    def check(self, obj: models.Model, name: str) -> Transition:
        error = self.refusal(obj, name)
        if error is not None:
            raise error
        return self.get(name)

    def run(
        self,
        obj: models.Model,
        name: str,
        *,
        actor: audit.Actor,
        changes: dict[str, Any] | None = None,
        message: str = '',
        data: dict[str, Any] | None = None,
        public: bool = True,
        notify: bool = True,
    ):
        """Apply action `name` to `obj` (already locked by the caller when races matter), save it, record it and call
        the `transitioned` hooks.

        Raises InvalidTransition (409) for a move the current state does not allow and ValidationError (400)
        naming each required field that is missing.
        """
        move = self.apply(obj, name, changes=changes)
        obj.save()
        return self.record(move, actor=actor, message=message, data=data, public=public, notify=notify)

    def apply(self, obj: models.Model, name: str, *, changes: dict[str, Any] | None = None) -> Move:
        """The first half of `run`: check the move and make it on `obj` in memory. The caller saves `obj`, then
        `record`s the move. A service that opens a record and moves it at once (a new ticket routed to a group)
        applies the move before the insert, so the record is written once, as it will be seen."""
        transition = self.check(obj, name)
        before = audit.snapshot(obj)
        source = self.state_of(obj)
        for field_name, value in (changes or {}).items():
            setattr(obj, field_name, value)
        missing = {
            field_name: f'This field is required to {transition.label.lower()}.'
            for field_name in transition.requires
            if getattr(obj, field_name, None) in (None, '')
        }
        if missing:
            raise ValidationError(missing)
        setattr(obj, self.field, transition.target)
        return Move(obj=obj, name=name, source=source, target=transition.target, before=before)

    def record(
        self,
        move: Move,
        *,
        actor: audit.Actor,
        message: str = '',
        data: dict[str, Any] | None = None,
        public: bool = True,
        notify: bool = True,
    ):
        """The second half of `run`, once the moved record is saved: its timeline entry and the `transitioned`
        hooks."""
        obj = move.obj
        field_changes = [c for c in audit.diff(obj, move.before, audit.snapshot(obj)) if c['field'] != self.field]
        entry = audit.record(
            obj,
            actor=actor,
            kind=TimelineKind.TRANSITION,
            message=message,
            changes=field_changes,
            data={'action': move.name, 'from': move.source, 'to': move.target, **(data or {})},
            public=public,
        )
        hooks.emit(
            hooks.TRANSITIONED,
            obj,
            actor=actor,
            action=move.name,
            source=move.source,
            target=move.target,
            notify=notify,
        )
        return entry


@dataclass(frozen=True)
class Move:
    """A transition made on a record in memory (`Workflow.apply`), not yet saved and recorded."""

    obj: models.Model
    name: str
    source: str
    target: str
    before: dict[str, Any]  # the record's audited values before the move (`audit.snapshot`)


def lock(obj: models.Model) -> models.Model:
    """Re-read `obj` with a row lock held until the surrounding transaction ends."""
    return type(obj)._default_manager.select_for_update().get(pk=obj.pk)


# A guard answers "may `user` do this to `record` now?": None for yes, else the error to raise (403, 409, 400).
# `user` is None for system jobs.
Guard = Callable[[Any, Any], ApplicationError | None]


@dataclass(frozen=True)
class Action:
    """Something a person can do to a record, declared once for the service, the page and the API.

    `service`, `form` and `serializer` are dotted paths, so declarations import neither views nor services.
    `arguments` renames validated input to the service's keyword arguments where they differ. An action with no
    `transition` keeps the state; `states` then limits where it applies (empty: every state but the final ones).
    """

    name: str
    label: str
    service: str
    transition: str = ''
    guard: Guard | None = None
    states: tuple[str, ...] = ()
    form: str = 'itsm.forms.NoInputForm'
    serializer: str = ''
    arguments: dict[str, str] = field(default_factory=dict)
    permission: str = 'change'  # the model permission a page or API call needs before the guard is asked
    icon: str = ''
    done: str | Callable[[Any], str] = ''  # success message, formatted with the updated record
    one_click: bool = False  # no input: the button sends the action straight away
    primary: bool = False
    in_menu: bool = False  # listed under "More" rather than as a button
    description: str = ''
    label_for: Callable[[Any], str] | None = None  # a label that depends on the record ("Convert to case")
    detail: bool = True  # False: acts on no one record (accept-next), so pages and the API route it apart
    # Input fields whose text the record's requesters see (in the portal, in their e-mail): the form says so.
    public_fields: tuple[str, ...] = ()

    @property
    def slug(self) -> str:
        return self.name.replace('_', '-')

    def label_of(self, record) -> str:
        return self.label_for(record) if self.label_for else self.label

    def message(self, record) -> str:
        return self.done(record) if callable(self.done) else self.done.format(record=record, ticket=record)

    def service_function(self) -> Callable[..., Any]:
        return import_string(self.service)

    def form_class(self):
        return import_string(self.form)

    def serializer_class(self):
        return import_string(self.serializer) if self.serializer else None

    def service_kwargs(self, data: dict[str, Any]) -> dict[str, Any]:
        return {self.arguments.get(key, key): value for key, value in data.items()}


class ActionSet:
    """The actions of one kind of record, over its workflow."""

    def __init__(
        self, workflow: Workflow, actions: Iterable[Action], *, namespace: str = '', record_argument: str = ''
    ):
        self.workflow = workflow
        self.actions = {a.name: a for a in actions}
        self.namespace = namespace  # URL namespace of the record's pages
        # The keyword the services take the record by, where it is not the model's name (`major=`, not
        # `majorincident=`).
        self.record_argument = record_argument
        for action in self.actions.values():
            if action.transition:
                workflow.get(action.transition)  # a typo in a declaration fails at import, not in a request

    def __iter__(self):
        return iter(self.actions.values())

    def __contains__(self, name: str) -> bool:
        return name in self.actions

    def get(self, name: str) -> Action:
        try:
            return self.actions[name]
        except KeyError:
            raise InvalidTransition(f'Unknown action "{name}".') from None

    def refusal(self, record, name: str, user) -> ApplicationError | None:
        """Why `user` may not take action `name` on `record` now, or None when they may."""
        action = self.get(name)
        if action.transition:
            error = self.workflow.refusal(record, action.transition)
            if error is not None:
                return error
        else:
            state = self.workflow.state_of(record)
            applies = state in action.states if action.states else state not in self.workflow.final_states
            if not applies:
                return InvalidTransition(
                    f'Cannot {action.label.lower()} {record}: it is {self.workflow.state_label(record)}.',
                    extra={'state': state, 'action': name},
                )
        return action.guard(record, user) if action.guard else None

    def allows(self, record, name: str, user) -> bool:
        return self.refusal(record, name, user) is None

    def check(self, record, name: str, actor) -> Action:
        """Raise the refusal (403, 409 or 400) unless the actor may take the action now."""
        error = self.refusal(record, name, actor.user)
        if error is not None:
            raise error
        return self.get(name)

    def run(self, record, name: str, *, actor, **kwargs):
        """Check the action, then run its transition (see `Workflow.run` for the keyword arguments)."""
        action = self.check(record, name, actor)
        return self.workflow.run(record, action.transition, actor=actor, **kwargs)

    def apply(self, record, name: str, *, actor, changes: dict[str, Any] | None = None) -> Move:
        """Check the action, then make its transition in memory (`Workflow.apply`): the caller saves the record and
        passes the move to `workflow.record`."""
        action = self.check(record, name, actor)
        return self.workflow.apply(record, action.transition, changes=changes)

    def available(self, record, user) -> list[Action]:
        """The record actions `user` may take now, in declaration order."""
        return [a for a in self.actions.values() if a.detail and self.allows(record, a.name, user)]

    def describe(self, record) -> str:
        return self.workflow.state_label(record)
