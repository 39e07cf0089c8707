"""The page's JSON in the shape of Atlassian Statuspage's public API v2, key by key, and its values."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from changes.choices import ChangeState
from major_incidents.choices import MajorIncidentState, ServiceImpact, UpdateAudience, UpdateStatus
from tests.base import ItsmTestCase
from tests.changes.factories import make_change, window
from tests.major_incidents.factories import UpdateFactory

from .factories import make_major, make_private_service, make_public_service, post_public, restored_major

PAGE_KEYS = {'id', 'name', 'url', 'time_zone', 'updated_at'}
COMPONENT_KEYS = {
    'id',
    'name',
    'status',
    'created_at',
    'updated_at',
    'position',
    'description',
    'showcase',
    'start_date',
    'group_id',
    'page_id',
    'group',
    'only_show_if_degraded',
}
INCIDENT_KEYS = {
    'id',
    'name',
    'status',
    'created_at',
    'updated_at',
    'monitoring_at',
    'resolved_at',
    'impact',
    'shortlink',
    'started_at',
    'page_id',
    'incident_updates',
    'components',
}
UPDATE_KEYS = {
    'id',
    'status',
    'body',
    'incident_id',
    'created_at',
    'updated_at',
    'display_at',
    'affected_components',
    'deliver_notifications',
    'custom_tweet',
    'tweet_id',
}
MAINTENANCE_KEYS = INCIDENT_KEYS | {'scheduled_for', 'scheduled_until'}


def parse(moment: str) -> dt.datetime:
    return dt.datetime.fromisoformat(moment)


class StatuspageJsonTests(ItsmTestCase):
    def setUp(self):
        self.mail = make_public_service('Student e-mail')
        self.wifi = make_public_service('Campus Wi-Fi')
        self.major = make_major(
            services=[self.mail, make_private_service('Mail relay')],
            service_impact=ServiceImpact.PARTIAL_OUTAGE,
            public_title='E-mail delivery delayed',
        )
        self.first = post_public(self.major, body='Investigating slow delivery.')
        self.second = post_public(self.major, body='Relay restarted; watching.', status=UpdateStatus.MONITORING)
        UpdateFactory(major_incident=self.major, audience=UpdateAudience.INTERNAL, body='Internal note.')
        start, end = window(days=2)
        self.upgrade = make_change(
            ChangeState.SCHEDULED,
            services=[self.wifi],
            short_description='Wi-Fi controller upgrade',
            planned_start=start,
            planned_end=end,
        )

    def get(self, name: str) -> dict:
        response = self.client.get(reverse(f'statuspage:{name}'))
        self.assertHttpStatus(response, 200)
        self.assertEqual(response['Content-Type'], 'application/json')
        self.assertEqual(response['Cache-Control'], 'max-age=30')
        self.assertEqual(response['Access-Control-Allow-Origin'], '*')
        return response.json()

    def test_summary_shape(self):
        data = self.get('summary')
        self.assertEqual(set(data), {'page', 'components', 'incidents', 'scheduled_maintenances', 'status'})
        self.assertEqual(set(data['page']), PAGE_KEYS)
        self.assertEqual(set(data['status']), {'indicator', 'description'})
        for component in data['components']:
            self.assertEqual(set(component), COMPONENT_KEYS)
        (incident,) = data['incidents']
        self.assertEqual(set(incident), INCIDENT_KEYS)
        for update in incident['incident_updates']:
            self.assertEqual(set(update), UPDATE_KEYS)
        for component in incident['components']:
            self.assertEqual(set(component), COMPONENT_KEYS)
        (maintenance,) = data['scheduled_maintenances']
        self.assertEqual(set(maintenance), MAINTENANCE_KEYS)

    def test_summary_values(self):
        data = self.get('summary')
        page = data['page']
        self.assertEqual(page['name'], settings.STATUS_PAGE_TITLE)
        self.assertEqual(page['url'], f'{settings.SITE_URL}/status/')
        self.assertEqual(page['time_zone'], settings.TIME_ZONE)
        self.assertGreaterEqual(parse(page['updated_at']), self.second.posted_at)
        self.assertEqual(data['status'], {'indicator': 'major', 'description': 'Partial outage'})

        components = {c['id']: c for c in data['components']}
        self.assertEqual(set(components), {self.mail.number, self.wifi.number})
        mail = components[self.mail.number]
        self.assertEqual(mail['name'], 'Student e-mail')
        self.assertEqual(mail['status'], 'partial_outage')
        self.assertEqual(components[self.wifi.number]['status'], 'operational')
        self.assertEqual([c['position'] for c in data['components']], [1, 2])
        self.assertEqual(mail['page_id'], page['id'])
        self.assertIs(mail['showcase'], True)
        self.assertIs(mail['group'], False)
        self.assertIsNone(mail['group_id'])
        self.assertIs(mail['only_show_if_degraded'], False)
        dt.date.fromisoformat(mail['start_date'])

        (incident,) = data['incidents']
        self.assertEqual(incident['id'], self.major.number)
        self.assertEqual(incident['name'], 'E-mail delivery delayed')
        self.assertEqual(incident['status'], 'monitoring')
        self.assertEqual(incident['impact'], 'major')
        self.assertIsNone(incident['resolved_at'])
        self.assertEqual(parse(incident['monitoring_at']), self.second.posted_at)
        self.assertEqual(parse(incident['started_at']), self.major.outage_started_at)
        self.assertEqual(incident['shortlink'], f'{settings.SITE_URL}/status/incidents/{self.major.number}/')
        self.assertEqual(
            [u['body'] for u in incident['incident_updates']],
            ['Relay restarted; watching.', 'Investigating slow delivery.'],
        )
        self.assertEqual(incident['incident_updates'][0]['incident_id'], self.major.number)
        self.assertEqual([c['id'] for c in incident['components']], [self.mail.number])
        self.assertNotIn('Internal note.', str(data))
        self.assertNotIn('Mail relay', str(data))

        (maintenance,) = data['scheduled_maintenances']
        self.assertEqual(maintenance['id'], self.upgrade.number)
        self.assertEqual(maintenance['name'], 'Wi-Fi controller upgrade')
        self.assertEqual(maintenance['status'], 'scheduled')
        self.assertEqual(maintenance['impact'], 'maintenance')
        self.assertEqual(parse(maintenance['scheduled_for']), self.upgrade.planned_start)
        self.assertEqual(parse(maintenance['scheduled_until']), self.upgrade.planned_end)
        self.assertEqual([c['id'] for c in maintenance['components']], [self.wifi.number])
        self.assertNotIn(self.upgrade.justification, str(data))

    def test_status_and_components(self):
        status = self.get('status')
        self.assertEqual(set(status), {'page', 'status'})
        self.assertEqual(status['status']['indicator'], 'major')
        components = self.get('components')
        self.assertEqual(set(components), {'page', 'components'})
        self.assertEqual(len(components['components']), 2)

    def test_incidents_list_resolved_ones_and_unresolved_only_the_active(self):
        now = timezone.now()
        old = restored_major(
            started=now - dt.timedelta(days=2), restored=now - dt.timedelta(days=1), services=[self.wifi]
        )
        make_major(services=[self.wifi], state=MajorIncidentState.CANCELLED)
        incidents = {i['id']: i for i in self.get('incidents')['incidents']}
        self.assertEqual(set(incidents), {self.major.number, old.number})
        self.assertEqual(incidents[old.number]['status'], 'resolved')
        self.assertEqual(parse(incidents[old.number]['resolved_at']), now - dt.timedelta(days=1))
        unresolved = self.get('incidents_unresolved')
        self.assertEqual(set(unresolved), {'page', 'incidents'})
        self.assertEqual([i['id'] for i in unresolved['incidents']], [self.major.number])

    def test_scheduled_maintenances_upcoming_and_active(self):
        running = make_change(
            ChangeState.IMPLEMENTATION,
            services=[self.mail],
            short_description='Mail store patch',
            planned_start=window(days=0)[0],
        )
        self.assertEqual(
            [m['id'] for m in self.get('maintenances_upcoming')['scheduled_maintenances']], [self.upgrade.number]
        )
        (active,) = self.get('maintenances_active')['scheduled_maintenances']
        self.assertEqual((active['id'], active['status']), (running.number, 'in_progress'))
        listed = self.get('maintenances')
        self.assertEqual(set(listed), {'page', 'scheduled_maintenances'})
        self.assertEqual({m['id'] for m in listed['scheduled_maintenances']}, {self.upgrade.number, running.number})
        summary = self.get('summary')
        self.assertEqual({m['id'] for m in summary['scheduled_maintenances']}, {self.upgrade.number, running.number})

    def test_all_operational(self):
        self.major.delete()
        self.assertEqual(self.get('summary')['status'], {'indicator': 'none', 'description': 'All systems operational'})

    def test_summary_query_count_does_not_grow(self):
        url = reverse('statuspage:summary')
        small = self.count_queries(lambda: self.client.get(url))
        for n in range(3):
            ci = make_public_service()
            major = make_major(services=[ci, self.mail])
            post_public(major, body=f'Update {n}')
            make_change(ChangeState.SCHEDULED, services=[ci], planned_start=window(days=3 + n)[0])
        large = self.count_queries(lambda: self.client.get(url))
        self.assertEqual(small, large)
