"""Predicted resolution times: profile rebuilds and per-ticket predictions (the one rule for "expected resolution").

- `profiles_rebuild`: the duration profiles of the tickets completed in the last PREDICTION_WINDOW_DAYS, replaced
  in one transaction; a fixed number of queries whatever the number of tickets (one read ordered by duration, a
  delete, inserts in batches).
- `prediction_refresh`: one ticket's prediction from the profiles (most specific level with at least
  PREDICTION_MINIMUM_SAMPLES tickets); removed once the ticket is no longer open.
- `predictions_refresh_all`: every open ticket's, after a rebuild (the beat's `predictions-profiles`).
- `ticket_touched`: the hook subscriber, which queues `prediction_refresh` after commit; it never fails the change.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import DurationField, ExpressionWrapper, F, Q
from django.utils import timezone

from incidents.choices import OPEN_STATES, TicketState
from incidents.models import Ticket
from itsm.oncommit import task_after_commit

from . import estimate
from .models import DurationProfile, Prediction

logger = logging.getLogger(__name__)

__all__ = ['prediction_for', 'prediction_refresh', 'predictions_refresh_all', 'profiles_rebuild', 'ticket_touched']

# A ticket's similarity values under the names `estimate` uses, and the model fields that hold them.
FIELDS = {
    'kind': 'kind',
    'priority': 'priority',
    'category': 'category_id',
    'service': 'service_id',
    'group': 'assignment_group_id',
    'channel': 'channel',
}
PROFILE_FIELDS = {'priority': 'priority', 'category': 'category_id', 'service': 'service_id'}
PROFILE_FIELDS |= {'group': 'assignment_group_id', 'channel': 'channel'}
BATCH = 1000
UPDATED = ['expected_at', 'low_at', 'high_at', 'typical', 'level', 'samples', 'computed_at']


def _seconds(value) -> float:
    """A duration as the database returns it: a timedelta (PostgreSQL) or microseconds (SQLite)."""
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value) / 1_000_000


def values_of(ticket: Ticket) -> dict:
    return {name: getattr(ticket, field) for name, field in FIELDS.items()}


def completed_durations(*, since: dt.datetime, until: dt.datetime | None = None) -> Iterable[tuple[dict, float]]:
    """(similarity values, seconds) of the tickets completed since `since`, shortest first: Completed or Closed
    with a completion time (as MTTR counts them; imports closed without one count nowhere)."""
    tickets = Ticket.objects.filter(
        state__in=(TicketState.COMPLETED, TicketState.CLOSED), completed_at__gte=since, completed_at__isnull=False
    )
    if until is not None:
        tickets = tickets.filter(completed_at__lt=until)
    rows = (
        tickets.annotate(took=ExpressionWrapper(F('completed_at') - F('opened_at'), output_field=DurationField()))
        .order_by('took')
        .values_list('took', *FIELDS.values())
    )
    for took, *values in rows.iterator(chunk_size=5000):
        seconds = max(0.0, _seconds(took))
        yield dict(zip(FIELDS, values, strict=True)), seconds


def profiles_rebuild(*, now: dt.datetime | None = None) -> int:
    """Replace the duration profiles with those of the tickets completed in the last PREDICTION_WINDOW_DAYS;
    returns how many profiles there are."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=settings.PREDICTION_WINDOW_DAYS)
    summaries = estimate.group(completed_durations(since=since, until=now))
    profiles = []
    for (level, key), summary in summaries.items():
        kept = dict(zip(estimate.LEVEL_KEYS[level], key[1:], strict=True))
        fields = {PROFILE_FIELDS[name]: value for name, value in kept.items()}
        if 'channel' in fields and fields['channel'] is None:
            fields['channel'] = ''
        profiles.append(
            DurationProfile(
                level=level,
                kind=key[0],
                samples=summary.samples,
                p10=dt.timedelta(seconds=summary.p10),
                p50=dt.timedelta(seconds=summary.p50),
                p90=dt.timedelta(seconds=summary.p90),
                grid=[round(value, 1) for value in summary.grid],
                built_at=now,
                **fields,
            )
        )
    with transaction.atomic():
        DurationProfile.objects.all().delete()
        DurationProfile.objects.bulk_create(profiles, batch_size=BATCH)
    return len(profiles)


def _summary(profile: DurationProfile) -> estimate.Summary:
    return estimate.Summary(profile.samples, tuple(profile.grid))


def _profile_key(profile: DurationProfile) -> tuple[str, tuple]:
    values = {name: getattr(profile, field) for name, field in PROFILE_FIELDS.items()}
    values['kind'] = profile.kind
    values['channel'] = profile.channel
    return profile.level, estimate.key_of(values, profile.level)


def _ticket_values(ticket: Ticket) -> dict:
    values = values_of(ticket)
    values['channel'] = values['channel'] or ''
    return values


