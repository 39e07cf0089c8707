"""The change calendar: conflicts across the CMDB graph, freeze windows, the month/week/list pages, the API range
and the iCalendar feed."""

from __future__ import annotations

import datetime as dt

from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from changes import calendar
from changes.calendar import conflicts_among, conflicts_for, freezes_for
from changes.choices import ChangeState, ChangeType
from changes.models import CalendarToken, Change, FreezeWindow
from cmdb.choices import CIClass, RelationshipType
from itsm.choices import Role
from tests.base import ItsmTestCase
from tests.cmdb.factories import link, make_ci
from tests.factories import SupportGroupFactory

UTC = dt.UTC
T0 = dt.datetime(2026, 12, 14, 20, 0, tzinfo=UTC)


def planned_change(*cis, start=T0, hours=2, state=ChangeState.SCHEDULED, change_type=ChangeType.NORMAL, **fields):
    """A change planned over [start, start + hours) on `cis`, put straight in `state` (the calendar reads data)."""
    change = Change.objects.create(
        short_description=fields.pop('short_description', 'Patch the estate'),
        change_type=change_type,
        opened_at=start - dt.timedelta(days=7),
        planned_start=start,
        planned_end=start + dt.timedelta(hours=hours),
        **fields,
    )
    Change.objects.filter(pk=change.pk).update(state=state)
    change.refresh_from_db()
    change.cis.set(cis)
    return change


class ConflictTests(ItsmTestCase):
    def setUp(self):
        # app ─runs on→ server ←runs on─ other_app; db unrelated
        self.server = make_ci(CIClass.SERVER, name='srv-01')
        self.app = make_ci(CIClass.APPLICATION, name='Billing')
        self.other_app = make_ci(CIClass.APPLICATION, name='Payroll')
        self.unrelated = make_ci(CIClass.APPLICATION, name='Wiki')
        link(self.app, RelationshipType.RUNS_ON, self.server)
        link(self.other_app, RelationshipType.RUNS_ON, self.server)

    def test_same_ci_overlapping_in_time_conflicts(self):
        mine = planned_change(self.app)
        other = planned_change(self.app, start=T0 + dt.timedelta(hours=1))
        [conflict] = conflicts_for(mine)
        self.assertEqual(conflict.change, other)
        self.assertEqual((conflict.ci, conflict.related_ci, conflict.path), (self.app, self.app, [self.app.number]))

    def test_no_conflict_when_windows_do_not_overlap(self):
        mine = planned_change(self.app)
        planned_change(self.app, start=T0 + dt.timedelta(hours=2))  # starts when mine ends
        self.assertEqual(conflicts_for(mine), [])

    def test_related_ci_at_depth_one_conflicts_with_its_path(self):
        mine = planned_change(self.app)
        other = planned_change(self.server)
        [conflict] = conflicts_for(mine)
        self.assertEqual(conflict.change, other)
        self.assertEqual(conflict.ci, self.app)
        self.assertEqual(conflict.related_ci, self.server)
        self.assertEqual(conflict.path, [self.app.number, self.server.number])
        # The relationship counts in both directions.
        self.assertEqual([c.change for c in conflicts_for(other)], [mine])

    @override_settings(CHANGE_CONFLICT_DEPTH=1)
    def test_ci_two_steps_away_is_no_conflict_at_depth_one(self):
        mine = planned_change(self.app)
        planned_change(self.other_app)  # app → server ← other_app: two steps
        self.assertEqual(conflicts_for(mine), [])

    @override_settings(CHANGE_CONFLICT_DEPTH=2)
    def test_ci_two_steps_away_conflicts_when_the_depth_allows(self):
        mine = planned_change(self.app)
        other = planned_change(self.other_app)
        [conflict] = conflicts_for(mine)
        self.assertEqual(conflict.change, other)
        self.assertEqual(conflict.path, [self.app.number, self.server.number, self.other_app.number])

    def test_unrelated_ci_and_finished_changes_do_not_conflict(self):
        mine = planned_change(self.app)
        planned_change(self.unrelated)
        planned_change(self.app, state=ChangeState.CANCELLED)
        planned_change(self.app, state=ChangeState.DRAFT)
        self.assertEqual(conflicts_for(mine), [])

    def test_query_count_does_not_grow_with_changes(self):
        changes = [planned_change(self.app), planned_change(self.server)]
        few = self.count_queries(lambda: conflicts_among(changes))
        changes += [planned_change(self.other_app), planned_change(self.app), planned_change(self.server)]
        result = {}
        many = self.count_queries(lambda: result.update(conflicts_among(changes)))
        self.assertEqual(few, many)
        self.assertEqual(len(result[changes[0].pk]), 3)  # the server's two changes and the other change on app


