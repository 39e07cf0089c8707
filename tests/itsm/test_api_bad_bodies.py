"""Bodies no endpoint reads get a 400 naming the problem, never a 500: JSON nested thousands of levels deep."""

from django.urls import reverse

from itsm.api.parsers import JSON_MAX_DEPTH, depth
from itsm.choices import Role
from tests.base import ItsmTestCase


def nested(levels: int) -> str:
    return '[' * levels + ']' * levels


class DeepJSONTests(ItsmTestCase):
    def assert_refused(self, response):
        self.assertHttpStatus(response, 400)
        self.assertIn(f'more than {JSON_MAX_DEPTH} levels deep', response.json()['detail'])

    def test_the_anonymous_token_endpoint_refuses_deep_json(self):
        response = self.client.post(reverse('api:token'), nested(5000), content_type='application/json')
        self.assert_refused(response)

    def test_a_signed_in_create_refuses_deep_json_and_writes_nothing(self):
        from incidents.models import Ticket

        self.client.force_login(self.make_user(Role.SERVICE_DESK_AGENT))
        body = '{"short_description": "x", "extra": %s}'
        for levels in (5000, JSON_MAX_DEPTH + 1):
            with self.subTest(levels=levels):
                response = self.client.post(
                    reverse('api:incident-list'), body % nested(levels), content_type='application/json'
                )
                self.assert_refused(response)
        self.assertFalse(Ticket.objects.exists())

    def test_depth_is_measured_without_recursion(self):
        self.assertEqual(depth(1), 0)
        self.assertEqual(depth([]), 1)
        self.assertEqual(depth({'a': [1, {'b': []}]}), 4)
        deep = []
        for _ in range(50_000):
            deep = [deep]
        self.assertEqual(depth(deep), JSON_MAX_DEPTH + 1)  # stops counting once past the limit


class NulCharacterTests(ItsmTestCase):
    """PostgreSQL stores no NUL in any string: searches, filters, form fields and JSON holding one get a 400."""

    def setUp(self):
        self.agent = self.make_user(Role.SERVICE_DESK_AGENT)
        self.client.force_login(self.agent)

    def test_searches_and_filters_on_pages_and_in_the_api(self):
        for url, params in (
            (reverse('itsm:search'), {'q': 'inc\x001003'}),
            (reverse('incidents:ticket_list'), {'q': 'printer\x00'}),
            ('/api/v1/incidents/', {'search': '\x00'}),
            ('/api/v1/incidents/', {'short_description\x00': 'x'}),
        ):
            with self.subTest(url=url, params=params):
                response = self.client.get(url, params)
                self.assertEqual(response.status_code, 400)
                if url.startswith('/api/'):
                    self.assertEqual(response.json()['code'], 'nul_character')
                else:
                    self.assertContains(response, 'NUL character', status_code=400)

    def test_form_posts_and_json_bodies_are_refused_and_nothing_is_written(self):
        from urllib.parse import urlencode

        from incidents.models import Ticket

        url = reverse('incidents:incident_add')
        body = urlencode({'short_description': 'jam\x00med'})
        response = self.client.post(url, body, content_type='application/x-www-form-urlencoded')
        self.assertContains(response, 'NUL character', status_code=400)
        # A multipart form is left to the form, whose text fields refuse NUL with a message of their own.
        response = self.client.post(url, {'short_description': 'jam\x00med'})
        self.assertContains(response, 'Null characters are not allowed.')
        response = self.client.post(
            '/api/v1/incidents/',
            '{"short_description": "x", "custom": {"k": "\\u0000"}}',
            content_type='application/json',
        )
        self.assertHttpStatus(response, 400)
        self.assertIn('NUL character', response.json()['detail'])
        self.assertFalse(Ticket.objects.exists())
