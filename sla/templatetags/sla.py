"""`{% load sla %}`: SLA badges with a live countdown for queues and record pages, and the per-record SLA panel.

{% sla_badges record %}      badges of the record's open clocks (uses the clocks the queue's selector prefetches,
                             e.g. `incidents.selectors`, so a queue page costs one query for every row's badges)
{% sla_forecast record %}    "likely to breach" with the queue forecast's reason, when it flagged a clock (no query:
                             the same prefetched clocks)
{% sla_panel record %}       a card with every clock, its progress and its history (pauses, warnings)

`record` is any process record (a ticket, a problem...).
"""

from __future__ import annotations

from django import template
from django.template.loader import render_to_string
from django.urls import NoReverseMatch
from django.utils import timezone

from ..badges import badges_for, forecast_badge, format_clock_time, format_duration, format_target
from ..models import format_minutes
from ..selectors import clocks_for_record, record_clocks

register = template.Library()

SCRIPT_KEY = 'sla_countdown_script'


def _script_once(context) -> bool:
    """The countdown script is written with the first badges of a page (and again in htmx partials). The flag
    lives in the render context's root, so includes rendered in a loop share it."""
    root = context.render_context.dicts[0]
    if root.get(SCRIPT_KEY):
        return False
    root[SCRIPT_KEY] = True
    return True


@register.simple_tag(takes_context=True)
def sla_badges(context, record, include_stopped: bool = False):
    clocks = record_clocks(record)
    badges = badges_for(clocks, include_stopped=include_stopped)
    if not badges:
        return ''
    return render_to_string('sla/_badge_list.html', {'badges': badges, 'script': _script_once(context)})


@register.simple_tag
def sla_forecast(record):
    clocks = record_clocks(record)
    badge = forecast_badge(clocks)
    if badge is None:
        return ''
    return render_to_string('sla/_forecast_badge.html', {'badge': badge})


@register.filter
def sla_forecast_text(clock) -> str:
    """The queue forecast's reason for a flagged clock ('' when it is not flagged)."""
    from ..forecast import forecast_text

    return forecast_text(clock)


@register.simple_tag(takes_context=True)
def sla_panel(context, record):
    now = timezone.now()
    clocks = clocks_for_record(record)
    rows = []
    for clock in clocks:
        elapsed = clock.elapsed_at(now)
        rows.append(
            {
                'clock': clock,
                'badge': badges_for([clock], now=now, include_stopped=True)[0],
                'elapsed': format_clock_time(elapsed.total_seconds(), clock.calendar),
                'percent': min(100, round(clock.percent_at(now))),
                'target': format_target(clock.target_minutes, clock.calendar),
            }
        )
    context_data = {
        'rows': rows,
        'record': record,
        'noun': record._meta.verbose_name,
        'script': _script_once(context),
        'request': context.get('request'),
    }
    return render_to_string('sla/_panel_body.html', context_data)


@register.filter
def sla_duration(seconds, calendar=None) -> str:
    """Seconds (or a timedelta) of wall-clock time as '1h 30m'; `{{ seconds|sla_duration:calendar }}` counts them on
    the calendar ('2 business hours 15 min' on business hours, '1d 6h' round the clock)."""
    if hasattr(seconds, 'total_seconds'):
        seconds = seconds.total_seconds()
    if calendar is not None:
        return format_clock_time(seconds or 0, calendar)
    return format_duration(seconds or 0)


@register.filter
def sla_target(minutes, calendar=None) -> str:
    """A target in minutes: `{{ minutes|sla_target:calendar }}` gives '30 business hours' on a business calendar
    and '1d 6h' round the clock; without a calendar, '4h', '1d 2h 30m'."""
    if calendar is not None:
        return format_target(minutes, calendar)
    return format_minutes(minutes)


@register.filter
def sla_badge(clock):
    """The badge of one clock (for table cells)."""
    return badges_for([clock], include_stopped=True)[0]


@register.filter
def record_url(record) -> str:
    """A record's page, or '' where its pages are not installed (or the record is gone)."""
    try:
        return record.get_absolute_url() if record is not None else ''
    except (NoReverseMatch, AttributeError):
        return ''
