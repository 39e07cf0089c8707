"""The change control point: with CMDB_REQUIRE_CHANGE_FOR_PRODUCTION on, edits to production CIs need an
approved change reference; the approval check is pluggable (the changes app plugs in its own)."""

from django.test import Client, override_settings
from django.urls import reverse

from cmdb.checks import ci_require_change, is_change_reference
from cmdb.choices import CIClass
from cmdb.models import ConfigurationItem, Relationship
from itsm.choices import Role
from tests.base import ItsmTestCase

from .factories import make_ci

APPROVED = 'CHG0000777'


def only_chg0000777(reference, *, ci):
    """A stand-in for the changes app's check: one approved change."""
    return reference == APPROVED


# The stand-in validator (any well-formed number), whichever the desk configures; the changes app's own check is
# tested in tests/changes/test_cmdb_control.py.
@override_settings(CMDB_CHANGE_VALIDATOR='cmdb.checks.is_change_reference')
class ChangeControlTests(ItsmTestCase):
    def setUp(self):
        self.client = self.api_client(self.make_user(Role.CHANGE_MANAGER))
        self.prod = make_ci(CIClass.SERVER, 'prod-db', environment='production')
        self.test = make_ci(CIClass.SERVER, 'test-db', environment='test')

    def patch(self, ci, data):
        return self.client.patch(f'/api/v1/cis/{ci.number}/', data, format='json')

    def test_off_by_default(self):
        self.assertHttpStatus(self.patch(self.prod, {'location': 'DC2'}), 200)

    @override_settings(CMDB_REQUIRE_CHANGE_FOR_PRODUCTION=True)
    def test_production_edit_without_reference_is_a_400_saying_why(self):
        response = self.patch(self.prod, {'location': 'DC2'})
        self.assertHttpStatus(response, 400)
        self.assertEqual(
            response.data['change_reference'],
            [
                f'{self.prod.number} is in production: to edit it, give the approved change that covers it '
                '(change_reference, e.g. CHG0000123).'
            ],
        )
        self.prod.refresh_from_db()
        self.assertEqual(self.prod.location, '')

    @override_settings(CMDB_REQUIRE_CHANGE_FOR_PRODUCTION=True)
    def test_well_formed_reference_passes_and_is_recorded(self):
        response = self.patch(self.prod, {'location': 'DC2', 'change_reference': 'chg0000123'})
        self.assertHttpStatus(response, 200)
        entry = self.timeline(self.prod, 'field_change').get()
        self.assertEqual(entry.data, {'change_reference': 'CHG0000123'})
        self.assertIn('Under change CHG0000123', entry.message)

    @override_settings(CMDB_REQUIRE_CHANGE_FOR_PRODUCTION=True)
    def test_malformed_reference_is_refused(self):
        response = self.patch(self.prod, {'location': 'DC2', 'change_reference': 'CHG12'})
        self.assertHttpStatus(response, 400)
        self.assertIn('CHG12 is not an approved change', str(response.data['change_reference']))

    @override_settings(CMDB_REQUIRE_CHANGE_FOR_PRODUCTION=True)
    def test_other_environments_need_no_change_until_they_move_into_production(self):
        self.assertHttpStatus(self.patch(self.test, {'location': 'Lab'}), 200)
        self.assertHttpStatus(self.patch(self.test, {'environment': 'production'}), 400)
        self.assertHttpStatus(self.patch(self.prod, {'environment': 'test'}), 400)  # and out of it
        self.assertHttpStatus(self.patch(self.test, {'environment': 'production', 'change_reference': APPROVED}), 200)

    @override_settings(CMDB_REQUIRE_CHANGE_FOR_PRODUCTION=True)
    def test_an_edit_that_changes_nothing_needs_no_change(self):
        self.assertHttpStatus(self.patch(self.prod, {'name': 'prod-db'}), 200)

    @override_settings(
        CMDB_REQUIRE_CHANGE_FOR_PRODUCTION=True,
        CMDB_CHANGE_VALIDATOR='tests.cmdb.test_change_control.only_chg0000777',
    )
    def test_the_validator_is_pluggable(self):
        response = self.patch(self.prod, {'location': 'DC2', 'change_reference': 'CHG0000123'})
        self.assertHttpStatus(response, 400)
        self.assertIn('CHG0000123 is not an approved change', str(response.data))
        self.assertHttpStatus(self.patch(self.prod, {'location': 'DC2', 'change_reference': APPROVED}), 200)

    @override_settings(CMDB_REQUIRE_CHANGE_FOR_PRODUCTION=True)
    def test_relationships_and_deletes_of_production_cis_are_controlled_too(self):
        app = make_ci(CIClass.APPLICATION, environment='test')
        data = {'source': app.number, 'type': 'runs_on', 'target': self.prod.number}
        self.assertHttpStatus(self.client.post('/api/v1/ci-relationships/', data), 400)
        self.assertFalse(Relationship.objects.exists())
        self.assertHttpStatus(
            self.client.post('/api/v1/ci-relationships/', {**data, 'change_reference': APPROVED}), 201
        )
        self.assertHttpStatus(self.client.delete(f'/api/v1/cis/{self.prod.number}/'), 400)
        self.assertHttpStatus(self.client.delete(f'/api/v1/cis/{self.prod.number}/?change_reference={APPROVED}'), 204)
        self.assertFalse(ConfigurationItem.objects.filter(pk=self.prod.pk).exists())

    @override_settings(CMDB_REQUIRE_CHANGE_FOR_PRODUCTION=True)
    def test_edit_page_shows_the_refusal_on_the_change_reference_field(self):
        web = Client()
        web.force_login(self.make_user(Role.CHANGE_MANAGER))
        url = reverse('cmdb:configurationitem_edit', kwargs={'number': self.prod.number})
        data = {
            'name': 'prod-db',
            'ci_class': 'server',
            'status': 'maintenance',
            'environment': 'production',
            'attr_hostname': 'host.example.com',
        }
        response = web.post(url, data)
        self.assertHttpStatus(response, 200)
        self.assertIn('change_reference', response.context['form'].errors)
        self.assertHttpStatus(web.post(url, {**data, 'change_reference': APPROVED}), 302)
        self.prod.refresh_from_db()
        self.assertEqual(self.prod.status, 'maintenance')

    def test_check_point_function(self):
        self.assertTrue(is_change_reference('CHG0000123'))
        self.assertFalse(is_change_reference('CHG000012'))
        with self.settings(CMDB_REQUIRE_CHANGE_FOR_PRODUCTION=False):
            self.assertEqual(ci_require_change(self.prod, ''), '')
        with self.settings(CMDB_REQUIRE_CHANGE_FOR_PRODUCTION=True):
            self.assertEqual(ci_require_change(self.prod, ' chg0000123 '), 'CHG0000123')
            self.assertEqual(ci_require_change(self.test, ''), '')