class FreezesForTests(ItsmTestCase):
    def setUp(self):
        self.service = make_ci(CIClass.SERVICE, name='Payments')
        self.other_service = make_ci(CIClass.SERVICE, name='Intranet')
        self.app = make_ci(CIClass.APPLICATION, name='Billing')

    def window(self, *services, start=T0 - dt.timedelta(hours=1), hours=24, **fields):
        window = FreezeWindow.objects.create(
            name=fields.pop('name', 'Year-end freeze'),
            starts_at=start,
            ends_at=start + dt.timedelta(hours=hours),
            **fields,
        )
        window.services.set(services)
        return window

    def test_global_window_freezes_every_change_in_it(self):
        window = self.window()
        change = planned_change(self.app)
        self.assertEqual(freezes_for(change), [window])

    def test_window_on_services_freezes_only_changes_touching_them(self):
        window = self.window(self.service)
        on_service = planned_change(self.app)
        on_service.services.set([self.service])
        elsewhere = planned_change(self.app)
        elsewhere.services.set([self.other_service])
        self.assertEqual(freezes_for(on_service), [window])
        self.assertEqual(freezes_for(elsewhere), [])

    def test_inactive_or_non_overlapping_windows_do_not_freeze(self):
        self.window(active=False)
        self.window(start=T0 + dt.timedelta(hours=2), hours=5)  # starts when the change ends
        self.assertEqual(freezes_for(planned_change(self.app)), [])


