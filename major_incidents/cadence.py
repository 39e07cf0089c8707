"""The update cadence (domain §6): how often a major incident owes its stakeholders an update, and the reminder sent
once to the communications lead for each update that was not posted on time.

The interval defaults from the priority (`MAJOR_UPDATE_CADENCE_MINUTES`: P0 every 30 minutes, P1 every 60). Once the
outage has run `MAJOR_LONG_OUTAGE_HOURS` the interval may stretch, but never beyond `MAJOR_MAX_UPDATE_INTERVAL_MINUTES`
(at least daily). `send_overdue_reminders` runs on the Celery beat; a reminder row is unique per (major incident, due
time), so however many beats overlap, each missed update is announced exactly once.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from itsm import audit
from itsm.audit import Actor
from itsm.choices import TimelineKind

from .choices import ACTIVE
from .models import CadenceReminder, MajorIncident

MIN_UPDATE_INTERVAL_MINUTES = 5


def default_interval(priority: int) -> int:
    """Minutes between updates for `priority`; priorities the setting does not name use its last entry."""
    cadence = settings.MAJOR_UPDATE_CADENCE_MINUTES
    if priority in cadence:
        return cadence[priority]
    return cadence[max(cadence)]


def outage_is_long(major: MajorIncident, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return now - major.outage_started_at >= dt.timedelta(hours=settings.MAJOR_LONG_OUTAGE_HOURS)


def interval_refusal(major: MajorIncident, minutes: int, now: dt.datetime | None = None) -> str:
    """Why `minutes` cannot be `major`'s update interval ('' when it can)."""
    if minutes < MIN_UPDATE_INTERVAL_MINUTES:
        return f'Updates are due at least every {MIN_UPDATE_INTERVAL_MINUTES} minutes apart: choose 5 or more.'
    limit = settings.MAJOR_MAX_UPDATE_INTERVAL_MINUTES
    if minutes > limit:
        return f'An outage gets an update at least every {limit} minutes (once a day).'
    standard = default_interval(major.priority)
    if minutes > standard and not outage_is_long(major, now):
        return (
            f'P{major.priority} gets an update every {standard} minutes; a longer interval is allowed once the '
            f'outage has run {settings.MAJOR_LONG_OUTAGE_HOURS} hours.'
        )
    return ''


def check_interval(major: MajorIncident, minutes: int) -> None:
    refusal = interval_refusal(major, minutes)
    if refusal:
        raise ValidationError({'update_interval_minutes': refusal})


def next_due(major: MajorIncident, after: dt.datetime) -> dt.datetime | None:
    """When the next update is due after one at `after`: none once the service is restored."""
    if major.state not in ACTIVE:
        return None
    return after + dt.timedelta(minutes=major.update_interval_minutes)


def reminder_person(major: MajorIncident):
    """Who owns the cadence: the communications lead, else the incident manager."""
    for person in (major.communications_lead, major.incident_manager):
        if person is not None and person.is_active:
            return person
    return None


def send_overdue_reminders(now: dt.datetime | None = None) -> int:
    """Remind the cadence owner of every active major incident whose next update is overdue; returns how many
    reminders this run sent. Each reminder is claimed by inserting its unique row in a savepoint: a run that
    loses the race to another overlapping run inserts nothing and sends nothing."""
    from .notifications import Event, major_event

    now = now or timezone.now()
    overdue = (
        MajorIncident.objects.filter(state__in=ACTIVE, next_update_due__lte=now)
        .select_related('communications_lead', 'incident_manager')
        .order_by('next_update_due')
    )
    sent = 0
    for major in overdue:
        person = reminder_person(major)
        try:
            with transaction.atomic():
                CadenceReminder.objects.create(major_incident=major, due_at=major.next_update_due, sent_to=person)
                minutes = int((now - major.next_update_due).total_seconds() // 60)
                audit.record(
                    major,
                    actor=Actor.system(),
                    kind=TimelineKind.WORK_NOTE,
                    message=(
                        f'The update due at {audit.format_moment(major.next_update_due)} has not been posted '
                        f'({minutes} min overdue); {person or "nobody on the team"} is reminded.'
                    ),
                    data={'cadence_reminder': major.next_update_due.isoformat()},
                )
                extra = {'minutes': minutes, 'due': audit.format_moment(major.next_update_due)}
                major_event(major, Event.UPDATE_OVERDUE, people=[person] if person else [], extra=extra)
        except IntegrityError:
            continue  # another run claimed this missed update first
        sent += 1
    return sent
