"""Every write of monitoring: sources and their tokens, and alerts turned into incidents.

An alert is keyed by (source, dedup key). While it is open (triggered or acknowledged) repeats are counted on it; an
acknowledgement assigns its incident to the source's group and notes it; a resolve completes the incident when nobody
has worked it, or leaves a work note for whoever has. Firing again within the source's flap window after resolving
reopens the same incident; later, or once the incident is closed, a new incident is opened.

Incidents are written through `incidents.services` with the source's integration user as the caller and the actor
(channel "monitoring"); the moves the workflow reserves for the desk (assigning, completing an unowned ticket) run as
the monitoring channel's system actor, so they pass the same workflow checks as any other.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from cmdb.models import ConfigurationItem
from incidents import services as incident_services
from incidents.actions import may_accept
from incidents.choices import TicketChannel, TicketState
from incidents.models import Ticket
from itsm import audit
from itsm.audit import Actor
from itsm.choices import Channel, Role, TicketKind, TimelineKind
from itsm.models import TimelineEntry, User
from itsm.services import record_delete, record_update, user_create

from .choices import FALLBACK_SEVERITY, OPEN_STATUSES, AlertStatus, DedupBy, EventAction, SourceKind
from .models import Alert, AlertSource, token_hash

SYSTEM = Actor.system(channel=Channel.MONITORING)
TOKEN_PREFIX_LENGTH = 8
SHORT_DESCRIPTION_MAX = 200
KEY_MAX_LENGTH = 255
# Labels of an Alertmanager alert naming the configuration item, tried in this order (`instance` also without
# its port: "db1:9100" matches the CI "db1").
CI_LABELS = ('ci', 'instance', 'host', 'hostname', 'service', 'job')


# ------------------------------------------------------------------------------------------------ sources
def new_token() -> str:
    return secrets.token_hex(16)  # 32 characters, like a PagerDuty routing key


def source_for_token(token: str, kind: str) -> AlertSource | None:
    """The source a token belongs to (of the given kind), or None."""
    if not token:
        return None
    return (
        AlertSource.objects.select_related('support_group', 'service', 'integration_user')
        .filter(token_hash=token_hash(token), kind=kind)
        .first()
    )


def _integration_user(source_name: str, actor: Actor) -> User:
    base = f'monitoring-{slugify(source_name)[:40] or "source"}'
    username, n = base, 1
    while User.objects.filter(username=username).exists():
        n += 1
        username = f'{base}-{n}'
    return user_create(
        username=username, actor=actor, roles=[Role.INTEGRATION], first_name=source_name[:150], last_name='(monitoring)'
    )


def _record_created(source: AlertSource, actor: Actor) -> None:
    audit.record_created(source, actor=actor, public=False)


@transaction.atomic
def source_create(*, actor: Actor, name: str, **fields: Any) -> AlertSource:
    """Create a source with a new token. The token is on the returned object (`source.token`) and nowhere else:
    show it once."""
    fields.setdefault('flap_window_minutes', settings.MONITORING_FLAP_WINDOW_MINUTES)
    token = new_token()
    source = AlertSource(name=name, token_hash=token_hash(token), token_prefix=token[:TOKEN_PREFIX_LENGTH], **fields)
    source.full_clean(exclude=['integration_user'])
    if source.integration_user is None:
        source.integration_user = _integration_user(name, actor)
    elif not source.integration_user.has_role(Role.INTEGRATION):
        raise ValidationError({'integration_user': f'{source.integration_user} does not hold the integration role.'})
    source.save()
    _record_created(source, actor)
    source.token = token
    return source


@transaction.atomic
def source_update(*, actor: Actor, obj: AlertSource, **fields: Any) -> AlertSource:
    user = fields.get('integration_user')
    if user is not None and not user.has_role(Role.INTEGRATION):
        raise ValidationError({'integration_user': f'{user} does not hold the integration role.'})
    if 'integration_user' in fields and user is None:
        fields.pop('integration_user')  # a source always keeps a caller for its incidents
    return record_update(obj=obj, fields=fields, actor=actor)


@transaction.atomic
def source_rotate_token(*, actor: Actor, obj: AlertSource) -> AlertSource:
    """Give the source a new token (the old one stops working at once); returned once on `source.token`."""
    source = AlertSource.objects.select_for_update().get(pk=obj.pk)
    token = new_token()
    old_prefix = source.token_prefix
    source.token_hash, source.token_prefix = token_hash(token), token[:TOKEN_PREFIX_LENGTH]
    source.save(update_fields=['token_hash', 'token_prefix', 'updated_at'])
    audit.record(
        source,
        actor=actor,
        kind=TimelineKind.FIELD_CHANGE,
        message='Token rotated: the previous token no longer works.',
        changes=[
            {'field': 'token_prefix', 'label': 'token prefix', 'before': old_prefix, 'after': source.token_prefix}
        ],
    )
    source.token = token
    return source


@transaction.atomic
def source_delete(*, actor: Actor, obj: AlertSource) -> None:
    record_delete(obj=obj, actor=actor)


# ------------------------------------------------------------------------------------------------ alerts
@dataclass
class Outcome:
    """What one event did: `action` is opened, repeated, reopened, acknowledged, resolved or ignored."""

    dedup_key: str
    action: str
    alert: Alert | None = None
    incident: Ticket | None = None
    message: str = ''

    def as_dict(self) -> dict[str, Any]:
        return {
            'dedup_key': self.dedup_key,
            'action': self.action,
            'alert': self.alert.pk if self.alert else None,
            'incident': self.incident.number if self.incident else None,
            'message': self.message,
        }


def source_actor(source: AlertSource) -> Actor:
    return Actor(user=source.integration_user, channel=Channel.MONITORING)


def impact_urgency(source: AlertSource, severity: str) -> tuple[str, str]:
    cells = source.severity_map or {}
    cell = cells.get((severity or '').lower()) or cells.get(FALLBACK_SEVERITY) or {}
    return cell.get('impact') or 'low', cell.get('urgency') or 'normal'


def match_ci(names: list[str]) -> ConfigurationItem | None:
    """The first of `names` that is a CI's name (case-insensitive), in the order given."""
    names = [n.strip() for n in names if n and n.strip()]
    if not names:
        return None
    query = Q()
    for name in names:
        query |= Q(name__iexact=name)
    found = list(ConfigurationItem.objects.filter(query).order_by('pk')[:50])
    for name in names:
        for ci in found:
            if ci.name.casefold() == name.casefold():
                return ci
    return None