# ------------------------------------------------------------------------------------------ pages
class CalendarPageTests(ItsmTestCase):
    def setUp(self):
        self.server = make_ci(CIClass.SERVER, name='srv-01')
        self.app = make_ci(CIClass.APPLICATION, name='Billing')
        link(self.app, RelationshipType.RUNS_ON, self.server)
        self.group = SupportGroupFactory(name='Platform')
        self.mine = planned_change(self.app, short_description='Upgrade <b>Billing</b>', assignment_group=self.group)
        self.other = planned_change(self.server, start=T0 + dt.timedelta(hours=1), short_description='Patch srv-01')
        self.user = self.make_user(Role.L2_ENGINEER)
        self.client.force_login(self.user)

    def get(self, name='changes:calendar', **params):
        params.setdefault('date', '2026-12-14')
        return self.client.get(reverse(name), params)

    def test_month_grid_places_changes_on_their_days_with_links_and_conflicts(self):
        response = self.get()
        self.assertHttpStatus(response, 200)
        html = response.content.decode()
        self.assertIn('December 2026', html)
        self.assertContains(response, f'href="{self.mine.get_absolute_url()}"')
        self.assertIn('Upgrade &lt;b&gt;Billing&lt;/b&gt;', html)  # user content escaped
        self.assertNotIn('<b>Billing</b>', html)
        # Monday 30 November starts the grid, Sunday 3 January ends it.
        self.assertIn('data-date="2026-11-30"', html)
        self.assertIn('data-date="2027-01-03"', html)
        self.assertContains(response, 'has-conflict', count=2)
        self.assertContains(response, '2 changes in conflict')

    def test_times_are_shown_in_the_persons_zone(self):
        self.user.time_zone = 'Asia/Tokyo'  # 20:00 UTC on the 14th is 05:00 on the 15th in Tokyo
        self.user.save(update_fields=['time_zone'])
        response = self.get()
        html = response.content.decode()
        day = html.split('data-date="2026-12-15"', 1)[1].split('data-date="2026-12-16"', 1)[0]
        self.assertIn(self.mine.number, day)
        self.assertIn('05:00', day)

    def test_navigation_keeps_the_filters(self):
        response = self.get(type='normal')
        self.assertContains(response, '?date=2026-11-01&amp;type=normal')
        self.assertContains(response, '?date=2027-01-01&amp;type=normal')
        self.assertHttpStatus(self.get(date='2027-01-01'), 200)

    def test_bad_date_shows_today_with_a_message(self):
        response = self.get(date='2026-13-45')
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'is not a date')

    def test_week_grid_shows_the_week_of_the_date(self):
        response = self.get('changes:calendar_week', date='2026-12-16')
        self.assertHttpStatus(response, 200)
        html = response.content.decode()
        self.assertIn('data-date="2026-12-14"', html)
        self.assertIn('data-date="2026-12-20"', html)
        self.assertNotIn('data-date="2026-12-21"', html)
        self.assertIn(self.mine.number, html)
        next_week = self.get('changes:calendar_week', date='2026-12-21')
        self.assertNotContains(next_week, self.mine.number)

    def test_list_shows_conflict_with_path_and_freezes(self):
        FreezeWindow.objects.create(
            name='Peak <trading>', starts_at=T0 - dt.timedelta(days=1), ends_at=T0 + dt.timedelta(days=1)
        )
        response = self.get('changes:calendar_list')
        self.assertHttpStatus(response, 200)
        html = response.content.decode()
        self.assertIn(f'{self.app.number} → {self.server.number}', html)
        self.assertIn('Peak &lt;trading&gt;', html)
        self.assertIn('Inside', html)

    def test_filters(self):
        emergency = planned_change(self.app, change_type=ChangeType.EMERGENCY, short_description='Hotfix')
        in_implementation = planned_change(self.app, state=ChangeState.IMPLEMENTATION, short_description='Running')
        draft = planned_change(self.app, state=ChangeState.DRAFT, short_description='Just an idea')
        cases = [
            ({}, {self.mine, self.other, emergency, in_implementation}),
            ({'type': 'emergency'}, {emergency}),
            ({'group': self.group.pk}, {self.mine}),
            ({'ci': self.server.number}, {self.other}),
            ({'ci': 'Billing'}, {self.mine, emergency, in_implementation}),
            ({'state': 'implementation'}, {in_implementation}),
            ({'state': 'draft'}, {draft}),
        ]
        for params, expected in cases:
            with self.subTest(params):
                response = self.get('changes:calendar_list', **params)
                shown = {e.change for e in response.context['entries']}
                self.assertEqual(shown, expected)

    def test_service_and_risk_filters(self):
        service = make_ci(CIClass.SERVICE, name='Payments')
        self.mine.services.set([service])
        Change.objects.filter(pk=self.other.pk).update(risk_level='high')
        self.assertEqual(
            [e.change for e in self.get('changes:calendar_list', service='Payments').context['entries']], [self.mine]
        )
        self.assertEqual(
            [e.change for e in self.get('changes:calendar_list', risk='high').context['entries']], [self.other]
        )

    def test_query_count_does_not_grow_with_changes(self):
        FreezeWindow.objects.create(name='Freeze', starts_at=T0, ends_at=T0 + dt.timedelta(days=2))
        for name in ('changes:calendar', 'changes:calendar_week', 'changes:calendar_list'):
            with self.subTest(name):
                before = self.count_queries(lambda n=name: self.get(n))
                for hours in range(3):
                    planned_change(self.server, self.app, start=T0 + dt.timedelta(days=hours % 2, hours=hours))
                self.assertEqual(self.count_queries(lambda n=name: self.get(n)), before)

    def test_requesters_and_anonymous_may_not_see_the_calendar(self):
        self.client.force_login(self.make_user(Role.REQUESTER))
        for name in ('changes:calendar', 'changes:calendar_week', 'changes:calendar_list'):
            self.assertHttpStatus(self.get(name), 403)
        self.client.logout()
        self.assertHttpStatus(self.get(), 302)


