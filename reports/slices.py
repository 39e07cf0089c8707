"""A slice of the desk's tickets: a date range, a trend interval and filters, as pages, the API, CSV exports
and reports ask for it. `SliceForm` parses query parameters (`from`, `to`, `interval`, `priority`, ...) and
names each bad one; `Slice` is the validated value every selector takes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from incidents.choices import TicketChannel
from itsm.choices import TicketKind

from .choices import Breakdown, Interval, Source

__all__ = ['DEFAULT_DAYS', 'PARAMETERS', 'Slice', 'SliceForm', 'local_zone', 'parse_slice']

DEFAULT_DAYS = 30
# The filter value selecting tickets without a group, service, category or assignee (stored as 0).
NONE = 'none'
MAX_DAYS = 366 * 10
# Days a report may name: arithmetic on the calendar's first and last days (0001-01-01, 9999-12-31) overflows, and
# no desk has tickets outside these.
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2999, 12, 31)


class ReportDateField(forms.DateField):
    """A day as YYYY-MM-DD between FIRST_DAY and LAST_DAY."""

    def __init__(self, **kwargs):
        kwargs.setdefault('input_formats', ['%Y-%m-%d'])
        super().__init__(**kwargs)
        self.error_messages['invalid'] = 'Give a date as YYYY-MM-DD.'

    def validate(self, value):
        super().validate(value)
        if value is not None and not FIRST_DAY <= value <= LAST_DAY:
            raise ValidationError(f'Give a date between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}.')


FILTERS = ('kind', 'priority', 'group', 'service', 'category', 'channel', 'agent')
PARAMETERS = ('from', 'to', 'interval', *FILTERS, 'source')


def local_zone() -> ZoneInfo:
    """Days, weeks and months are those of the desk's time zone (TIME_ZONE)."""
    return ZoneInfo(settings.TIME_ZONE)


