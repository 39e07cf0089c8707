"""What the public status page shows, read once for the page, its JSON and its feed.

A public service's status is the worst impact of the active major incidents on it, else "under maintenance" while a
change on it is being implemented, else its own service status. Every reader here runs a fixed number of queries,
whatever the number of services, incidents or changes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import models
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from changes.choices import ChangeState
from changes.models import Change
from cmdb.choices import ServiceStatus
from cmdb.models import ConfigurationItem, Service
from major_incidents.choices import ACTIVE, MajorIncidentState, ServiceImpact, UpdateAudience
from major_incidents.models import MajorIncident, MajorIncidentUpdate

from .models import Subscriber

UPCOMING_DAYS = 14
PAST_DAYS = 14
FEED_LIMIT = 50


class ComponentStatus(models.TextChoices):
    """A service's status as the page and its JSON say it (Statuspage component statuses), best first."""

    OPERATIONAL = 'operational', 'Operational'
    UNDER_MAINTENANCE = 'under_maintenance', 'Under maintenance'
    DEGRADED = 'degraded_performance', 'Degraded performance'
    PARTIAL_OUTAGE = 'partial_outage', 'Partial outage'
    MAJOR_OUTAGE = 'major_outage', 'Major outage'


# How bad each status is: the worst one wins on a service, on a day and on the page.
SEVERITY = {status: rank for rank, status in enumerate(ComponentStatus.values)}
FROM_SERVICE_STATUS = {
    ServiceStatus.OPERATIONAL: ComponentStatus.OPERATIONAL,
    ServiceStatus.DEGRADED: ComponentStatus.DEGRADED,
    ServiceStatus.PARTIAL_OUTAGE: ComponentStatus.PARTIAL_OUTAGE,
    ServiceStatus.MAJOR_OUTAGE: ComponentStatus.MAJOR_OUTAGE,
    ServiceStatus.MAINTENANCE: ComponentStatus.UNDER_MAINTENANCE,
}
# The page's overall line and Statuspage's indicator for the worst status of any service.
OVERALL = {
    ComponentStatus.OPERATIONAL: ('none', 'All systems operational'),
    ComponentStatus.UNDER_MAINTENANCE: ('maintenance', 'Service under maintenance'),
    ComponentStatus.DEGRADED: ('minor', 'Degraded performance'),
    ComponentStatus.PARTIAL_OUTAGE: ('major', 'Partial outage'),
    ComponentStatus.MAJOR_OUTAGE: ('critical', 'Major outage'),
}
# Statuspage's incident impact for a major incident's service impact.
INCIDENT_IMPACT = {
    ServiceImpact.DEGRADED: 'minor',
    ServiceImpact.PARTIAL_OUTAGE: 'major',
    ServiceImpact.MAJOR_OUTAGE: 'critical',
}
# Statuspage's maintenance statuses for the change states a maintenance window is shown in.
MAINTENANCE_STATUS = {
    ChangeState.SCHEDULED: 'scheduled',
    ChangeState.IMPLEMENTATION: 'in_progress',
    ChangeState.REVIEW: 'verifying',
    ChangeState.CLOSED: 'completed',
}


def worst(statuses) -> str:
    return max(statuses, key=SEVERITY.__getitem__, default=ComponentStatus.OPERATIONAL)


def page_id() -> str:
    """A stable identifier of this desk's page (Statuspage's `page.id`), derived from the site address."""
    return hashlib.sha256(settings.SITE_URL.encode()).hexdigest()[:12]


@dataclass
class ServiceState:
    service: Service
    status: str
    position: int
    history: list[DayCell] = field(default_factory=list)

    @property
    def number(self) -> str:
        return self.service.ci.number

    @property
    def name(self) -> str:
        return public_name(self.service)

    @property
    def description(self) -> str:
        return self.service.ci.description

    @property
    def status_label(self) -> str:
        return ComponentStatus(self.status).label


@dataclass
class DayCell:
    day: dt.date
    status: str
    incidents: list[str]

    @property
    def status_label(self) -> str:
        return ComponentStatus(self.status).label

    @property
    def title(self) -> str:
        """The cell's tooltip: the day, its status and the incidents behind it."""
        text = f'{self.day:%d %b %Y}: {self.status_label}'
        return f'{text} ({", ".join(self.incidents)})' if self.incidents else text


@dataclass
class Overview:
    services: list[ServiceState]
    status: str
    indicator: str
    description: str


def public_name(service: Service) -> str:
    return service.public_name or service.ci.name


def public_services() -> QuerySet[Service]:
    return Service.objects.filter(public=True).select_related('ci').order_by('ci__name', 'pk')


