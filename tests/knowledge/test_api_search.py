"""`/api/v1/articles/search/`: ranked hits with highlighted snippets, filters, paging, bad input as 400, and
isolation: a requester never finds a draft, a retired article or one for the desk only."""

from __future__ import annotations

from cmdb.choices import CIClass
from itsm.choices import Role
from knowledge.choices import ArticleState
from tests.base import ItsmTestCase
from tests.cmdb.factories import make_ci
from tests.factories import make_user

from .factories import ArticleFactory

S = ArticleState
SEARCH = '/api/v1/articles/search/'


class SearchAPITests(ItsmTestCase):
    @classmethod
    def setUpTestData(cls):
        cls.vpn = make_ci(CIClass.SERVICE, name='VPN')
        cls.public = ArticleFactory(
            state=S.PUBLISHED,
            audience='everyone',
            title='Reset a forgotten VPN password',
            body='Open the self-service page and reset the VPN password.',
            article_type='how_to',
            services=[cls.vpn],
        )
        cls.faq = ArticleFactory(
            state=S.PUBLISHED,
            audience='everyone',
            title='VPN questions',
            body='Why does the VPN password expire? Every ninety days.',
            article_type='faq',
        )
        cls.desk = ArticleFactory(
            state=S.PUBLISHED,
            audience='agents',
            title='VPN concentrator failover',
            body='Fail the VPN password service over to the second concentrator.',
        )
        cls.draft = ArticleFactory(audience='everyone', title='VPN draft', body='A VPN password draft.')
        cls.retired = ArticleFactory(
            state=S.RETIRED, audience='everyone', title='Old VPN client', body='The old VPN password dialog.'
        )

    def search(self, user, **params):
        return self.api_client(user).get(SEARCH, params)

    def found(self, response) -> set[str]:
        self.assertHttpStatus(response, 200)
        return {row['number'] for row in response.data['results']}

    def test_requesters_find_only_live_articles_for_everyone(self):
        response = self.search(make_user(), q='vpn password')
        self.assertEqual(self.found(response), {self.public.number, self.faq.number})
        self.assertEqual(response.data['count'], 2)
        for audience in ('agents', 'everyone'):
            self.assertNotIn(
                self.desk.number, self.found(self.search(make_user(), q='concentrator', audience=audience))
            )

    def test_staff_find_desk_articles_but_never_drafts_or_retired_ones(self):
        found = self.found(self.search(make_user(Role.SERVICE_DESK_AGENT), q='vpn password'))
        self.assertEqual(found, {self.public.number, self.faq.number, self.desk.number})

    def test_hits_carry_rank_snippet_and_summary(self):
        response = self.search(make_user(), q='open')
        hit = response.data['results'][0]
        self.assertEqual(hit['number'], self.public.number)
        self.assertEqual(hit['title'], 'Reset a forgotten VPN password')
        self.assertGreater(hit['rank'], 0)
        self.assertIn('<mark>', hit['snippet'])
        self.assertIn('summary', hit)
        self.assertTrue(hit['url'].endswith(f'/api/v1/articles/{self.public.number}/'))

    def test_filters_by_type_service_and_audience(self):
        agent = make_user(Role.SERVICE_DESK_AGENT)
        self.assertEqual(self.found(self.search(agent, q='vpn', type='faq')), {self.faq.number})
        self.assertEqual(self.found(self.search(agent, q='vpn', service=self.vpn.number)), {self.public.number})
        self.assertEqual(self.found(self.search(agent, q='vpn', audience='agents')), {self.desk.number})

    def test_paging(self):
        agent = make_user(Role.SERVICE_DESK_AGENT)
        first = self.search(agent, q='vpn password', limit=1)
        second = self.search(agent, q='vpn password', limit=1, offset=1)
        self.assertEqual(first.data['count'], 3)
        self.assertEqual(len(first.data['results']), 1)
        self.assertNotEqual(self.found(first), self.found(second))

    def test_bad_input_is_a_400_naming_the_parameter(self):
        agent = make_user(Role.SERVICE_DESK_AGENT)
        for params, name in (({}, 'q'), ({'q': 'vpn', 'type': 'poem'}, 'type'), ({'q': 'vpn', 'limit': 0}, 'limit')):
            with self.subTest(params=params):
                response = self.search(agent, **params)
                self.assertHttpStatus(response, 400)
                self.assertIn(name, response.data)

    def test_anonymous_and_roleless_people_are_refused(self):
        self.assertHttpStatus(self.api_client().get(SEARCH, {'q': 'vpn'}), 401)
        from itsm.models import User

        self.assertHttpStatus(self.search(User.objects.create(username='nobody'), q='vpn'), 403)

    def test_queries_do_not_grow_with_hits(self):
        agent = make_user(Role.SERVICE_DESK_AGENT)
        client = self.api_client(agent)
        client.get(SEARCH, {'q': 'vpn'})
        few = self.count_queries(lambda: client.get(SEARCH, {'q': 'vpn'}))
        for n in range(4):
            ArticleFactory(state=S.PUBLISHED, title=f'VPN note {n}', body='More about the VPN.')
        self.assertEqual(self.count_queries(lambda: client.get(SEARCH, {'q': 'vpn'})), few)
