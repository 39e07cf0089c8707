"""Relationships are typed and directed; self-links, duplicates and disallowed class pairs are refused with a
400 that says why."""

from cmdb.choices import CIClass, RelationshipType
from cmdb.models import Relationship
from cmdb.schema import RELATIONSHIP_RULES, relationship_refusal
from itsm.choices import Role
from tests.base import ItsmTestCase

from .factories import link, make_ci


class RelationshipRefusalTests(ItsmTestCase):
    def setUp(self):
        self.client = self.api_client(self.make_user(Role.ADMINISTRATOR))
        self.app = make_ci(CIClass.APPLICATION, 'Webshop')
        self.server = make_ci(CIClass.SERVER, 'web01')

    def post(self, source, type_, target):
        return self.client.post(
            '/api/v1/ci-relationships/', {'source': source.number, 'type': type_, 'target': target.number}
        )

    def test_allowed_link_is_created(self):
        response = self.post(self.app, 'runs_on', self.server)
        self.assertHttpStatus(response, 201)
        self.assertEqual(str(Relationship.objects.get()), f'{self.app.number} runs on {self.server.number}')

    def test_self_link(self):
        response = self.post(self.app, 'depends_on', self.app)
        self.assertHttpStatus(response, 400)
        self.assertEqual(response.data['__all__'], ['A CI cannot be related to itself.'])
        self.assertFalse(Relationship.objects.exists())

    def test_duplicate(self):
        link(self.app, 'runs_on', self.server)
        response = self.post(self.app, 'runs_on', self.server)
        self.assertHttpStatus(response, 400)
        self.assertEqual(
            response.data['__all__'],
            [f'{self.app.number} already runs on {self.server.number}: a relationship exists once.'],
        )
        self.assertEqual(Relationship.objects.count(), 1)

    def test_the_same_pair_may_be_linked_by_another_type(self):
        link(self.app, 'runs_on', self.server)
        self.assertHttpStatus(self.post(self.app, 'installed_on', self.server), 201)

    def test_disallowed_pair(self):
        response = self.post(self.server, 'runs_on', self.app)
        self.assertHttpStatus(response, 400)
        self.assertEqual(
            response.data['type'],
            [
                'A server cannot run on an application: "runs on" links an application, database or virtual machine '
                'to a server, storage or virtual machine.'
            ],
        )

    def test_unknown_number_and_type(self):
        response = self.client.post(
            '/api/v1/ci-relationships/', {'source': 'CI9999999', 'type': 'likes', 'target': self.server.number}
        )
        self.assertHttpStatus(response, 400)
        self.assertIn('source', response.data)
        self.assertIn('type', response.data)

    def test_update_is_checked_like_a_create(self):
        rel = link(self.app, 'runs_on', self.server)
        response = self.client.patch(f'/api/v1/ci-relationships/{rel.pk}/', {'target': self.app.number})
        self.assertHttpStatus(response, 400)
        self.assertIn('itself', str(response.data))
        rel.refresh_from_db()
        self.assertEqual(rel.target, self.server)


def test_every_type_has_a_rule_and_refusals_read_as_sentences():
    assert set(RELATIONSHIP_RULES) == set(RelationshipType.values)
    assert relationship_refusal('application', 'runs_on', 'server') == ''
    assert relationship_refusal('document', 'depends_on', 'server').startswith('A document cannot depend on a server')
    assert relationship_refusal('server', 'member_of', 'network_segment') == ''
    assert relationship_refusal('server', 'backed_up_by', 'storage') == ''
    assert relationship_refusal('application', 'likes', 'server') == '"likes" is not a relationship type.'