# ------------------------------------------------------------------------------------------ the API
class CalendarAPITests(ItsmTestCase):
    url = '/api/v1/changes/calendar/'

    def setUp(self):
        self.app = make_ci(CIClass.APPLICATION, name='Billing')
        self.mine = planned_change(self.app)
        self.other = planned_change(self.app, start=T0 + dt.timedelta(hours=1))
        self.window = FreezeWindow.objects.create(name='Freeze', starts_at=T0, ends_at=T0 + dt.timedelta(hours=5))
        self.api = self.api_client(self.make_user(Role.L2_ENGINEER))

    def test_range_lists_changes_with_conflicts_and_freezes(self):
        response = self.api.get(self.url, {'start': '2026-12-14', 'end': '2026-12-15'})
        self.assertHttpStatus(response, 200)
        numbers = [c['number'] for c in response.data['changes']]
        self.assertEqual(numbers, [self.mine.number, self.other.number])
        first = response.data['changes'][0]
        self.assertEqual(first['conflicts'][0]['change'], self.other.number)
        self.assertEqual(first['conflicts'][0]['path'], [self.app.number])
        self.assertEqual(first['freezes'], [self.window.pk])
        self.assertEqual([w['name'] for w in response.data['freezes']], ['Freeze'])
        outside = self.api.get(self.url, {'start': '2026-12-15', 'end': '2026-12-16'})
        self.assertEqual(outside.data['changes'], [])

    def test_bad_ranges_are_400_naming_the_field(self):
        cases = [
            ({}, 'start'),
            ({'start': '2026-12-14'}, 'end'),
            ({'start': 'yesterday', 'end': '2026-12-15'}, 'start'),
            ({'start': '2026-12-14', 'end': '2026-13-01'}, 'end'),
            ({'start': '2026-12-15', 'end': '2026-12-14'}, 'end'),
            ({'start': '2026-01-01', 'end': '2026-12-31'}, 'end'),  # wider than CHANGE_CALENDAR_MAX_DAYS
        ]
        for params, field in cases:
            with self.subTest(params):
                response = self.api.get(self.url, params)
                self.assertHttpStatus(response, 400)
                self.assertIn(field, response.data)

    def test_unknown_parameter_is_400_and_filters_apply(self):
        self.assertHttpStatus(self.api.get(self.url, {'start': '2026-12-14', 'end': '2026-12-15', 'colour': 'x'}), 400)
        response = self.api.get(self.url, {'start': '2026-12-14', 'end': '2026-12-15', 'type': 'emergency'})
        self.assertEqual(response.data['changes'], [])

    def test_requesters_are_refused(self):
        response = self.api_client(self.make_user(Role.REQUESTER)).get(
            self.url, {'start': '2026-12-14', 'end': '2026-12-15'}
        )
        self.assertHttpStatus(response, 403)


# ------------------------------------------------------------------------------------------ the iCalendar feed
def unfold(text: str) -> list[str]:
    """RFC 5545 §3.1: CRLF followed by a space or tab continues the previous line."""
    return text.replace('\r\n ', '').replace('\r\n\t', '').split('\r\n')


class CalendarFeedTests(ItsmTestCase):
    def setUp(self):
        self.app = make_ci(CIClass.APPLICATION, name='Billing')
        start = timezone.now().replace(microsecond=0) + dt.timedelta(days=3)
        self.change = planned_change(
            self.app,
            start=start,
            short_description='Move billing; then, restart\nthe workers ' + 'and check every queue ' * 5,
        )
        self.other = planned_change(self.app, start=start + dt.timedelta(minutes=30))
        FreezeWindow.objects.create(name='Peak, trading', starts_at=start, ends_at=start + dt.timedelta(days=1))
        self.user = self.make_user(Role.L2_ENGINEER)

    def token(self, user=None):
        return calendar.calendar_token_regenerate(user=user or self.user).token

    def test_feed_is_valid_icalendar(self):
        response = self.client.get(reverse('changes:calendar_ics'), {'token': self.token()})
        self.assertHttpStatus(response, 200)
        self.assertEqual(response['Content-Type'], 'text/calendar; charset=utf-8')
        raw = response.content.decode()
        self.assertTrue(raw.startswith('BEGIN:VCALENDAR\r\nVERSION:2.0\r\n'))
        self.assertTrue(raw.endswith('END:VCALENDAR\r\n'))
        for line in raw.split('\r\n'):
            self.assertLessEqual(len(line.encode()), 75, line)
        lines = unfold(raw)
        self.assertEqual(lines.count('BEGIN:VEVENT'), 3)  # two changes and the freeze
        events = raw.split('BEGIN:VEVENT')[1:]
        first = unfold('BEGIN:VEVENT' + events[0])
        props = dict(line.split(':', 1) for line in first if ':' in line)
        self.assertEqual(props['UID'], f'{self.change.number.lower()}@testserver')
        self.assertEqual(props['DTSTART'], self.change.planned_start.astimezone(dt.UTC).strftime('%Y%m%dT%H%M%SZ'))
        self.assertEqual(props['DTEND'], self.change.planned_end.astimezone(dt.UTC).strftime('%Y%m%dT%H%M%SZ'))
        self.assertRegex(props['DTSTAMP'], r'^\d{8}T\d{6}Z$')
        self.assertEqual(props['URL'], f'http://testserver{self.change.get_absolute_url()}')
        self.assertTrue(
            props['SUMMARY'].startswith(f'{self.change.number} Move billing\\; then\\, restart\\nthe workers')
        )
        self.assertIn(f'Conflicts with {self.other.number}', props['DESCRIPTION'])
        self.assertIn('Inside the freeze window Peak\\, trading.', props['DESCRIPTION'])
        self.assertIn('SUMMARY:Change freeze: Peak\\, trading', lines)

    def test_folding_never_splits_a_character(self):
        folded = calendar._fold('SUMMARY:' + 'é' * 80)
        for line in folded.split('\r\n'):
            self.assertLessEqual(len(line.encode()), 75)
            line.encode().decode()  # each line is valid UTF-8 on its own
        self.assertEqual(unfold(folded)[0], 'SUMMARY:' + 'é' * 80)

    def test_feed_needs_no_session_but_a_valid_token(self):
        self.client.logout()
        self.assertHttpStatus(self.client.get(reverse('changes:calendar_ics')), 403)
        self.assertHttpStatus(self.client.get(reverse('changes:calendar_ics'), {'token': 'guess'}), 403)
        self.assertHttpStatus(self.client.get(reverse('changes:calendar_ics'), {'token': self.token()}), 200)

    def test_token_of_someone_who_may_not_read_changes_is_refused(self):
        requester = self.make_user(Role.REQUESTER)
        self.assertHttpStatus(self.client.get(reverse('changes:calendar_ics'), {'token': self.token(requester)}), 403)
        gone = self.make_user(Role.L2_ENGINEER, is_active=False)
        self.assertHttpStatus(self.client.get(reverse('changes:calendar_ics'), {'token': self.token(gone)}), 403)

    def test_calendar_page_creates_and_regenerates_the_token(self):
        self.client.force_login(self.user)
        page = self.client.get(reverse('changes:calendar'))
        self.assertContains(page, 'Create my calendar link')
        self.assertFalse(CalendarToken.objects.filter(user=self.user).exists())  # reading the page writes nothing
        self.assertHttpStatus(self.client.post(reverse('changes:calendar_token')), 302)
        old = CalendarToken.objects.get(user=self.user).token
        self.assertContains(self.client.get(reverse('changes:calendar')), f'?token={old}')
        self.client.post(reverse('changes:calendar_token'))
        new = CalendarToken.objects.get(user=self.user).token
        self.assertNotEqual(old, new)
        self.client.logout()
        self.assertHttpStatus(self.client.get(reverse('changes:calendar_ics'), {'token': old}), 403)
        self.assertHttpStatus(self.client.get(reverse('changes:calendar_ics'), {'token': new}), 200)

    def test_requesters_cannot_create_a_token(self):
        self.client.force_login(self.make_user(Role.REQUESTER))
        self.assertHttpStatus(self.client.post(reverse('changes:calendar_token')), 403)
        self.assertFalse(CalendarToken.objects.exists())


