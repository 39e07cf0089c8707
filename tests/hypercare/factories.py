"""Builders for hypercare tests: services, periods and rules made through the services."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.utils import timezone

from hypercare import services
from hypercare.models import HypercarePeriod, HypercareRule
from itsm.audit import Actor
from tests.cmdb.factories import make_service

SYSTEM = Actor.system()
_counter = itertools.count(1)


def service_ci(**fields: Any):
    """A service's CI (what periods, tickets and SLAs point at)."""
    return make_service(**fields).ci


def make_period(service=None, *, days: int = 14, actor: Actor = SYSTEM, **fields: Any) -> HypercarePeriod:
    """A period of `service` (a new one unless given) starting now for `days` days unless told."""
    fields.setdefault('ends_at', (fields.get('starts_at') or timezone.now()) + dt.timedelta(days=days))
    fields.setdefault('reason', 'Launch of the new release')
    return services.period_start(actor=actor, service=service or service_ci(), **fields)


def make_rule(**fields: Any) -> HypercareRule:
    from itsm.services import record_create

    fields.setdefault('name', f'Hypercare rule {next(_counter)}')
    fields.setdefault('change_type', 'normal')
    fields.setdefault('duration_days', 14)
    return record_create(model=HypercareRule, fields=fields, actor=SYSTEM)