def _note(ticket: Ticket, actor: Actor, text: str) -> None:
    """A work note from the monitoring (the integration may not write notes through the desk's comment rules)."""
    audit.record(ticket, actor=actor, kind=TimelineKind.WORK_NOTE, message=text, public=False)


def worked_by_people(ticket: Ticket, source: AlertSource) -> bool:
    """Whether anyone has worked the ticket: an owner, a hold, or a timeline entry by a person other than the
    source's integration user."""
    if ticket.assignee_id is not None or ticket.state == TicketState.PENDING:
        return True
    return (
        TimelineEntry.objects.for_object(ticket)
        .filter(actor__isnull=False)
        .exclude(actor_id=source.integration_user_id)
        .exists()
    )


def _describe(summary: str, description: str, details: dict, links: list[str]) -> str:
    lines = [description.strip()] if description and description.strip() else []
    lines += [f'{key}: {value}' for key, value in sorted(details.items()) if not isinstance(value, dict | list)]
    lines += [link for link in links if link]
    return '\n'.join(lines) or summary


def _open_incident(
    source: AlertSource, *, summary: str, description: str, severity: str, ci: ConfigurationItem | None
) -> Ticket:
    impact, urgency = impact_urgency(source, severity)
    actor = source_actor(source)
    ticket = incident_services.ticket_create(
        actor=actor,
        kind=TicketKind.INCIDENT,
        short_description=(summary or 'Monitoring alert')[:SHORT_DESCRIPTION_MAX],
        description=description,
        caller=source.integration_user,
        channel=TicketChannel.MONITORING,
        impact=impact,
        urgency=urgency,
        service=source.service,
        ci=ci,
        route=source.support_group is None,
    )
    if source.support_group is not None:
        ticket = incident_services.ticket_assign(
            ticket=ticket,
            actor=SYSTEM,
            group=source.support_group,
            reason=f'Default group of monitoring source {source}',
        )
    return ticket


