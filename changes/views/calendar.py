"""The change calendar pages: a month grid (`changes:calendar`), a week grid (`changes:calendar_week`) and a list
(`changes:calendar_list`) of the changes planned in the period, in the person's time zone, with filters; conflicts
are flagged on each entry and freeze windows drawn as bands. Also the person's iCalendar feed link
(`changes:calendar_token`) and the feed itself (`changes:calendar_ics`, no session: the token is the credential)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseForbidden, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.views import View

from itsm.permissions import ModelPermissionMixin
from itsm.views.generic import StaffOnlyMixin

from .. import calendar
from ..choices import STATE_COLOURS, ChangeType
from ..filters import ChangeCalendarFilterSet
from ..models import Change

__all__ = ['CalendarFeedView', 'CalendarListView', 'CalendarMonthView', 'CalendarTokenView', 'CalendarWeekView']

TYPE_COLOURS = {ChangeType.STANDARD: 'green', ChangeType.NORMAL: 'blue', ChangeType.EMERGENCY: 'red'}


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


def _overlaps(start: dt.datetime, end: dt.datetime, day_start: dt.datetime, day_end: dt.datetime) -> bool:
    return start < day_end and end > day_start


class CalendarPage(StaffOnlyMixin, ModelPermissionMixin, View):
    """Shared by the three views: the period from `?date=`, the filtered changes and their conflicts and freezes.
    Each view says which days it shows (`period(day) -> (first, last)`), where its arrows go (`steps(day)`) and how
    it lays the days out (`layout`)."""

    model = Change
    permission_action = 'view'
    template_name = ''
    view_name = ''

    def anchor(self) -> dt.date:
        text = self.request.GET.get('date', '')
        try:
            day = parse_date(text) if text else None
        except ValueError:
            day = None
        if text and day is None:
            self.date_error = f'“{text[:40]}” is not a date (YYYY-MM-DD): showing today.'
        return day or timezone.localdate()

    def get(self, request, *args, **kwargs):
        self.date_error = ''
        day = self.day = self.anchor()
        first, last = self.period(day)
        start, end = _local_midnight(first), _local_midnight(last + dt.timedelta(days=1))
        base = Change.objects.scheduled_between(start, end).select_related('assignment_group', 'owner')
        if not request.GET.getlist('state'):
            base = base.filter(state__in=calendar.CALENDAR_STATES)
        filterset = ChangeCalendarFilterSet(request.GET or None, queryset=base)
        changes = list(filterset.qs.order_by('planned_start', 'pk')) if filterset.is_valid() else []
        windows = calendar.freezes_between(start, end)
        entries = calendar.calendar_entries(changes, start, end, windows)
        previous, following = self.steps(day)
        query = request.GET.copy()
        query.pop('date', None)
        token = calendar.calendar_token_of(request.user)
        context = {
            'title': 'Change calendar',
            'view_name': self.view_name,
            'anchor': day,
            'first': first,
            'last': last,
            'entries': entries,
            'freezes': windows,
            'filter': filterset,
            'filter_query': query.urlencode(),
            'previous': previous.isoformat(),
            'next': following.isoformat(),
            'today': timezone.localdate().isoformat(),
            'date_error': self.date_error,
            'conflict_count': sum(1 for e in entries if e.conflicts),
            'state_colours': STATE_COLOURS,
            'type_colours': TYPE_COLOURS,
            'feed_url': (
                request.build_absolute_uri(reverse('changes:calendar_ics')) + f'?token={token.token}' if token else ''
            ),
            **self.layout(first, last, entries, windows),
        }
        return render(request, self.template_name, context)

    def layout(self, first, last, entries, windows) -> dict[str, Any]:
        return {}

    @staticmethod
    def days(first: dt.date, last: dt.date, entries, windows) -> list[dict[str, Any]]:
        today = timezone.localdate()
        result = []
        day = first
        while day <= last:
            day_start = _local_midnight(day)
            day_end = _local_midnight(day + dt.timedelta(days=1))
            result.append(
                {
                    'date': day,
                    'is_today': day == today,
                    'entries': [e for e in entries if _overlaps(*e.window, day_start, day_end)],
                    'freezes': [w for w in windows if _overlaps(w.starts_at, w.ends_at, day_start, day_end)],
                }
            )
            day += dt.timedelta(days=1)
        return result


class CalendarMonthView(CalendarPage):
    template_name = 'changes/calendar_month.html'
    view_name = 'month'

    def period(self, day):
        first_of_month = day.replace(day=1)
        next_month = (first_of_month + dt.timedelta(days=32)).replace(day=1)
        first = first_of_month - dt.timedelta(days=first_of_month.weekday())
        last_of_month = next_month - dt.timedelta(days=1)
        last = last_of_month + dt.timedelta(days=6 - last_of_month.weekday())
        return first, last

    def steps(self, day):
        first_of_month = day.replace(day=1)
        previous = (first_of_month - dt.timedelta(days=1)).replace(day=1)
        following = (first_of_month + dt.timedelta(days=32)).replace(day=1)
        return previous, following

    def layout(self, first, last, entries, windows):
        month = self.day.month
        days = self.days(first, last, entries, windows)
        for cell in days:
            cell['in_month'] = cell['date'].month == month
        return {'weeks': [days[i : i + 7] for i in range(0, len(days), 7)], 'weekday_names': WEEKDAYS}


WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']


class CalendarWeekView(CalendarPage):
    template_name = 'changes/calendar_week.html'
    view_name = 'week'

    def period(self, day):
        first = day - dt.timedelta(days=day.weekday())
        return first, first + dt.timedelta(days=6)

    def steps(self, day):
        return day - dt.timedelta(days=7), day + dt.timedelta(days=7)

    def layout(self, first, last, entries, windows):
        return {'days': self.days(first, last, entries, windows)}


class CalendarListView(CalendarMonthView):
    """The month's changes as a table, earliest first."""

    template_name = 'changes/calendar_list.html'
    view_name = 'list'

    def period(self, day):
        first = day.replace(day=1)
        return first, (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)

    def layout(self, first, last, entries, windows):
        return {}


