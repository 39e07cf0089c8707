"""Lifecycles as data: each process app declares its transitions once and runs them through `Workflow.run`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from . import audit
from .choices import TimelineKind
from .errors import InvalidTransition


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
    """Runs a model's transition table: checks the move, applies its changes, saves and records it."""

    def __init__(self, *, transitions: Iterable[Transition], field: str = 'state'):
        self.field = field
        self.transitions = {t.name: t for t in transitions}

    def __iter__(self):
        return iter(self.transitions.values())

    def get(self, name: str) -> Transition:
        try:
            return self.transitions[name]
        except KeyError:
            raise InvalidTransition(f'Unknown action "{name}".') from None

    def state_of(self, obj: models.Model) -> str:
        return getattr(obj, self.field)

    def allowed(self, obj: models.Model) -> list[Transition]:
        """The actions the record's current state allows, in declaration order."""
        state = self.state_of(obj)
        return [t for t in self.transitions.values() if state in t.sources]

    def check(self, obj: models.Model, name: str) -> Transition:
        transition = self.get(name)
        state = self.state_of(obj)
        if state not in transition.sources:
            shown = dict(obj._meta.get_field(self.field).choices or ()).get(state, state)
            raise InvalidTransition(
                f'Cannot {transition.label.lower()} {obj}: it is {shown}.',
                extra={'state': state, 'action': name},
            )
        return transition

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
    ):
        """Apply action `name` to `obj` (already locked by the caller when races matter) and record it.

        Raises InvalidTransition (409) for a move the current state does not allow and ValidationError (400)
        naming each required field that is missing.
        """
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
        obj.save()
        field_changes = [c for c in audit.diff(obj, before, audit.snapshot(obj)) if c['field'] != self.field]
        return audit.record(
            obj,
            actor=actor,
            kind=TimelineKind.TRANSITION,
            message=message,
            changes=field_changes,
            data={'action': name, 'from': source, 'to': transition.target, **(data or {})},
            public=public,
        )


def lock(obj: models.Model) -> models.Model:
    """Re-read `obj` with a row lock held until the surrounding transaction ends."""
    return type(obj)._default_manager.select_for_update().get(pk=obj.pk)
