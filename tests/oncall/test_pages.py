"""On-call pages: generic list/detail/add/edit/delete tests per model, the schedule page with two weeks of shifts,
who is on call now, the calendar feed (RFC 5545 lines, no session, revocable) and requesters kept out."""

import datetime as dt
import re

from django.urls import reverse

from itsm.choices import Role
from oncall import services
from oncall.models import EscalationPolicy, OnCallOverride, OnCallSchedule, RotationLayer
from tests.base import ItsmTestCase, ViewTestCases
from tests.factories import make_user

from .factories import make_group, make_layer, make_oncall_group, make_override, make_policy, make_schedule


class OnCallScheduleViewTests(ViewTestCases.ModelViewTestCase):
    model = OnCallSchedule
    view_roles = (Role.L2_ENGINEER,)
    write_roles = (Role.INCIDENT_MANAGER,)
    read_only_roles = (Role.SERVICE_DESK_AGENT,)

    def make_object(self, **kwargs):
        return make_schedule(**kwargs)

    def form_data(self):
        return {'group': make_group()[0].pk, 'name': 'Primary', 'time_zone': 'Europe/London', 'description': ''}


class RotationLayerViewTests(ViewTestCases.ModelViewTestCase):
    model = RotationLayer
    view_roles = (Role.L2_ENGINEER,)
    write_roles = (Role.INCIDENT_MANAGER,)
    read_only_roles = (Role.SERVICE_DESK_AGENT,)

    def make_object(self, **kwargs):
        return make_layer(**kwargs)

    def form_data(self):
        schedule = make_schedule()
        people = [make_user(Role.L2_ENGINEER) for _ in range(2)]
        return {
            'schedule': schedule.pk,
            'name': 'Business hours',
            'position': 2,
            'people': ', '.join(p.username for p in people),
            'handoff': 'daily',
            'handoff_time': '09:00',
            'handoff_weekday': 0,
            'rotation_start': '2026-11-02',
            'days': ['0', '1', '2', '3', '4'],
            'restrict_from': '09:00',
            'restrict_to': '17:00',
        }

    def edit_data(self, obj):
        return {**self.form_data(), 'schedule': obj.schedule_id, 'position': obj.position}


class OnCallOverrideViewTests(ViewTestCases.ModelViewTestCase):
    model = OnCallOverride
    view_roles = (Role.L2_ENGINEER,)
    write_roles = (Role.INCIDENT_MANAGER,)

    def make_object(self, **kwargs):
        return make_override(**kwargs)

    def form_data(self):
        return {
            'schedule': make_schedule().pk,
            'person': make_user(Role.L2_ENGINEER).pk,
            'start': '2026-12-24T18:00:00+00:00',
            'end': '2026-12-25T06:00:00+00:00',
            'note': 'Christmas Eve',
        }

    def invalid_form_data(self):
        return {'schedule': ''}


class EscalationPolicyViewTests(ViewTestCases.ModelViewTestCase):
    model = EscalationPolicy
    view_roles = (Role.L2_ENGINEER,)
    write_roles = (Role.INCIDENT_MANAGER,)
    read_only_roles = (Role.SERVICE_DESK_AGENT,)

    def make_object(self, **kwargs):
        return make_policy(**kwargs)

    def form_data(self):
        return {'group': make_group()[0].pk, 'name': 'Default', 'steps': 'on-call 15\nmanager', 'active': 'on'}

    def test_levels_are_typed_one_per_line(self):
        self.login(*self.write_roles)
        person = make_user(Role.L3_ENGINEER)
        data = {**self.form_data(), 'steps': f'on-call 10\nperson {person.username} 20\nmanager'}
        self.assertHttpStatus(self.client.post(self.url('add'), data), 302)
        policy = EscalationPolicy.objects.get()
        expected = [
            {'notify': 'schedule', 'minutes': 10},
            {'notify': 'person', 'person': person.pk, 'minutes': 20},
            {'notify': 'manager'},
        ]
        self.assertEqual(policy.levels, expected)
        response = self.client.get(self.url('edit', policy))
        self.assertContains(response, f'person {person.username} 20')
        bad = self.client.post(self.url('edit', policy), {**data, 'steps': 'on-call\npigeon 5'})
        self.assertHttpStatus(bad, 200)
        self.assertContains(bad, 'Line 2')


