"""Generic page tests for the CMDB models, and the CI page's sections."""

from django.urls import reverse

from cmdb.choices import CIClass, RaciActivity, RaciRole
from cmdb.models import ConfigurationItem, RaciAssignment, Relationship, Service
from itsm.choices import Role
from tests.base import ItsmTestCase, ViewTestCases

from .factories import assign, link, make_ci, make_service


class ConfigurationItemViewTests(ViewTestCases.ModelViewTestCase):
    model = ConfigurationItem

    def make_object(self, **kwargs):
        return make_ci(CIClass.APPLICATION, **kwargs)

    def form_data(self):
        return {'name': 'Webshop', 'ci_class': 'application', 'status': 'installed', 'environment': 'test'}

    def edit_data(self, obj):
        return {
            'name': obj.name,
            'ci_class': obj.ci_class,
            'status': 'maintenance',
            'environment': obj.environment,
            'attr_user_count': '250',
        }

    def test_add_form_shows_the_attributes_of_the_chosen_class(self):
        self.login(Role.ADMINISTRATOR)
        response = self.client.get(self.url('add'), {'ci_class': 'database'})
        self.assertContains(response, 'name="attr_engine"')
        self.assertContains(response, 'hx-get')
        data = {
            'name': 'orders-db',
            'ci_class': 'database',
            'status': 'installed',
            'environment': 'production',
            'attr_engine': 'postgresql',
            'attr_port': '5432',
        }
        self.assertHttpStatus(self.client.post(self.url('add'), data), 302)
        self.assertEqual(
            ConfigurationItem.objects.get(name='orders-db').attributes, {'engine': 'postgresql', 'port': 5432}
        )

    def test_bad_attribute_is_shown_by_its_input(self):
        self.login(Role.ADMINISTRATOR)
        data = {
            'name': 'orders-db',
            'ci_class': 'database',
            'status': 'installed',
            'environment': 'production',
            'attr_engine': 'dbase',
        }
        response = self.client.post(self.url('add'), data)
        self.assertHttpStatus(response, 200)
        self.assertIn('attr_engine', response.context['form'].errors)
        self.assertFalse(ConfigurationItem.objects.filter(name='orders-db').exists())


class ServiceViewTests(ViewTestCases.ModelViewTestCase):
    model = Service

    def make_object(self, **kwargs):
        return make_service(**kwargs)

    def form_data(self):
        return {
            'name': 'Managed mail',
            'kind': 'business',
            'status': 'operational',
            'criticality': 'high',
            'environment': 'production',
            'ci_status': 'in_production',
        }

    def edit_data(self, obj):
        return {**self.form_data(), 'name': obj.ci.name, 'status': 'degraded'}

    def test_detail_by_number_shows_raci_and_recipients(self):
        service = make_service(name='Backups')
        owner = self.make_user(Role.SERVICE_OWNER, first_name='Vera', last_name='Owner', email='vera@example.com')
        assign(service, person=owner)
        self.login(Role.SERVICE_DESK_AGENT)
        response = self.client.get(reverse('cmdb:service_detail', kwargs={'pk': service.ci.number}))
        self.assertContains(response, 'data-testid="raci-matrix"')
        self.assertContains(response, 'vera@example.com')


class RelationshipViewTests(ViewTestCases.ModelViewTestCase):
    model = Relationship

    def make_object(self, **kwargs):
        return link(make_ci(CIClass.APPLICATION), 'runs_on', make_ci(CIClass.SERVER))

    def form_data(self):
        app, server = make_ci(CIClass.APPLICATION), make_ci(CIClass.SERVER)
        return {'source': app.number.lower(), 'type': 'runs_on', 'target': server.number, 'description': ''}

    def edit_data(self, obj):
        return {'source': obj.source.number, 'type': obj.type, 'target': obj.target.number, 'description': 'Active'}

    def test_disallowed_pair_is_refused_on_the_form_with_the_reason(self):
        self.login(Role.ADMINISTRATOR)
        lan, server = make_ci(CIClass.NETWORK_SEGMENT), make_ci(CIClass.SERVER)
        response = self.client.post(self.url('add'), {'source': lan.number, 'type': 'runs_on', 'target': server.number})
        self.assertHttpStatus(response, 200)
        self.assertEqual(
            response.context['form'].errors['type'],
            [
                'A network segment cannot run on a server: "runs on" links an application, database or virtual machine '
                'to a server, storage or virtual machine.'
            ],
        )


