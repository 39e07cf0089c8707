"""API tokens: hashed keys, expiry, revocation, read-only and app scopes, the owner's API and page, the exchange."""

import datetime as dt

from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from itsm import tokens
from itsm.audit import Actor
from itsm.choices import Role
from itsm.models import ApiToken
from tests.base import ItsmTestCase
from tests.factories import make_ticket

TOKENS = reverse('api:apitoken-list')
GROUPS = reverse('api:supportgroup-list')


def bearer(key: str) -> dict:
    return {'Authorization': f'Bearer {key}'}


class TokenTestCase(ItsmTestCase):
    def setUp(self):
        self.agent = self.make_user(Role.SERVICE_DESK_AGENT, username='ada')

    def token(self, user=None, **fields):
        user = user or self.agent
        return tokens.token_create(user=user, actor=Actor(user=user, channel='api'), name='Script', **fields)


class KeyStorageTests(TokenTestCase):
    def test_only_a_hash_of_the_key_is_stored_and_the_prefix_is_shown(self):
        token, key = self.token()
        self.assertRegex(key, r'^pc_[a-z0-9]{8}_[A-Za-z0-9_-]{40,}$')
        self.assertTrue(key.startswith(token.prefix + '_'))
        stored = ApiToken.objects.filter(pk=token.pk).values()[0]
        self.assertNotIn(key, [str(value) for value in stored.values()])
        self.assertEqual(stored['key_hash'], tokens.hash_key(key))

    def test_default_expiry_comes_from_settings(self):
        with override_settings(API_TOKEN_DEFAULT_DAYS=7):
            token, _ = self.token()
        self.assertAlmostEqual(token.expires_at, timezone.now() + dt.timedelta(days=7), delta=dt.timedelta(seconds=5))

    def test_creation_and_revocation_are_on_the_owners_timeline(self):
        token, _ = self.token()
        tokens.token_revoke(token=token, actor=Actor(user=self.agent, channel='ui'))
        messages = list(self.timeline(self.agent).values_list('message', flat=True))
        self.assertTrue(any('created' in m and token.prefix in m for m in messages), messages)
        self.assertTrue(any('revoked' in m and token.prefix in m for m in messages), messages)


class AuthenticationTests(TokenTestCase):
    def test_bearer_and_token_keywords_both_authenticate(self):
        _, key = self.token()
        self.assertHttpStatus(self.client.get(GROUPS, headers=bearer(key)), 200)
        self.assertHttpStatus(self.client.get(GROUPS, headers={'Authorization': f'Token {key}'}), 200)

    def test_unknown_key_is_a_401(self):
        response = self.client.get(GROUPS, headers=bearer('pc_nothere0_secret'))
        self.assertHttpStatus(response, 401)
        self.assertEqual(response.json()['code'], 'authentication_failed')
        self.assertIn('Bearer', response['WWW-Authenticate'])

    def test_expired_token_is_a_401_saying_so(self):
        token, key = self.token()
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
        response = self.client.get(GROUPS, headers=bearer(key))
        self.assertHttpStatus(response, 401)
        self.assertEqual(response.json()['code'], 'token_expired')

    def test_revoked_token_is_a_401_saying_so(self):
        token, key = self.token()
        tokens.token_revoke(token=token, actor=Actor(user=self.agent, channel='ui'))
        response = self.client.get(GROUPS, headers=bearer(key))
        self.assertHttpStatus(response, 401)
        self.assertEqual(response.json()['code'], 'token_revoked')

    def test_inactive_owner_is_refused(self):
        _, key = self.token()
        self.agent.is_active = False
        self.agent.save()
        self.assertHttpStatus(self.client.get(GROUPS, headers=bearer(key)), 401)

    def test_authentication_costs_one_query_and_last_use_is_written_once_a_minute(self):
        token, key = self.token()
        self.client.get(GROUPS, headers=bearer(key))  # first use: notes the time
        first = ApiToken.objects.get(pk=token.pk).last_used_at
        self.assertIsNotNone(first)
        with self.assertNumQueries(0):
            pass
        baseline = self.count_queries(lambda: self.api_client(self.agent).get(GROUPS))
        with_token = self.count_queries(lambda: self.client.get(GROUPS, headers=bearer(key)))
        self.assertLessEqual(with_token, baseline + 1)
        self.assertEqual(ApiToken.objects.get(pk=token.pk).last_used_at, first)  # not rewritten within the minute
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - dt.timedelta(minutes=2))
        self.client.get(GROUPS, headers=bearer(key))
        self.assertGreater(ApiToken.objects.get(pk=token.pk).last_used_at, first)

    def test_the_monitoring_receivers_are_untouched_by_token_authentication(self):
        from monitoring.api import views as monitoring_views

        receivers = [
            view
            for view in vars(monitoring_views).values()
            if isinstance(view, type) and getattr(view, 'authentication_classes', None) == []
        ]
        self.assertTrue(receivers)  # they authenticate by their own integration token, not ours