# ------------------------------------------------------------------------------------------ the change page
class ConflictsPanelTests(ItsmTestCase):
    def setUp(self):
        self.server = make_ci(CIClass.SERVER, name='srv-01')
        self.app = make_ci(CIClass.APPLICATION, name='Billing')
        link(self.app, RelationshipType.RUNS_ON, self.server)
        self.client.force_login(self.make_user(Role.L2_ENGINEER))

    def test_panel_names_the_other_change_the_ci_pair_and_the_path(self):
        mine = planned_change(self.app, state=ChangeState.ASSESSMENT)
        other = planned_change(self.server, short_description='Reboot <srv-01>')
        FreezeWindow.objects.create(name='Peak', starts_at=T0, ends_at=T0 + dt.timedelta(hours=1))
        response = self.client.get(mine.get_absolute_url())
        self.assertHttpStatus(response, 200)
        html = response.content.decode()
        panel = html.split('id="change-conflicts"', 1)[1]
        self.assertIn(f'data-conflict="{other.number}"', panel)
        self.assertIn('Reboot &lt;srv-01&gt;', panel)
        self.assertIn(f'{self.app.number} → {self.server.number}', panel)
        self.assertIn('Inside the freeze', panel)
        self.assertIn("change manager's override reason", panel)

    def test_panel_says_when_there_is_no_conflict_and_hides_for_finished_changes(self):
        mine = planned_change(self.app, state=ChangeState.ASSESSMENT)
        self.assertContains(self.client.get(mine.get_absolute_url()), 'No other change overlaps it')
        closed = planned_change(self.app, state=ChangeState.CLOSED)
        self.assertNotContains(self.client.get(closed.get_absolute_url()), 'id="change-conflicts"')


class CalendarNavigationTests(ItsmTestCase):
    def test_staff_find_the_calendar_and_freezes_in_the_menu(self):
        self.client.force_login(self.make_user(Role.L2_ENGINEER))
        response = self.client.get(reverse('changes:change_list'))
        self.assertContains(response, f'href="{reverse("changes:calendar")}"')
        self.assertContains(response, f'href="{reverse("changes:freezewindow_list")}"')