@transaction.atomic
def alert_trigger(
    *,
    source: AlertSource,
    dedup_key: str,
    summary: str,
    severity: str = '',
    description: str = '',
    details: dict | None = None,
    ci_names: list[str] | None = None,
    links: list[str] | None = None,
    at: dt.datetime | None = None,
) -> Outcome:
    """A problem is (still) there. Counts a repeat on the open alert, reopens a recently resolved one (flapping) or
    opens a new alert and incident."""
    now = at or timezone.now()
    details = details or {}
    summary = (summary or '')[:500]
    alert = Alert.objects.select_for_update(of=('self',)).filter(
        source=source, dedup_key=dedup_key, status__in=OPEN_STATUSES
    )
    alert = alert.select_related('incident').first()
    if alert is not None:
        return _repeat(alert, summary=summary, details=details, now=now)

    window = dt.timedelta(minutes=source.flap_window_minutes)
    recent = (
        Alert.objects.select_for_update(of=('self',))
        .filter(source=source, dedup_key=dedup_key, status=AlertStatus.RESOLVED, resolved_at__gte=now - window)
        .order_by('-resolved_at', '-pk')
        .first()
    )
    if recent is not None:
        try:
            with transaction.atomic():
                return _reopen(source, recent, summary=summary, details=details, now=now)
        except IntegrityError:
            # Its incident is closed (`_NotReopenable`: a new one is opened), or a parallel trigger opened the
            # key meanwhile (counted on it below).
            pass

    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                source=source,
                dedup_key=dedup_key,
                severity=(severity or '')[:40],
                summary=summary,
                details=details,
                first_received_at=now,
                last_received_at=now,
            )
    except IntegrityError:
        # A parallel trigger inserted the open alert first; its transaction has committed by now.
        alert = (
            Alert.objects.select_for_update(of=('self',))
            .select_related('incident')
            .get(source=source, dedup_key=dedup_key, status__in=OPEN_STATUSES)
        )
        return _repeat(alert, summary=summary, details=details, now=now)
    ci = match_ci(ci_names or [])
    text = _describe(summary, description, details, links or [])
    ticket = _open_incident(source, summary=summary, description=text, severity=severity, ci=ci)
    alert.incident = ticket
    alert.save(update_fields=['incident'])
    return Outcome(dedup_key, 'opened', alert, ticket, f'{ticket.number} opened')


def _repeat(alert: Alert, *, summary: str, details: dict, now: dt.datetime) -> Outcome:
    alert.event_count += 1
    alert.last_received_at = max(now, alert.last_received_at)
    alert.summary = summary or alert.summary
    alert.details = details or alert.details
    alert.save(update_fields=['event_count', 'last_received_at', 'summary', 'details'])
    number = alert.incident.number if alert.incident else ''
    return Outcome(alert.dedup_key, 'repeated', alert, alert.incident, f'counted on {number} ({alert.event_count})')