class ScheduleAndNowPageTests(ItsmTestCase):
    def setUp(self):
        self.group, self.people, self.schedule, self.policy = make_oncall_group()

    def test_the_schedule_page_lists_two_weeks_of_shifts_and_the_feed(self):
        self.client.force_login(make_user(Role.L2_ENGINEER))
        response = self.client.get(self.schedule.get_absolute_url())
        self.assertHttpStatus(response, 200)
        shifts = response.context['row']['shifts']
        self.assertEqual(shifts[-1]['end'] - shifts[0]['start'], dt.timedelta(days=14))
        self.assertContains(response, 'On call now')
        # The address the page shows names this schedule (a token made now may differ in its signed timestamp).
        feed = re.search(r'/oncall/feed/([^"/]+)"', response.content.decode())
        self.assertEqual(services.schedule_from_feed_token(feed.group(1)), self.schedule)
        self.assertContains(response, self.people[0].get_full_name())
        self.assertNotContains(response, 'Replace the address')  # engineers cannot revoke the feed
        days = [item['date'] for item in response.context['days']]
        self.assertEqual(days, sorted(set(days)))  # one heading per day
        history = self.timeline(self.schedule).values_list('changes', flat=True)
        self.assertNotIn('feed_key', str(list(history)))

    def test_who_is_on_call_now_across_groups(self):
        other = make_oncall_group()[2]
        self.client.force_login(make_user(Role.SERVICE_DESK_AGENT))
        response = self.client.get(reverse('oncall:now'))
        self.assertHttpStatus(response, 200)
        self.assertContains(response, self.schedule.name)
        self.assertContains(response, other.group.name)
        small = self.count_queries(lambda: self.client.get(reverse('oncall:now')))
        make_oncall_group()
        self.assertEqual(self.count_queries(lambda: self.client.get(reverse('oncall:now'))), small)

    def test_requesters_see_nothing(self):
        self.client.force_login(make_user(Role.REQUESTER))
        for url in (reverse('oncall:now'), self.schedule.get_absolute_url(), reverse('oncall:page_list')):
            with self.subTest(url=url):
                self.assertHttpStatus(self.client.get(url), 403)

    def test_the_calendar_feed_is_rfc5545_with_one_event_per_shift_in_utc(self):
        url = reverse('oncall:feed', args=[services.feed_token(self.schedule)])
        response = self.client.get(url)  # no session
        self.assertHttpStatus(response, 200)
        self.assertTrue(response['Content-Type'].startswith('text/calendar'))
        raw = response.content.decode()
        self.assertTrue(raw.endswith('\r\n'))
        lines = raw.replace('\r\n ', '').split('\r\n')[:-1]
        self.assertEqual((lines[0], lines[-1]), ('BEGIN:VCALENDAR', 'END:VCALENDAR'))
        self.assertTrue(all(len(line.encode()) <= 75 for line in raw.split('\r\n')))
        events = [line for line in lines if line == 'BEGIN:VEVENT']
        self.assertEqual(len(events), lines.count('END:VEVENT'))
        starts = [line.split(':', 1)[1] for line in lines if line.startswith('DTSTART:')]
        ends = [line.split(':', 1)[1] for line in lines if line.startswith('DTEND:')]
        self.assertEqual(len(starts), len(events))
        self.assertTrue(all(s.endswith('Z') and len(s) == 16 for s in starts + ends))
        self.assertEqual(starts[1:], ends[:-1])  # one 24x7 layer: consecutive shifts
        uids = [line for line in lines if line.startswith('UID:')]
        self.assertEqual(len(set(uids)), len(events))

    def test_a_forged_or_rotated_feed_address_is_refused(self):
        token = services.feed_token(self.schedule)
        self.assertHttpStatus(self.client.get(reverse('oncall:feed', args=[token[:-2] + 'xx'])), 404)
        services.schedule_rotate_feed(schedule=self.schedule, actor=services.Actor.system())
        self.assertHttpStatus(self.client.get(reverse('oncall:feed', args=[token])), 404)
