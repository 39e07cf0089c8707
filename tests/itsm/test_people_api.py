"""People, support groups, tokens and the API's error format."""

import pytest
from django.urls import reverse

from itsm.choices import Role, Tier
from itsm.models import SupportGroup, User
from tests.base import APITestCases, ItsmTestCase
from tests.factories import SupportGroupFactory, UserFactory, make_user


class UserAPITests(APITestCases.ModelAPITestCase):
    model = User
    basename = 'user'
    update_data = {'department': 'Finance', 'roles': ['l2_engineer']}
    read_only_fields = {'id': 999999}
    query_rows = (2, 9)

    def make_object(self, **kwargs):
        return UserFactory(roles=(Role.REQUESTER,), **kwargs)

    def create_data(self):
        return {
            'username': 'new.agent',
            'email': 'new.agent@example.com',
            'password': 'Correct-Horse-42',
            'roles': ['service_desk_agent', 'l2_engineer'],
        }

    def assert_deleted(self, obj):
        obj.refresh_from_db()
        self.assertFalse(obj.is_active, 'deleting a person deactivates them')

    def filter_cases(self):
        alice = UserFactory(username='alice7x', department='Finance', roles=(Role.L2_ENGINEER,))
        bob = UserFactory(username='bob', department='Sales', roles=(Role.REQUESTER,))
        return [
            ({'q': 'lice7'}, [alice]),  # a digit: no generated name of another person can match
            ({'department': 'Sales'}, [bob]),
            ({'role': 'l2_engineer'}, [alice]),
        ]

    def test_create_sets_roles_and_a_usable_password(self):
        response = self.api_client(self.writer()).post(self.list_url(), self.create_data(), format='json')
        self.assertHttpStatus(response, 201)
        self.assertEqual(response.data['roles'], ['l2_engineer', 'service_desk_agent'])
        self.assertNotIn('password', response.data)
        user = User.objects.get(username='new.agent')
        self.assertTrue(user.check_password('Correct-Horse-42'))
        self.assertTrue(user.has_perm('itsm.view_supportgroup'))

    def test_unknown_role_slug_is_a_400_naming_it(self):
        data = {**self.create_data(), 'roles': ['wizard']}
        response = self.api_client(self.writer()).post(self.list_url(), data, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('roles', response.data)
        self.assertIn('wizard', str(response.data['roles']))
        self.assertFalse(User.objects.filter(username='new.agent').exists())

    def test_weak_password_is_refused(self):
        data = {**self.create_data(), 'password': '123'}
        response = self.api_client(self.writer()).post(self.list_url(), data, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('password', response.data)

    def test_duplicate_username_is_a_400(self):
        UserFactory(username='new.agent')
        response = self.api_client(self.writer()).post(self.list_url(), self.create_data(), format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('username', response.data)


class SupportGroupAPITests(APITestCases.ModelAPITestCase):
    model = SupportGroup
    basename = 'supportgroup'
    update_data = {'tier': 'L3', 'description': 'Database experts'}
    read_only_fields = {'id': 424242}

    def make_object(self, **kwargs):
        return SupportGroupFactory(**kwargs)

    def create_data(self):
        manager = make_user(Role.INCIDENT_MANAGER, username='mgr')
        make_user(Role.L2_ENGINEER, username='eng1')
        make_user(Role.L2_ENGINEER, username='eng2')
        return {'name': 'Database L2', 'tier': 'L2', 'manager': manager.username, 'members': ['eng1', 'eng2']}

    def filter_cases(self):
        l1 = SupportGroupFactory(name='Service desk', tier=Tier.L1)
        l3 = SupportGroupFactory(name='Platform engineering', tier=Tier.L3)
        return [({'tier': 'L3'}, [l3]), ({'q': 'service d'}, [l1])]

    def test_create_by_usernames(self):
        response = self.api_client(self.writer()).post(self.list_url(), self.create_data(), format='json')
        self.assertHttpStatus(response, 201)
        group = SupportGroup.objects.get(name='Database L2')
        self.assertEqual(group.manager.username, 'mgr')
        self.assertEqual(sorted(group.members.values_list('username', flat=True)), ['eng1', 'eng2'])
        self.assertEqual(response.data['members'], ['eng1', 'eng2'])

    def test_unknown_member_is_a_400_naming_the_field(self):
        data = {**self.create_data(), 'members': ['ghost']}
        response = self.api_client(self.writer()).post(self.list_url(), data, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('members', response.data)

    def test_group_cannot_escalate_to_itself(self):
        group = SupportGroupFactory(name='Loop')
        response = self.api_client(self.writer()).patch(
            self.detail_url(group), {'escalation_group': 'Loop'}, format='json'
        )
        self.assertHttpStatus(response, 400)
        self.assertIn('escalation_group', response.data)


class TokenTests(ItsmTestCase):
    url = reverse('api:token')

    def test_token_for_good_credentials_authenticates(self):
        make_user(Role.SERVICE_DESK_AGENT, username='agent', password='Agent-Pass-77')
        response = self.client.post(self.url, {'username': 'agent', 'password': 'Agent-Pass-77'}, 'application/json')
        self.assertHttpStatus(response, 200)
        token = response.json()['token']
        listing = self.client.get(reverse('api:supportgroup-list'), headers={'Authorization': f'Token {token}'})
        self.assertHttpStatus(listing, 200)

    def test_bad_password_is_a_clear_400(self):
        make_user(Role.SERVICE_DESK_AGENT, username='agent', password='Agent-Pass-77')
        response = self.client.post(self.url, {'username': 'agent', 'password': 'nope'}, 'application/json')
        self.assertHttpStatus(response, 400)
        self.assertEqual(response.json()['code'], 'invalid_credentials')

    def test_missing_fields_name_them(self):
        response = self.client.post(self.url, {}, 'application/json')
        self.assertHttpStatus(response, 400)
        self.assertEqual(set(response.json()), {'username', 'password'})

    def test_malformed_json_is_a_400(self):
        response = self.client.post(self.url, '{"username": ', 'application/json')
        self.assertHttpStatus(response, 400)
        self.assertEqual(response.json()['code'], 'parse_error')

    def test_bad_token_is_a_401(self):
        response = self.client.get(reverse('api:user-list'), headers={'Authorization': 'Token deadbeef'})
        self.assertHttpStatus(response, 401)
        self.assertEqual(response.json()['code'], 'authentication_failed')


class ApiShapeTests(ItsmTestCase):
    def test_unknown_api_url_is_json_404(self):
        response = self.client.get('/api/v1/no-such-thing/')
        self.assertHttpStatus(response, 404)
        self.assertEqual(response.json()['code'], 'not_found')

    def test_page_size_is_capped_at_500(self):
        agent = make_user(Role.SERVICE_DESK_AGENT)
        response = self.api_client(agent).get(reverse('api:user-list'), {'page_size': 10000})
        self.assertHttpStatus(response, 200)
        self.assertLessEqual(len(response.data['results']), 500)

    def test_openapi_schema_and_docs(self):
        agent = make_user(Role.SERVICE_DESK_AGENT)
        self.client.force_login(agent)
        schema = self.client.get(reverse('api:schema'), {'format': 'json'})
        self.assertHttpStatus(schema, 200)
        paths = schema.json()['paths']
        for path in ('/api/v1/auth/token/', '/api/v1/users/', '/api/v1/groups/'):
            self.assertIn(path, paths)
        docs = self.client.get(reverse('api:docs'))
        self.assertHttpStatus(docs, 200)
        self.assertNotIn(b'cdn.', docs.content)
        self.assertNotIn(b'unpkg', docs.content)

    def test_requester_cannot_list_people(self):
        requester = make_user(Role.REQUESTER)
        response = self.api_client(requester).get(reverse('api:user-list'))
        self.assertHttpStatus(response, 403)


@pytest.mark.django_db
def test_role_groups_carry_their_permissions():
    admin = make_user(Role.ADMINISTRATOR)
    agent = make_user(Role.SERVICE_DESK_AGENT)
    requester = make_user(Role.REQUESTER)
    assert admin.has_perm('itsm.add_user') and admin.has_perm('itsm.change_supportgroup')
    assert agent.has_perm('itsm.view_user') and not agent.has_perm('itsm.add_user')
    assert not requester.has_perm('itsm.view_user')
    assert set(Role.values) <= set(
        __import__('django.contrib.auth.models').contrib.auth.models.Group.objects.values_list('name', flat=True)
    )