class ScopeTests(TokenTestCase):
    def test_read_only_token_reads_but_cannot_write(self):
        _, key = self.token(read_only=True)
        self.assertHttpStatus(self.client.get('/api/v1/incidents/', headers=bearer(key)), 200)
        response = self.client.post(
            '/api/v1/incidents/', {'short_description': 'Nope'}, 'application/json', headers=bearer(key)
        )
        self.assertHttpStatus(response, 403)
        self.assertEqual(response.json()['code'], 'token_read_only')

    def test_read_only_token_cannot_run_an_action(self):
        ticket = make_ticket()
        _, key = self.token(read_only=True)
        response = self.client.post(
            f'/api/v1/incidents/{ticket.number}/comments/', {'body': 'hi'}, 'application/json', headers=bearer(key)
        )
        self.assertHttpStatus(response, 403)

    def test_app_limited_token_reaches_its_apps_only(self):
        _, key = self.token(apps=['incidents'])
        self.assertHttpStatus(self.client.get('/api/v1/incidents/', headers=bearer(key)), 200)
        refused = self.client.get('/api/v1/cis/', headers=bearer(key))
        self.assertHttpStatus(refused, 403)
        self.assertEqual(refused.json()['code'], 'token_scope')
        self.assertIn('cmdb', refused.json()['detail'])
        self.assertHttpStatus(self.client.get(GROUPS, headers=bearer(key)), 403)  # the core is an app too
        self.assertHttpStatus(self.client.get(reverse('api:schema'), headers=bearer(key)), 200)

    def test_scope_does_not_widen_role_permissions(self):
        requester = self.make_user(Role.REQUESTER)
        _, key = self.token(user=requester)
        self.assertHttpStatus(self.client.get(GROUPS, headers=bearer(key)), 403)


