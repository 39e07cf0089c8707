"""CSV import of CIs and relationships: idempotent on (class, name), dry runs, bad rows named by line number,
and all or nothing."""

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from cmdb.importer import import_csv
from cmdb.models import ConfigurationItem, Relationship
from itsm.audit import Actor
from itsm.choices import Role
from itsm.models import TimelineEntry
from itsm.numbering import peek_next_value, uses_sequences
from tests.base import ItsmTestCase
from tests.factories import SupportGroupFactory

from .factories import make_ci

ACTOR = Actor.system()

CIS = """class,name,status,environment,support_group,vendor,attr.hostname,attr.cpu_count,attr.engine,attr.port
server,web01,in_production,production,Server and Storage,Dell,web01.example.com,8,,
database,orders-db,in_production,production,Database Administration,,,,postgresql,5432
application,Webshop,installed,production,,Acme,,,,
"""
RELATIONSHIPS = """source,type,target,description
application:Webshop,runs_on,server:web01,
application:Webshop,depends_on,database:orders-db,orders schema
database:orders-db,runs_on,server:web01,
"""


class ImportTests(ItsmTestCase):
    def setUp(self):
        SupportGroupFactory(name='Server and Storage')
        SupportGroupFactory(name='Database Administration')

    def run_import(self, cis=CIS, relationships=RELATIONSHIPS, **kwargs):
        return import_csv(actor=ACTOR, cis=cis, relationships=relationships, **kwargs)

    def test_creates_cis_and_relationships(self):
        report = self.run_import()
        self.assertTrue(report.committed)
        self.assertEqual(report.totals()['cis'], {'create': 3, 'update': 0, 'unchanged': 0, 'error': 0})
        self.assertEqual(report.totals()['relationships'], {'create': 3, 'update': 0, 'unchanged': 0, 'error': 0})
        web = ConfigurationItem.objects.get(ci_class='server', name='web01')
        self.assertEqual(web.attributes, {'hostname': 'web01.example.com', 'cpu_count': 8})
        self.assertEqual(
            (web.support_group.name, web.vendor, web.status), ('Server and Storage', 'Dell', 'in_production')
        )
        self.assertEqual(
            ConfigurationItem.objects.get(name='orders-db').attributes, {'engine': 'postgresql', 'port': 5432}
        )
        self.assertEqual(Relationship.objects.count(), 3)
        self.assertEqual(self.timeline(web, 'created').get().message, 'Imported from CSV.')
        self.assertEqual([row.line for row in report.rows if row.file == 'cis'], [2, 3, 4])

    def test_second_run_is_idempotent(self):
        self.run_import()
        entries = TimelineEntry.objects.count()
        report = self.run_import()
        self.assertEqual(report.totals()['cis'], {'create': 0, 'update': 0, 'unchanged': 3, 'error': 0})
        self.assertEqual(report.totals()['relationships'], {'create': 0, 'update': 0, 'unchanged': 3, 'error': 0})
        self.assertEqual((ConfigurationItem.objects.count(), Relationship.objects.count()), (3, 3))
        self.assertEqual(TimelineEntry.objects.count(), entries, 'an unchanged row writes no history')

    def test_updates_on_the_natural_key_and_blank_cells_keep_values(self):
        self.run_import()
        changed = CIS.replace('web01.example.com,8', 'web01.example.com,16').replace('Acme', '')
        report = self.run_import(cis=changed, relationships=None)
        self.assertEqual(report.totals()['cis'], {'create': 0, 'update': 1, 'unchanged': 2, 'error': 0})
        update = next(row for row in report.rows if row.action == 'update')
        self.assertEqual((update.line, update.key, update.message), (2, 'server:web01', 'changed: attributes'))
        self.assertEqual(ConfigurationItem.objects.get(name='web01').attributes['cpu_count'], 16)
        self.assertEqual(ConfigurationItem.objects.get(name='Webshop').vendor, 'Acme')

    def test_dry_run_changes_nothing(self):
        make_ci('server', 'web01', attributes={'hostname': 'old.example.com'})
        before = (ConfigurationItem.objects.count(), Relationship.objects.count(), TimelineEntry.objects.count())
        sequence = peek_next_value('CI')
        report = self.run_import(dry_run=True)
        self.assertFalse(report.committed)
        self.assertEqual(report.totals()['cis'], {'create': 2, 'update': 1, 'unchanged': 0, 'error': 0})
        self.assertEqual(report.totals()['relationships']['create'], 3)
        after = (ConfigurationItem.objects.count(), Relationship.objects.count(), TimelineEntry.objects.count())
        self.assertEqual(after, before)
        self.assertEqual(ConfigurationItem.objects.get(name='web01').attributes['hostname'], 'old.example.com')
        if not uses_sequences():  # a PostgreSQL sequence does not roll back: the dry run leaves a gap there
            self.assertEqual(peek_next_value('CI'), sequence, 'no number is used up')
        self.assertTrue(all(row.number == '' for row in report.rows if row.action == 'create'))

    def test_bad_rows_are_named_by_line_and_nothing_is_imported(self):
        bad = CIS + 'database,billing-db,in_production,production,,,,,dbase,\nrouter,r1,,,,,,,,\n'
        report = self.run_import(cis=bad, relationships=None)
        self.assertFalse(report.committed)
        self.assertEqual([(row.line, row.key) for row in report.errors], [(5, 'database:billing-db'), (6, 'router:r1')])
        self.assertIn('engine: "dbase" is not one of', report.errors[0].message)
        self.assertIn('"router" is not a CI class', report.errors[1].message)
        self.assertFalse(ConfigurationItem.objects.exists(), 'the good rows are rolled back too')

    def test_a_failing_relationship_rolls_back_the_cis_as_well(self):
        bad = (
            RELATIONSHIPS + 'server:web01,runs_on,application:Webshop,\napplication:Nowhere,depends_on,server:web01,\n'
        )
        report = self.run_import(relationships=bad)
        self.assertEqual([row.line for row in report.errors], [5, 6])
        self.assertIn('A server cannot run on an application', report.errors[0].message)
        self.assertIn('no CI application:Nowhere', report.errors[1].message)
        self.assertEqual((ConfigurationItem.objects.count(), Relationship.objects.count()), (0, 0))

    def test_unknown_people_and_groups_are_row_errors(self):
        report = self.run_import(
            cis='class,name,owner,support_group\napplication,A,nobody,Ghosts\n', relationships=None
        )
        self.assertIn('owner: no person with username "nobody"', report.errors[0].message)

    def test_relationship_ends_by_number(self):
        app, server = make_ci('application'), make_ci('server')
        report = self.run_import(
            cis=None, relationships=f'source,type,target\n{app.number.lower()},runs_on,{server.number}\n'
        )
        self.assertTrue(report.committed)
        self.assertTrue(Relationship.objects.filter(source=app, target=server).exists())

    def test_bad_header_is_refused_before_any_row(self):
        with self.assertRaisesMessage(ValidationError, 'Line 1: unknown column(s) colour'):
            self.run_import(cis='class,name,colour\nserver,x,red\n', relationships=None)
        with self.assertRaisesMessage(ValidationError, 'Line 1: missing column(s) type'):
            self.run_import(cis=None, relationships='source,target\nA,B\n')