def _public_service_cis() -> QuerySet[ConfigurationItem]:
    return ConfigurationItem.objects.filter(service_details__public=True).select_related('service_details')


def _major_rows(service_ids, filters: dict, *values: str):
    """(service id, values...) for the major incidents matching `filters` that list the services among their
    services or their CIs (one query per many-to-many table)."""
    rows = []
    for through in (MajorIncident.services.through, MajorIncident.cis.through):
        matching = through.objects.filter(
            configurationitem_id__in=service_ids, **{f'majorincident__{k}': v for k, v in filters.items()}
        )
        rows.extend(matching.values_list('configurationitem_id', *(f'majorincident__{v}' for v in values)))
    return rows


def service_states(services: list[Service]) -> list[ServiceState]:
    """Each service with its current status (four queries whatever their number)."""
    ids = [s.pk for s in services]
    impact: dict[int, list[str]] = defaultdict(list)
    for service_id, service_impact in _major_rows(ids, {'state__in': ACTIVE}, 'service_impact'):
        impact[service_id].append(service_impact)
    in_maintenance = set()
    for through in (Change.services.through, Change.cis.through):
        rows = through.objects.filter(change__state=ChangeState.IMPLEMENTATION, configurationitem_id__in=ids)
        in_maintenance.update(rows.values_list('configurationitem_id', flat=True))
    states = []
    for position, service in enumerate(services, start=1):
        if impact[service.pk]:
            status = worst(impact[service.pk])
        elif service.pk in in_maintenance:
            status = ComponentStatus.UNDER_MAINTENANCE
        else:
            status = FROM_SERVICE_STATUS.get(service.status, ComponentStatus.OPERATIONAL)
        states.append(ServiceState(service=service, status=status, position=position))
    return states


def overview(*, with_history: bool = False, services: list[Service] | None = None) -> Overview:
    """Every public service with its status (and, when asked, its daily history), and the page's overall line."""
    services = list(public_services()) if services is None else services
    states = service_states(services)
    if with_history:
        add_history(states)
    status = worst(s.status for s in states)
    indicator, description = OVERALL[status]
    return Overview(services=states, status=status, indicator=indicator, description=description)


def history_days(now: dt.datetime | None = None) -> list[dt.date]:
    """The last STATUS_PAGE_HISTORY_DAYS days in the desk's time zone, oldest first, today last."""
    today = timezone.localdate(now or timezone.now())
    count = settings.STATUS_PAGE_HISTORY_DAYS
    return [today - dt.timedelta(days=offset) for offset in range(count - 1, -1, -1)]