class TokenApiTests(TokenTestCase):
    def test_create_shows_the_key_once_and_list_never(self):
        response = self.api_client(self.agent).post(
            TOKENS, {'name': 'CI job', 'read_only': True, 'apps': ['incidents']}, format='json'
        )
        self.assertHttpStatus(response, 201)
        key = response.data['token']
        self.assertEqual(response['Location'], reverse('api:apitoken-detail', args=[response.data['id']]))
        self.assertEqual((response.data['read_only'], response.data['apps']), (True, ['incidents']))
        listing = self.api_client(self.agent).get(TOKENS)
        self.assertHttpStatus(listing, 200)
        self.assertNotIn(key, listing.content.decode())
        self.assertNotIn('token', listing.data['results'][0])
        detail = self.api_client(self.agent).get(reverse('api:apitoken-detail', args=[response.data['id']]))
        self.assertNotIn(key, detail.content.decode())

    def test_every_role_manages_only_their_own_tokens(self):
        requester = self.make_user(Role.REQUESTER)
        theirs, _ = self.token(user=requester)
        mine, _ = self.token()
        listing = self.api_client(requester).get(TOKENS)
        self.assertHttpStatus(listing, 200)
        self.assertEqual([row['id'] for row in listing.data['results']], [theirs.pk])
        self.assertHttpStatus(self.api_client(requester).delete(reverse('api:apitoken-detail', args=[mine.pk])), 404)
        self.assertIsNone(ApiToken.objects.get(pk=mine.pk).revoked_at)

    def test_delete_revokes_and_the_key_stops_working(self):
        token, key = self.token()
        response = self.client.delete(reverse('api:apitoken-detail', args=[token.pk]), headers=bearer(key))
        self.assertHttpStatus(response, 204)
        self.assertIsNotNone(ApiToken.objects.get(pk=token.pk).revoked_at)
        self.assertEqual(self.client.get(GROUPS, headers=bearer(key)).json()['code'], 'token_revoked')

    def test_revoke_action_answers_the_revoked_token(self):
        token, _ = self.token()
        response = self.api_client(self.agent).post(reverse('api:apitoken-revoke', args=[token.pk]))
        self.assertHttpStatus(response, 200)
        self.assertIsNotNone(response.data['revoked_at'])
        self.assertFalse(response.data['active'])

    def test_active_filter(self):
        live, _ = self.token()
        dead, _ = self.token()
        tokens.token_revoke(token=dead, actor=Actor(user=self.agent, channel='ui'))
        active = self.api_client(self.agent).get(TOKENS, {'active': 'true'})
        self.assertEqual([row['id'] for row in active.data['results']], [live.pk])
        inactive = self.api_client(self.agent).get(TOKENS, {'active': 'false'})
        self.assertEqual([row['id'] for row in inactive.data['results']], [dead.pk])

    def test_malformed_input_is_a_400_and_writes_nothing(self):
        cases = [
            ({'name': 'x', 'apps': ['nosuchapp']}, 'apps'),
            ({'name': 'x', 'expires_at': 'next tuesday'}, 'expires_at'),
            ({'name': 'x', 'expires_at': (timezone.now() - dt.timedelta(days=1)).isoformat()}, 'expires_at'),
            ({'name': 'x', 'expires_at': (timezone.now() + dt.timedelta(days=400)).isoformat()}, 'expires_at'),
            ({'name': 'x' * 101}, 'name'),
            ({'name': 'x', 'apps': 'incidents'}, 'apps'),
        ]
        for data, field in cases:
            with self.subTest(data=data):
                response = self.api_client(self.agent).post(TOKENS, data, format='json')
                self.assertHttpStatus(response, 400)
                self.assertIn(field, response.json())
        self.assertFalse(ApiToken.objects.exists())

    def test_a_token_cannot_make_a_wider_or_longer_lived_token(self):
        parent, key = self.token(apps=['itsm', 'incidents'])
        later = (parent.expires_at + dt.timedelta(days=1)).isoformat()
        for data, field in [
            ({'name': 'w'}, 'apps'),  # all apps is wider
            ({'name': 'w', 'apps': ['cmdb']}, 'apps'),
            ({'name': 'w', 'apps': ['incidents'], 'expires_at': later}, 'expires_at'),
        ]:
            with self.subTest(data=data):
                response = self.client.post(TOKENS, data, 'application/json', headers=bearer(key))
                self.assertHttpStatus(response, 400)
                self.assertIn(field, response.json())
        writer, writer_key = self.token(apps=['itsm'])
        response = self.client.post(TOKENS, {'name': 'w'}, 'application/json', headers=bearer(writer_key))
        self.assertHttpStatus(response, 400)
        self.assertEqual(ApiToken.objects.count(), 2)
        narrower = self.client.post(
            TOKENS, {'name': 'n', 'apps': ['itsm']}, 'application/json', headers=bearer(writer_key)
        )
        self.assertHttpStatus(narrower, 201)
        self.assertLessEqual(ApiToken.objects.get(pk=narrower.json()['id']).expires_at, writer.expires_at)

    def test_a_read_only_parent_makes_read_only_tokens_only(self):
        from django.core.exceptions import ValidationError

        parent, _ = self.token(read_only=True)
        with self.assertRaises(ValidationError) as refused:
            self.token(parent=parent)
        self.assertIn('read_only', refused.exception.message_dict)
        child, _ = self.token(parent=parent, read_only=True)
        self.assertLessEqual(child.expires_at, parent.expires_at)

    def test_read_only_token_cannot_create_tokens_at_all(self):
        _, key = self.token(read_only=True)
        response = self.client.post(TOKENS, {'name': 'x', 'read_only': True}, 'application/json', headers=bearer(key))
        self.assertHttpStatus(response, 403)  # a POST: refused by the read-only scope before anything else

    def test_list_costs_the_same_whatever_the_number_of_tokens(self):
        self.token()
        client = self.api_client(self.agent)
        few = self.count_queries(lambda: client.get(TOKENS))
        for _ in range(5):
            self.token()
        self.assertEqual(self.count_queries(lambda: client.get(TOKENS)), few)


