"""The public status page: each service's status, the overall line, the 90-day history, and what an anonymous
visitor sees (and does not see)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from changes.choices import ChangeState
from cmdb.choices import ServiceStatus
from itsm.choices import Role
from major_incidents.choices import MajorIncidentState, ServiceImpact, UpdateAudience
from statuspage import selectors
from statuspage.selectors import ComponentStatus
from tests.base import ItsmTestCase
from tests.changes.factories import make_change, window
from tests.major_incidents.factories import UpdateFactory

from .factories import (
    make_major,
    make_private_service,
    make_public_service,
    post_public,
    restored_major,
    service_of,
    set_service_status,
)


def status_of(ci) -> str:
    (state,) = selectors.service_states([service_of(ci)])
    return state.status


class ServiceStatusTests(ItsmTestCase):
    def test_a_service_without_incidents_is_operational(self):
        self.assertEqual(status_of(make_public_service()), ComponentStatus.OPERATIONAL)

    def test_each_impact_of_an_active_major_incident_is_the_service_status(self):
        for impact in ServiceImpact:
            with self.subTest(impact=impact):
                ci = make_public_service()
                make_major(services=[ci], service_impact=impact)
                self.assertEqual(status_of(ci), impact.value)

    def test_the_worst_of_several_active_major_incidents_wins(self):
        ci = make_public_service()
        make_major(services=[ci], service_impact=ServiceImpact.DEGRADED)
        make_major(services=[ci], service_impact=ServiceImpact.PARTIAL_OUTAGE, state=MajorIncidentState.CONTAINMENT)
        self.assertEqual(status_of(ci), ComponentStatus.PARTIAL_OUTAGE)

    def test_restored_and_cancelled_major_incidents_no_longer_count(self):
        restored, cancelled = make_public_service(), make_public_service()
        make_major(services=[restored], state=MajorIncidentState.REVIEW)
        make_major(services=[cancelled], state=MajorIncidentState.CANCELLED)
        self.assertEqual(status_of(restored), ComponentStatus.OPERATIONAL)
        self.assertEqual(status_of(cancelled), ComponentStatus.OPERATIONAL)

    def test_a_change_in_implementation_puts_the_service_under_maintenance(self):
        ci, scheduled = make_public_service(), make_public_service()
        make_change(ChangeState.IMPLEMENTATION, services=[ci], planned_start=window(days=0, hours=2)[0])
        make_change(ChangeState.SCHEDULED, services=[scheduled])
        self.assertEqual(status_of(ci), ComponentStatus.UNDER_MAINTENANCE)
        self.assertEqual(status_of(scheduled), ComponentStatus.OPERATIONAL)

    def test_an_active_major_incident_outranks_maintenance(self):
        ci = make_public_service()
        make_change(ChangeState.IMPLEMENTATION, services=[ci], planned_start=window(days=0)[0])
        make_major(services=[ci], service_impact=ServiceImpact.DEGRADED)
        self.assertEqual(status_of(ci), ComponentStatus.DEGRADED)

    def test_the_service_status_set_by_hand_shows_without_incidents(self):
        expected = {
            ServiceStatus.DEGRADED: ComponentStatus.DEGRADED,
            ServiceStatus.PARTIAL_OUTAGE: ComponentStatus.PARTIAL_OUTAGE,
            ServiceStatus.MAJOR_OUTAGE: ComponentStatus.MAJOR_OUTAGE,
            ServiceStatus.MAINTENANCE: ComponentStatus.UNDER_MAINTENANCE,
        }
        for status, shown in expected.items():
            with self.subTest(status=status):
                ci = make_public_service()
                set_service_status(ci, status)
                self.assertEqual(status_of(ci), shown)

    def test_the_overall_line_follows_the_worst_service(self):
        ci = make_public_service()
        make_public_service()
        overview = selectors.overview()
        self.assertEqual((overview.indicator, overview.description), ('none', 'All systems operational'))
        set_service_status(ci, ServiceStatus.MAINTENANCE)
        self.assertEqual(selectors.overview().indicator, 'maintenance')
        make_major(services=[ci], service_impact=ServiceImpact.PARTIAL_OUTAGE)
        overview = selectors.overview()
        self.assertEqual((overview.indicator, overview.description), ('major', 'Partial outage'))
        make_major(services=[ci], service_impact=ServiceImpact.MAJOR_OUTAGE)
        self.assertEqual(selectors.overview().indicator, 'critical')

    def test_only_public_services_are_listed_by_their_public_name(self):
        public = make_public_service('Mail relay')
        service = service_of(public)
        service.public_name = 'E-mail'
        service.save()
        make_private_service('Payroll batch')
        names = [state.name for state in selectors.overview().services]
        self.assertEqual(names, ['E-mail'])

    def test_query_count_does_not_grow_with_services_and_incidents(self):
        ci = make_public_service()
        make_major(services=[ci])
        small = self.count_queries(lambda: selectors.overview(with_history=True))
        for _ in range(3):
            other = make_public_service()
            make_major(services=[other, ci], service_impact=ServiceImpact.DEGRADED)
            restored_major(started=timezone.now() - dt.timedelta(days=5), restored=timezone.now(), services=[other])
        make_change(ChangeState.IMPLEMENTATION, services=[ci], planned_start=window(days=0)[0])
        large = self.count_queries(lambda: selectors.overview(with_history=True))
        self.assertEqual(small, large)


class HistoryTests(ItsmTestCase):
    def cells(self, ci):
        (state,) = selectors.service_states([service_of(ci)])
        selectors.add_history([state])
        return state.history

    def test_ninety_days_oldest_first_today_last(self):
        cells = self.cells(make_public_service())
        self.assertEqual(len(cells), 90)
        self.assertEqual(cells[-1].day, timezone.localdate())
        self.assertEqual(cells[0].day, timezone.localdate() - dt.timedelta(days=89))
        self.assertTrue(all(cell.status == ComponentStatus.OPERATIONAL for cell in cells))

    def test_each_day_shows_the_worst_impact_of_the_major_incidents_active_that_day(self):
        ci = make_public_service()
        now = timezone.now()
        minor = restored_major(
            started=now - dt.timedelta(days=3),
            restored=now - dt.timedelta(days=2),
            services=[ci],
            service_impact=ServiceImpact.DEGRADED,
        )
        worse = restored_major(
            started=now - dt.timedelta(days=2),
            restored=now - dt.timedelta(days=2),
            services=[ci],
            service_impact=ServiceImpact.MAJOR_OUTAGE,
        )
        active = make_major(services=[ci], service_impact=ServiceImpact.PARTIAL_OUTAGE)
        by_day = {cell.day: cell for cell in self.cells(ci)}
        day = timezone.localdate
        self.assertEqual(by_day[day(now - dt.timedelta(days=4))].status, ComponentStatus.OPERATIONAL)
        self.assertEqual(by_day[day(now - dt.timedelta(days=3))].status, ComponentStatus.DEGRADED)
        two_days_ago = by_day[day(now - dt.timedelta(days=2))]
        self.assertEqual(two_days_ago.status, ComponentStatus.MAJOR_OUTAGE)
        self.assertIn(minor.number, two_days_ago.title)
        self.assertIn(worse.number, two_days_ago.title)
        self.assertIn('Major outage', two_days_ago.title)
        self.assertEqual(by_day[day(now)].status, ComponentStatus.PARTIAL_OUTAGE)
        self.assertEqual(by_day[day(now)].incidents, [active.number])

    def test_an_outage_older_than_the_window_is_left_out_and_a_long_one_is_clipped(self):
        ci = make_public_service()
        now = timezone.now()
        restored_major(started=now - dt.timedelta(days=200), restored=now - dt.timedelta(days=150), services=[ci])
        long = restored_major(started=now - dt.timedelta(days=120), restored=now - dt.timedelta(days=88), services=[ci])
        cells = self.cells(ci)
        self.assertEqual(len(cells), 90)
        self.assertEqual([c.incidents for c in cells[:2]], [[long.number], [long.number]])
        self.assertEqual(cells[3].incidents, [])

    def test_days_are_the_desk_time_zone_days(self):
        ci = make_public_service()
        with override_settings(TIME_ZONE='Pacific/Auckland'):
            auckland = zoneinfo.ZoneInfo('Pacific/Auckland')
            local_noon = timezone.localtime(timezone.now(), auckland).replace(hour=0, minute=30) - dt.timedelta(days=5)
            started = local_noon.astimezone(dt.UTC)
            major = restored_major(started=started, restored=started + dt.timedelta(minutes=20), services=[ci])
            cells = {cell.day: cell for cell in self.cells(ci)}
            self.assertEqual(cells[local_noon.date()].incidents, [major.number])
            self.assertEqual(cells[local_noon.date() - dt.timedelta(days=1)].incidents, [])


class PublicPageTests(ItsmTestCase):
    def setUp(self):
        self.ci = make_public_service('Student e-mail')
        self.major = make_major(services=[self.ci], public_title='E-mail delivery delayed')
        post_public(self.major, body='Messages are queued; nothing is lost.')
        UpdateFactory(major_incident=self.major, audience=UpdateAudience.INTERNAL, body='Controller B is flapping.')
        UpdateFactory(major_incident=self.major, audience=UpdateAudience.RECIPIENTS, body='Owners: call at 10:00.')

    def test_an_anonymous_visitor_sees_status_incidents_and_public_updates_only(self):
        make_private_service('Payroll batch')
        response = self.client.get(reverse('statuspage:index'))
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'Major outage')
        self.assertContains(response, 'Student e-mail')
        self.assertContains(response, 'E-mail delivery delayed')
        self.assertContains(response, 'Messages are queued; nothing is lost.')
        self.assertNotContains(response, 'Controller B is flapping.')
        self.assertNotContains(response, 'Owners: call at 10:00.')
        self.assertNotContains(response, 'Payroll batch')
        self.assertNotContains(response, self.major.short_description)
        self.assertEqual(response['Cache-Control'], 'max-age=30')
        self.assertNotIn('Set-Cookie', response)
        self.assertContains(response, reverse('statuspage:feed'))
        self.assertContains(response, reverse('statuspage:summary'))
        self.assertContains(response, f'action="{reverse("statuspage:subscribe")}"')

    def test_the_page_draws_ninety_day_cells_with_their_title(self):
        response = self.client.get(reverse('statuspage:index'))
        self.assertContains(response, 'class="sp-day', count=90)
        today = timezone.localdate()
        self.assertContains(response, f'title="{today:%d %b %Y}: Major outage ({self.major.number})"')

    def test_people_signed_in_see_the_same_page(self):
        self.client.force_login(self.make_user(Role.REQUESTER))
        response = self.client.get(reverse('statuspage:index'))
        self.assertContains(response, 'Messages are queued; nothing is lost.')
        self.assertNotContains(response, 'Controller B is flapping.')

    def test_user_text_is_escaped(self):
        post_public(self.major, body='<script>alert("x")</script>')
        response = self.client.get(reverse('statuspage:index'))
        self.assertNotContains(response, '<script>alert')
        self.assertContains(response, '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;')

    def test_scheduled_maintenance_shows_title_window_and_services_only(self):
        start, end = window(days=3)
        make_change(
            ChangeState.SCHEDULED,
            services=[self.ci],
            short_description='Mail store upgrade',
            justification='Vendor support ends; secret contract terms.',
            planned_start=start,
            planned_end=end,
        )
        far = window(days=20)[0]
        make_change(ChangeState.SCHEDULED, services=[self.ci], short_description='Far away', planned_start=far)
        make_change(ChangeState.SCHEDULED, services=[make_private_service()], short_description='Private work')
        response = self.client.get(reverse('statuspage:index'))
        self.assertContains(response, 'Mail store upgrade')
        self.assertContains(response, timezone.localtime(start).strftime('%Y-%m-%dT%H:%M'))
        self.assertNotContains(response, 'secret contract terms')
        self.assertNotContains(response, 'Drain, upgrade, re-enable.')
        self.assertNotContains(response, 'Far away')
        self.assertNotContains(response, 'Private work')

    def test_past_incidents_of_the_last_fourteen_days(self):
        now = timezone.now()
        recent = restored_major(
            started=now - dt.timedelta(days=3),
            restored=now - dt.timedelta(days=3),
            services=[self.ci],
            public_title='Wi-Fi down in the library',
        )
        restored_major(
            started=now - dt.timedelta(days=30),
            restored=now - dt.timedelta(days=30),
            services=[self.ci],
            public_title='Printing down last month',
        )
        response = self.client.get(reverse('statuspage:index'))
        self.assertContains(response, recent.title)
        self.assertNotContains(response, 'Printing down last month')

    def test_the_incident_page_shows_its_public_history(self):
        post_public(self.major, body='A fix is being deployed.', status='identified')
        response = self.client.get(reverse('statuspage:incident', args=[self.major.number.lower()]))
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'A fix is being deployed.')
        self.assertContains(response, 'Messages are queued; nothing is lost.')
        self.assertNotContains(response, 'Controller B is flapping.')
        body = response.content.decode()
        self.assertLess(body.index('A fix is being deployed.'), body.index('Messages are queued'))
        self.assertEqual(response['Cache-Control'], 'max-age=30')

    def test_an_incident_without_public_update_off_public_services_is_not_found(self):
        hidden = make_major(services=[make_private_service()])
        UpdateFactory(major_incident=hidden, audience=UpdateAudience.INTERNAL, body='Internal only.')
        self.assertHttpStatus(self.client.get(reverse('statuspage:incident', args=[hidden.number])), 404)
        self.assertHttpStatus(self.client.get(reverse('statuspage:incident', args=['MIR9999999'])), 404)
        # A public update makes it public, though its services are not listed.
        post_public(hidden, body='Payroll is late.')
        self.assertHttpStatus(self.client.get(reverse('statuspage:incident', args=[hidden.number])), 200)

    def test_the_service_page_shows_its_history_and_incidents(self):
        response = self.client.get(reverse('statuspage:service', args=[self.ci.number]))
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'Student e-mail')
        self.assertContains(response, 'E-mail delivery delayed')
        self.assertContains(response, 'class="sp-day', count=90)
        private = make_private_service()
        self.assertHttpStatus(self.client.get(reverse('statuspage:service', args=[private.number])), 404)

    def add_service_with_history(self, n: int) -> None:
        ci = make_public_service()
        major = make_major(services=[ci, self.ci])
        post_public(major, body=f'Update {n}')
        post_public(major, body=f'Second update {n}')
        make_change(ChangeState.SCHEDULED, services=[ci], planned_start=window(days=2 + n)[0])
        make_change(ChangeState.IMPLEMENTATION, services=[ci], planned_start=window(days=0)[0])
        now = timezone.now()
        restored_major(started=now - dt.timedelta(days=4), restored=now - dt.timedelta(days=3), services=[ci])

    def test_page_query_count_does_not_grow(self):
        url = reverse('statuspage:index')
        self.add_service_with_history(0)
        self.client.get(url)
        small = self.count_queries(lambda: self.assertHttpStatus(self.client.get(url), 200))
        for n in range(1, 4):
            self.add_service_with_history(n)
        large = self.count_queries(lambda: self.assertHttpStatus(self.client.get(url), 200))
        self.assertEqual(small, large)


class ServicesJoinThePageTests(ItsmTestCase):
    """Services are put on the page from the CMDB: its API and its service form carry the status-page fields."""

    def test_through_the_service_api(self):
        ci = make_private_service('Library catalogue')
        client = self.api_client(self.make_user(Role.ADMINISTRATOR))
        url = reverse('api:service-detail', args=[ci.number])
        response = client.patch(url, {'public': True, 'public_name': 'Catalogue', 'announce_list': 'lib@example.org'})
        self.assertHttpStatus(response, 200)
        self.assertEqual(
            (response.data['public'], response.data['public_name'], response.data['announce_list']),
            (True, 'Catalogue', 'lib@example.org'),
        )
        self.assertContains(self.client.get(reverse('statuspage:index')), 'Catalogue')

    def test_through_the_service_form(self):
        ci = make_private_service('Room booking')
        self.client.force_login(self.make_user(Role.ADMINISTRATOR))
        data = {
            'name': 'Room booking',
            'kind': 'business',
            'status': 'operational',
            'criticality': 'medium',
            'environment': 'production',
            'ci_status': 'in_production',
            'public': 'on',
            'public_name': 'Rooms',
            'announce_list': '',
        }
        response = self.client.post(reverse('cmdb:service_edit', kwargs={'pk': ci.number}), data)
        self.assertHttpStatus(response, 302)
        self.assertTrue(service_of(ci).public)
        self.client.logout()
        self.assertContains(self.client.get(reverse('statuspage:index')), 'Rooms')
