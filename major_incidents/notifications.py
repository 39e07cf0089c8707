"""Who hears about a major incident, through the notification kit (`itsm.notify`), and the update listeners.

The recipient list (`Recipient` rows, built by `major_incidents.recipients`) hears of the declaration, of every
update posted to it, of a hand-off (who owns the fix now) and of the restored service. The owner of the cadence (the
communications lead, else the incident manager) is reminded of a missed update, in the inbox and by e-mail. The texts
are `templates/major_incidents/email/<event>.txt`. Callers of child incidents are told by their own incident's
completion message, not from here.

Other parts of the desk (the status page and its subscribers) follow posted updates through
`register_update_listener(fn)`: `fn(update)` runs inside the posting transaction, so a listener defers any sending
with `transaction.on_commit`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import models

from itsm import hooks, notify


class Event(models.TextChoices):
    DECLARED = 'declared', 'Major incident declared'
    UPDATE = 'update', 'Major incident update'
    HANDED_OFF = 'handed_off', 'Major incident handed off'
    UPDATE_OVERDUE = 'update_overdue', 'Major incident update overdue'
    RESOLVED = 'resolved', 'Service restored'


RECIPIENTS = 'major_recipients'
AUDIENCES = {
    Event.DECLARED: [RECIPIENTS],
    Event.UPDATE: [RECIPIENTS],
    Event.HANDED_OFF: [RECIPIENTS],
    Event.UPDATE_OVERDUE: [],  # the cadence owner is named in `people`
    Event.RESOLVED: [RECIPIENTS],
}


def recipient_addresses(major, **extra) -> list[str]:
    return sorted({r.email for r in major.recipients.all()})


def major_event(
    major, event: str, *, extra: dict | None = None, label: str = '', people: Iterable = (), actor=None
) -> list[str]:
    """Queue the message for `event` once the surrounding transaction commits; returns its addresses."""
    return notify.notify(
        major,
        str(event),
        AUDIENCES[Event(event)],
        label=label or Event(event).label,
        extra=extra,
        people=people,
        actor=actor,
    )


def on_created(major, *, actor, notify: bool = True, **kwargs) -> None:
    if notify:
        major_event(major, Event.DECLARED, actor=actor.user)


def on_transitioned(major, *, actor, action: str, notify: bool = True, **kwargs) -> None:
    if notify and action == 'resolve':
        major_event(major, Event.RESOLVED, actor=actor.user)


# ------------------------------------------------------------------------------------------- update listeners
UpdateListener = Callable[..., None]
_update_listeners: list[UpdateListener] = []


def register_update_listener(listener: UpdateListener) -> None:
    """Call `listener(update)` for every posted update; registering the same function twice has no effect."""
    if listener not in _update_listeners:
        _update_listeners.append(listener)


def unregister_update_listener(listener: UpdateListener) -> None:
    if listener in _update_listeners:
        _update_listeners.remove(listener)


def update_listeners() -> list[UpdateListener]:
    return list(_update_listeners)


def register() -> None:
    from .models import MajorIncident

    notify.register_audience(RECIPIENTS, recipient_addresses)
    hooks.subscribe(hooks.CREATED, on_created, model=MajorIncident)
    hooks.subscribe(hooks.TRANSITIONED, on_transitioned, model=MajorIncident)