class RaciAssignmentViewTests(ViewTestCases.ModelViewTestCase):
    model = RaciAssignment

    def make_object(self, **kwargs):
        return assign(make_service(), person=self.make_user(Role.SERVICE_OWNER, first_name='Ada', last_name='King'))

    def form_data(self):
        person = self.make_user(Role.SERVICE_OWNER, first_name='Lin', last_name='Park')
        return {
            'service': make_service().pk,
            'activity': RaciActivity.COMMUNICATIONS,
            'role': RaciRole.ACCOUNTABLE,
            'person': person.pk,
            'notes': '',
        }

    def edit_data(self, obj):
        return {
            'service': obj.service_id,
            'activity': obj.activity,
            'role': obj.role,
            'person': obj.person_id,
            'notes': 'Weekdays',
        }


class CIPageTests(ItsmTestCase):
    """The CI page: attributes, relationships both ways, impact with services and recipients, history."""

    def setUp(self):
        self.server = make_ci(CIClass.SERVER, 'db-host', attributes={'cpu_count': 16})
        self.db = make_ci(CIClass.DATABASE, 'orders-db')
        self.app = make_ci(CIClass.APPLICATION, 'Orders')
        self.service = make_service(name='Webshop')
        link(self.db, 'runs_on', self.server)
        link(self.app, 'depends_on', self.db)
        link(self.service.ci, 'depends_on', self.app)
        assign(self.service, person=self.make_user(Role.SERVICE_OWNER, first_name='Vera', last_name='Owner'))
        self.client.force_login(self.make_user(Role.SERVICE_DESK_AGENT))

    def test_sections(self):
        response = self.client.get(self.server.get_absolute_url())
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'Cpu count')
        self.assertContains(response, '16')
        self.assertContains(response, 'data-testid="relationships-incoming"')
        self.assertContains(response, self.db.number)
        self.assertContains(response, 'data-testid="impact-table"')
        self.assertContains(response, f'{self.server.number} → {self.db.number} → {self.app.number}')
        self.assertContains(response, 'data-testid="impact-services"')
        self.assertContains(response, 'Vera Owner')  # whom to inform, from the service's RACI
        self.assertContains(response, 'Linked records')
        self.assertContains(response, 'History')
        self.assertEqual([e.kind for e in response.context['timeline']], ['created', 'link'])

    def test_impact_partial_switches_direction_and_depth(self):
        url = reverse('cmdb:configurationitem_impact', kwargs={'number': self.app.number})
        response = self.client.get(url, {'direction': 'upstream', 'depth': 1}, headers={'HX-Request': 'true'})
        self.assertHttpStatus(response, 200)
        self.assertNotContains(response, '<html')
        self.assertEqual([i.number for i in response.context['impact_items']], [self.db.number])
        response = self.client.get(url, {'direction': 'upstream', 'depth': 2})
        self.assertEqual({i.number for i in response.context['impact_items']}, {self.db.number, self.server.number})

    def test_services_partial_for_the_incident_form(self):
        url = reverse('cmdb:configurationitem_services', kwargs={'number': self.server.number})
        response = self.client.get(url, headers={'HX-Request': 'true'})
        self.assertContains(response, f'data-suggested="{self.service.ci.number}"')
        self.assertContains(response, 'Webshop')

    def test_graph_json(self):
        url = reverse('cmdb:configurationitem_graph', kwargs={'number': self.db.number})
        graph = self.client.get(url, {'depth': 1}).json()
        roles = {node['id']: node['role'] for node in graph['nodes']}
        self.assertEqual(roles, {self.db.number: 'root', self.server.number: 'upstream', self.app.number: 'downstream'})
        self.assertEqual(len(graph['edges']), 2)
        graph = self.client.get(url, {'depth': 2}).json()
        self.assertIn(self.service.ci.number, {node['id'] for node in graph['nodes']})

    def test_map_page(self):
        response = self.client.get(reverse('cmdb:configurationitem_map', kwargs={'number': self.db.number}))
        self.assertContains(response, 'id="dependency-map"')
        self.assertContains(response, 'vendor/cytoscape/cytoscape.min.js')
        self.assertContains(response, 'pitcrew/cmdb/dependency-map.js')

    def test_requesters_cannot_see_the_cmdb(self):
        self.client.force_login(self.make_user(Role.REQUESTER))
        self.assertHttpStatus(self.client.get(self.server.get_absolute_url()), 403)
        url = reverse('cmdb:configurationitem_graph', kwargs={'number': self.db.number})
        self.assertHttpStatus(self.client.get(url), 403)