class CalendarTokenView(StaffOnlyMixin, ModelPermissionMixin, View):
    """POST: create the person's feed link, or replace it (the old link stops working)."""

    model = Change
    permission_action = 'view'

    def post(self, request, *args, **kwargs):
        had_one = calendar.calendar_token_of(request.user) is not None
        calendar.calendar_token_regenerate(user=request.user)
        messages.success(
            request,
            'New calendar feed link: the previous one no longer works.' if had_one else 'Calendar feed link created.',
        )
        return HttpResponseRedirect(reverse('changes:calendar') + '#calendar-feed')


class CalendarFeedView(View):
    """The iCalendar feed. No session: `?token=` names the person; 403 if it names no one or someone who may not
    read changes."""

    def get(self, request, *args, **kwargs):
        user = calendar.feed_user(request.GET.get('token', ''))
        if user is None:
            return HttpResponseForbidden('Unknown calendar token: copy the link again from the change calendar.')
        if not calendar.may_read_calendar(user):
            raise PermissionDenied
        start, end = calendar.feed_range()
        changes = list(calendar.calendar_queryset(start, end))
        windows = calendar.freezes_between(start, end)
        entries = calendar.calendar_entries(changes, start, end, windows)
        body = calendar.ical_feed(entries, windows, base_url=request.build_absolute_uri('/').rstrip('/'))
        response = HttpResponse(body, content_type='text/calendar; charset=utf-8')
        response['Content-Disposition'] = 'inline; filename="changes.ics"'
        response['Cache-Control'] = 'private, max-age=300'
        return response


# Before the change routes: `calendar/` is not a change number.
calendar_urls = [
    path('calendar/', CalendarMonthView.as_view(), name='calendar'),
    path('calendar/week/', CalendarWeekView.as_view(), name='calendar_week'),
    path('calendar/list/', CalendarListView.as_view(), name='calendar_list'),
    path('calendar/token/', CalendarTokenView.as_view(), name='calendar_token'),
    path('calendar.ics', CalendarFeedView.as_view(), name='calendar_ics'),
]
