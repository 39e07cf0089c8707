"""The CMDB under change control: with CMDB_REQUIRE_CHANGE_FOR_PRODUCTION on, creating, editing or retiring a
production CI needs a change in implementation that lists that CI (creating one: any change in implementation);
the CI's history names the change and links it."""

from __future__ import annotations

from django.conf import settings
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from changes.choices import ChangeState
from changes.cmdb_control import change_covers
from changes.models import Change
from cmdb.checks import suspended
from cmdb.choices import CIClass
from cmdb.models import ConfigurationItem
from itsm.choices import Role
from tests.base import ItsmTestCase
from tests.cmdb.factories import make_ci, make_service

S = ChangeState
HOST = {'hostname': 'db01.example.com'}


def change_in(state: str, *cis) -> Change:
    change = Change.objects.create(short_description=f'Work in {state}', state=state, opened_at=timezone.now())
    change.cis.add(*cis)
    return change


@override_settings(CMDB_REQUIRE_CHANGE_FOR_PRODUCTION=True)
class CmdbChangeControlTests(ItsmTestCase):
    def setUp(self):
        self.client = self.api_client(self.make_user(Role.CHANGE_MANAGER))
        with suspended('test data'):
            self.prod = make_ci(CIClass.SERVER, 'prod-db', environment='production')
            self.other = make_ci(CIClass.SERVER, 'prod-web', environment='production')
        self.covering = change_in(S.IMPLEMENTATION, self.prod)

    def patch(self, data):
        return self.client.patch(f'/api/v1/cis/{self.prod.number}/', data, format='json')

    def test_the_changes_app_is_the_default_validator(self):
        self.assertEqual(settings.CMDB_CHANGE_VALIDATOR, 'changes.cmdb_control.change_covers')

    def test_edit_is_refused_without_a_change(self):
        response = self.patch({'location': 'DC2'})
        self.assertHttpStatus(response, 400)
        self.assertIn('give the approved change', str(response.data['change_reference']))

    def test_edit_is_refused_with_a_change_not_in_implementation(self):
        for state in (S.DRAFT, S.AUTHORIZATION, S.SCHEDULED, S.REVIEW, S.CLOSED, S.CANCELLED):
            with self.subTest(state=state):
                change = change_in(state, self.prod)
                response = self.patch({'location': 'DC2', 'change_reference': change.number})
                self.assertHttpStatus(response, 400)
                self.assertEqual(
                    response.data['change_reference'],
                    [f'{change.number} is not an approved change for {self.prod.number}.'],
                )
        self.prod.refresh_from_db()
        self.assertEqual(self.prod.location, '')

    def test_edit_is_refused_with_a_change_that_does_not_list_the_ci(self):
        elsewhere = change_in(S.IMPLEMENTATION, self.other)
        self.assertHttpStatus(self.patch({'location': 'DC2', 'change_reference': elsewhere.number}), 400)
        self.assertHttpStatus(self.patch({'location': 'DC2', 'change_reference': 'CHG9999999'}), 400)

    def test_edit_is_accepted_with_the_change_in_implementation_and_the_history_shows_it(self):
        response = self.patch({'location': 'DC2', 'change_reference': self.covering.number.lower()})
        self.assertHttpStatus(response, 200)
        entry = self.timeline(self.prod, 'field_change').get()
        self.assertEqual(entry.data, {'change_reference': self.covering.number})
        self.assertIn(f'Under change {self.covering.number}', entry.message)
        # The CI's page names the change and links it (the number opens the change).
        web = self.client_for(Role.CHANGE_MANAGER)
        page = web.get(reverse('cmdb:configurationitem_detail', kwargs={'number': self.prod.number}))
        link = f'{reverse("itsm:search")}?q={self.covering.number}'
        self.assertContains(page, f'href="{link}"')
        self.assertRedirects(web.get(link), self.covering.get_absolute_url(), fetch_redirect_response=False)

    def test_the_ci_page_lists_the_changes_that_list_it(self):
        web = self.client_for(Role.L2_ENGINEER)
        url = reverse('cmdb:configurationitem_detail', kwargs={'number': self.prod.number})
        closed = change_in(S.CLOSED, self.prod)
        page = web.get(url)
        self.assertContains(page, 'data-testid="item-changes"')
        text = page.content.decode()
        # The change still in implementation comes before the closed one.
        self.assertLess(text.index(self.covering.number), text.index(closed.number))
        self.assertNotContains(
            web.get(reverse('cmdb:configurationitem_detail', args=[self.other.number])), closed.number
        )
        before = self.count_queries(lambda: web.get(url))
        for _ in range(4):
            change_in(S.SCHEDULED, self.prod)
        self.assertEqual(self.count_queries(lambda: web.get(url)), before)

    def test_a_service_listed_on_the_change_is_covered(self):
        with suspended('test data'):
            service = make_service(name='Mail')
        change = change_in(S.IMPLEMENTATION)
        change.services.add(service.ci)
        self.assertTrue(change_covers(change.number, ci=service.ci))
        self.assertFalse(change_covers(change.number, ci=self.prod))

    def test_retiring_is_controlled_like_any_edit(self):
        self.assertHttpStatus(self.patch({'status': 'retired'}), 400)
        elsewhere = change_in(S.IMPLEMENTATION, self.other)
        self.assertHttpStatus(self.patch({'status': 'retired', 'change_reference': elsewhere.number}), 400)
        self.assertHttpStatus(self.patch({'status': 'retired', 'change_reference': self.covering.number}), 200)
        self.prod.refresh_from_db()
        self.assertEqual(self.prod.status, 'retired')
        self.assertEqual(self.timeline(self.prod, 'field_change').get().data['change_reference'], self.covering.number)

    def test_delete_is_controlled(self):
        url = f'/api/v1/cis/{self.other.number}/'
        self.assertHttpStatus(self.client.delete(f'{url}?change_reference={self.covering.number}'), 400)
        change = change_in(S.IMPLEMENTATION, self.other)
        self.assertHttpStatus(self.client.delete(f'{url}?change_reference={change.number}'), 204)
        self.assertFalse(ConfigurationItem.objects.filter(pk=self.other.pk).exists())

    def test_creating_a_production_ci_needs_a_change_in_implementation(self):
        data = {'name': 'new-db', 'ci_class': 'server', 'environment': 'production', 'attributes': HOST}
        response = self.client.post('/api/v1/cis/', data, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('new-db is in production: to create it', str(response.data['change_reference']))
        scheduled = change_in(S.SCHEDULED)
        response = self.client.post('/api/v1/cis/', {**data, 'change_reference': scheduled.number}, format='json')
        self.assertHttpStatus(response, 400)
        # A new CI cannot be listed on a change yet: any change in implementation covers its creation.
        unrelated = change_in(S.IMPLEMENTATION, self.other)
        response = self.client.post('/api/v1/cis/', {**data, 'change_reference': unrelated.number}, format='json')
        self.assertHttpStatus(response, 201)
        created = ConfigurationItem.objects.get(name='new-db')
        entry = self.timeline(created, 'created').get()
        self.assertEqual(entry.data, {'change_reference': unrelated.number})
        self.assertIn(f'Under change {unrelated.number}', entry.message)

    def test_creating_a_production_service_needs_one_too(self):
        data = {'name': 'Payroll', 'kind': 'business'}
        response = self.client.post('/api/v1/services/', data, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('Payroll is in production: to create it', str(response.data['change_reference']))
        response = self.client.post(
            '/api/v1/services/', {**data, 'change_reference': self.covering.number}, format='json'
        )
        self.assertHttpStatus(response, 201)
        created = ConfigurationItem.objects.get(name='Payroll')
        self.assertEqual(self.timeline(created, 'created').get().data, {'change_reference': self.covering.number})

    def test_creating_outside_production_needs_no_change(self):
        data = {'name': 'lab-db', 'ci_class': 'server', 'environment': 'test', 'attributes': HOST}
        self.assertHttpStatus(self.client.post('/api/v1/cis/', data, format='json'), 201)

    def test_the_create_page_asks_for_the_change(self):
        web = self.client_for(Role.CHANGE_MANAGER)
        url = reverse('cmdb:configurationitem_add')
        data = {
            'name': 'page-db',
            'ci_class': 'server',
            'status': 'in_production',
            'environment': 'production',
            'attr_hostname': 'page-db.example.com',
        }
        response = web.post(url, data)
        self.assertHttpStatus(response, 200)
        self.assertIn('change_reference', response.context['form'].errors)
        self.assertHttpStatus(web.post(url, {**data, 'change_reference': self.covering.number}), 302)
        self.assertTrue(ConfigurationItem.objects.filter(name='page-db').exists())

    def client_for(self, role):
        from django.test import Client

        web = Client()
        web.force_login(self.make_user(role))
        return web


class ControlOffTests(ItsmTestCase):
    def test_without_the_setting_nothing_is_asked(self):
        client = self.api_client(self.make_user(Role.CHANGE_MANAGER))
        ci = make_ci(CIClass.SERVER, environment='production')
        self.assertHttpStatus(client.patch(f'/api/v1/cis/{ci.number}/', {'location': 'DC9'}, format='json'), 200)
