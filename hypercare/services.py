"""Hypercare rules: start, extend and end periods (by hand or from a closed change), tag incidents, carry out
starts and ends that come due (the sweep) and send each period's daily summary.

Every start and end re-targets the service's open tickets through the SLA engine (`sla.services.record_changed`),
so their clocks pick up or drop the hypercare SLA; the engine writes the re-target entry on each ticket. Starts and
ends that come due are claimed with a conditional UPDATE, so overlapping sweeps carry each out once; a daily
summary is claimed by inserting its (period, day) row.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from cmdb.choices import CIClass
from cmdb.models import ConfigurationItem
from itsm import audit, notify, timezones
from itsm.audit import Actor
from itsm.choices import Role, TicketKind, TimelineKind
from itsm.errors import Conflict, NotAllowed

from .choices import SUCCESSFUL_OUTCOMES
from .models import HypercareIncident, HypercarePeriod, HypercareRule, HypercareSummary

__all__ = [
    'hypercare_sweep',
    'may_manage',
    'on_change_transitioned',
    'on_ticket_changed',
    'on_ticket_created',
    'period_delete',
    'period_end',
    'period_start',
    'period_update',
    'send_daily_summaries',
]

logger = logging.getLogger(__name__)

MANAGING_ROLES = (Role.ADMINISTRATOR, Role.CHANGE_MANAGER)


def _text(moment: dt.datetime) -> str:
    return timezones.format_datetime(moment, timezones.desk_zone())


def may_manage(user, service: ConfigurationItem) -> bool:
    """Change managers and administrators manage every service's hypercare; service owners their own."""
    if user is None:
        return True
    if user.is_superuser or any(user.has_role(role) for role in MANAGING_ROLES):
        return True
    return user.has_role(Role.SERVICE_OWNER) and service.owner_id == user.pk


def _check_may_manage(actor: Actor, service: ConfigurationItem) -> None:
    if not may_manage(actor.user, service):
        raise NotAllowed(f'Only its service owner or a change manager may manage hypercare of {service.name}.')


def _lock_service(service) -> ConfigurationItem:
    """The service's row locked: starts, extensions and ends of one service's periods happen one at a time."""
    service_id = service.pk if isinstance(service, ConfigurationItem) else service
    locked = ConfigurationItem.objects.select_for_update().filter(pk=service_id).first()
    if locked is None or locked.ci_class != CIClass.SERVICE:
        raise ValidationError({'service': 'Choose a service.'})
    return locked


def _overlapping(service_id: int, starts_at: dt.datetime, ends_at: dt.datetime, *, exclude: int | None = None):
    """Periods of the service whose time (to their early end, if any) meets [starts_at, ends_at)."""
    periods = HypercarePeriod.objects.filter(service_id=service_id, starts_at__lt=ends_at, ends_at__gt=starts_at)
    if exclude is not None:
        periods = periods.exclude(pk=exclude)
    return [p for p in periods if p.effective_end > starts_at]


def _refuse_overlap(service_id: int, starts_at: dt.datetime, ends_at: dt.datetime, *, exclude=None) -> None:
    clash = _overlapping(service_id, starts_at, ends_at, exclude=exclude)
    if clash:
        other = clash[0]
        raise ValidationError(
            {
                'starts_at': f'Overlaps the hypercare period of this service from {_text(other.starts_at)} '
                f'to {_text(other.effective_end)}: extend that one instead.'
            }
        )


def retarget_service(service_id: int, *, actor: Actor, now: dt.datetime | None = None) -> int:
    """Bring the clocks of the service's open tickets in line with its hypercare (or its end)."""
    from incidents.models import Ticket
    from sla.services import record_changed

    count = 0
    for ticket in Ticket.objects.filter(service_id=service_id).open().order_by('pk'):
        record_changed(record=ticket, actor=actor, now=now)
        count += 1
    return count


