"""Every measure for a slice, its trend and breakdowns, the dashboards' bundles and the tickets behind a figure.

Pages, the metrics API, CSV exports and the e-mailed report all read through here; formulas live in
`reports.measures`, counter definitions in `reports.counters`, and `reports.engine` picks the rollups or the
tickets to compute them from.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone

from incidents.choices import OPEN_STATES, TicketChannel
from itsm.choices import TicketKind

from .choices import Breakdown, Interval, Source
from .counters import BASES, BREACHED, MET, Counters, merged
from .engine import Figures, NotRepresentable, Query, add_exact_percentiles, filter_q, filtered
from .measures import MEASURES, Measure, figures
from .models import Report, ReportSchedule
from .slices import Slice, local_zone, period_label, period_start

__all__ = [
    'AGE_BUCKETS',
    'ALL_BASES',
    'BreakdownRows',
    'agent_dashboard',
    'backlog',
    'breakdown',
    'clocks_behind',
    'drill_url',
    'drill_urls',
    'key_labels',
    'measure',
    'mttr_report',
    'overview',
    'period_drill_urls',
    'report_list',
    'schedule_list',
    'team_dashboard',
    'tickets_behind',
]

ALL_BASES = ('opened', 'accepted', 'completed', 'sla', 'ola', 'answer')
DURATIONS = ('resolve', 'accept')
# What a breakdown table shows, in column order.
TABLE_MEASURES = ('volume', 'mttr', 'mtta', 'sla_compliance', 'fcr', 'reopen_rate', 'reassignment_rate', 'answer_rate')
CLOCK_MEASURES = ('sla_compliance', 'ola_compliance', 'answer_rate')


@dataclass(frozen=True)
class AgeBucket:
    key: str
    label: str
    min_days: int
    max_days: int | None


AGE_BUCKETS = (
    AgeBucket('lt1d', 'Under 1 day', 0, 1),
    AgeBucket('1to3d', '1–3 days', 1, 3),
    AgeBucket('3to7d', '3–7 days', 3, 7),
    AgeBucket('7to30d', '7–30 days', 7, 30),
    AgeBucket('gt30d', 'Over 30 days', 30, None),
)
NONE_LABELS = {
    'group': 'No group',
    'service': 'No service',
    'category': 'No category',
    'agent': 'Unassigned',
    'agreement': 'Agreement removed',
    'channel': 'No channel',
    'kind': 'No kind',
}


#
# Links
#


def drill_url(measure: str, slice_: Slice, *, part: str = '', **params: Any) -> str:
    """The page listing the tickets (or SLA targets) behind a figure."""
    return drill_urls(slice_, [measure], part=part, **params)[measure]


def drill_urls(slice_: Slice, measures, *, part: str = '', **params: Any) -> dict[str, str]:
    """`drill_url` of several measures over the same slice (a table row's links), encoding the slice once."""
    base = urlencode(_drill_params(slice_, **{k: v for k, v in params.items() if k != 'agreement'}))
    path = _drill_path()
    return {m: f'{path}?{base}&{_drill_tail(m, part, params.get("agreement"))}' for m in measures}


def period_drill_urls(measure: str, slice_: Slice, periods, *, part: str = '') -> list[str]:
    """`drill_url` of one measure for each `(from, to)` of a trend (ISO dates): the slice's other parameters are
    encoded once for the whole series rather than once per point."""
    rest = urlencode({k: v for k, v in _drill_params(slice_).items() if k not in ('from', 'to')})
    tail, path = _drill_tail(measure, part), _drill_path()
    return [
        f'{path}?' + '&'.join(text for text in (urlencode({'from': first, 'to': last}), rest, tail) if text)
        for first, last in periods
    ]


def _drill_params(slice_: Slice, **overrides: Any) -> dict[str, str]:
    # The list behind a figure is always read from the tickets, whichever path computed the figure.
    return slice_.replace(source=Source.AUTO).params(**overrides)


def _drill_tail(measure: str, part: str = '', agreement: Any = None) -> str:
    tail = {'measure': measure, **({'part': part} if part else {})}
    if agreement not in (None, ''):
        tail['agreement'] = str(agreement)
    return urlencode(tail)


def _drill_path() -> str:
    return _tickets_path(get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)


@lru_cache(maxsize=8)
def _tickets_path(prefix: str, urlconf: str) -> str:
    """The drill-down page's path (a dashboard links to it hundreds of times; `reverse` is not free)."""
    return reverse('reports:tickets', urlconf=urlconf)


def _filter_params(dimension: str, key: Any) -> dict[str, Any]:
    """Slice parameters that narrow to one breakdown key ('' → tickets without one)."""
    if dimension == 'agreement':
        return {'agreement': key or 'none'}
    if dimension in ('priority', 'kind', 'channel'):
        return {dimension: key}
    return {dimension: key or 0}


#
# Labels
#


def key_labels(dimension: str, keys) -> dict[Any, str]:
    """Display names of breakdown keys (one query for the dimensions that name records)."""
    keys = list(keys)
    labels: dict[Any, str] = {}
    ids = [int(k) for k in keys if str(k).isdigit()]
    if dimension == 'priority':
        return {k: f'P{k}' for k in keys}
    if dimension == 'kind':
        return {k: dict(TicketKind.choices).get(k, NONE_LABELS['kind']) for k in keys}
    if dimension == 'channel':
        return {k: dict(TicketChannel.choices).get(k, k or NONE_LABELS['channel']) for k in keys}
    if dimension == 'group':
        from itsm.models import SupportGroup

        names = dict(SupportGroup.objects.filter(pk__in=ids).values_list('pk', 'name'))
    elif dimension == 'service':
        from cmdb.models import ConfigurationItem

        names = dict(ConfigurationItem.objects.filter(pk__in=ids).values_list('pk', 'name'))
    elif dimension == 'category':
        from incidents.models import Category

        names = dict(Category.objects.filter(pk__in=ids).values_list('pk', 'name'))
    elif dimension == 'agent':
        from itsm.models import User

        people = User.objects.filter(pk__in=ids).only('username', 'first_name', 'last_name')
        names = {person.pk: str(person) for person in people}
    elif dimension == 'agreement':
        from sla.models import ServiceLevelAgreement

        names = dict(ServiceLevelAgreement.objects.filter(pk__in=ids).values_list('pk', 'name'))
    else:
        names = {}
    for key in keys:
        if key in ('', None):
            labels[key] = NONE_LABELS.get(dimension, '—')
        else:
            labels[key] = names.get(int(key), f'#{key} (removed)') if str(key).isdigit() else str(key)
    return labels


#
# Measures
#


def _slice_meta(slice_: Slice, figures_: Figures | None) -> dict[str, Any]:
    return {
        'from': slice_.start.isoformat(),
        'to': slice_.end.isoformat(),
        'interval': slice_.interval,
        'filters': {k: list(v) if isinstance(v, tuple) else v for k, v in slice_.filters().items()},
        'source': figures_.source if figures_ else Source.LIVE,
        'as_of': figures_.as_of.isoformat() if figures_ and figures_.as_of else None,
    }


def _overall(query: Query, bases, durations, series: Figures) -> Counters:
    """The counters of the whole slice, merged from the trend; percentiles (which do not merge) apart."""
    if series.source == Source.LIVE and durations:
        return query.compute(bases, durations=durations).get(())
    overall = Figures(groups={(): merged(series.groups.values())}, source=series.source)
    if durations:
        add_exact_percentiles(query, [BASES[b] for b in bases], (), overall, durations)
    return overall.get(())


def _period_rows(slice_: Slice, series: Figures) -> list[tuple[dt.date, dt.date, Counters]]:
    return [(first, last, series.get((period_start(first, slice_.interval),))) for first, last in slice_.periods()]


def _trend(measure_: Measure, slice_: Slice, series: Figures) -> list[dict[str, Any]]:
    return [
        {
            'period': first.isoformat(),
            'label': period_label(period_start(first, slice_.interval), slice_.interval),
            'from': first.isoformat(),
            'to': last.isoformat(),
            **figures(measure_, counters),
        }
        for first, last, counters in _period_rows(slice_, series)
    ]


def measure(slug: str, slice_: Slice, *, query: Query | None = None) -> dict[str, Any]:
    """A measure over a slice: the overall figures, one entry per period, and what the measure means."""
    measure_ = MEASURES[slug]
    query = query or Query(slice_)
    if slug == 'backlog':
        return backlog(slice_, query=query)
    series = query.compute(measure_.bases, by=('period',), durations=measure_.durations)
    overall = _overall(query, measure_.bases, measure_.durations, series)
    payload = {
        'measure': slug,
        'label': measure_.label,
        'unit': measure_.unit,
        'definition': measure_.definition,
        'counted_on': measure_.counted_on,
        **_slice_meta(slice_, series),
        **figures(measure_, overall),
        'series': _trend(measure_, slice_, series),
    }
    if slug == 'sla_compliance':
        payload['agreements'] = breakdown(slice_, 'agreement', measures=('sla_compliance',), query=query)
    if slug == 'ola_compliance':
        payload['groups'] = breakdown(slice_, 'group', measures=('ola_compliance',), query=query)
    return payload


class BreakdownRows(list):
    """A breakdown's rows, and how many values of its dimension had figures (`total`): more than the rows when
    only the busiest were asked for."""

    def __init__(self, rows=(), total: int | None = None):
        super().__init__(rows)
        self.total = len(self) if total is None else total

    @property
    def limited(self) -> bool:
        return self.total > len(self)


def breakdown(
    slice_: Slice,
    by: str,
    *,
    measures: tuple[str, ...] = TABLE_MEASURES,
    query: Query | None = None,
    durations: tuple[str, ...] | None = None,
    limit: int | None = None,
) -> BreakdownRows:
    """One row per value of `by` (priority, group, agreement, ...): each measure's figures and its drill-down.

    With `limit`, only the busiest values (the order the rows come in) get rows: they are ranked first from the
    counters alone, which the database sums, and only their rollup rows are then read with their histograms. A
    year broken down by a thousand services reads a thousand services' histograms otherwise."""
    query = query or Query(slice_)
    chosen = [MEASURES[m] for m in measures]
    bases = [b for m in chosen for b in m.bases if BASES[b].supports(by) or by in ('priority', 'kind')]
    if durations is None:
        durations = tuple(d for m in chosen for d in m.durations)
    if limit is None:
        groups = _breakdown_groups(query, slice_, by, bases, durations)
        return BreakdownRows(_breakdown_rows(slice_, by, chosen, groups))
    # Ranked on counters only: the figures that order the rows (counts) need no histogram.
    ranked = _breakdown_rows(slice_, by, chosen, _breakdown_groups(query, slice_, by, bases, ()), urls=False)
    if not durations:
        return BreakdownRows(_with_urls(slice_, chosen, ranked[:limit]), total=len(ranked))
    keys = [row['key'] for row in ranked[:limit]] if len(ranked) > limit else None
    groups = _breakdown_groups(query, slice_, by, bases, durations, keys=keys)
    return BreakdownRows(_breakdown_rows(slice_, by, chosen, groups), total=len(ranked))


def _breakdown_groups(query: Query, slice_: Slice, by: str, bases, durations, keys=None) -> dict[tuple, Counters]:
    """The counters of each value of `by` that has any."""
    try:
        result = query.compute(bases, by=(by,), durations=durations, keys=keys)
    except NotRepresentable:
        # A forced `source=rollup` answers the headline figures; a breakdown they cannot hold comes live.
        live = Query(slice_.replace(source=Source.LIVE))
        result = live.compute(bases, by=(by,), durations=durations, keys=keys)
    counted = [name for base in dict.fromkeys(bases) for name in BASES[base].counters()]
    return {
        key: c
        for key, c in result.groups.items()
        if any(c[name] for name in counted) or any(e.get('count') for e in c.exact.values())
    }


def _breakdown_rows(
    slice_: Slice, by: str, chosen: list[Measure], groups: dict[tuple, Counters], *, urls: bool = True
) -> list[dict[str, Any]]:
    labels = key_labels(by, [key[0] for key in groups])
    rows = []
    for (key,), counters in groups.items():
        rows.append(
            {
                'key': key,
                'label': labels[key],
                'params': _filter_params(by, key),
                'figures': {m.slug: figures(m, counters) for m in chosen},
            }
        )
    if by == 'priority':
        rows.sort(key=lambda r: r['key'])
    else:
        rows.sort(key=lambda r: (-_weight(r['figures']), r['label'].lower()))
    return _with_urls(slice_, chosen, rows) if urls else rows


def _with_urls(slice_: Slice, chosen: list[Measure], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for row in rows:
        row['urls'] = drill_urls(slice_, [m.slug for m in chosen], **row['params'])
    return rows


def _weight(values: dict[str, dict]) -> int:
    """Bigger slices first: by the largest count any of their figures rests on."""
    counts = [0]
    for figure in values.values():
        counts += [int(figure.get(name) or 0) for name in ('opened', 'completed', 'count', 'total')]
    return max(counts)


#
# Backlog
#


def _open_tickets(slice_: Slice) -> QuerySet:
    from incidents.models import Ticket

    return Ticket.objects.filter(state__in=OPEN_STATES).filter(filter_q(BASES['opened'], slice_))


def _age_condition(bucket: AgeBucket, now: dt.datetime) -> Q:
    condition = Q(opened_at__lte=now - dt.timedelta(days=bucket.min_days))
    if bucket.max_days is not None:
        condition &= Q(opened_at__gt=now - dt.timedelta(days=bucket.max_days))
    return condition


def backlog(slice_: Slice, *, query: Query | None = None, series: Figures | None = None) -> dict[str, Any]:
    """Open tickets now by age, and how many were open at the end of each period of the slice.

    The trend is derived from the flows: open at the end of a period = open now − opened since + completed since.
    """
    now = timezone.now()
    query = query or Query(slice_)
    counts = _open_tickets(slice_).aggregate(
        total=Count('pk'), **{b.key: Count('pk', filter=_age_condition(b, now)) for b in AGE_BUCKETS}
    )
    if series is None:
        series = query.compute(('opened', 'completed'), by=('period',))
    today = timezone.localdate(timezone=local_zone())
    running = counts['total']
    if slice_.end < today:
        later = Query(slice_.replace(start=slice_.end + dt.timedelta(days=1), end=today))
        after = later.compute(('opened', 'completed')).get(())
        running -= after['opened'] - after['completed']
    trend = []
    for first, last, counters in reversed(_period_rows(slice_, series)):
        trend.append(
            {
                'period': first.isoformat(),
                'label': period_label(period_start(first, slice_.interval), slice_.interval),
                'from': first.isoformat(),
                'to': last.isoformat(),
                'backlog': running,
                'opened': int(counters['opened']),
                'completed': int(counters['completed']),
            }
        )
        running -= counters['opened'] - counters['completed']
    measure_ = MEASURES['backlog']
    return {
        'measure': 'backlog',
        'label': measure_.label,
        'unit': measure_.unit,
        'definition': measure_.definition,
        'counted_on': measure_.counted_on,
        **_slice_meta(slice_, series),
        'count': counts['total'],
        'buckets': [
            {
                'key': b.key,
                'label': b.label,
                'min_days': b.min_days,
                'max_days': b.max_days,
                'count': counts[b.key],
                'url': drill_url('backlog', slice_, part=b.key),
            }
            for b in AGE_BUCKETS
        ],
        'series': trend[::-1],
    }


#
# Dashboards
#


def _kpis(slice_: Slice, overall: Counters, backlog_: dict[str, Any], slugs) -> list[dict[str, Any]]:
    cards = []
    for slug in slugs:
        measure_ = MEASURES[slug]
        values = {'count': backlog_['count']} if slug == 'backlog' else figures(measure_, overall)
        cards.append(
            {
                'measure': measure_,
                'slug': slug,
                'figures': values,
                'value': values.get(measure_.headline),
                'url': drill_url(slug, slice_),
            }
        )
    return cards


OVERVIEW_KPIS = (
    'mttr',
    'mtta',
    'sla_compliance',
    'answer_rate',
    'fcr',
    'reopen_rate',
    'reassignment_rate',
    'backlog',
    'volume',
)


def _dashboard(slice_: Slice, query: Query, kpi_slugs) -> dict[str, Any]:
    series = query.compute(ALL_BASES, by=('period',), durations=DURATIONS)
    overall = _overall(query, ALL_BASES, DURATIONS, series)
    backlog_ = backlog(slice_, query=query, series=series)
    periods = _period_rows(slice_, series)
    trend = [
        {
            'period': first.isoformat(),
            'label': period_label(period_start(first, slice_.interval), slice_.interval),
            'from': first.isoformat(),
            'to': last.isoformat(),
            **{slug: figures(slug, counters) for slug in MEASURES if slug != 'backlog'},
        }
        for first, last, counters in periods
    ]
    for row, point in zip(trend, backlog_['series'], strict=True):
        row['backlog'] = point['backlog']
    return {
        'slice': slice_,
        'meta': _slice_meta(slice_, series),
        'as_of': series.as_of,
        'overall': overall,
        'kpis': _kpis(slice_, overall, backlog_, kpi_slugs),
        'trend': trend,
        'backlog': backlog_,
        'measures': MEASURES,
    }


def overview(
    slice_: Slice, *, breakdown_by: str = Breakdown.GROUP, breakdown_limit: int | None = None
) -> dict[str, Any]:
    """The managers' SLA/KPI overview: headline figures, trends, breakdowns, SLA and OLA tables, backlog. With
    `breakdown_limit`, the breakdown table holds only that many of the busiest values."""
    query = Query(slice_)
    data = _dashboard(slice_, query, OVERVIEW_KPIS)
    data['by_priority'] = breakdown(slice_, 'priority', query=query)
    data['breakdown_by'] = breakdown_by
    data['breakdown'] = (
        data['by_priority']
        if breakdown_by == Breakdown.PRIORITY
        else breakdown(slice_, breakdown_by, query=query, limit=breakdown_limit)
    )
    data['agreements'] = breakdown(slice_, 'agreement', measures=('sla_compliance',), query=query)
    data['ola_groups'] = breakdown(slice_, 'group', measures=('ola_compliance',), query=query)
    return data


def team_dashboard(group, slice_: Slice) -> dict[str, Any]:
    """A support group's dashboard for its lead: the group's figures, its OLA, and one row per agent."""
    slice_ = slice_.replace(group=group.pk)
    query = Query(slice_)
    data = _dashboard(slice_, query, OVERVIEW_KPIS)
    data['group'] = group
    data['ola'] = figures('ola_compliance', data['overall'])
    data['ola_url'] = drill_url('ola_compliance', slice_)
    data['by_agent'] = breakdown(slice_, 'agent', query=query)
    data['by_priority'] = breakdown(slice_, 'priority', query=query)
    return data


AGENT_KPIS = ('mttr', 'sla_compliance', 'reopen_rate', 'fcr', 'mtta', 'answer_rate', 'volume', 'backlog')


def agent_dashboard(person, slice_: Slice) -> dict[str, Any]:
    """A person's own KPIs over the tickets assigned to them, with the KRAs of their roles."""
    from .kras import kras_for

    slice_ = slice_.replace(agent=person.pk)
    query = Query(slice_)
    data = _dashboard(slice_, query, AGENT_KPIS)
    data['person'] = person
    values = {card['slug']: card for card in data['kpis']}
    data['kras'] = [
        {'kra': kra, 'cards': [values[slug] for slug in kra.measures if slug in values]} for kra in kras_for(person)
    ]
    data['by_priority'] = breakdown(slice_, 'priority', query=query)
    return data


#
# What lies behind a figure
#

TICKET_BASE = {
    'mttr': 'completed',
    'mtta': 'accepted',
    'fcr': 'completed',
    'reopen_rate': 'completed',
    'reassignment_rate': 'completed',
}
PARTS = {
    'fcr': {
        'first_time': Q(reassignment_count=0, reopen_count=0),
        'not_first_time': ~Q(reassignment_count=0, reopen_count=0),
    },
    'reopen_rate': {'reopened': Q(reopen_count__gt=0)},
    'reassignment_rate': {'reassigned': Q(reassignment_count__gt=0)},
    'sla_compliance': {
        'met': MET,
        'breached': BREACHED,
        'response_met': Q(kind='response') & MET,
        'response_breached': Q(kind='response') & BREACHED,
        'resolution_met': Q(kind='resolution') & MET,
        'resolution_breached': Q(kind='resolution') & BREACHED,
        'response': Q(kind='response'),
        'resolution': Q(kind='resolution'),
    },
    'ola_compliance': {'met': MET, 'breached': BREACHED},
    'answer_rate': {'answered_in_target': MET, 'answered_late': BREACHED},
}
CLOCK_BASE = {'sla_compliance': 'sla', 'ola_compliance': 'ola', 'answer_rate': 'answer'}


def tickets_behind(measure_: str, slice_: Slice, *, part: str = '', user=None) -> QuerySet:
    """The tickets a ticket-counted figure was computed from (live, so the list is current). With `user`, only
    those they may see (`visible_to`): a figure counts security incidents, its list names them only to those
    cleared for them."""
    from incidents import selectors as ticket_selectors

    tickets = ticket_selectors.ticket_list(user=user, many=True)
    now = timezone.now()
    if measure_ == 'backlog':
        rows = _open_tickets(slice_)
        bucket = next((b for b in AGE_BUCKETS if b.key == part), None)
        if bucket is not None:
            rows = rows.filter(_age_condition(bucket, now))
        return tickets.filter(pk__in=rows.values('pk')).order_by('opened_at', 'id')
    if measure_ == 'volume':
        base_name = 'opened' if part != 'completed' else 'completed'
    else:
        base_name = TICKET_BASE[measure_]
    rows = filtered(BASES[base_name], slice_)
    condition = PARTS.get(measure_, {}).get(part)
    if condition is not None:
        rows = rows.filter(condition)
    at = BASES[base_name].at
    tickets = tickets.filter(pk__in=rows.values('pk'))
    if measure_ in ('mttr', 'mtta'):
        tickets = tickets.annotate(duration=ExpressionWrapper(F(at) - F('opened_at'), output_field=DurationField()))
        return tickets.order_by('-duration', 'id')
    return tickets.order_by(f'-{at}', '-id')


def clocks_behind(measure_: str, slice_: Slice, *, part: str = '', agreement: int | None = None, user=None) -> QuerySet:
    """The SLA or OLA clocks a compliance or answer-rate figure counted, each with its ticket (`record`, with the
    group and assignee it shows: one query for a page's tickets). With `user`, only clocks of tickets they may see
    (`visible_to`): the figure still counts a security incident, its list names it only to those cleared for it."""
    from django.contrib.contenttypes.prefetch import GenericPrefetch

    from incidents.models import Ticket
    from sla import selectors as sla_selectors

    base = BASES[CLOCK_BASE[measure_]]
    rows = filtered(base, slice_)
    condition = PARTS.get(measure_, {}).get(part)
    if condition is not None:
        rows = rows.filter(condition)
    if agreement is not None:
        rows = rows.filter(sla__isnull=True) if agreement == 0 else rows.filter(sla_id=agreement)
    tickets = Ticket.objects.select_related('assignment_group', 'assignee')
    if user is not None:
        rows = rows.filter(ticket__in=Ticket.objects.visible_to(user).values('pk'))
    return (
        sla_selectors.clock_list()
        .prefetch_related(None)
        .prefetch_related(GenericPrefetch('record', [tickets]))
        .filter(pk__in=rows.values('pk'))
        .order_by('ticket__opened_at', 'id')
    )


#
# The MTTR report
#


def mttr_report(slice_: Slice, slices: list[str]) -> dict[str, Any]:
    """What an MTTR report holds (JSON-ready): the overall figures, one row per period and per slice value."""
    query = Query(slice_)
    overall = measure('mttr', slice_, query=query)
    by_slice = {}
    for dimension in slices:
        rows = breakdown(slice_, dimension, measures=('mttr',), query=query)
        by_slice[dimension] = [
            {'key': str(row['key']), 'label': row['label'], **row['figures']['mttr']} for row in rows
        ]
    return {**overall, 'slices': by_slice}


#
# Schedules and reports
#


def schedule_list() -> QuerySet[ReportSchedule]:
    return ReportSchedule.objects.select_related('owner', 'group', 'service', 'category')


def report_list() -> QuerySet[Report]:
    return Report.objects.select_related('schedule', 'created_by')


def interval_choices() -> list[tuple[str, str]]:
    return list(Interval.choices)
