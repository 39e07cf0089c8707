"""Template helpers of the dashboards: figures with units, query strings from dicts."""

from __future__ import annotations

from urllib.parse import urlencode

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

register = template.Library()

EMPTY = mark_safe('<span class="text-secondary" title="No tickets to measure">—</span>')
UNITS = {'hours': 'h', '%': '%', 'tickets': '', 'per ticket': ''}


@register.filter
def query(params: dict, extra: str = '') -> str:
    """`{{ export_query|query }}` → `from=...&to=...` (plus `extra`, a ready query string)."""
    text = urlencode({k: v for k, v in (params or {}).items() if v not in (None, '')})
    return '&'.join(part for part in (text, extra) if part)


@register.filter
def figure(value, unit: str = ''):
    """A figure with its unit: 11.25 h, 66.7 %, 42; a dash when there is nothing to measure."""
    if value is None or value == '':
        return EMPTY
    suffix = UNITS.get(unit, unit)
    if isinstance(value, float) and value.is_integer() and unit not in ('hours', '%'):
        value = int(value)
    # Drawn thousands of times on a dashboard: escaped directly rather than through `format_html`.
    text = conditional_escape(value)
    if not suffix:
        return text
    return mark_safe(f'{text}<span class="pc-unit">&#8239;{conditional_escape(suffix)}</span>')


@register.filter
def pick(mapping, key):
    """`{{ row.figures|pick:'mttr' }}`: a value of a dict by a variable key."""
    return mapping.get(key) if hasattr(mapping, 'get') else None


@register.filter
def duration_hours(value) -> str:
    """A timedelta as hours with two decimals (how MTTR and MTTA are given)."""
    if value is None:
        return '—'
    return f'{value.total_seconds() / 3600:.2f}'