def _reopen(source: AlertSource, alert: Alert, *, summary: str, details: dict, now: dt.datetime) -> Outcome:
    ticket = alert.incident
    if ticket is not None:
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket is None or ticket.state == TicketState.CLOSED:
        raise _NotReopenable
    since = max(0, int((now - alert.resolved_at).total_seconds() // 60))
    alert.status = AlertStatus.TRIGGERED
    alert.flap_count += 1
    alert.event_count += 1
    alert.resolved_at = None
    alert.acknowledged_at = None
    alert.last_received_at = now
    alert.summary = summary or alert.summary
    alert.details = details or alert.details
    alert.save()
    reason = (
        f'Monitoring: the alert fired again {since} min after resolving, within the flap window of '
        f'{source.flap_window_minutes} min (flap {alert.flap_count}).'
    )
    if ticket.state == TicketState.COMPLETED:
        ticket = incident_services.ticket_reject(ticket=ticket, actor=source_actor(source), reason=reason)
        return Outcome(alert.dedup_key, 'reopened', alert, ticket, f'{ticket.number} reopened (flapping)')
    _note(ticket, source_actor(source), reason)
    return Outcome(alert.dedup_key, 'reopened', alert, ticket, f'{ticket.number} is still open: noted')


class _NotReopenable(IntegrityError):
    """The recent alert's incident is closed (or gone): a new incident is opened instead."""


@transaction.atomic
def alert_acknowledge(*, source: AlertSource, dedup_key: str, at: dt.datetime | None = None) -> Outcome:
    """Someone is on it in the monitoring. An incident assigned to a person is accepted for that person (the
    assignee the desk named is who acknowledges in the monitoring tool); one assigned to nobody goes to the
    source's group if it is still new, to be accepted by a member (accepting makes a person the owner, and the
    integration is nobody's stand-in). Either way the incident gets a work note."""
    now = at or timezone.now()
    alert = (
        Alert.objects.select_for_update(of=('self',))
        .select_related('incident')
        .filter(source=source, dedup_key=dedup_key, status__in=OPEN_STATUSES)
        .first()
    )
    if alert is None:
        return Outcome(dedup_key, 'ignored', message='no open alert with this key')
    if alert.status == AlertStatus.ACKNOWLEDGED:
        return Outcome(dedup_key, 'acknowledged', alert, alert.incident, 'already acknowledged')
    alert.status, alert.acknowledged_at, alert.last_received_at = AlertStatus.ACKNOWLEDGED, now, now
    alert.save(update_fields=['status', 'acknowledged_at', 'last_received_at'])
    ticket = alert.incident
    if ticket is not None and ticket.state in (TicketState.NEW, TicketState.ASSIGNED, TicketState.ACCEPTED):
        if ticket.state == TicketState.NEW and source.support_group is not None:
            ticket = incident_services.ticket_assign(
                ticket=ticket, actor=SYSTEM, group=source.support_group, reason='Acknowledged in monitoring'
            )
        if (
            ticket.state == TicketState.ASSIGNED
            and ticket.assignee is not None
            and may_accept(ticket, ticket.assignee) is None
        ):
            ticket = incident_services.ticket_accept(
                ticket=ticket, actor=Actor(user=ticket.assignee, channel=Channel.MONITORING)
            )
        _note(ticket, source_actor(source), f'Monitoring: alert acknowledged in {source}.')
    return Outcome(dedup_key, 'acknowledged', alert, ticket, 'acknowledged')


@transaction.atomic
def alert_resolve(*, source: AlertSource, dedup_key: str, at: dt.datetime | None = None) -> Outcome:
    """The problem is gone. An incident nobody has worked is completed; one somebody works gets a work note."""
    now = at or timezone.now()
    alert = (
        Alert.objects.select_for_update(of=('self',))
        .select_related('incident')
        .filter(source=source, dedup_key=dedup_key, status__in=OPEN_STATUSES)
        .first()
    )
    if alert is None:
        return Outcome(dedup_key, 'ignored', message='no open alert with this key')
    alert.status, alert.resolved_at = AlertStatus.RESOLVED, timezone.now()
    alert.last_received_at = max(now, alert.last_received_at)
    alert.save(update_fields=['status', 'resolved_at', 'last_received_at'])
    ticket = alert.incident
    if ticket is None or ticket.state in (TicketState.COMPLETED, TicketState.CLOSED):
        return Outcome(dedup_key, 'resolved', alert, ticket, 'resolved')
    if worked_by_people(ticket, source):
        _note(ticket, source_actor(source), f'Monitoring reports resolved ({source}).')
        return Outcome(dedup_key, 'resolved', alert, ticket, f'{ticket.number} is being worked: noted')
    ticket = incident_services.ticket_complete_unworked(
        ticket=ticket,
        actor=SYSTEM,
        resolution_code=settings.MONITORING_RESOLUTION_CODE,
        resolution_notes=f'Monitoring reports resolved ({source}); nobody had worked the incident.',
    )
    return Outcome(dedup_key, 'resolved', alert, ticket, f'{ticket.number} completed')


# ------------------------------------------------------------------------------------------------ payloads
PORT = re.compile(r':\d+$')


def group_dedup_key(group_key: str) -> str:
    """A notification group's key as an alert key: itself, or its SHA-256 when longer than a key may be."""
    if len(group_key) <= KEY_MAX_LENGTH:
        return group_key
    return f'sha256:{hashlib.sha256(group_key.encode()).hexdigest()}'


def ci_names_of(labels: dict) -> list[str]:
    names = []
    for key in CI_LABELS:
        value = str(labels.get(key) or '').strip()
        if value:
            names.append(value)
            if key == 'instance' and PORT.search(value):
                names.append(PORT.sub('', value))
    return names


@transaction.atomic
def alertmanager_receive(*, source: AlertSource, payload: dict) -> list[Outcome]:
    """Apply a validated Alertmanager webhook (version 4) payload: each alert, firing or resolved, in order.

    Dedup key: the alert's fingerprint (the default: each alert of a group is its own incident, so one service
    recovering does not resolve its neighbours), or the notification's groupKey for sources set to group (one
    incident per group; it resolves when the notification says the whole group is resolved)."""
    outcomes = []
    if source.dedup_by == DedupBy.GROUP_KEY:
        alerts = payload['alerts']
        common = payload.get('commonLabels') or {}
        annotations = payload.get('commonAnnotations') or {}
        first = alerts[0]
        labels = common or first.get('labels') or {}
        key = group_dedup_key(payload['groupKey'])
        if payload['status'] == 'resolved':
            outcomes.append(alert_resolve(source=source, dedup_key=key))
        else:
            firing = [a for a in alerts if a['status'] == 'firing'] or alerts
            summary = annotations.get('summary') or firing[0].get('annotations', {}).get('summary') or ''
            outcomes.append(
                alert_trigger(
                    source=source,
                    dedup_key=key,
                    summary=summary or _default_summary(labels),
                    severity=str(labels.get('severity', '')),
                    description=annotations.get('description', ''),
                    details={'group_labels': payload.get('groupLabels') or {}, 'alerts': len(firing), **labels},
                    ci_names=ci_names_of(labels),
                    links=[payload.get('externalURL', '')],
                )
            )
        return outcomes
    for alert in payload['alerts']:
        labels = alert.get('labels') or {}
        annotations = alert.get('annotations') or {}
        key = alert['fingerprint']
        if alert['status'] == 'resolved':
            outcomes.append(alert_resolve(source=source, dedup_key=key))
            continue
        outcomes.append(
            alert_trigger(
                source=source,
                dedup_key=key,
                summary=annotations.get('summary') or _default_summary(labels),
                severity=str(labels.get('severity', '')),
                description=annotations.get('description', ''),
                details={**labels, **({'starts_at': alert['startsAt'].isoformat()} if alert.get('startsAt') else {})},
                ci_names=ci_names_of(labels),
                links=[alert.get('generatorURL', '')],
            )
        )
    return outcomes


def _default_summary(labels: dict) -> str:
    name = labels.get('alertname') or 'Alert'
    where = labels.get('instance') or labels.get('job') or ''
    return f'{name} on {where}' if where else str(name)


@transaction.atomic
def events_receive(*, source: AlertSource, event: dict) -> Outcome:
    """Apply one validated events-API event (trigger, acknowledge or resolve). A trigger without a dedup key gets
    a new one, returned so the sender can acknowledge and resolve it later."""
    action = event['event_action']
    dedup_key = event.get('dedup_key') or ''
    if action == EventAction.TRIGGER:
        payload = event['payload']
        dedup_key = dedup_key or secrets.token_hex(16)
        details = payload.get('custom_details')
        if not isinstance(details, dict):
            details = {'details': details} if details not in (None, '') else {}
        for key in ('source', 'component', 'group', 'class'):
            if payload.get(key):
                details.setdefault(key, payload[key])
        links = [event.get('client_url') or '']
        return alert_trigger(
            source=source,
            dedup_key=dedup_key,
            summary=payload['summary'],
            severity=payload['severity'],
            details=details,
            ci_names=[payload.get('component') or '', payload.get('source') or ''],
            links=links,
        )
    if action == EventAction.ACKNOWLEDGE:
        return alert_acknowledge(source=source, dedup_key=dedup_key)
    return alert_resolve(source=source, dedup_key=dedup_key)


def describe_kind(source: AlertSource) -> str:
    return SourceKind(source.kind).label
