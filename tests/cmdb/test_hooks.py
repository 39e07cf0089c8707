"""What other apps build on: services a CI impacts and the one to suggest (API and htmx), impact over the API,
and linked records found through any foreign key to ConfigurationItem."""

from unittest import mock

from django.urls import resolve, reverse

from cmdb import selectors
from cmdb.choices import CIClass
from itsm.choices import Role
from tests.base import ItsmTestCase
from tests.factories import make_ticket

from .factories import link, make_ci, make_service


class IncidentHookTests(ItsmTestCase):
    @classmethod
    def setUpTestData(cls):
        cls.server = make_ci(CIClass.SERVER, 'mail01')
        cls.app = make_ci(CIClass.APPLICATION, 'Exchange')
        cls.mail = make_service(name='Managed mail', criticality='critical').ci
        cls.backup = make_service(name='Backups', criticality='medium').ci
        link(cls.app, 'runs_on', cls.server)
        link(cls.mail, 'depends_on', cls.app)
        link(cls.backup, 'depends_on', cls.server)

    def setUp(self):
        self.client = self.api_client(self.make_user(Role.SERVICE_DESK_AGENT))

    def test_ci_detail_lists_impacted_services_and_the_suggestion(self):
        response = self.client.get(f'/api/v1/cis/{self.server.number}/')
        self.assertHttpStatus(response, 200)
        self.assertEqual(
            [(s['number'], s['depth']) for s in response.data['services']],
            [(self.backup.number, 1), (self.mail.number, 2)],
        )
        self.assertEqual(response.data['suggested_service']['number'], self.backup.number)
        self.assertEqual(response.data['suggested_service']['criticality'], 'medium')

    def test_a_service_suggests_itself(self):
        response = self.client.get(f'/api/v1/cis/{self.mail.number}/')
        self.assertEqual(response.data['suggested_service']['number'], self.mail.number)

    def test_impact_endpoint(self):
        response = self.client.get(f'/api/v1/cis/{self.server.number}/impact/?direction=downstream&depth=8')
        self.assertHttpStatus(response, 200)
        self.assertEqual(
            response.data['items'],
            [
                {
                    'number': self.app.number,
                    'name': 'Exchange',
                    'ci_class': 'application',
                    'depth': 1,
                    'path': [self.server.number, self.app.number],
                },
                {
                    'number': self.backup.number,
                    'name': 'Backups',
                    'ci_class': 'service',
                    'depth': 1,
                    'path': [self.server.number, self.backup.number],
                },
                {
                    'number': self.mail.number,
                    'name': 'Managed mail',
                    'ci_class': 'service',
                    'depth': 2,
                    'path': [self.server.number, self.app.number, self.mail.number],
                },
            ],
        )
        response = self.client.get(f'/api/v1/cis/{self.mail.number}/impact/?direction=upstream&depth=1&path=false')
        self.assertEqual(
            response.data['items'],
            [{'number': self.app.number, 'name': 'Exchange', 'ci_class': 'application', 'depth': 1}],
        )

    def test_impact_endpoint_refuses_bad_parameters(self):
        for query in ('direction=sideways', 'depth=0', 'depth=51', 'depth=x'):
            with self.subTest(query=query):
                response = self.client.get(f'/api/v1/cis/{self.server.number}/impact/?{query}')
                self.assertHttpStatus(response, 400)

    def test_services_partial(self):
        web = self.client_class()
        web.force_login(self.make_user(Role.SERVICE_DESK_AGENT))
        response = web.get(reverse('cmdb:configurationitem_services', kwargs={'number': self.server.number}))
        self.assertContains(response, f'data-suggested="{self.backup.number}"')
        self.assertContains(response, 'Managed mail')


class LinkedRecordTests(ItsmTestCase):
    """Any other app's model with a foreign key to ConfigurationItem and a page shows up on the CI page."""

    def test_relations_of_other_apps_are_found_and_ours_are_not(self):
        found = {(rel.related_model._meta.label, rel.field.name) for rel in selectors.linking_relations()}
        self.assertLessEqual({('incidents.Ticket', 'service'), ('incidents.Ticket', 'ci')}, found)
        self.assertFalse({label for label, _ in found if label.startswith('cmdb.')}, 'CMDB relations are not links')
        # A linked record's page answers: the CI page links to it.
        ticket = make_ticket(ci=make_ci(CIClass.SERVER, 'print01'))
        self.assertEqual(resolve(ticket.get_absolute_url()).view_name, 'incidents:ticket_detail')

    def test_records_are_listed_per_linking_field_newest_first(self):
        app, server, db = make_ci(CIClass.APPLICATION), make_ci(CIClass.SERVER), make_ci(CIClass.DATABASE)
        first, second = link(app, 'runs_on', server), link(db, 'runs_on', server)
        link(app, 'depends_on', db)
        # Stand in for the incidents app: treat our own relationship table as a linking model.
        with mock.patch.object(selectors, 'LINK_EXCLUDED_APPS', set()):
            groups = {group.label: group.records for group in selectors.ci_incident_links(server)}
            queries = self.count_queries(lambda: selectors.ci_incident_links(server))
        self.assertEqual(groups['Relationships (target)'], [second, first])
        self.assertEqual(groups['Relationships (source)'], [])
        self.assertEqual(queries, len(groups), 'one query per linking field')