def _note(obj, *, actor: Actor, message: str, period: HypercarePeriod, kind: str = TimelineKind.LINK) -> None:
    audit.record(obj, actor=actor, kind=kind, message=message, data={'hypercare_period': period.pk})


@transaction.atomic
def period_start(
    *,
    actor: Actor,
    service: ConfigurationItem,
    ends_at: dt.datetime,
    starts_at: dt.datetime | None = None,
    reason: str = '',
    change=None,
    rule: HypercareRule | None = None,
    now: dt.datetime | None = None,
) -> HypercarePeriod:
    """Put `service` into hypercare from `starts_at` (now when empty) until `ends_at`."""
    now = now or timezone.now()
    starts_at = starts_at or now
    service = _lock_service(service)
    _check_may_manage(actor, service)
    if ends_at <= starts_at:
        raise ValidationError({'ends_at': 'The end must come after the start.'})
    if ends_at <= now:
        raise ValidationError({'ends_at': 'The end must be in the future.'})
    _refuse_overlap(service.pk, starts_at, ends_at)
    period = HypercarePeriod(
        service=service,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason,
        started_by=actor.user,
        change=change,
        rule=rule,
    )
    period.full_clean()
    period.save()
    audit.record_created(period, actor=actor)
    until = _text(ends_at)
    when = 'now' if starts_at <= now else f'from {_text(starts_at)}'
    _note(service, actor=actor, period=period, message=f'Hypercare {when} until {until}. {reason}'.strip())
    if change is not None:
        _note(change, actor=actor, period=period, message=f'{service.name} enters hypercare until {until}.')
    if starts_at <= now:
        _begin(period, actor=actor, now=now)
    return period


def _begin(period: HypercarePeriod, *, actor: Actor, now: dt.datetime) -> bool:
    """Carry out the start once: mark it begun and re-target the service's open tickets."""
    claimed = HypercarePeriod.objects.filter(pk=period.pk, began_at__isnull=True).update(began_at=now)
    if not claimed:
        return False
    period.began_at = now
    retarget_service(period.service_id, actor=actor, now=now)
    return True


