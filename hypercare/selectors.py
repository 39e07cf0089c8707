"""Read-side queries of hypercare: the SLA engine's question, lists, the tags of an incident, and the dashboard
figures of a period against the same length of time just before it (the baseline)."""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from itsm import timezones

from .models import HypercareIncident, HypercarePeriod, HypercareRule

__all__ = [
    'Figures',
    'active_overview',
    'daily_figures',
    'dashboard',
    'period_list',
    'periods_of_service',
    'rule_list',
    'service_in_hypercare',
    'tags_of_period',
    'tags_of_ticket',
    'visible_tags',
]


def service_in_hypercare(service_id: int) -> bool:
    """The SLA engine's check (registered in `HypercareConfig.ready`): one query on the (service, start, end)
    index, asked only when a hypercare SLA could apply."""
    return HypercarePeriod.objects.active().filter(service_id=service_id).exists()


def period_list() -> QuerySet[HypercarePeriod]:
    return (
        HypercarePeriod.objects.select_related('service', 'started_by', 'ended_by', 'change', 'rule')
        .annotate(incident_count=Count('tagged'))
        .order_by('-starts_at', '-id')
    )


def rule_list() -> QuerySet[HypercareRule]:
    return HypercareRule.objects.select_related('service', 'change_model')


def tags_of_ticket(ticket) -> list[HypercareIncident]:
    return list(
        HypercareIncident.objects.filter(ticket_id=ticket.pk)
        .select_related('period__service')
        .order_by('-period__starts_at')
    )


def visible_tags(tags: QuerySet[HypercareIncident], user) -> QuerySet[HypercareIncident]:
    """`tags` of incidents `user` may see (`visible_to`: a security incident only for those cleared for it)."""
    from incidents.models import Ticket

    return tags.filter(ticket__in=Ticket.objects.visible_to(user).values('pk'))


def tags_of_period(period, *, user, limit: int | None = None) -> list[HypercareIncident]:
    """The period's tagged incidents `user` may see with their groups, the newest first (the first `limit` of
    them). The figures (`dashboard`) count every tagged incident."""
    tags = visible_tags(
        HypercareIncident.objects.filter(period=period)
        .select_related('ticket', 'ticket__assignment_group')
        .order_by('-ticket__opened_at', '-pk'),
        user,
    )
    return list(tags[:limit] if limit else tags)


def periods_of_service(service, *, limit: int = 5) -> list[HypercarePeriod]:
    """A service's latest periods (with the change that started them), the newest first."""
    return list(
        HypercarePeriod.objects.filter(service=service).select_related('change').order_by('-starts_at', '-id')[:limit]
    )


def active_overview(now: dt.datetime | None = None) -> list[HypercarePeriod]:
    """Running periods with their tagged, still open and breached incident counts (one query)."""
    from incidents.models import Ticket

    now = now or timezone.now()
    open_states = Ticket.workflow.open_states
    breached = _breached_clocks().filter(object_id=OuterRef('ticket_id'))
    breached_tags = (
        HypercareIncident.objects.filter(period=OuterRef('pk'))
        .filter(Exists(breached))
        .order_by()
        .values('period')
        .annotate(n=Count('pk'))
        .values('n')
    )
    return list(
        HypercarePeriod.objects.active(now)
        .select_related('service', 'service__owner')
        .annotate(
            incident_count=Count('tagged', distinct=True),
            open_count=Count('tagged', filter=Q(tagged__ticket__state__in=open_states), distinct=True),
            breach_count=Coalesce(Subquery(breached_tags), 0),
        )
        .order_by('ends_at', 'pk')
    )


def _breached_clocks():
    from incidents.models import Ticket
    from sla.choices import ClockState
    from sla.models import SlaClock

    content_type = ContentType.objects.get_for_model(Ticket)
    return SlaClock.objects.filter(content_type=content_type).filter(
        Q(breached_at__isnull=False) | Q(state=ClockState.BREACHED)
    )


@dataclass
class Figures:
    """One window's incidents on the service: volume per day, MTTR (hours) and incidents with a breached clock."""

    start: dt.datetime
    end: dt.datetime
    days: list[dt.date] = field(default_factory=list)
    per_day: list[int] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)  # hours, opened → completed
    breaches: int = 0

    @property
    def volume(self) -> int:
        return sum(self.per_day)

    @property
    def per_day_mean(self) -> float | None:
        return round(self.volume / len(self.days), 2) if self.days else None

    @property
    def resolved(self) -> int:
        return len(self.durations)

    @property
    def mttr_hours(self) -> float | None:
        return round(statistics.fmean(self.durations), 2) if self.durations else None

    @property
    def median_hours(self) -> float | None:
        return round(statistics.median(self.durations), 2) if self.durations else None

    @property
    def breach_rate(self) -> float | None:
        return round(100 * self.breaches / self.volume, 1) if self.volume else None


