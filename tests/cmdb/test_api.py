"""Generic CRUD tests for the CMDB endpoints, plus what is particular to each: numbers, schema checks, refusals."""

from cmdb.choices import CIClass, RaciActivity, RaciRole
from cmdb.models import ConfigurationItem, RaciAssignment, Relationship, Service
from itsm.choices import Role
from tests.base import APITestCases
from tests.factories import SupportGroupFactory

from .factories import assign, link, make_ci, make_service


class ConfigurationItemAPITests(APITestCases.ModelAPITestCase):
    model = ConfigurationItem
    basename = 'configurationitem'
    update_data = {'status': 'maintenance', 'location': 'DC2, room 4'}
    read_only_fields = {'number': 'CI9999999'}

    def make_object(self, **kwargs):
        return make_ci(CIClass.SERVER, **kwargs)

    def create_data(self):
        return {
            'name': 'web42',
            'ci_class': 'server',
            'status': 'installed',
            'environment': 'test',
            'attributes': {'hostname': 'web42.example.com', 'cpu_count': 8, 'ip_address': '10.0.0.42'},
        }

    def filter_cases(self):
        group = SupportGroupFactory(name='Database Administration')
        db = make_ci(CIClass.DATABASE, 'orders-db', support_group=group, environment='staging')
        app = make_ci(CIClass.APPLICATION, 'Orders', vendor='Acme', status='in_production')
        return [
            ({'ci_class': 'database'}, [db]),
            ({'q': 'orders-d'}, [db]),
            ({'support_group': 'Database Administration'}, [db]),
            ({'environment': 'staging'}, [db]),
            ({'vendor': 'acm', 'status': 'in_production'}, [app]),
        ]

    def test_number_starts_at_ci0000101_and_is_the_lookup(self):
        response = self.api_client(self.writer()).post(self.list_url(), self.create_data(), format='json')
        self.assertHttpStatus(response, 201)
        self.assertRegex(response.data['number'], r'^CI\d{7}$')
        self.assertGreaterEqual(int(response.data['number'][2:]), 101)
        ci = ConfigurationItem.objects.get(number=response.data['number'])
        self.assertEqual(ci.attributes, {'hostname': 'web42.example.com', 'cpu_count': 8, 'ip_address': '10.0.0.42'})
        lower = self.api_client(self.viewer()).get(f'/api/v1/cis/{ci.number.lower()}/')
        self.assertHttpStatus(lower, 404)  # numbers are upper case in URLs, as everywhere
        self.assertHttpStatus(self.api_client(self.viewer()).get(f'/api/v1/cis/{ci.number}/'), 200)

    def test_duplicate_class_and_name_is_a_400_saying_so(self):
        make_ci(CIClass.SERVER, 'web42')
        response = self.api_client(self.writer()).post(self.list_url(), self.create_data(), format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('A server named "web42" already exists', str(response.data))

    def test_change_manager_writes_and_agent_reads(self):
        response = self.api_client(self.make_user(Role.CHANGE_MANAGER)).post(
            self.list_url(), self.create_data(), format='json'
        )
        self.assertHttpStatus(response, 201)
        agent = self.api_client(self.make_user(Role.SERVICE_DESK_AGENT))
        self.assertHttpStatus(agent.patch(self.detail_url(self.make_object()), {'location': 'x'}, format='json'), 403)

    def test_a_ci_cannot_become_a_service(self):
        ci = self.make_object()
        response = self.api_client(self.writer()).patch(self.detail_url(ci), {'ci_class': 'service'}, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('ci_class', response.data)

    def test_creating_a_service_ci_creates_its_details(self):
        response = self.api_client(self.writer()).post(
            self.list_url(), {'name': 'Payroll', 'ci_class': 'service'}, format='json'
        )
        self.assertHttpStatus(response, 201)
        self.assertTrue(Service.objects.filter(ci__number=response.data['number']).exists())

    def test_schema_endpoint_lists_attributes_and_relationship_rules(self):
        response = self.api_client(self.viewer()).get('/api/v1/cis/schema/')
        self.assertHttpStatus(response, 200)
        hostname = next(a for a in response.data['classes']['server'] if a['name'] == 'hostname')
        self.assertEqual(hostname, {'name': 'hostname', 'type': 'string', 'required': True, 'help': hostname['help']})
        self.assertIn('server', response.data['relationships']['runs_on']['targets'])


class RelationshipAPITests(APITestCases.ModelAPITestCase):
    model = Relationship
    basename = 'relationship'
    update_data = {'description': 'Primary node'}
    read_only_fields = {'id': 987654}

    def make_object(self, **kwargs):
        return link(make_ci(CIClass.APPLICATION), 'runs_on', make_ci(CIClass.SERVER), **kwargs)

    def create_data(self):
        app, server = make_ci(CIClass.APPLICATION), make_ci(CIClass.SERVER)
        return {'source': app.number, 'type': 'runs_on', 'target': server.number}

    def filter_cases(self):
        app, db, server = make_ci(CIClass.APPLICATION), make_ci(CIClass.DATABASE), make_ci(CIClass.SERVER)
        uses = link(app, 'depends_on', db)
        runs = link(db, 'runs_on', server)
        return [
            ({'source': app.number}, [uses]),
            ({'target': server.number.lower()}, [runs]),
            ({'type': 'runs_on'}, [runs]),
            ({'ci': db.number}, [uses, runs]),
        ]

    def test_ends_are_numbers_and_both_timelines_note_the_link(self):
        data = self.create_data()
        response = self.api_client(self.writer()).post(self.list_url(), data, format='json')
        self.assertHttpStatus(response, 201)
        self.assertEqual((response.data['source'], response.data['target']), (data['source'], data['target']))
        for number in (data['source'], data['target']):
            ci = ConfigurationItem.objects.get(number=number)
            self.assertTrue(self.timeline(ci, 'link').filter(message__contains='runs on').exists())


class ServiceAPITests(APITestCases.ModelAPITestCase):
    model = Service
    basename = 'service'
    update_data = {'status': 'degraded', 'criticality': 'critical'}
    read_only_fields = {'number': 'CI9999999'}
    query_rows = (2, 6)

    def make_object(self, **kwargs):
        service = make_service(**kwargs)
        assign(service, person=self.make_user(Role.SERVICE_OWNER, first_name='Vera', last_name='Owner'))
        return service

    def create_data(self):
        owner = self.make_user(Role.SERVICE_OWNER)
        return {
            'name': 'Managed mail',
            'kind': 'business',
            'criticality': 'high',
            'service_owner': owner.username,
            'support_group': SupportGroupFactory().name,
        }

    def test_read_only_fields_are_not_writable(self):
        service = self.make_object()
        response = self.api_client(self.writer()).patch(
            self.detail_url(service), {'number': 'CI9999999'}, format='json'
        )
        self.assertHttpStatus(response, 200)
        service.refresh_from_db()
        self.assertNotEqual(service.ci.number, 'CI9999999')

    def test_service_is_addressed_by_its_ci_number_and_shows_its_raci(self):
        service = self.make_object()
        response = self.api_client(self.viewer()).get(f'/api/v1/services/{service.ci.number}/')
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.data['number'], service.ci.number)
        self.assertEqual([(r['activity'], r['role']) for r in response.data['raci']], [('incident_resolution', 'A')])

    def test_create_makes_a_service_ci_owned_by_the_service_owner(self):
        data = self.create_data()
        response = self.api_client(self.writer()).post(self.list_url(), data, format='json')
        self.assertHttpStatus(response, 201)
        ci = ConfigurationItem.objects.get(number=response.data['number'])
        self.assertEqual((ci.ci_class, ci.owner.username), ('service', data['service_owner']))
        self.assertEqual(response.data['service_owner'], data['service_owner'])

    def test_service_owners_change_their_own_services_only(self):
        owner = self.make_user(Role.SERVICE_OWNER)
        mine, theirs = make_service(service_owner=owner), make_service()
        client = self.api_client(owner)
        self.assertHttpStatus(client.patch(self.detail_url(mine), {'status': 'degraded'}, format='json'), 200)
        response = client.patch(self.detail_url(theirs), {'status': 'degraded'}, format='json')
        self.assertHttpStatus(response, 403)
        self.assertIn('service owner', response.data['detail'])
        theirs.refresh_from_db()
        self.assertEqual(theirs.status, 'operational')

    def test_recipients_endpoint(self):
        service = self.make_object()
        response = self.api_client(self.viewer()).get(f'/api/v1/services/{service.ci.number}/recipients/')
        self.assertHttpStatus(response, 200)
        self.assertEqual([r['roles'] for r in response.data['items']], [['A']])
        self.assertHttpStatus(
            self.api_client(self.viewer()).get(f'/api/v1/services/{service.ci.number}/recipients/?roles=X'), 400
        )


class RaciAssignmentAPITests(APITestCases.ModelAPITestCase):
    model = RaciAssignment
    basename = 'raciassignment'
    update_data = {'notes': 'Out of hours through the on-call rota'}
    read_only_fields = {'id': 123456}

    def make_object(self, **kwargs):
        return assign(make_service(), person=self.make_user(Role.SERVICE_OWNER, first_name='Ada', last_name='King'))

    def create_data(self):
        return {
            'service': make_service().ci.number,
            'activity': RaciActivity.CHANGE_APPROVAL,
            'role': RaciRole.ACCOUNTABLE,
            'person': self.make_user(Role.CHANGE_MANAGER).username,
        }

    def filter_cases(self):
        service, group = make_service(), SupportGroupFactory(name='Messaging')
        a = assign(service, person=self.make_user(Role.SERVICE_OWNER))
        r = assign(service, RaciRole.RESPONSIBLE, group=group)
        return [
            ({'service': service.ci.number}, [a, r]),
            ({'role': 'R', 'service': service.ci.number}, [r]),
            ({'support_group': 'Messaging'}, [r]),
        ]

    def test_a_second_accountable_is_a_400_naming_the_holder(self):
        first = self.make_object()
        data = {
            'service': first.service.ci.number,
            'activity': first.activity,
            'role': 'A',
            'person': self.make_user(Role.MANAGER, first_name='Bo', last_name='Second').username,
        }
        response = self.api_client(self.writer()).post(self.list_url(), data, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('exactly one A per activity', str(response.data))
        self.assertIn('Ada King', str(response.data))
