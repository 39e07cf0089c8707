"""The page's JSON in the shape of Atlassian Statuspage's public API v2, so existing widgets and monitors read it.

Identifiers are the desk's own, stable ones: service CI numbers for components, MIR numbers for incidents, CHG
numbers for maintenances. Only public facts are written: public updates, public services, and of a change its
title, window and public services.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from changes.choices import ChangeState
from changes.models import Change
from itsm.notify import site_url
from major_incidents.choices import ACTIVE, UpdateStatus
from major_incidents.models import MajorIncident

from . import selectors
from .selectors import Overview, ServiceState


def moment(value: dt.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def page(overview: Overview) -> dict[str, Any]:
    moments = [s.service.updated_at for s in overview.services] + [selectors.last_public_update_at()]
    moments = [m for m in moments if m is not None]
    return {
        'id': selectors.page_id(),
        'name': settings.STATUS_PAGE_TITLE,
        'url': site_url(reverse('statuspage:index')),
        'time_zone': settings.TIME_ZONE,
        'updated_at': moment(max(moments, default=None) or timezone.now()),
    }


def status(overview: Overview) -> dict[str, str]:
    return {'indicator': overview.indicator, 'description': overview.description}


def component(state: ServiceState) -> dict[str, Any]:
    service = state.service
    return {
        'id': state.number,
        'name': state.name,
        'status': state.status,
        'created_at': moment(service.created_at),
        'updated_at': moment(service.updated_at),
        'position': state.position,
        'description': state.description or None,
        'showcase': True,
        'start_date': timezone.localtime(service.created_at).date().isoformat(),
        'group_id': None,
        'page_id': selectors.page_id(),
        'group': False,
        'only_show_if_degraded': False,
    }


def _components_of(cis, states: dict[int, ServiceState]) -> list[dict[str, Any]]:
    return [component(states[ci.pk]) for ci in cis if ci.pk in states]


def incident_status(major: MajorIncident) -> str:
    """Resolved once the service is restored; until then what the latest public update said, investigating before
    the first (an update that called it resolved too early reads as monitoring while the service is still down)."""
    if major.state not in ACTIVE:
        return UpdateStatus.RESOLVED
    if not major.public_updates:
        return UpdateStatus.INVESTIGATING
    latest = major.public_updates[0].status
    return UpdateStatus.MONITORING if latest == UpdateStatus.RESOLVED else latest


def incident(major: MajorIncident, states: dict[int, ServiceState]) -> dict[str, Any]:
    updates = major.public_updates
    monitoring = [u.posted_at for u in updates if u.status == UpdateStatus.MONITORING]
    components = _components_of(major.public_services, states)
    affected = [{'code': c['id'], 'name': c['name'], 'new_status': c['status']} for c in components]
    return {
        'id': major.number,
        'name': major.title,
        'status': incident_status(major),
        'created_at': moment(major.declared_at),
        'updated_at': moment(updates[0].posted_at if updates else major.declared_at),
        'monitoring_at': moment(min(monitoring) if monitoring else None),
        'resolved_at': moment(major.restored_at if major.state not in ACTIVE else None),
        'impact': selectors.INCIDENT_IMPACT.get(major.service_impact, 'none'),
        'shortlink': site_url(reverse('statuspage:incident', args=[major.number])),
        'started_at': moment(major.outage_started_at),
        'page_id': selectors.page_id(),
        'incident_updates': [
            {
                'id': f'{major.number}-{update.pk}',
                'status': update.status,
                'body': update.body,
                'incident_id': major.number,
                'created_at': moment(update.posted_at),
                'updated_at': moment(update.posted_at),
                'display_at': moment(update.posted_at),
                'affected_components': affected,
                'deliver_notifications': True,
                'custom_tweet': None,
                'tweet_id': None,
            }
            for update in updates
        ],
        'components': components,
    }


def maintenance(change: Change, states: dict[int, ServiceState]) -> dict[str, Any]:
    components = _components_of(selectors.maintenance_services(change), states)
    finished = change.state in (ChangeState.REVIEW, ChangeState.CLOSED)
    return {
        'id': change.number,
        'name': change.short_description,
        'status': selectors.MAINTENANCE_STATUS.get(change.state, 'scheduled'),
        'created_at': moment(change.opened_at),
        'updated_at': moment(change.updated_at),
        'monitoring_at': None,
        'resolved_at': moment(change.actual_end if finished else None),
        'impact': 'maintenance',
        'shortlink': site_url(reverse('statuspage:index')),
        'started_at': moment(change.actual_start or change.planned_start),
        'page_id': selectors.page_id(),
        'incident_updates': [],
        'components': components,
        'scheduled_for': moment(change.planned_start),
        'scheduled_until': moment(change.planned_end),
    }


class Document:
    """Reads what one JSON endpoint needs (a fixed number of queries) and writes its parts."""

    def __init__(self):
        self.overview = selectors.overview()
        self.states = {state.service.pk: state for state in self.overview.services}

    def base(self) -> dict[str, Any]:
        return {'page': page(self.overview)}

    def components(self) -> list[dict[str, Any]]:
        return [component(state) for state in self.overview.services]

    def incidents(self, majors) -> list[dict[str, Any]]:
        return [incident(major, self.states) for major in majors]

    def maintenances(self, states, past_days: int = 0) -> list[dict[str, Any]]:
        changes = selectors.maintenances(states=states, past_days=past_days)
        return [maintenance(change, self.states) for change in changes]


UPCOMING = (ChangeState.SCHEDULED,)
IN_PROGRESS = (ChangeState.IMPLEMENTATION,)
LISTED = (ChangeState.SCHEDULED, ChangeState.IMPLEMENTATION, ChangeState.REVIEW, ChangeState.CLOSED)
RECENT_LIMIT = 50


def summary() -> dict[str, Any]:
    doc = Document()
    return {
        **doc.base(),
        'components': doc.components(),
        'incidents': doc.incidents(selectors.active_incidents()),
        'scheduled_maintenances': doc.maintenances(UPCOMING + IN_PROGRESS),
        'status': status(doc.overview),
    }


def status_document() -> dict[str, Any]:
    doc = Document()
    return {**doc.base(), 'status': status(doc.overview)}


def components_document() -> dict[str, Any]:
    doc = Document()
    return {**doc.base(), 'components': doc.components()}


def incidents_document(*, unresolved: bool = False) -> dict[str, Any]:
    doc = Document()
    majors = selectors.active_incidents() if unresolved else list(selectors.public_incidents()[:RECENT_LIMIT])
    return {**doc.base(), 'incidents': doc.incidents(majors)}


def maintenances_document(which: str = 'all') -> dict[str, Any]:
    doc = Document()
    if which == 'upcoming':
        items = doc.maintenances(UPCOMING)
    elif which == 'active':
        items = doc.maintenances(IN_PROGRESS)
    else:
        items = doc.maintenances(LISTED, past_days=selectors.PAST_DAYS)
    return {**doc.base(), 'scheduled_maintenances': items}
