"""Factories of monitoring: sources made through the service (so they have a token and an integration user) and
alerts raised through it (so they have their incident)."""

from __future__ import annotations

import itertools
from typing import Any

from itsm.audit import Actor
from monitoring import services
from monitoring.choices import SourceKind
from monitoring.models import Alert, AlertSource

_counter = itertools.count(1)


def make_source(kind: str = SourceKind.EVENTS, **fields: Any) -> AlertSource:
    """A source; its full token is on `source.token`."""
    fields.setdefault('name', f'Source {next(_counter)}')
    return services.source_create(actor=Actor.system(), kind=kind, **fields)


def make_alert(source: AlertSource | None = None, **fields: Any) -> Alert:
    source = source or make_source()
    fields.setdefault('dedup_key', f'key-{next(_counter)}')
    fields.setdefault('summary', 'Disk almost full on db1')
    fields.setdefault('severity', 'warning')
    return services.alert_trigger(source=source, **fields).alert


def event(source: AlertSource, action: str = 'trigger', **fields: Any) -> dict:
    """An events-API body for `source` (a trigger with a payload unless told otherwise)."""
    body: dict[str, Any] = {'routing_key': source.token, 'event_action': action}
    if action == 'trigger':
        payload = {'summary': 'CPU above 95 % on web-01', 'source': 'web-01', 'severity': 'critical'}
        body['payload'] = {**payload, **fields.pop('payload', {})}
    body.update(fields)
    return body
