"""The process-record kit's hooks: explicit subscriptions instead of Django signals.

Services announce what happened to a process record (`created`, `changed`, `transitioned`); apps subscribe in their
`AppConfig.ready`, once, for the record models they care about. Subscribers run in the service's transaction, in
the order they subscribed, so a clock or a notification is never left out of a change that committed, and an error
in one rolls the whole change back.

    hooks.subscribe(hooks.CHANGED, sync_clocks, model=ProcessRecord)   # every process record
    hooks.emit(hooks.CHANGED, ticket, actor=actor)

`model` limits a subscriber to records that are instances of that class (abstract bases work); `None` means all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

CREATED = 'created'  # a record was opened; kwargs: actor, notify
CHANGED = 'changed'  # fields changed outside a transition (edits, priority, conversion); kwargs: actor
TRANSITIONED = 'transitioned'  # a workflow action ran; kwargs: actor, action, source, target, notify
COMMENTED = 'commented'  # a customer-visible comment was added; kwargs: actor, entry
NOTED = 'noted'  # an internal work note was added (never for requesters' eyes); kwargs: actor, entry
# an SLA/OLA clock crossed a warning threshold or its target (claimed once, in the sweep's or the stop's
# transaction); kwargs: actor, clock (the record's clock), announcement (the claimed event: kind 'warning' or
# 'breach', percent, crossed_at)
CLOCK_CROSSED = 'clock_crossed'
EVENTS = (CREATED, CHANGED, TRANSITIONED, COMMENTED, NOTED, CLOCK_CROSSED)


@dataclass(frozen=True)
class Subscription:
    event: str
    handler: Callable[..., Any]
    model: type | None = None

    def wants(self, record) -> bool:
        return self.model is None or isinstance(record, self.model)


_subscriptions: list[Subscription] = []


def subscribe(event: str, handler: Callable[..., Any], *, model: type | None = None) -> None:
    """Call `handler(record, **kwargs)` on `event`; subscribing the same handler twice has no effect."""
    if event not in EVENTS:
        raise ValueError(f'Unknown hook "{event}": use one of {", ".join(EVENTS)}.')
    subscription = Subscription(event, handler, model)
    if subscription not in _subscriptions:
        _subscriptions.append(subscription)


def unsubscribe(event: str, handler: Callable[..., Any], *, model: type | None = None) -> None:
    subscription = Subscription(event, handler, model)
    if subscription in _subscriptions:
        _subscriptions.remove(subscription)


def subscribers(event: str, record=None) -> list[Callable[..., Any]]:
    return [s.handler for s in _subscriptions if s.event == event and (record is None or s.wants(record))]


def emit(event: str, record, **kwargs: Any) -> None:
    """Run every subscriber of `event` that wants `record`."""
    for handler in subscribers(event, record):
        handler(record, **kwargs)