class ImportAPIAndPageTests(ItsmTestCase):
    def setUp(self):
        SupportGroupFactory(name='Server and Storage')
        SupportGroupFactory(name='Database Administration')
        self.admin = self.make_user(Role.ADMINISTRATOR)

    def files(self, cis=CIS, relationships=RELATIONSHIPS):
        return {
            'cis': SimpleUploadedFile('cis.csv', cis.encode(), content_type='text/csv'),
            'relationships': SimpleUploadedFile('rels.csv', relationships.encode(), content_type='text/csv'),
        }

    def test_api_import_dry_run_then_real(self):
        client = self.api_client(self.admin)
        response = client.post('/api/v1/cis/import/', {**self.files(), 'dry_run': 'true'}, format='multipart')
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.data['totals']['cis']['create'], 3)
        self.assertFalse(response.data['committed'])
        self.assertFalse(ConfigurationItem.objects.exists())
        response = client.post('/api/v1/cis/import/', self.files(), format='multipart')
        self.assertHttpStatus(response, 200)
        self.assertTrue(response.data['committed'])
        self.assertEqual(ConfigurationItem.objects.count(), 3)

    def test_api_import_with_errors_is_a_400_with_the_report(self):
        response = self.api_client(self.admin).post(
            '/api/v1/cis/import/', self.files(cis=CIS + 'server,bad,,,,,,many,,\n'), format='multipart'
        )
        self.assertHttpStatus(response, 400)
        self.assertEqual([(e['line'], e['file']) for e in response.data['errors']], [(5, 'cis')])
        self.assertIn('cpu_count', response.data['errors'][0]['message'])
        self.assertFalse(ConfigurationItem.objects.exists())

    def test_unreadable_files_are_a_400_naming_the_line_and_nothing_is_imported(self):
        huge = 'x' * (128 * 1024 + 1)
        cases = {
            'a NUL character': (CIS + 'server,nul\x00host,,,,,,,,\n', 'Line 5: the file contains a NUL character'),
            'a field over 128 KiB': (
                CIS + f'server,big,,,,,,,,\napplication,"{huge}",,,,,,,,\n',
                'Line 6: cannot be read',
            ),
        }
        for name, (cis, message) in cases.items():
            with self.subTest(name):
                response = self.api_client(self.admin).post(
                    '/api/v1/cis/import/', self.files(cis=cis), format='multipart'
                )
                self.assertHttpStatus(response, 400)
                self.assertIn(message, str(response.data))
                self.assertFalse(ConfigurationItem.objects.exists())
                web = Client()
                web.force_login(self.admin)
                response = web.post(reverse('cmdb:import'), self.files(cis=cis))
                self.assertContains(response, message.split(':')[0])
                self.assertFalse(ConfigurationItem.objects.exists())

    def test_api_import_needs_write_permission(self):
        client = self.api_client(self.make_user(Role.SERVICE_DESK_AGENT))
        self.assertHttpStatus(client.post('/api/v1/cis/import/', self.files(), format='multipart'), 403)

    def test_import_page(self):
        web = Client()
        web.force_login(self.admin)
        url = reverse('cmdb:import')
        self.assertHttpStatus(web.get(url), 200)
        response = web.post(url, {**self.files(), 'dry_run': 'on'})
        self.assertContains(response, 'data-testid="import-report"')
        self.assertContains(response, 'Dry run: nothing was kept')
        self.assertFalse(ConfigurationItem.objects.exists())
        response = web.post(url, self.files())
        self.assertContains(response, 'Imported')
        self.assertEqual(ConfigurationItem.objects.count(), 3)
        agent = Client()
        agent.force_login(self.make_user(Role.SERVICE_DESK_AGENT))
        self.assertHttpStatus(agent.get(url), 403)