class ExchangeTests(ItsmTestCase):
    url = reverse('api:token')

    def setUp(self):
        self.make_user(Role.SERVICE_DESK_AGENT, username='agent', password='Agent-Pass-77')

    def test_exchange_makes_a_new_full_scope_token_each_time(self):
        first = self.client.post(self.url, {'username': 'agent', 'password': 'Agent-Pass-77'}, 'application/json')
        second = self.client.post(self.url, {'username': 'agent', 'password': 'Agent-Pass-77'}, 'application/json')
        self.assertHttpStatus(first, 200)
        self.assertNotEqual(first.json()['token'], second.json()['token'])
        token = ApiToken.objects.get(pk=first.json()['id'])
        self.assertEqual((token.read_only, token.apps), (False, []))
        self.assertAlmostEqual(token.expires_at, tokens.default_expiry(), delta=dt.timedelta(seconds=5))

    def test_exchange_accepts_a_scope(self):
        response = self.client.post(
            self.url,
            {'username': 'agent', 'password': 'Agent-Pass-77', 'name': 'Bridge', 'read_only': True, 'apps': ['cmdb']},
            'application/json',
        )
        self.assertHttpStatus(response, 200)
        token = ApiToken.objects.get(pk=response.json()['id'])
        self.assertEqual((token.name, token.read_only, token.apps), ('Bridge', True, ['cmdb']))

    def test_exchange_refuses_a_bad_scope_without_writing(self):
        response = self.client.post(
            self.url, {'username': 'agent', 'password': 'Agent-Pass-77', 'apps': ['nope']}, 'application/json'
        )
        self.assertHttpStatus(response, 400)
        self.assertFalse(ApiToken.objects.exists())


class TokenPageTests(TokenTestCase):
    url = reverse('itsm:token_list')

    def test_every_role_reaches_the_page_from_the_user_menu(self):
        for role in Role.values:
            with self.subTest(role=role):
                self.client.force_login(self.make_user(role))
                home = self.client.get(reverse('itsm:profile'))
                self.assertContains(home, f'href="{self.url}"')
                self.assertHttpStatus(self.client.get(self.url), 200)

    def test_create_shows_the_key_once(self):
        self.client.force_login(self.agent)
        created = self.client.post(self.url, {'name': 'Laptop script', 'days': 30, 'apps': ['incidents']})
        self.assertRedirects(created, self.url, fetch_redirect_response=False)  # a reload makes no second token
        response = self.client.get(self.url)
        key = response.context['key']
        self.assertContains(response, key)
        self.assertEqual(response['Cache-Control'], 'no-store')
        token = ApiToken.objects.get()
        self.assertEqual((token.name, token.apps, token.user), ('Laptop script', ['incidents'], self.agent))
        self.assertNotContains(self.client.get(self.url), key)
        self.assertContains(self.client.get(self.url), token.prefix)

    def test_bad_input_is_shown_on_the_form(self):
        self.client.force_login(self.agent)
        response = self.client.post(self.url, {'name': 'x', 'days': 9999, 'apps': ['nosuch']})
        self.assertHttpStatus(response, 200)
        self.assertIn('days', response.context['form'].errors)
        self.assertIn('apps', response.context['form'].errors)
        self.assertFalse(ApiToken.objects.exists())

    def test_revoke_own_token_only(self):
        mine, _ = self.token()
        other = self.make_user(Role.REQUESTER)
        theirs, _ = self.token(user=other)
        self.client.force_login(self.agent)
        self.assertRedirects(self.client.post(reverse('itsm:token_revoke', args=[mine.pk])), self.url)
        self.assertHttpStatus(self.client.post(reverse('itsm:token_revoke', args=[theirs.pk])), 404)
        self.assertIsNotNone(ApiToken.objects.get(pk=mine.pk).revoked_at)
        self.assertIsNone(ApiToken.objects.get(pk=theirs.pk).revoked_at)
        self.assertHttpStatus(self.client.get(reverse('itsm:token_revoke', args=[mine.pk])), 405)

    def test_page_costs_the_same_whatever_the_number_of_tokens(self):
        self.client.force_login(self.agent)
        self.token()
        few = self.count_queries(lambda: self.client.get(self.url))
        for _ in range(5):
            self.token()
        self.assertEqual(self.count_queries(lambda: self.client.get(self.url)), few)

    def test_page_needs_sign_in(self):
        self.assertEqual(self.client.get(self.url).status_code, 302)


class AdminTests(TokenTestCase):
    def test_administrator_lists_and_revokes_anyones_tokens(self):
        token, _ = self.token()
        admin = self.make_user(Role.ADMINISTRATOR, is_staff=True, is_superuser=True)
        self.client.force_login(admin)
        changelist = reverse('admin:itsm_apitoken_changelist')
        self.assertContains(self.client.get(changelist), token.prefix)
        response = self.client.post(changelist, {'action': 'revoke', '_selected_action': [token.pk]})
        self.assertEqual(response.status_code, 302)
        self.assertIsNotNone(ApiToken.objects.get(pk=token.pk).revoked_at)