@dataclass
class Dashboard:
    period: HypercarePeriod
    current: Figures | None
    baseline: Figures | None
    tagged: int
    open_tagged: int

    @property
    def started(self) -> bool:
        return self.current is not None

    def chart(self) -> dict:
        """The volume chart's data island: incidents per day in the period beside the same day of the baseline."""
        if self.current is None:
            return {}
        return {
            'labels': [day.isoformat() for day in self.current.days],
            'datasets': [
                {'label': 'Hypercare', 'data': self.current.per_day, 'type': 'bar', 'color': 'orange'},
                {'label': 'Weeks before', 'data': self.baseline.per_day, 'type': 'line', 'color': 'gray'},
            ],
        }

    def comparison(self) -> list[dict]:
        """Rows of the figures table: measure, period, baseline."""
        if self.current is None:
            return []
        c, b = self.current, self.baseline
        return [
            {'label': 'Incidents', 'current': c.volume, 'baseline': b.volume, 'unit': ''},
            {'label': 'Incidents per day', 'current': c.per_day_mean, 'baseline': b.per_day_mean, 'unit': ''},
            {'label': 'MTTR', 'current': c.mttr_hours, 'baseline': b.mttr_hours, 'unit': 'h'},
            {'label': 'Median time to resolve', 'current': c.median_hours, 'baseline': b.median_hours, 'unit': 'h'},
            {'label': 'Resolved', 'current': c.resolved, 'baseline': b.resolved, 'unit': ''},
            {'label': 'SLA breaches', 'current': c.breaches, 'baseline': b.breaches, 'unit': ''},
            {'label': 'Breach rate', 'current': c.breach_rate, 'baseline': b.breach_rate, 'unit': '%'},
        ]


def _days(start: dt.datetime, end: dt.datetime, zone) -> list[dt.date]:
    """Desk days meeting [start, end)."""
    first, last = start.astimezone(zone).date(), (end - dt.timedelta(microseconds=1)).astimezone(zone).date()
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def dashboard(period: HypercarePeriod, *, now: dt.datetime | None = None) -> Dashboard:
    """The period's figures so far against the same length of time just before it: two queries whatever the
    number of incidents (their times and breach flags in one, the tag counts in the other)."""
    from incidents.models import Ticket
    from itsm.choices import TicketKind

    now = now or timezone.now()
    tag_counts = HypercareIncident.objects.filter(period=period).aggregate(
        tagged=Count('pk'), open=Count('pk', filter=Q(ticket__state__in=Ticket.workflow.open_states))
    )
    end = min(period.effective_end, now)
    if end <= period.starts_at:
        return Dashboard(period, None, None, tag_counts['tagged'], tag_counts['open'])
    length = end - period.starts_at
    zone = timezones.desk_zone()
    current = Figures(period.starts_at, end)
    baseline = Figures(period.starts_at - length, period.starts_at)
    current.days = _days(current.start, current.end, zone)
    # The baseline's days line up with the period's: day i of each window.
    baseline.days = [day - dt.timedelta(days=len(current.days)) for day in current.days]
    current.per_day, baseline.per_day = [0] * len(current.days), [0] * len(current.days)
    breached = _breached_clocks().filter(object_id=OuterRef('pk'))
    rows = (
        Ticket.objects.filter(
            kind=TicketKind.INCIDENT, service_id=period.service_id, opened_at__gte=baseline.start, opened_at__lt=end
        )
        .annotate(breached=Exists(breached))
        .values_list('opened_at', 'completed_at', 'breached')
    )
    for opened_at, completed_at, was_breached in rows:
        # A baseline incident counts on the day of the period it lines up with (its time plus the length).
        window = current if opened_at >= current.start else baseline
        lined_up = opened_at if window is current else opened_at + length
        window.per_day[current.days.index(lined_up.astimezone(zone).date())] += 1
        if completed_at is not None:
            window.durations.append((completed_at - opened_at).total_seconds() / 3600)
        if was_breached:
            window.breaches += 1
    return Dashboard(period, current, baseline, tag_counts['tagged'], tag_counts['open'])


def daily_figures(period: HypercarePeriod, *, day: dt.date, now: dt.datetime | None = None) -> dict:
    """What a daily summary says: yesterday's new incidents and the period so far against its baseline."""
    board = dashboard(period, now=now)
    yesterday = day - dt.timedelta(days=1)
    new = 0
    if board.current is not None and yesterday in board.current.days:
        new = board.current.per_day[board.current.days.index(yesterday)]
    return {
        'yesterday': yesterday,
        'new_yesterday': new,
        'tagged': board.tagged,
        'open': board.open_tagged,
        'rows': board.comparison(),
    }
