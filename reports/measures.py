"""The measures of domain §11 as data: name, unit, the written definition people read in the dashboards'
help and in reports/README.md, which bases feed them and how their figures follow from the counters.

`figures(measure, counters)` is the one place each formula lives; selectors, the API, CSV exports and the
e-mailed report all call it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .counters import Counters

__all__ = ['MEASURES', 'Measure', 'figures', 'hours', 'percent']


def hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def percent(part: float, whole: float) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _duration(counters: Counters, *, count: str, total: str, duration: str) -> dict[str, Any]:
    n, seconds = counters.duration_totals(duration, count=count, total=total)
    return {
        'count': n,
        'mean_hours': hours(seconds / n) if n else None,
        'median_hours': hours(counters.percentile(duration, 0.5)) if n else None,
        'p90_hours': hours(counters.percentile(duration, 0.9)) if n else None,
    }


def _mttr(c: Counters) -> dict[str, Any]:
    return _duration(c, count='completed', total='resolve_seconds', duration='resolve')


def _mtta(c: Counters) -> dict[str, Any]:
    return _duration(c, count='accepted', total='accept_seconds', duration='accept')


def _compliance(met: float, breached: float) -> dict[str, Any]:
    return {
        'met': int(met),
        'breached': int(breached),
        'total': int(met + breached),
        'percent': percent(met, met + breached),
    }


def _sla(c: Counters) -> dict[str, Any]:
    response = _compliance(c['response_met'], c['response_breached'])
    resolution = _compliance(c['resolution_met'], c['resolution_breached'])
    overall = _compliance(response['met'] + resolution['met'], response['breached'] + resolution['breached'])
    return {'percent': overall['percent'], 'response': response, 'resolution': resolution, 'overall': overall}


def _ola(c: Counters) -> dict[str, Any]:
    return _compliance(c['ola_met'], c['ola_breached'])


def _fcr(c: Counters) -> dict[str, Any]:
    return {
        'completed': int(c['completed']),
        'first_time': int(c['first_time']),
        'percent': percent(c['first_time'], c['completed']),
    }


def _reopen(c: Counters) -> dict[str, Any]:
    return {
        'completed': int(c['completed']),
        'reopened': int(c['reopened']),
        'percent': percent(c['reopened'], c['completed']),
    }


def _reassignment(c: Counters) -> dict[str, Any]:
    completed = int(c['completed'])
    return {
        'completed': completed,
        'reassigned': int(c['reassigned']),
        'reassignments': int(c['reassignments']),
        'percent': percent(c['reassigned'], completed),
        'per_ticket': round(c['reassignments'] / completed, 2) if completed else None,
    }


def _volume(c: Counters) -> dict[str, Any]:
    return {'opened': int(c['opened']), 'completed': int(c['completed'])}


def _answer(c: Counters) -> dict[str, Any]:
    answered, late = int(c['answered_in_target']), int(c['answered_late'])
    return {
        'opened': int(c['opened']),
        'answered_in_target': answered,
        'answered_late': late,
        'decided': answered + late,
        'percent': percent(answered, answered + late),
    }


@dataclass(frozen=True)
class Measure:
    """One measure: how it is named and explained, what it is counted from and its headline figure."""

    slug: str
    label: str
    unit: str  # 'hours', '%', 'tickets', 'per ticket'
    definition: str
    counted_on: str  # which day a ticket or clock counts on
    bases: tuple[str, ...]
    formula: Callable[[Counters], dict[str, Any]]
    headline: str  # the key of the figure shown big on a card
    durations: tuple[str, ...] = ()
    higher_is_better: bool = True
    in_api: bool = True
    # Parts of the figure a drill-down can list ('' = every ticket behind the figure).
    parts: dict[str, str] = field(default_factory=dict)


MEASURES: dict[str, Measure] = {
    m.slug: m
    for m in [
        Measure(
            slug='mttr',
            label='MTTR',
            unit='hours',
            definition=(
                'Mean time to resolve: the average time from when a ticket was opened to when it was completed '
                '(service restored or a fix in place), over the tickets completed in the period, shown with the '
                'median and the 90th percentile. It is calendar time, including time spent Pending. A reopened '
                'ticket counts once, at its latest completion, with the whole time since it was opened; tickets '
                'still open never count.'
            ),
            counted_on='the day the ticket was completed',
            bases=('completed',),
            formula=_mttr,
            headline='mean_hours',
            durations=('resolve',),
            higher_is_better=False,
        ),
        Measure(
            slug='mtta',
            label='MTTA',
            unit='hours',
            definition=(
                'Mean time to accept: the average time from when a ticket was opened to when a member of the '
                'assigned group first accepted it, over the tickets first accepted in the period, shown with the '
                'median and the 90th percentile. Calendar time.'
            ),
            counted_on='the day the ticket was first accepted',
            bases=('accepted',),
            formula=_mtta,
            headline='mean_hours',
            durations=('accept',),
            higher_is_better=False,
        ),
        Measure(
            slug='sla_compliance',
            label='SLA compliance',
            unit='%',
            definition=(
                'The share of SLA targets met: among the response (opened to accepted) and resolution (opened to '
                'completed) clocks decided in the period, because they stopped or breached, the share that did '
                "not breach. Clocks count business time on their agreement's calendar and pause while the "
                'ticket waits (Pending). Shown for response and resolution apart, and per agreement.'
            ),
            counted_on='the day the clock stopped, or breached if it did',
            bases=('sla',),
            formula=_sla,
            headline='percent',
            parts={
                'met': 'met',
                'breached': 'breached',
                'response': 'response targets',
                'resolution': 'resolution targets',
                'response_met': 'response met',
                'response_breached': 'response breached',
                'resolution_met': 'resolution met',
                'resolution_breached': 'resolution breached',
            },
        ),
        Measure(
            slug='ola_compliance',
            label='OLA compliance',
            unit='%',
            definition=(
                "The share of OLA targets a support group met while it held the ticket: among the group's accept "
                'and resolve clocks decided in the period, the share that did not breach. A ticket handed on to '
                'another group before its target ran out counts for neither. By group, this is the group that '
                'held the ticket.'
            ),
            counted_on='the day the clock stopped, or breached if it did',
            bases=('ola',),
            formula=_ola,
            headline='percent',
            parts={'met': 'met', 'breached': 'breached'},
        ),
        Measure(
            slug='fcr',
            label='First-contact resolution',
            unit='%',
            definition=(
                'The share of tickets completed in the period that the first group they were assigned to '
                'resolved: never reassigned to another group and never reopened.'
            ),
            counted_on='the day the ticket was completed',
            bases=('completed',),
            formula=_fcr,
            headline='percent',
            parts={'first_time': 'resolved at first contact', 'not_first_time': 'not resolved at first contact'},
        ),
        Measure(
            slug='reopen_rate',
            label='Reopen rate',
            unit='%',
            definition=(
                'The share of tickets completed in the period that had been reopened at least once: the caller '
                'rejected an earlier resolution. A reopened ticket counts again once it is completed again.'
            ),
            counted_on='the day the ticket was completed',
            bases=('completed',),
            formula=_reopen,
            headline='percent',
            higher_is_better=False,
            parts={'reopened': 'reopened'},
        ),
        Measure(
            slug='reassignment_rate',
            label='Reassignment rate',
            unit='%',
            definition=(
                'The share of tickets completed in the period that moved to another group at least once '
                '(a reassignment or a functional escalation), with the average number of moves per ticket.'
            ),
            counted_on='the day the ticket was completed',
            bases=('completed',),
            formula=_reassignment,
            headline='percent',
            higher_is_better=False,
            parts={'reassigned': 'reassigned'},
        ),
        Measure(
            slug='backlog',
            label='Backlog',
            unit='tickets',
            definition=(
                'Tickets open now (New, Assigned, Accepted or Pending) by age since they were opened: under 1 day, '
                '1 to 3 days, 3 to 7 days, 7 to 30 days and over 30 days. The trend shows how many were open at '
                'the end of each period.'
            ),
            counted_on='now, and the end of each period for the trend',
            bases=('opened', 'completed'),
            formula=_volume,
            headline='count',
            higher_is_better=False,
        ),
        Measure(
            slug='volume',
            label='Volume',
            unit='tickets',
            definition='Tickets opened and tickets completed in each period.',
            counted_on='the day the ticket was opened, and the day it was completed',
            bases=('opened', 'completed'),
            formula=_volume,
            headline='opened',
            parts={'opened': 'opened', 'completed': 'completed'},
        ),
        Measure(
            slug='answer_rate',
            label='Answer rate',
            unit='%',
            definition=(
                'The share of tickets opened in the period that were accepted within their SLA response target, '
                'among those whose response is decided (accepted, or past the target). Tickets without an SLA do '
                'not count. Read it with the volume opened beside it: a very high rate on a busy desk can also '
                'mean tickets are accepted in a rush.'
            ),
            counted_on='the day the ticket was opened',
            bases=('answer', 'opened'),
            formula=_answer,
            headline='percent',
            parts={'answered_in_target': 'accepted within target', 'answered_late': 'accepted late or not yet'},
        ),
    ]
}

API_MEASURES = tuple(slug for slug, measure in MEASURES.items() if measure.in_api)


def figures(measure: str | Measure, counters: Counters) -> dict[str, Any]:
    """A measure's figures from counters (the single definition of each formula)."""
    measure = MEASURES[measure] if isinstance(measure, str) else measure
    return measure.formula(counters)