def _profiles_for(tickets: list[Ticket]) -> dict[tuple[str, tuple], estimate.Summary]:
    """The profiles that may serve `tickets`: one query on (kind, priority) plus the kinds' overall profiles."""
    pairs = {(t.kind, t.priority) for t in tickets}
    if not pairs:
        return {}
    wanted = Q(level=estimate.LEVELS[-1], kind__in={kind for kind, _ in pairs})
    for kind, priority in pairs:
        wanted |= Q(kind=kind, priority=priority)
    return {_profile_key(p): _summary(p) for p in DurationProfile.objects.filter(wanted)}


def _profiles_of(ticket: Ticket) -> dict[tuple[str, tuple], estimate.Summary]:
    """The ticket's own profile at each level (at most six rows, one query on the profile key index)."""
    values = _ticket_values(ticket)
    wanted = Q()
    for level in estimate.LEVELS:
        kept = {PROFILE_FIELDS[name]: values[name] for name in estimate.LEVEL_KEYS[level]}
        lookups = {field: value for field, value in kept.items() if value is not None}
        lookups |= {f'{field}__isnull': True for field, value in kept.items() if value is None}
        wanted |= Q(level=level, kind=values['kind'], **lookups)
    return {_profile_key(p): _summary(p) for p in DurationProfile.objects.filter(wanted)}


def _estimate(ticket: Ticket, profiles, *, now: dt.datetime) -> estimate.Estimate | None:
    elapsed = max(0.0, (now - ticket.opened_at).total_seconds())
    return estimate.choose(
        profiles, _ticket_values(ticket), minimum=settings.PREDICTION_MINIMUM_SAMPLES, elapsed=elapsed
    )


def _prediction(ticket: Ticket, found: estimate.Estimate, *, now: dt.datetime) -> Prediction:
    def at(seconds: float) -> dt.datetime:
        return ticket.opened_at + dt.timedelta(seconds=round(seconds))

    return Prediction(
        ticket=ticket,
        expected_at=at(found.expected),
        low_at=at(found.low),
        high_at=at(found.high),
        typical=dt.timedelta(seconds=round(found.typical)),
        level=found.level,
        samples=found.samples,
        computed_at=now,
    )


def prediction_for(ticket: Ticket, *, now: dt.datetime | None = None) -> Prediction | None:
    """What `ticket`'s prediction would be now (unsaved), or None: not open, or no completed ticket of its kind."""
    if ticket.state not in OPEN_STATES:
        return None
    now = now or timezone.now()
    found = _estimate(ticket, _profiles_of(ticket), now=now)
    return _prediction(ticket, found, now=now) if found else None


@transaction.atomic
def prediction_refresh(*, ticket_id: int, now: dt.datetime | None = None) -> Prediction | None:
    """Store `ticket_id`'s prediction (replacing the one it had); remove it when the ticket is no longer open."""
    ticket = Ticket.objects.filter(pk=ticket_id).first()
    made = prediction_for(ticket, now=now) if ticket else None
    if made is None:
        Prediction.objects.filter(ticket_id=ticket_id).delete()
        return None
    prediction, _ = Prediction.objects.update_or_create(
        ticket_id=ticket_id, defaults={name: getattr(made, name) for name in UPDATED}
    )
    return prediction


def predictions_refresh_all(*, now: dt.datetime | None = None) -> int:
    """Every open ticket's prediction from the current profiles, those of other tickets removed; in batches, each
    one transaction of a fixed number of queries. Returns how many predictions there are."""
    now = now or timezone.now()
    Prediction.objects.exclude(ticket__state__in=OPEN_STATES).delete()
    open_ids = list(Ticket.objects.filter(state__in=OPEN_STATES).order_by('pk').values_list('pk', flat=True))
    kept = 0
    for start in range(0, len(open_ids), BATCH):
        chunk = open_ids[start : start + BATCH]
        with transaction.atomic():
            tickets = list(Ticket.objects.filter(pk__in=chunk).only('pk', 'opened_at', 'state', *FIELDS.values()))
            profiles = _profiles_for(tickets)
            made = []
            for ticket in tickets:
                found = _estimate(ticket, profiles, now=now)
                if found is not None:
                    made.append(_prediction(ticket, found, now=now))
            predicted = {p.ticket_id for p in made}
            Prediction.objects.filter(ticket_id__in=[pk for pk in chunk if pk not in predicted]).delete()
            # An upsert: a ticket's own refresh may have written its row meanwhile.
            Prediction.objects.bulk_create(
                made, batch_size=BATCH, update_conflicts=True, unique_fields=['ticket'], update_fields=UPDATED
            )
        kept += len(made)
    return kept


def predictions_tick(*, now: dt.datetime | None = None) -> tuple[int, int]:
    """The beat's job: rebuild the profiles, then refresh every open ticket's prediction."""
    return profiles_rebuild(now=now), predictions_refresh_all(now=now)


def ticket_touched(ticket: Ticket, **kwargs) -> None:
    """Hook subscriber (created, changed, transitioned): refresh the ticket's prediction after commit, once per
    transaction however many of these it fires. A failure is logged, never raised: predictions never fail a
    change."""
    from .tasks import prediction_refresh_task

    pk = ticket.pk
    try:
        task_after_commit(('prediction_refresh', pk), prediction_refresh_task, pk)
    except Exception:
        logger.exception('Could not queue the prediction refresh of ticket %s', pk)
