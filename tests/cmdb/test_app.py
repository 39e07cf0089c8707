"""How the CMDB plugs into the rest: global search, navigation, role permissions, admin."""

from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from cmdb.choices import CIClass
from cmdb.models import ConfigurationItem
from itsm import search
from itsm.choices import Role
from itsm.navigation import menu_for
from tests.base import ItsmTestCase

from .factories import make_ci, make_service


class SearchTests(ItsmTestCase):
    def setUp(self):
        self.agent = self.make_user(Role.SERVICE_DESK_AGENT)
        self.ci = make_ci(CIClass.SERVER, 'esx-fra-01', location='Frankfurt DC1')

    def test_cis_are_registered_with_their_prefix(self):
        target = next(t for t in search.targets() if t.model is ConfigurationItem)
        self.assertEqual(target.number_prefix, 'CI')

    def test_a_ci_number_opens_the_ci_and_words_find_it(self):
        self.assertEqual(search.find_by_number(self.agent, self.ci.number.lower()), self.ci)
        hits = [hit for group in search.search(self.agent, 'frankfurt esx') for hit in group.hits]
        self.assertIn(self.ci, hits)
        self.assertEqual(search.search(self.make_user(Role.REQUESTER), 'esx'), [])
        web = Client()
        web.force_login(self.agent)
        response = web.get(reverse('itsm:search'), {'q': self.ci.number})
        self.assertRedirects(response, self.ci.get_absolute_url())


class NavigationAndRoleTests(ItsmTestCase):
    def labels(self, user):
        return {item['label'] for section in menu_for(user) for item in section['items']}

    def test_menu(self):
        self.assertTrue(
            {'Configuration items', 'Services', 'Relationships'} <= self.labels(self.make_user(Role.L2_ENGINEER))
        )
        self.assertNotIn('Import', self.labels(self.make_user(Role.L2_ENGINEER)))
        self.assertIn('Import', self.labels(self.make_user(Role.CHANGE_MANAGER)))
        self.assertNotIn('Configuration items', self.labels(self.make_user(Role.REQUESTER)))

    def test_role_permissions(self):
        def perms(role):
            return set(
                Group.objects.get(name=role)
                .permissions.filter(content_type__app_label='cmdb')
                .values_list('codename', flat=True)
            )

        views = {'view_configurationitem', 'view_relationship', 'view_service', 'view_raciassignment'}
        for role in (Role.SERVICE_DESK_AGENT, Role.L3_ENGINEER, Role.MANAGER, Role.INCIDENT_MANAGER):
            self.assertEqual(perms(role), views, role)
        self.assertIn('delete_relationship', perms(Role.CHANGE_MANAGER))
        self.assertIn('change_configurationitem', perms(Role.ADMINISTRATOR))
        owner = perms(Role.SERVICE_OWNER)
        self.assertIn('change_service', owner)
        self.assertNotIn('change_configurationitem', owner)
        self.assertEqual(perms(Role.REQUESTER), set())

    def test_service_owner_edits_their_service_page_only(self):
        owner = self.make_user(Role.SERVICE_OWNER)
        mine, theirs = make_service(service_owner=owner), make_service()
        web = Client()
        web.force_login(owner)
        data = {
            'name': mine.ci.name,
            'kind': 'business',
            'status': 'degraded',
            'criticality': 'high',
            'environment': 'production',
            'ci_status': 'in_production',
        }
        self.assertHttpStatus(web.post(reverse('cmdb:service_edit', kwargs={'pk': mine.ci.number}), data), 302)
        response = web.post(
            reverse('cmdb:service_edit', kwargs={'pk': theirs.ci.number}), {**data, 'name': theirs.ci.name}
        )
        self.assertHttpStatus(response, 200)
        self.assertIn('service owner', str(response.context['form'].non_field_errors()))
        mine.refresh_from_db()
        theirs.refresh_from_db()
        self.assertEqual((mine.status, theirs.status), ('degraded', 'operational'))


class AdminTests(ItsmTestCase):
    def test_admin_pages_open(self):
        admin = self.make_user(Role.ADMINISTRATOR, is_staff=True, is_superuser=True)
        web = Client()
        web.force_login(admin)
        service = make_service()
        for name in ('configurationitem', 'relationship', 'service', 'raciassignment'):
            with self.subTest(name=name):
                self.assertHttpStatus(web.get(reverse(f'admin:cmdb_{name}_changelist')), 200)
        self.assertHttpStatus(web.get(reverse('admin:cmdb_service_change', args=[service.pk])), 200)
        self.assertHttpStatus(web.get(reverse('admin:cmdb_configurationitem_change', args=[service.ci.pk])), 200)