def _local_day(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


def add_history(states: list[ServiceState], now: dt.datetime | None = None) -> None:
    """Fill each state's day cells: per day, the worst impact of the major incidents active on it that day."""
    now = now or timezone.now()
    days = history_days(now)
    first = timezone.make_aware(dt.datetime.combine(days[0], dt.time.min))
    shown = [state for state in MajorIncidentState.values if state != MajorIncidentState.CANCELLED]
    rows = _major_rows(
        [s.service.pk for s in states],
        {'outage_started_at__lte': now, 'state__in': shown},
        'number',
        'service_impact',
        'outage_started_at',
        'restored_at',
        'state',
    )
    by_day: dict[int, dict[dt.date, dict[str, str]]] = defaultdict(lambda: defaultdict(dict))
    for service_id, number, service_impact, started, restored, state in rows:
        # A restored outage ended when it was restored; an active one runs until now.
        ended = restored or (now if state in ACTIVE else started)
        if ended < first:
            continue
        day, last = max(_local_day(started), days[0]), _local_day(ended)
        while day <= last:
            by_day[service_id][day][number] = service_impact
            day += dt.timedelta(days=1)
    for state in states:
        cells = by_day.get(state.service.pk, {})
        state.history = [
            DayCell(day=day, status=worst(cells.get(day, {}).values()), incidents=sorted(cells.get(day, {})))
            for day in days
        ]


def _public_updates_prefetch() -> Prefetch:
    updates = MajorIncidentUpdate.objects.filter(audience=UpdateAudience.PUBLIC).order_by('-posted_at', '-pk')
    return Prefetch('updates', queryset=updates, to_attr='public_updates')


def _public_services_prefetch() -> Prefetch:
    return Prefetch('services', queryset=_public_service_cis().order_by('name'), to_attr='public_services')


def public_incidents() -> QuerySet[MajorIncident]:
    """Major incidents the public may see: those with a public update or on a public service. Only their public
    updates and public services are fetched."""
    visible = (
        Q(updates__audience=UpdateAudience.PUBLIC)
        | Q(services__service_details__public=True)
        | Q(cis__service_details__public=True)
    )
    ids = MajorIncident.objects.filter(visible).values('pk')
    return (
        MajorIncident.objects.filter(pk__in=ids)
        .exclude(state=MajorIncidentState.CANCELLED)
        .prefetch_related(_public_updates_prefetch(), _public_services_prefetch())
        .order_by('-opened_at', '-pk')
    )


def active_incidents() -> list[MajorIncident]:
    return list(public_incidents().filter(state__in=ACTIVE))


def past_incidents(now: dt.datetime | None = None, days: int = PAST_DAYS) -> list[MajorIncident]:
    """Restored major incidents of the last `days` days, most recently restored first."""
    since = (now or timezone.now()) - dt.timedelta(days=days)
    finished = public_incidents().exclude(state__in=ACTIVE).filter(restored_at__gte=since)
    return list(finished.order_by('-restored_at', '-pk'))


def public_incident(number: str) -> MajorIncident | None:
    return public_incidents().filter(number=number.upper()).first()


def incidents_on_service(service: Service, since: dt.datetime) -> list[MajorIncident]:
    on_service = Q(services=service.pk) | Q(cis=service.pk)
    ids = MajorIncident.objects.filter(on_service, outage_started_at__gte=since).values('pk')
    ongoing = MajorIncident.objects.filter(on_service, state__in=ACTIVE).values('pk')
    return list(public_incidents().filter(Q(pk__in=ids) | Q(pk__in=ongoing)))


def maintenances(
    *, states=(ChangeState.SCHEDULED,), now: dt.datetime | None = None, past_days: int = 0
) -> list[Change]:
    """Changes on public services in `states` whose window starts within UPCOMING_DAYS and ends after now (or
    after `past_days` ago); a change being implemented is shown whatever its window says.

    Only the title, the window and the public services are shown of them: nothing else of a change is public."""
    now = now or timezone.now()
    on_public = Q(services__service_details__public=True) | Q(cis__service_details__public=True)
    ids = Change.objects.filter(on_public).values('pk')
    window = Q(planned_start__lt=now + dt.timedelta(days=UPCOMING_DAYS)) & (
        Q(planned_end__gt=now - dt.timedelta(days=past_days)) | Q(state=ChangeState.IMPLEMENTATION)
    )
    changes = list(
        Change.objects.filter(window, pk__in=ids, state__in=states, planned_start__isnull=False)
        .prefetch_related(
            Prefetch('services', queryset=_public_service_cis().order_by('name'), to_attr='public_services'),
            Prefetch('cis', queryset=_public_service_cis().order_by('name'), to_attr='public_cis'),
        )
        .order_by('planned_start', 'pk')
    )
    for change in changes:
        change.public_service_names = [public_name(ci.service_details) for ci in maintenance_services(change)]
    return changes


def maintenance_services(change: Change) -> list[ConfigurationItem]:
    seen = {ci.pk: ci for ci in [*change.public_services, *change.public_cis]}
    return sorted(seen.values(), key=lambda ci: ci.name)


def incident_services(major: MajorIncident) -> list[ConfigurationItem]:
    return list(major.public_services)


def public_updates(limit: int = FEED_LIMIT) -> list[MajorIncidentUpdate]:
    """The newest public updates (the Atom feed)."""
    return list(
        MajorIncidentUpdate.objects.filter(audience=UpdateAudience.PUBLIC)
        .exclude(major_incident__state=MajorIncidentState.CANCELLED)
        .select_related('major_incident')
        .order_by('-posted_at', '-pk')[:limit]
    )


def last_public_update_at() -> dt.datetime | None:
    public = MajorIncidentUpdate.objects.filter(audience=UpdateAudience.PUBLIC)
    return public.aggregate(at=models.Max('posted_at'))['at']


def subscriber_list() -> QuerySet[Subscriber]:
    """Subscribers with where they stand and how many services they chose (none: every service)."""
    standing = models.Case(
        models.When(unsubscribed_at__isnull=False, then=models.Value('Unsubscribed')),
        models.When(confirmed_at__isnull=False, then=models.Value('Confirmed')),
        default=models.Value('Waiting for confirmation'),
        output_field=models.CharField(),
    )
    return Subscriber.objects.annotate(service_count=models.Count('services'), standing=standing).order_by('email')


def subscribers_for_update(update: MajorIncidentUpdate) -> QuerySet[Subscriber]:
    """Confirmed subscribers told about an update: those of every service, and those of one of its services."""
    major = update.major_incident
    service_ids = [s.pk for s in major.services.all()] + [c.pk for c in major.cis.all()]
    wanted = Subscriber.objects.filter(Q(services__isnull=True) | Q(services__in=service_ids)).values('pk')
    return Subscriber.objects.confirmed().filter(pk__in=wanted).order_by('pk')
