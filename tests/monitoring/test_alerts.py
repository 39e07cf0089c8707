"""Alerts as people read them: `/api/v1/monitoring-alerts/` (read only) and the alert pages, for those who work
incidents; the same number of queries whatever the row count."""

from django.urls import reverse

from itsm.choices import Role
from monitoring import services
from monitoring.choices import AlertStatus
from monitoring.models import Alert
from tests.base import ItsmTestCase

from .factories import make_alert, make_source

API = '/api/v1/monitoring-alerts/'


class AlertAPITests(ItsmTestCase):
    def setUp(self):
        self.source = make_source(name='Checks')
        self.agent = self.make_user(Role.SERVICE_DESK_AGENT)

    def test_agents_read_alerts_and_filter_them(self):
        firing = make_alert(self.source, dedup_key='one')
        resolved = make_alert(self.source, dedup_key='two')
        services.alert_resolve(source=self.source, dedup_key='two')
        client = self.api_client(self.agent)
        response = client.get(API)
        self.assertHttpStatus(response, 200)
        self.assertEqual({row['id'] for row in response.data['results']}, {firing.pk, resolved.pk})
        row = client.get(f'{API}{firing.pk}/').data
        expected = ('Checks', firing.incident.number, 'triggered')
        self.assertEqual((row['source'], row['incident'], row['status']), expected)
        cases = [
            ({'status': 'resolved'}, {resolved.pk}),
            ({'open': 'true'}, {firing.pk}),
            ({'open': 'false'}, {resolved.pk}),
            ({'incident': firing.incident.number.lower()}, {firing.pk}),
            ({'q': 'two'}, {resolved.pk}),
            ({'source': self.source.pk}, {firing.pk, resolved.pk}),
        ]
        for params, expected in cases:
            with self.subTest(params=params):
                self.assertEqual({r['id'] for r in client.get(API, params).data['results']}, expected)

    def test_alerts_are_read_only_and_hidden_from_requesters(self):
        alert = make_alert(self.source)
        admin = self.api_client(self.make_user(Role.ADMINISTRATOR))
        self.assertHttpStatus(admin.post(API, {'dedup_key': 'x'}, format='json'), 405)
        self.assertHttpStatus(admin.patch(f'{API}{alert.pk}/', {'status': 'resolved'}, format='json'), 405)
        self.assertHttpStatus(admin.delete(f'{API}{alert.pk}/'), 405)
        self.assertEqual(Alert.objects.get(pk=alert.pk).status, AlertStatus.TRIGGERED)
        self.assertHttpStatus(self.api_client(self.make_user(Role.REQUESTER)).get(API), 403)
        self.assertHttpStatus(self.api_client().get(API), 401)

    def test_list_query_count_does_not_grow_with_rows(self):
        client = self.api_client(self.agent)
        for _ in range(2):
            make_alert(self.source)
        client.get(API)
        small = self.count_queries(lambda: self.assertHttpStatus(client.get(API), 200))
        for _ in range(6):
            make_alert(self.source)
        large = self.count_queries(lambda: self.assertHttpStatus(client.get(API), 200))
        self.assertEqual(small, large)


class AlertPageTests(ItsmTestCase):
    def setUp(self):
        self.source = make_source(name='Checks')
        self.agent = self.make_user(Role.SERVICE_DESK_AGENT)

    def test_agents_see_the_list_and_an_alert_with_its_incident(self):
        alert = make_alert(self.source, details={'disk': '/var'}, summary='Disk /var full on db1')
        self.client.force_login(self.agent)
        response = self.client.get(reverse('monitoring:alert_list'))
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'Disk /var full on db1')
        response = self.client.get(alert.get_absolute_url())
        self.assertHttpStatus(response, 200)
        self.assertContains(response, alert.incident.number)
        self.assertContains(response, '/var')
        response = self.client.get(reverse('monitoring:alert_list'), {'status': 'resolved'})
        self.assertNotContains(response, 'Disk /var full on db1')

    def test_requesters_and_agents_are_refused_what_they_may_not_see(self):
        alert = make_alert(self.source)
        self.client.force_login(self.make_user(Role.REQUESTER))
        self.assertHttpStatus(self.client.get(reverse('monitoring:alert_list')), 403)
        self.assertHttpStatus(self.client.get(alert.get_absolute_url()), 403)
        self.client.force_login(self.agent)
        self.assertHttpStatus(self.client.get(reverse('monitoring:alertsource_list')), 403)
        self.assertHttpStatus(self.client.get(self.source.get_absolute_url()), 403)

    def test_list_page_query_count_does_not_grow_with_rows(self):
        self.client.force_login(self.agent)
        url = reverse('monitoring:alert_list')
        for _ in range(2):
            make_alert(self.source)
        self.client.get(url)
        small = self.count_queries(lambda: self.assertHttpStatus(self.client.get(url), 200))
        for _ in range(6):
            make_alert(self.source)
        large = self.count_queries(lambda: self.assertHttpStatus(self.client.get(url), 200))
        self.assertEqual(small, large)

    def test_the_source_page_lists_its_recent_alerts_in_the_same_queries(self):
        admin = self.make_user(Role.ADMINISTRATOR)
        self.client.force_login(admin)
        url = self.source.get_absolute_url()
        make_alert(self.source)
        self.client.get(url)
        small = self.count_queries(lambda: self.assertHttpStatus(self.client.get(url), 200))
        for _ in range(5):
            make_alert(self.source)
        response = self.client.get(url)
        self.assertEqual(len(response.context['recent_alerts']), 6)
        large = self.count_queries(lambda: self.assertHttpStatus(self.client.get(url), 200))
        self.assertEqual(small, large)