def start_of(day: dt.date) -> dt.datetime:
    """Local midnight at the start of `day`, as an aware datetime (DST-safe)."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=local_zone())


def local_day(moment: dt.datetime | None) -> dt.date | None:
    return moment.astimezone(local_zone()).date() if moment is not None else None


def period_start(day: dt.date, interval: str) -> dt.date:
    if interval == Interval.WEEK:
        return day - dt.timedelta(days=day.weekday())
    if interval == Interval.MONTH:
        return day.replace(day=1)
    return day


def next_period(start: dt.date, interval: str) -> dt.date:
    if interval == Interval.WEEK:
        return start + dt.timedelta(days=7)
    if interval == Interval.MONTH:
        return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return start + dt.timedelta(days=1)


def period_label(start: dt.date, interval: str) -> str:
    if interval == Interval.WEEK:
        return f'Week of {start:%d %b %Y}'.replace(' 0', ' ')
    if interval == Interval.MONTH:
        return f'{start:%b %Y}'
    return start.isoformat()


@dataclass(frozen=True)
class Slice:
    """Which tickets a figure covers: days `start`..`end` (both included) and the filters; `interval` buckets
    trends. Filters hold ids (group, service, category, agent), codes (kind, channel) or priorities."""

    start: dt.date
    end: dt.date
    interval: str = Interval.DAY
    kind: str = ''
    priorities: tuple[int, ...] = ()
    group: int | None = None
    service: int | None = None
    category: int | None = None
    channel: str = ''
    agent: int | None = None
    source: str = Source.AUTO

    @classmethod
    def last_days(cls, days: int = DEFAULT_DAYS, **kwargs) -> Slice:
        today = timezone.localdate(timezone=local_zone())
        return cls(start=today - dt.timedelta(days=days - 1), end=today, **kwargs)

    def replace(self, **changes) -> Slice:
        return dataclasses.replace(self, **changes)

    @property
    def start_at(self) -> dt.datetime:
        return start_of(self.start)

    @property
    def end_at(self) -> dt.datetime:
        """The instant the slice ends (exclusive): midnight after its last day."""
        return start_of(self.end + dt.timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def filters(self) -> dict[str, Any]:
        """{dimension: value} of the filters set (priority as a tuple of priorities)."""
        values = {
            'kind': self.kind,
            'priority': self.priorities,
            'group': self.group,
            'service': self.service,
            'category': self.category,
            'channel': self.channel,
            'agent': self.agent,
        }
        return {name: value for name, value in values.items() if value not in (None, '', ())}

    def periods(self) -> list[tuple[dt.date, dt.date]]:
        """(first, last) day of each trend period that overlaps the slice, clipped to it."""
        result = []
        start = period_start(self.start, self.interval)
        while start <= self.end:
            following = next_period(start, self.interval)
            result.append((max(start, self.start), min(following - dt.timedelta(days=1), self.end)))
            start = following
        return result

    def within(self, field: str):
        """A filter on `field` (a moment) lying inside the slice."""
        from django.db.models import Q

        return Q(**{f'{field}__gte': self.start_at, f'{field}__lt': self.end_at})

    def period_of(self, moment: dt.datetime) -> dt.date:
        """The first day of the trend period `moment` falls in (in the desk's time zone)."""
        return period_start(local_day(moment), self.interval)

    def series(self, per_period) -> list[dict[str, Any]]:
        """One entry per period of the slice: `per_period(start_of_period)` answers its figures."""
        rows = []
        for first, last in self.periods():
            key = period_start(first, self.interval)
            rows.append(
                {
                    'period': first.isoformat(),
                    'label': period_label(key, self.interval),
                    'from': first.isoformat(),
                    'to': last.isoformat(),
                    **per_period(key),
                }
            )
        return rows

    def params(self, **overrides: Any) -> dict[str, str]:
        """The slice as query parameters (for links between pages, exports and the API)."""
        values: dict[str, Any] = {
            'from': self.start.isoformat(),
            'to': self.end.isoformat(),
            'interval': self.interval,
            'kind': self.kind,
            'priority': ','.join(str(p) for p in self.priorities),
            'group': self.group,
            'service': self.service,
            'category': self.category,
            'channel': self.channel,
            'agent': self.agent,
        }
        if self.source != Source.AUTO:
            values['source'] = self.source
        values.update(overrides)
        for name in ('group', 'service', 'category', 'agent'):
            if values.get(name) == 0:
                values[name] = NONE
        return {name: str(value) for name, value in values.items() if value not in (None, '')}


def default_interval(start: dt.date, end: dt.date) -> str:
    days = (end - start).days + 1
    if days <= 62:
        return Interval.DAY
    return Interval.WEEK if days <= 400 else Interval.MONTH


class SliceForm(forms.Form):
    """The filter bar of the dashboards and the query parameters of the metrics API.

    Groups and categories may be given by id or name, services by id or CI number, agents by id or username
    (`none` for tickets without one), priorities as `1`, `P1` or a list `0,1`.
    """

    interval = forms.ChoiceField(choices=[('', 'Automatic'), *Interval.choices], required=False)
    kind = forms.ChoiceField(label='Kind', choices=[('', 'Incidents and cases'), *TicketKind.choices], required=False)
    priority = forms.CharField(required=False, help_text='0–4 or P0–P4; several separated by commas.')
    group = forms.CharField(required=False)
    service = forms.CharField(required=False)
    category = forms.CharField(required=False)
    channel = forms.ChoiceField(choices=[('', 'Any'), *TicketChannel.choices], required=False)
    agent = forms.CharField(required=False)
    source = forms.ChoiceField(choices=Source.choices, required=False)
    breakdown = forms.ChoiceField(choices=Breakdown.choices, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # `from` is a Python keyword, so the date fields are added here rather than declared.
        self.fields = {
            'from': ReportDateField(label='From', required=False),
            'to': ReportDateField(label='To', required=False),
            **self.fields,
        }

    def clean_priority(self) -> tuple[int, ...]:
        text = (self.cleaned_data.get('priority') or '').strip()
        if not text:
            return ()
        values = []
        for part in text.split(','):
            part = part.strip().upper().removeprefix('P')
            if not part.isdigit() or int(part) not in range(5):
                raise ValidationError('Give priorities 0–4 (or P0–P4), separated by commas.')
            values.append(int(part))
        return tuple(sorted(set(values)))

    def _lookup(self, name: str, queryset, *, text_field: str, label: str) -> int | None:
        value = (self.cleaned_data.get(name) or '').strip()
        if not value:
            return None
        if value.lower() == NONE:
            return 0
        found = queryset.filter(pk=int(value)) if value.isdigit() else queryset.filter(**{text_field: value})
        pk = found.values_list('pk', flat=True).first()
        if pk is None:
            raise ValidationError(f'No {label} "{value}".')
        return pk

    def clean_group(self):
        from itsm.models import SupportGroup

        return self._lookup('group', SupportGroup.objects.all(), text_field='name__iexact', label='support group')

    def clean_service(self):
        from cmdb.models import ConfigurationItem

        services = ConfigurationItem.objects.filter(ci_class='service')
        return self._lookup('service', services, text_field='number__iexact', label='service')

    def clean_category(self):
        from incidents.models import Category

        # Rollups hold top-level categories; a subcategory is a finer cut than they keep.
        categories = Category.objects.filter(parent__isnull=True)
        return self._lookup('category', categories, text_field='name__iexact', label='top-level category')

    def clean_agent(self):
        from itsm.models import User

        return self._lookup('agent', User.objects.all(), text_field='username__iexact', label='person')

    def clean(self):
        data = super().clean()
        today = timezone.localdate(timezone=local_zone())
        start, end = data.get('from'), data.get('to')
        if 'from' in self.errors or 'to' in self.errors:
            return data
        if end is None:
            end = today if start is None or start <= today else start + dt.timedelta(days=DEFAULT_DAYS - 1)
        if start is None:
            start = end - dt.timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            self.add_error('from', 'The start lies after the end.')
        elif (end - start).days + 1 > MAX_DAYS:
            self.add_error('from', f'A slice covers at most {MAX_DAYS} days.')
        data['from'], data['to'] = start, end
        return data

    def to_slice(self) -> Slice:
        data = self.cleaned_data
        return Slice(
            start=data['from'],
            end=data['to'],
            interval=data.get('interval') or default_interval(data['from'], data['to']),
            kind=data.get('kind') or '',
            priorities=data.get('priority') or (),
            group=data.get('group'),
            service=data.get('service'),
            category=data.get('category'),
            channel=data.get('channel') or '',
            agent=data.get('agent'),
            source=data.get('source') or Source.AUTO,
        )


def parse_slice(params: Mapping[str, Any], *, extra: tuple[str, ...] = (), strict: bool = False) -> Slice:
    """A slice from query parameters, or ValidationError({parameter: [message]}) naming each bad one.

    `strict` also refuses parameters nobody reads (a misspelt filter must not silently widen the figures).
    """
    data = {name: params.get(name) for name in params if name in (*PARAMETERS, 'breakdown')}
    form = SliceForm(data)
    errors: dict[str, list[str]] = {}
    if strict:
        known = {*PARAMETERS, *extra, 'format'}
        for name in params:
            if name not in known:
                errors[name] = [f'Unknown parameter. Use: {", ".join(PARAMETERS)}.']
    if not form.is_valid():
        for name, messages in form.errors.items():
            errors[name] = list(messages)
    if errors:
        raise ValidationError(errors)
    return form.to_slice()
