"""The desk's knowledge search page and the global search box: who may search, what they find, filters, pages,
escaping, bad input and a constant number of queries."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from cmdb.models import ConfigurationItem
from itsm.choices import Role
from knowledge.choices import Audience
from knowledge.models import Article
from tests.base import ItsmTestCase

from .test_search import publish

URL = reverse('knowledge:search')


class SearchPageTests(ItsmTestCase):
    def setUp(self):
        self.agent = self.make_user(Role.SERVICE_DESK_AGENT)
        self.requester = self.make_user(Role.REQUESTER)
        self.client.force_login(self.agent)

    def test_ranked_results_with_highlighted_snippets(self):
        title = publish('VPN disconnects every hour', 'Renew the VPN certificate.')
        body = publish('Home working checklist', 'Start the VPN client before Outlook.')
        response = self.client.get(URL, {'q': 'vpn'})
        self.assertHttpStatus(response, 200)
        hits = response.context['result'].hits
        self.assertEqual([h.article for h in hits], [title, body])
        self.assertContains(response, '<mark>VPN</mark>', html=False)
        self.assertContains(response, '2 articles for “vpn”')
        self.assertContains(response, title.get_absolute_url())

    def test_article_text_is_escaped(self):
        publish('<script>alert(1)</script> Wi-Fi', 'Join the <img src=x onerror=alert(2)> guest Wi-Fi.')
        response = self.client.get(URL, {'q': 'guest'})
        content = response.content.decode()
        self.assertNotIn('<script>alert(1)', content)
        self.assertNotIn('<img src=x', content)
        self.assertIn('&lt;script&gt;alert(1)&lt;/script&gt; Wi-Fi', content)

    def test_requesters_use_the_help_centre_and_anonymous_people_sign_in(self):
        self.client.force_login(self.requester)
        self.assertHttpStatus(self.client.get(URL, {'q': 'vpn'}), 403)
        self.client.logout()
        response = self.client.get(URL, {'q': 'vpn'})
        self.assertHttpStatus(response, 302)
        self.assertIn('login', response['Location'])

    def test_filters_by_type_service_and_audience(self):
        service = ConfigurationItem.objects.create(name='Remote access', ci_class='service')
        on_service = publish('VPN on tablets', 'VPN profile for tablets.', article_type='troubleshooting')
        on_service.services.add(service)
        publish('VPN on phones', 'VPN profile for phones.', audience=Audience.AGENTS)
        response = self.client.get(URL, {'q': 'vpn', 'service': service.number})
        self.assertEqual([h.article for h in response.context['result'].hits], [on_service])
        response = self.client.get(URL, {'q': 'vpn', 'type': 'troubleshooting'})
        self.assertEqual([h.article for h in response.context['result'].hits], [on_service])
        response = self.client.get(URL, {'q': 'vpn', 'audience': Audience.AGENTS})
        self.assertEqual([h.article.title for h in response.context['result'].hits], ['VPN on phones'])

    def test_bad_filters_are_form_errors(self):
        response = self.client.get(URL, {'q': 'vpn', 'type': 'nonsense', 'service': 'CI9999999'})
        self.assertHttpStatus(response, 200)
        self.assertIsNone(response.context['result'])
        self.assertIn('type', response.context['form'].errors)
        self.assertIn('service', response.context['form'].errors)

    def test_hostile_queries_and_pages_answer(self):
        publish('Printer jam', 'Open the tray.')
        for params in (
            {'q': '"'},
            {'q': 'NEAR('},
            {'q': '-'},
            {'q': '*'},
            {'q': "'"},
            {'q': '☃ 日本'},
            {'q': 'x' * 500},
            {'q': 'printer', 'page': 'abc'},
            {'q': 'printer', 'page': '-4'},
            {'q': 'printer', 'page': '99999999999999'},
        ):
            with self.subTest(params=params):
                self.assertHttpStatus(self.client.get(URL, params), 200)

    def test_pages_of_results(self):
        for n in range(23):
            publish(f'Monitor flicker {n}', 'The monitor flickers.')
        first = self.client.get(URL, {'q': 'monitor'})
        second = self.client.get(URL, {'q': 'monitor', 'page': 2})
        past = self.client.get(URL, {'q': 'monitor', 'page': 9})
        self.assertEqual(len(first.context['result'].hits), 20)
        self.assertEqual(len(second.context['result'].hits), 3)
        self.assertEqual(second.context['page_obj'].number, 2)
        self.assertEqual(past.context['page_obj'].number, 2)
        shown = {h.article.pk for r in (first, second) for h in r.context['result'].hits}
        self.assertEqual(len(shown), 23)
        self.assertContains(first, '1–20 of 23')

    def test_htmx_pages_get_the_results_alone(self):
        for n in range(21):
            publish(f'Dock issue {n}', 'The dock does not charge.')
        response = self.client.get(URL, {'q': 'dock', 'page': 2}, HTTP_HX_REQUEST='true')
        self.assertHttpStatus(response, 200)
        self.assertNotContains(response, '<html')
        self.assertContains(response, 'id="object-table"')

    def test_queries_do_not_grow_with_results(self):
        publish('Keyboard layout 0', 'Switch the keyboard layout.')
        few = self.count_queries(lambda: self.client.get(URL, {'q': 'keyboard'}))
        for n in range(1, 15):
            publish(f'Keyboard layout {n}', 'Switch the keyboard layout.', helpful_count=n, use_count=1)
        many = self.count_queries(lambda: self.client.get(URL, {'q': 'keyboard'}))
        self.assertEqual(few, many)

    def test_an_empty_query_shows_the_form_only(self):
        response = self.client.get(URL)
        self.assertHttpStatus(response, 200)
        self.assertIsNone(response.context['result'])
        self.assertContains(response, 'name="q"')


class GlobalSearchBoxTests(ItsmTestCase):
    """The top bar's search lists articles by what each person may see: the desk also finds drafts to work on,
    requesters only live articles for everyone."""

    def setUp(self):
        self.everyone = publish('Projector in room 4 shows no picture', 'Press the input button.')
        self.agents_only = publish('Projector firmware update', 'Flash it from the admin page.', audience='agents')
        self.draft = Article.objects.create(
            short_description='Projector lamp replacement', body='Draft', audience='everyone', opened_at=timezone.now()
        )

    def found(self, user):
        self.client.force_login(user)
        response = self.client.get(reverse('itsm:search'), {'q': 'projector'})
        self.assertHttpStatus(response, 200)
        return {hit for group in response.context['results'] for hit in group.hits if isinstance(hit, Article)}

    def test_requesters_find_only_live_articles_for_everyone(self):
        self.assertEqual(self.found(self.make_user(Role.REQUESTER)), {self.everyone})

    def test_the_desk_finds_drafts_and_agents_only_articles(self):
        self.assertEqual(
            self.found(self.make_user(Role.SERVICE_DESK_AGENT)), {self.everyone, self.agents_only, self.draft}
        )
