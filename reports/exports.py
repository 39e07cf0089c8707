"""CSV of every table the dashboards show, of the tickets behind a figure, and of the MTTR report.

Each writer takes what the selectors returned, so a CSV always holds the figures of the page it came from.
Nested figures (SLA response and resolution) become `response_percent`-style columns.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.utils import timezone

__all__ = [
    'backlog_csv',
    'breakdown_csv',
    'clocks_csv',
    'csv_response',
    'kpis_csv',
    'report_csv',
    'spreadsheet_safe',
    'tickets_csv',
    'trend_csv',
]

# A spreadsheet runs a cell that starts with one of these as a formula, so text from people (a ticket's title, a
# group's name) could reach a manager's spreadsheet as `=HYPERLINK(...)`. Such text is written with a leading
# apostrophe: the spreadsheet shows it as typed and runs nothing. Numbers (negative ones too) stay numbers.
FORMULA_TRIGGERS = ('=', '+', '-', '@', '\t', '\r')


def spreadsheet_safe(value: Any) -> Any:
    if value is None:
        return ''
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_TRIGGERS) else text


def _flat(values: dict[str, Any], prefix: str = '') -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f'{prefix}{name}_'))
        elif not isinstance(value, list):
            flat[f'{prefix}{name}'] = value
    return flat


def _write(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([spreadsheet_safe(value) for value in row])
    return buffer.getvalue()


def csv_response(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type='text/csv; charset=utf-8')
    response['Content-Disposition'] = f'attachment; filename="{filename}"'
    return response


def kpis_csv(kpis: list[dict[str, Any]]) -> str:
    rows = []
    for card in kpis:
        measure = card['measure']
        for name, value in _flat(card['figures']).items():
            rows.append([measure.slug, measure.label, name, value, measure.unit if name == measure.headline else ''])
    return _write(['measure', 'label', 'figure', 'value', 'unit'], rows)


def trend_csv(trend: list[dict[str, Any]]) -> str:
    flat = [_flat(point) for point in trend]
    header = list(dict.fromkeys(name for row in flat for name in row))
    return _write(header, ([row.get(name) for name in header] for row in flat))


def breakdown_csv(rows: list[dict[str, Any]], by: str) -> str:
    flat = [{by: row['label'], f'{by}_key': row['key'], **_flat(row['figures'])} for row in rows]
    header = list(dict.fromkeys(name for row in flat for name in row)) or [by]
    return _write(header, ([row.get(name) for name in header] for row in flat))


def backlog_csv(backlog: dict[str, Any]) -> str:
    rows = [['age', b['label'], b['count']] for b in backlog['buckets']]
    rows += [['open at end of period', p['label'], p['backlog']] for p in backlog['series']]
    return _write(['table', 'label', 'tickets'], rows)


def _local(moment) -> str:
    return timezone.localtime(moment).strftime('%Y-%m-%d %H:%M:%S') if moment else ''


def tickets_csv(tickets) -> str:
    def rows():
        for t in tickets:
            duration = getattr(t, 'duration', None)
            yield [
                t.number,
                t.kind,
                f'P{t.priority}',
                t.state,
                t.short_description,
                t.assignment_group or '',
                t.assignee or '',
                t.service or '',
                t.category or '',
                t.channel,
                _local(t.opened_at),
                _local(t.accepted_at),
                _local(t.completed_at),
                t.reassignment_count,
                t.reopen_count,
                round(duration.total_seconds() / 3600, 2) if duration is not None else '',
            ]

    header = [
        'number',
        'kind',
        'priority',
        'state',
        'short_description',
        'group',
        'assignee',
        'service',
        'category',
        'channel',
        'opened_at',
        'accepted_at',
        'completed_at',
        'reassignments',
        'reopens',
        'hours',
    ]
    return _write(header, rows())


def clocks_csv(clocks) -> str:
    def rows():
        for c in clocks:
            breached = c.breached
            yield [
                c.record.number,
                c.name,
                c.kind,
                'breached' if breached else 'met',
                c.target_minutes,
                _local(c.started_at),
                _local(c.stopped_at),
                _local(c.breached_at),
                c.record.assignment_group or '',
                c.record.assignee or '',
            ]

    header = [
        'ticket',
        'target',
        'kind',
        'outcome',
        'target_minutes',
        'started_at',
        'stopped_at',
        'breached_at',
        'group',
        'assignee',
    ]
    return _write(header, rows())


def report_csv(content: dict[str, Any]) -> str:
    """The MTTR report's CSV: one row overall, one per period, one per value of each chosen slice."""
    fields = ('count', 'mean_hours', 'median_hours', 'p90_hours')
    rows = [['overall', 'All tickets', '', *(content.get(f) for f in fields)]]
    rows += [['period', p['label'], p['period'], *(p.get(f) for f in fields)] for p in content.get('series', [])]
    for dimension, values in content.get('slices', {}).items():
        rows += [[dimension, v['label'], v['key'], *(v.get(f) for f in fields)] for v in values]
    header = ['slice', 'value', 'key', 'tickets_completed', 'mean_hours', 'median_hours', 'p90_hours']
    return _write(header, rows)