@transaction.atomic
def period_update(
    *,
    actor: Actor,
    period: HypercarePeriod,
    ends_at: dt.datetime | None = None,
    reason: str | None = None,
    starts_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> HypercarePeriod:
    """Extend (or shorten) a period that has not ended, change its reason, or move a scheduled one's start."""
    now = now or timezone.now()
    service = _lock_service(period.service_id)
    _check_may_manage(actor, service)
    period = HypercarePeriod.objects.select_for_update().get(pk=period.pk)
    if period.ended_at is not None or period.ends_at <= now:
        raise Conflict('This hypercare period has ended; start a new one.')
    before = audit.snapshot(period)
    if starts_at is not None and starts_at != period.starts_at:
        if period.began_at is not None:
            raise ValidationError({'starts_at': 'The period has started: its start cannot move.'})
        period.starts_at = starts_at
    if ends_at is not None:
        if ends_at <= now:
            raise ValidationError({'ends_at': 'The end must be in the future (end the period early instead).'})
        period.ends_at = ends_at
    if period.ends_at <= period.starts_at:
        raise ValidationError({'ends_at': 'The end must come after the start.'})
    if reason is not None:
        period.reason = reason
    _refuse_overlap(service.pk, period.starts_at, period.ends_at, exclude=period.pk)
    period.full_clean()
    period.save()
    entry = audit.record_changes(period, before, actor=actor)
    if entry is not None and before['ends_at'] != period.ends_at.isoformat():
        _note(service, actor=actor, period=period, message=f'Hypercare now ends {_text(period.ends_at)}.')
    if period.began_at is None and period.starts_at <= now:
        _begin(period, actor=actor, now=now)
    return period


@transaction.atomic
def period_end(
    *, actor: Actor, period: HypercarePeriod, reason: str = '', now: dt.datetime | None = None
) -> HypercarePeriod:
    """End a period early, by hand. Its service's open tickets go back to their usual SLA."""
    now = now or timezone.now()
    service = _lock_service(period.service_id)
    _check_may_manage(actor, service)
    claimed = HypercarePeriod.objects.filter(pk=period.pk, ended_at__isnull=True, ends_at__gt=now).update(
        ended_at=now, ended_by=actor.user, end_reason=reason[:300]
    )
    if not claimed:
        raise Conflict('This hypercare period has already ended.')
    period.refresh_from_db()
    message = f'Hypercare ended early. {reason}'.strip()
    audit.record(period, actor=actor, kind=TimelineKind.TRANSITION, message=message)
    _note(service, actor=actor, period=period, message=message)
    if period.began_at is not None:
        retarget_service(service.pk, actor=actor, now=now)
    return period


@transaction.atomic
def period_delete(*, actor: Actor, period: HypercarePeriod) -> None:
    """Remove a period entered by mistake (administrators); tickets in it return to their usual SLA."""
    service = _lock_service(period.service_id)
    was_running = period.state == 'active'
    audit.record(service, actor=actor, kind=TimelineKind.DELETED, message=f'Hypercare period deleted: {period}.')
    period.delete()
    if was_running:
        retarget_service(service.pk, actor=actor)


# ------------------------------------------------------------------------------------------------ the sweep
def hypercare_sweep(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Carry out the starts and ends that came due. Each is claimed by a conditional UPDATE in its own
    transaction: of sweeps that overlap, one carries it out and the others find nothing to claim."""
    now = now or timezone.now()
    actor = Actor.system()
    done = {'started': 0, 'ended': 0}
    due_starts = HypercarePeriod.objects.filter(began_at__isnull=True, starts_at__lte=now, ended_at__isnull=True)
    for period in due_starts.filter(ends_at__gt=now).order_by('starts_at', 'pk'):
        with transaction.atomic():
            if _begin(period, actor=actor, now=now):
                _note(period, actor=actor, period=period, message='Hypercare started.', kind=TimelineKind.TRANSITION)
                done['started'] += 1
    due_ends = HypercarePeriod.objects.filter(ended_at__isnull=True, ends_at__lte=now).select_related('service')
    for period in due_ends.order_by('ends_at', 'pk'):
        with transaction.atomic():
            claimed = HypercarePeriod.objects.filter(pk=period.pk, ended_at__isnull=True, ends_at__lte=now).update(
                ended_at=period.ends_at, end_reason='Its time was up.'
            )
            if not claimed:
                continue
            message = 'Hypercare ended: its time was up.'
            audit.record(period, actor=actor, kind=TimelineKind.TRANSITION, message=message)
            _note(period.service, actor=actor, period=period, message=message)
            retarget_service(period.service_id, actor=actor, now=now)
            done['ended'] += 1
    return done


# ------------------------------------------------------------------------------------------------ tagging
def _tag(ticket, *, actor: Actor, at: dt.datetime | None = None) -> HypercareIncident | None:
    if ticket.kind != TicketKind.INCIDENT or ticket.service_id is None:
        return None
    period = HypercarePeriod.objects.active(at).filter(service_id=ticket.service_id).order_by('starts_at').first()
    if period is None:
        return None
    tag, created = HypercareIncident.objects.get_or_create(period=period, ticket_id=ticket.pk)
    if created:
        _note(ticket, actor=actor, period=period, message=f'Tagged: opened during hypercare of {period.service.name}.')
    return tag


def on_ticket_created(ticket, *, actor: Actor, **kwargs) -> None:
    """Hook: an incident opened on a service in hypercare is tagged with the period (the one running when it was
    opened, so a backdated import is tagged as it happened)."""
    _tag(ticket, actor=actor, at=ticket.opened_at)


def on_ticket_changed(ticket, *, actor: Actor, **kwargs) -> None:
    """Hook: an incident moved onto a service in hypercare is tagged with the period (once)."""
    _tag(ticket, actor=actor)


# ------------------------------------------------------------------------------------------------ rules
def _services_of(change) -> list[ConfigurationItem]:
    named = {ci.pk: ci for ci in change.services.all()}
    named.update({ci.pk: ci for ci in change.cis.filter(ci_class=CIClass.SERVICE)})
    return [named[pk] for pk in sorted(named)]


def on_change_transitioned(change, *, actor: Actor, target: str = '', **kwargs) -> list[HypercarePeriod]:
    """Hook: a change closed successfully; the services it names enter hypercare as its matching rules say."""
    from changes.choices import ChangeState

    if target != ChangeState.CLOSED or change.outcome not in SUCCESSFUL_OUTCOMES:
        return []
    rules = list(
        HypercareRule.objects.filter(active=True, change_type=change.change_type).filter(change_model__isnull=True)
    )
    if change.change_model_id is not None:
        rules += list(
            HypercareRule.objects.filter(
                active=True, change_type=change.change_type, change_model_id=change.change_model_id
            )
        )
    if not rules:
        return []
    periods = []
    system = Actor.system()
    for service in _services_of(change):
        matching = [rule for rule in rules if rule.service_id in (None, service.pk)]
        if matching:
            rule = max(matching, key=lambda r: (r.duration_days, -r.pk))
            periods.append(_from_change(change, service, rule, actor=system))
    return periods


def _from_change(change, service: ConfigurationItem, rule: HypercareRule, *, actor: Actor) -> HypercarePeriod:
    """Start hypercare for the rule's duration, or extend the period that is open now rather than overlap."""
    now = timezone.now()
    ends_at = now + dt.timedelta(days=rule.duration_days)
    _lock_service(service)
    current = (
        HypercarePeriod.objects.select_for_update()
        .filter(service=service, ended_at__isnull=True, ends_at__gt=now, starts_at__lt=ends_at)
        .order_by('starts_at')
        .first()
    )
    reason = f'{change.number} closed ({rule.name}).'
    if current is None:
        return period_start(actor=actor, service=service, ends_at=ends_at, reason=reason, change=change, rule=rule)
    if current.ends_at < ends_at:
        current = period_update(actor=actor, period=current, ends_at=ends_at)
    _note(
        change, actor=actor, period=current, message=f'{service.name} hypercare extended to {_text(current.ends_at)}.'
    )
    return current


# ------------------------------------------------------------------------------------------------ summaries
def summary_recipients(period: HypercarePeriod) -> list[str]:
    owner = period.service.owner
    return [owner.email] if owner is not None and owner.is_active and owner.email else []


def send_daily_summaries(*, now: dt.datetime | None = None) -> int:
    """Send today's summary of each running period to its service owner, once per period and day (desk time),
    from `HYPERCARE_SUMMARY_HOUR` on. The (period, day) row is the claim: a second sweep finds it taken."""
    from . import selectors

    now = now or timezone.now()
    local = now.astimezone(timezones.desk_zone())
    if local.hour < settings.HYPERCARE_SUMMARY_HOUR:
        return 0
    day = local.date()
    sent = 0
    periods = HypercarePeriod.objects.active(now).filter(began_at__isnull=False).exclude(summaries__day=day)
    for period in periods.select_related('service__owner').order_by('pk'):
        try:
            with transaction.atomic():
                summary = HypercareSummary.objects.create(
                    period=period, day=day, sent_at=now, recipients=summary_recipients(period)
                )
                if summary.recipients:
                    figures = selectors.daily_figures(period, day=day)
                    notify.deliver(
                        period,
                        'daily_summary',
                        summary.recipients,
                        label='Hypercare daily summary',
                        subject=f'Hypercare of {period.service.name}: summary of {day:%d %b %Y}',
                        template='hypercare/email/daily_summary.txt',
                        context={'period': period, 'figures': figures, 'day': day},
                        summary=f'Daily summary sent to {", ".join(summary.recipients)}.',
                        key=f'hypercare-summary-{summary.pk}',
                    )
                sent += 1
        except IntegrityError:
            continue  # another sweep claimed it
    return sent
