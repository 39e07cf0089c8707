"""Builders for status-page test data: public services, major incidents with public updates, subscribers."""

from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from cmdb import services as cmdb_services
from cmdb.models import Service
from itsm.audit import Actor
from major_incidents.choices import UpdateAudience, UpdateStatus
from statuspage import services
from statuspage.models import Subscriber
from tests.cmdb.factories import make_service
from tests.major_incidents.factories import UpdateFactory, make_major, make_public_service

SYSTEM = Actor.system()
_counter = itertools.count(1)

__all__ = [
    'make_major',
    'make_private_service',
    'make_public_service',
    'make_subscriber',
    'post_public',
    'restored_major',
    'service_of',
]


def service_of(ci) -> Service:
    return Service.objects.select_related('ci').get(pk=ci.pk)


def make_private_service(name: str | None = None, **fields):
    """A service that is not on the status page; returns its CI."""
    return make_service(name or f'Internal service {next(_counter)}', **fields).ci


def set_service_status(ci, status: str) -> Service:
    return cmdb_services.service_update(service=service_of(ci), actor=SYSTEM, status=status)


def post_public(major, body: str = 'We are investigating.', status: str = UpdateStatus.INVESTIGATING, **fields):
    return UpdateFactory(major_incident=major, audience=UpdateAudience.PUBLIC, status=status, body=body, **fields)


def restored_major(*, started: dt.datetime, restored: dt.datetime, **fields):
    """A major incident whose outage ran from `started` to `restored` (declared then, restored through the service,
    then its restore time set to the past moment the test needs)."""
    from major_incidents.models import MajorIncident

    major = make_major(state='review', outage_started_at=started, opened_at=started, **fields)
    MajorIncident.objects.filter(pk=major.pk).update(restored_at=restored)
    return MajorIncident.objects.get(pk=major.pk)


def make_subscriber(email: str | None = None, *, confirmed: bool = True, services_=()) -> Subscriber:
    subscriber = services.subscribe(email=email or f'reader{next(_counter)}@example.org', services=services_)
    if confirmed:
        subscriber = services.confirm(subscriber=subscriber)
    return Subscriber.objects.get(pk=subscriber.pk)


def hours_ago(hours: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(hours=hours)
