"""The knowledge API: /api/v1/articles/ (CRUD by number, filters, one POST per action, refusals), versions,
comparison, votes, uses, deflections and the known-error conversion; requesters read only live articles for
everyone, and only their published version."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from cmdb.choices import CIClass
from itsm.choices import Role, TimelineKind
from knowledge.choices import ArticleState
from knowledge.models import Article, ArticleUse, ArticleVote, Deflection
from tests.base import APITestCases, ItsmTestCase
from tests.cmdb.factories import make_ci
from tests.factories import make_ticket, make_user
from tests.problems.factories import KnownErrorFactory, make_category

from .factories import ArticleFactory, VersionFactory, make_knowledge_manager, make_writer

S = ArticleState
BASE = '/api/v1/articles/'


def url(article, what: str = '') -> str:
    return f'{BASE}{article.number}/{what + "/" if what else ""}'


class ArticleAPITests(APITestCases.ModelAPITestCase):
    model = Article
    basename = 'article'
    view_roles = (Role.SERVICE_DESK_AGENT,)
    write_roles = (Role.SERVICE_DESK_AGENT,)
    read_only_roles = (Role.MANAGER,)  # reads every article, writes none
    update_data = {'summary': 'Reset it yourself in one minute.', 'audience': 'everyone'}
    read_only_fields = {'state': 'published', 'version': 7, 'view_count': 99}
    supports_delete = False
    query_rows = (2, 8)

    def outsider(self):
        # Requesters may read live articles for everyone, so the person refused a list holds no role at all.
        return self.roleless()

    def make_object(self, **kwargs):
        return ArticleFactory(
            services=[make_ci(CIClass.SERVICE)],
            cis=[make_ci(CIClass.SERVER)],
            categories=[make_category()],
            owner=make_writer(),
            **kwargs,
        )

    def create_data(self):
        service = make_ci(CIClass.SERVICE, name='VPN')
        return {
            'title': 'Reconnect the VPN after a password change',
            'body': '## Steps\n\n1. Quit the client.\n2. Sign in again.\n',
            'summary': 'Sign in again with the new password.',
            'type': 'how_to',
            'audience': 'everyone',
            'services': [service.number],
        }

    def filter_cases(self):
        owner = make_writer(username='marta')
        service = make_ci(CIClass.SERVICE, name='Printing')
        yesterday = timezone.localdate() - dt.timedelta(days=1)
        a = ArticleFactory(title='Clear a stuck print queue', services=[service], article_type='troubleshooting')
        b = ArticleFactory(state=S.PUBLISHED, title='VPN FAQ', article_type='faq', audience='everyone', owner=owner)
        c = ArticleFactory(state=S.REVIEW, title='Mailbox quotas', article_type='reference')
        Article.objects.filter(pk=b.pk).update(review_by=yesterday)
        return [
            ({'state': 'review'}, [c]),
            ({'type': 'faq'}, [b]),
            ({'audience': 'everyone'}, [b]),
            ({'service': service.number}, [a]),
            ({'service': 'Printing'}, [a]),
            ({'owner': 'marta'}, [b]),
            ({'review_due': 'true'}, [b]),
            ({'q': 'print queue'}, [a]),
        ]


class ArticleShapeTests(ItsmTestCase):
    def test_staff_see_the_working_copy_with_rendered_markdown(self):
        article = ArticleFactory(body='Hello **there** <script>alert(1)</script>', owner=make_writer(username='ana'))
        response = self.api_client(make_writer()).get(url(article))
        self.assertHttpStatus(response, 200)
        data = response.data
        self.assertEqual((data['number'], data['state'], data['state_label']), (article.number, 'draft', 'Draft'))
        self.assertEqual(data['owner'], 'ana')
        self.assertIn('<strong>there</strong>', data['body_html'])
        self.assertNotIn('<script', data['body_html'])
        self.assertTrue(data['links']['versions'].endswith(f'{article.number}/versions/'))

    def test_requesters_read_the_published_version_only(self):
        article = ArticleFactory(state=S.PUBLISHED, audience='everyone', title='Printer help', body='Version one')
        VersionFactory(article=article, body='Version two')
        Article.objects.filter(pk=article.pk).update(state=S.PUBLISHED)
        writer = make_writer()
        from knowledge import services

        from .factories import as_actor

        article = services.article_revise(article=Article.objects.get(pk=article.pk), actor=as_actor(writer))
        services.article_update(article=article, actor=as_actor(writer), body='Draft three, not for readers')
        response = self.api_client(make_user()).get(url(article))
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.data['body'], 'Version two')
        self.assertEqual(response.data['version'], 2)
        self.assertNotIn('owner', response.data)
        self.assertNotIn('state', response.data)
        staff = self.api_client(writer).get(url(article))
        self.assertEqual(staff.data['body'], 'Draft three, not for readers')

    def test_requesters_never_list_or_open_drafts_or_desk_only_articles(self):
        public = ArticleFactory(state=S.PUBLISHED, audience='everyone')
        desk = ArticleFactory(state=S.PUBLISHED, audience='agents')
        draft = ArticleFactory(audience='everyone')
        retired = ArticleFactory(state=S.RETIRED, audience='everyone')
        client = self.api_client(make_user())
        response = client.get(BASE, {'page_size': 100})
        self.assertHttpStatus(response, 200)
        self.assertEqual({row['number'] for row in response.data['results']}, {public.number})
        for hidden in (desk, draft, retired):
            with self.subTest(hidden.number):
                self.assertHttpStatus(client.get(url(hidden)), 404)
                self.assertHttpStatus(client.get(url(hidden, 'versions')), 404)
        staff = self.api_client(make_writer()).get(BASE, {'page_size': 100})
        self.assertEqual(
            {row['number'] for row in staff.data['results']},
            {public.number, desk.number, draft.number, retired.number},
        )

    def test_requester_list_queries_do_not_grow_with_rows(self):
        client = self.api_client(make_user())
        for _ in range(2):
            ArticleFactory(state=S.PUBLISHED, audience='everyone', services=[make_ci(CIClass.SERVICE)])
        client.get(BASE)
        few = self.count_queries(lambda: self.assertHttpStatus(client.get(BASE), 200))
        for _ in range(5):
            ArticleFactory(state=S.PUBLISHED, audience='everyone', services=[make_ci(CIClass.SERVICE)])
        self.assertEqual(self.count_queries(lambda: client.get(BASE)), few)

    def test_requesters_cannot_write(self):
        client = self.api_client(make_user())
        response = client.post(BASE, {'title': 'Mine', 'body': 'Text'}, format='json')
        self.assertHttpStatus(response, 403)
        self.assertEqual(response.data['code'], 'permission_denied')

    def test_bad_input_is_a_400_naming_the_field(self):
        response = self.api_client(make_writer()).post(
            BASE, {'title': '', 'body': 'Text', 'type': 'poem', 'services': ['CI9999999']}, format='json'
        )
        self.assertHttpStatus(response, 400)
        self.assertIn('title', str(response.data))
        self.assertIn('type', str(response.data))
        self.assertIn('CI9999999', str(response.data))

    def test_unknown_query_parameters_are_refused(self):
        response = self.api_client(make_writer()).get(BASE, {'colour': 'red'})
        self.assertHttpStatus(response, 400)
        self.assertIn('colour', response.data)


class ArticleActionTests(ItsmTestCase):
    def setUp(self):
        self.writer = make_writer()
        self.manager = make_knowledge_manager()

    def post(self, user, article, action, data=None):
        return self.api_client(user).post(url(article, action), data or {}, format='json')

    def test_the_lifecycle_through_the_api(self):
        article = ArticleFactory(owner=self.writer)
        response = self.post(self.writer, article, 'submit', {'note': 'Ready'})
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.data['state'], S.REVIEW)
        response = self.post(self.manager, article, 'request-changes', {'reason': 'Add a screenshot.'})
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.data['state'], S.DRAFT)
        self.post(self.writer, article, 'submit')
        response = self.post(self.manager, article, 'publish', {'change_note': 'First version'})
        self.assertHttpStatus(response, 200)
        self.assertEqual((response.data['state'], response.data['version']), (S.PUBLISHED, 1))
        response = self.post(self.writer, article, 'revise')
        self.assertHttpStatus(response, 200)
        self.assertEqual((response.data['state'], response.data['version']), (S.DRAFT, 1))
        response = self.post(self.manager, article, 'retire', {'reason': 'Superseded.'})
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.data['state'], S.RETIRED)
        response = self.post(self.manager, article, 'restore')
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.data['state'], S.DRAFT)
        moves = self.timeline(article, TimelineKind.TRANSITION).count()
        self.assertEqual(moves, 7)

    def test_refusals_say_what_and_why(self):
        article = ArticleFactory(state=S.REVIEW)
        response = self.post(self.writer, article, 'publish')
        self.assertHttpStatus(response, 403)
        self.assertIn('knowledge manager', str(response.data['detail']))
        response = self.post(self.manager, article, 'revise')
        self.assertHttpStatus(response, 409)
        self.assertIn('detail', response.data)
        response = self.post(self.manager, article, 'request-changes', {})
        self.assertHttpStatus(response, 400)
        self.assertIn('reason', response.data)
        response = self.post(make_user(), article, 'submit')
        self.assertHttpStatus(response, 403)
        self.assertEqual(response.data['code'], 'permission_denied')

    def test_votes_are_one_per_person(self):
        article = ArticleFactory(state=S.PUBLISHED, audience='everyone')
        requester = make_user()
        response = self.api_client(requester).post(url(article, 'votes'), {'helpful': False}, format='json')
        self.assertHttpStatus(response, 201)
        self.assertEqual((response.data['helpful'], response.data['article']), (False, article.number))
        response = self.post(requester, article, 'vote', {'helpful': True, 'comment': 'Worked in the end'})
        self.assertHttpStatus(response, 200)
        self.assertEqual(ArticleVote.objects.filter(article=article).count(), 1)
        article.refresh_from_db()
        self.assertEqual((article.helpful_count, article.not_helpful_count), (1, 0))
        listing = self.api_client(self.writer).get(url(article, 'votes'))
        self.assertHttpStatus(listing, 200)
        self.assertEqual([row['comment'] for row in listing.data], ['Worked in the end'])
        self.assertHttpStatus(self.api_client(requester).get(url(article, 'votes')), 403)
        response = self.api_client(requester).post(url(article, 'votes'), {}, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('helpful', response.data)

    def test_votes_on_drafts_are_refused(self):
        article = ArticleFactory()
        response = self.api_client(self.writer).post(url(article, 'votes'), {'helpful': True}, format='json')
        self.assertHttpStatus(response, 403)
        self.assertIn('not published', str(response.data['detail']))

    def test_used_to_resolve_an_incident(self):
        article = ArticleFactory(state=S.PUBLISHED)
        incident = make_ticket()
        response = self.api_client(self.writer).post(url(article, 'uses'), {'incident': incident.number}, format='json')
        self.assertHttpStatus(response, 201)
        self.assertEqual(response.data['incident'], incident.number)
        self.assertTrue(ArticleUse.objects.filter(article=article, incident=incident).exists())
        incident.refresh_from_db()
        self.assertTrue(incident.knowledge_used)
        missing = self.api_client(self.writer).post(url(article, 'uses'), {'incident': 'INC9999999'}, format='json')
        self.assertHttpStatus(missing, 400)
        self.assertIn('INC9999999', str(missing.data))
        draft = ArticleFactory()
        response = self.api_client(self.writer).post(url(draft, 'uses'), {'incident': incident.number}, format='json')
        self.assertHttpStatus(response, 409)
        requester = self.api_client(make_user()).post(url(article, 'uses'), {'incident': incident.number})
        self.assertHttpStatus(requester, 404)  # an article for the desk only

    def test_deflections_count_a_report_the_portal_never_logged(self):
        article = ArticleFactory(state=S.PUBLISHED, audience='everyone')
        requester = make_user()
        response = self.api_client(requester).post(url(article, 'deflections'), {'query': 'vpn'}, format='json')
        self.assertHttpStatus(response, 201)
        self.assertEqual(response.data['query'], 'vpn')
        self.assertEqual(Deflection.objects.get().requester, requester)
        article.refresh_from_db()
        self.assertEqual(article.deflection_count, 1)

    def test_versions_are_listed_and_opened(self):
        article = ArticleFactory(state=S.PUBLISHED, body='One')
        VersionFactory(article=article, body='Two', change_note='Second')
        client = self.api_client(self.writer)
        response = client.get(url(article, 'versions'))
        self.assertHttpStatus(response, 200)
        self.assertEqual([row['version'] for row in response.data], [2, 1])
        response = client.get(url(article, 'versions/1'))
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.data['body'], 'One')
        self.assertHttpStatus(client.get(url(article, 'versions/9')), 404)

    def test_compare_two_versions(self):
        article = ArticleFactory(state=S.PUBLISHED, body='Old text')
        VersionFactory(article=article, body='New text')
        client = self.api_client(self.writer)
        response = client.get(url(article, 'compare'), {'from': 1, 'to': 2})
        self.assertHttpStatus(response, 200)
        self.assertEqual((response.data['from'], response.data['to']), (1, 2))
        body = [(row['kind'], row['text']) for row in response.data['rows'] if row['field'] == 'body']
        self.assertIn(('removed', 'Old text'), body)
        self.assertIn(('added', 'New text'), body)
        working = client.get(url(article, 'compare'), {'from': 2})
        self.assertHttpStatus(working, 200)
        self.assertIsNone(working.data['to'])
        self.assertFalse(any(row['changed'] for row in working.data['rows']))
        requester = self.api_client(make_user()).get(url(article, 'compare'), {'from': 1})
        self.assertHttpStatus(requester, 404)  # an article for the desk only
        self.assertHttpStatus(client.get(url(article, 'compare'), {'from': 7}), 404)
        self.assertHttpStatus(client.get(url(article, 'compare'), {'from': 'x'}), 400)

    def test_a_known_error_becomes_an_article_once(self):
        known_error = KnownErrorFactory(workaround='Restart the spooler.')
        client = self.api_client(self.manager)
        endpoint = f'{BASE}from-known-error/'
        response = client.post(endpoint, {'known_error': known_error.number}, format='json')
        self.assertHttpStatus(response, 201)
        self.assertEqual(response.data['known_error'], known_error.number)
        self.assertIn('Restart the spooler.', response.data['body'])
        again = client.post(endpoint, {'known_error': known_error.number}, format='json')
        self.assertHttpStatus(again, 409)
        self.assertHttpStatus(client.post(endpoint, {'known_error': 'KE9999999'}, format='json'), 404)
        refused = self.api_client(make_user()).post(endpoint, {'known_error': known_error.number}, format='json')
        self.assertHttpStatus(refused, 403)
