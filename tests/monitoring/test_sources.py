"""Monitoring sources: generic API and page tests, tokens (hashed, shown once, rotated) and integration users."""

import hashlib

from django.urls import reverse

from itsm.choices import Role, TimelineKind
from itsm.models import SupportGroup
from monitoring.choices import SourceKind
from monitoring.models import AlertSource
from tests.base import APITestCases, ItsmTestCase, ViewTestCases
from tests.factories import SupportGroupFactory

from .factories import event, make_source


class AlertSourceAPITests(APITestCases.ModelAPITestCase):
    model = AlertSource
    basename = 'alertsource'
    view_roles = (Role.ADMINISTRATOR,)
    write_roles = (Role.ADMINISTRATOR,)
    denied_roles = (Role.SERVICE_DESK_AGENT,)
    update_data = {'flap_window_minutes': 10, 'active': False}

    def make_object(self, **kwargs):
        return make_source(**kwargs)

    def create_data(self):
        group = SupportGroup.objects.filter(name='Network Operations').first()
        group = group or SupportGroupFactory(name='Network Operations')
        return {'name': 'Nagios', 'kind': 'events', 'support_group': group.name, 'flap_window_minutes': 15}

    def filter_cases(self):
        events = self.make_object(name='Events one')
        alertmanager = self.make_object(name='Prometheus', kind=SourceKind.ALERTMANAGER, active=False)
        return [
            ({'kind': 'alertmanager'}, [alertmanager]),
            ({'active': 'true', 'kind': 'events'}, [events]),
            ({'q': 'prom'}, [alertmanager]),
        ]

    def test_the_token_is_returned_once_and_only_its_hash_is_kept(self):
        client = self.api_client(self.writer())
        response = client.post(self.list_url(), self.create_data(), format='json')
        self.assertHttpStatus(response, 201)
        token = response.data['token']
        self.assertEqual(len(token), 32)
        source = AlertSource.objects.get(pk=response.data['id'])
        self.assertEqual(source.token_hash, hashlib.sha256(token.encode()).hexdigest())
        self.assertEqual(response.data['token_prefix'], token[:8])
        self.assertIsNone(client.get(self.detail_url(source)).data['token'])
        created = self.timeline(source, TimelineKind.CREATED).get()
        self.assertNotIn(source.token_hash, str(created.changes))
        self.assertNotIn(token, str(created.changes))
        # The integration user made for it is the caller of its incidents.
        self.assertTrue(source.integration_user.has_role(Role.INTEGRATION))
        self.assertEqual(source.integration_user.username, 'monitoring-nagios')

    def test_rotating_the_token_retires_the_old_one(self):
        source = self.make_object()
        old = source.token
        response = self.api_client(self.writer()).post(reverse('api:alertsource-rotate-token', args=[source.pk]))
        self.assertHttpStatus(response, 200)
        new = response.data['token']
        self.assertNotEqual(new, old)
        refused = self.api_client().post('/api/v1/events/', event(source), format='json')
        self.assertHttpStatus(refused, 401)
        source.token = new
        self.assertHttpStatus(self.api_client().post('/api/v1/events/', event(source), format='json'), 202)
        entry = self.timeline(source, TimelineKind.FIELD_CHANGE).get()
        self.assertIn('Token rotated', entry.message)
        self.assertEqual(entry.changes[0]['after'], new[:8])

    def test_rotating_needs_the_change_right(self):
        source = self.make_object()
        url = reverse('api:alertsource-rotate-token', args=[source.pk])
        self.assertHttpStatus(self.api_client(self.make_user(Role.SERVICE_DESK_AGENT)).post(url), 403)
        self.assertEqual(AlertSource.objects.get(pk=source.pk).token_hash, source.token_hash)

    def test_a_bad_severity_map_or_integration_user_is_a_400_naming_it(self):
        client = self.api_client(self.writer())
        data = {**self.create_data(), 'severity_map': {'critical': {'impact': 'cosmic', 'urgency': 'now'}}}
        response = client.post(self.list_url(), data, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('impact must be one of', str(response.data['severity_map']))
        person = self.make_user(Role.SERVICE_DESK_AGENT)
        data = {**self.create_data(), 'name': 'Other', 'integration_user': person.username}
        response = client.post(self.list_url(), data, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('integration role', str(response.data['integration_user']))
        self.assertFalse(AlertSource.objects.exists())


class AlertSourceViewTests(ViewTestCases.ModelViewTestCase):
    model = AlertSource
    view_roles = (Role.ADMINISTRATOR,)
    write_roles = (Role.ADMINISTRATOR,)
    denied_roles = (Role.SERVICE_DESK_AGENT,)

    def make_object(self, **kwargs):
        return make_source(**kwargs)

    def form_data(self):
        return {
            'name': 'Nagios',
            'kind': 'events',
            'flap_window_minutes': 15,
            'dedup_by': 'fingerprint',
            'active': 'on',
        }

    def test_the_token_shows_once_after_create_and_after_rotate(self):
        self.login(Role.ADMINISTRATOR)
        response = self.client.post(reverse('monitoring:alertsource_add'), self.form_data(), follow=True)
        self.assertHttpStatus(response, 200)
        token = response.context['new_token']
        source = AlertSource.objects.get(name='Nagios')
        self.assertEqual(source.token_hash, hashlib.sha256(token.encode()).hexdigest())
        self.assertContains(response, token)
        self.assertEqual(source.severity_map['critical'], {'impact': 'high', 'urgency': 'critical'})
        again = self.client.get(source.get_absolute_url())
        self.assertNotContains(again, token)
        rotate = reverse('monitoring:alertsource_rotate', args=[source.pk])
        self.assertHttpStatus(self.client.get(rotate), 200)
        response = self.client.post(rotate, follow=True)
        new = response.context['new_token']
        self.assertNotEqual(new, token)
        self.assertContains(response, new)
        self.assertNotContains(self.client.get(source.get_absolute_url()), new)

    def test_the_page_shows_the_receiver_configuration(self):
        source = make_source(kind=SourceKind.ALERTMANAGER, name='Prometheus')
        self.login(Role.ADMINISTRATOR)
        response = self.client.get(source.get_absolute_url())
        self.assertContains(response, 'http://testserver/api/v1/integrations/alertmanager/')
        self.assertContains(response, f'token starting {source.token_prefix}')
        self.assertNotContains(response, source.token)


class IntegrationUserTests(ItsmTestCase):
    def test_each_source_gets_its_own_integration_user_unless_one_is_given(self):
        first, second = make_source(name='Checks'), make_source(name='checks')
        self.assertNotEqual(first.integration_user, second.integration_user)
        bot = self.make_user(Role.INTEGRATION)
        self.assertEqual(make_source(name='Third', integration_user=bot).integration_user, bot)
