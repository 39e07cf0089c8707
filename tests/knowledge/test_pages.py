"""Desk pages of the knowledge base: the list with its tabs and filters, the article page (what readers and writers
see, facts, counters, the vote), writing and editing with the preview, versions and comparison, review due; who may
open and do what; constant query counts."""

from __future__ import annotations

import datetime as dt

from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from cmdb.choices import CIClass
from itsm.choices import Role
from knowledge import services
from knowledge.choices import ArticleState
from knowledge.models import Article, ArticleViewDay
from tests.base import ItsmTestCase, ViewTestCases
from tests.cmdb.factories import make_ci
from tests.knowledge.factories import (
    ArticleFactory,
    VersionFactory,
    VoteFactory,
    as_actor,
    make_knowledge_manager,
    make_writer,
)
from tests.problems.factories import KnownErrorFactory, make_category

S = ArticleState


def url(name: str, article=None, **kwargs) -> str:
    if article is not None:
        kwargs['number'] = article.number
    return reverse(f'knowledge:{name}', kwargs=kwargs or None)


class ArticleViewTests(ViewTestCases.ModelViewTestCase):
    model = Article
    view_roles = (Role.SERVICE_DESK_AGENT,)
    write_roles = (Role.SERVICE_DESK_AGENT,)
    read_only_roles = (Role.MANAGER,)

    def make_object(self, **kwargs):
        """A draft with a service, a CI and a category: what the desk edits."""
        kwargs.setdefault('services', [make_ci(CIClass.SERVICE)])
        kwargs.setdefault('cis', [make_ci(CIClass.SERVER)])
        kwargs.setdefault('categories', [make_category()])
        return ArticleFactory(**kwargs)

    def form_data(self):
        return {
            'short_description': 'Reconnect the VPN after a password change',
            'article_type': 'troubleshooting',
            'audience': 'everyone',
            'summary': 'Sign out of the client and in again.',
            'body': '## Steps\n\n1. Quit the VPN client.\n2. Sign in with the new password.',
            'owner': make_writer().pk,
            'review_by': '2027-06-30',
            'services': [make_ci(CIClass.SERVICE, name='Remote access').pk],
            'cis': make_ci(CIClass.SERVER, name='vpn-gw-01').number,
            'categories': [make_category('Network').pk],
        }

    def edit_data(self, obj):
        return {
            'short_description': 'Reconnect the VPN client',
            'article_type': 'how_to',
            'audience': 'agents',
            'summary': obj.summary,
            'body': 'Quit the client, then sign in again.',
            'services': [item.pk for item in obj.services.all()],
            'cis': ', '.join(item.number for item in obj.cis.all()),
            'categories': [c.pk for c in obj.categories.all()],
        }

    def test_list_and_detail(self):
        """Drafts are under "Drafts & review"; the article page shows the working copy to the desk."""
        obj = self.make_object()
        self.login(*self.view_roles)
        response = self.client.get(url('article_list'), {'tab': 'work'})
        self.assertHttpStatus(response, 200)
        self.assertContains(response, obj.number)
        self.assertContains(response, obj.short_description)
        response = self.client.get(url('article_detail', obj))
        self.assertHttpStatus(response, 200)
        self.assertContains(response, obj.short_description)

    def test_delete(self):
        """Articles are never deleted: they are retired, with a reason, and can be restored."""
        with self.assertRaises(NoReverseMatch):
            self.url('delete', self.make_object())

    def test_list_query_count_does_not_grow_with_rows(self):
        self.login(*self.view_roles)

        def grow(count):
            for _ in range(count):
                article = ArticleFactory(state=S.PUBLISHED, services=[make_ci(CIClass.SERVICE)])
                VoteFactory(article=article, voter=make_writer())

        def queries():
            for tab in ('published', 'all'):
                self.assertHttpStatus(self.client.get(url('article_list'), {'tab': tab, 'columns': 'services'}), 200)

        grow(2)
        queries()
        small = self.count_queries(queries)
        grow(6)
        large = self.count_queries(queries)
        self.assertEqual(small, large, f'list queries grew from {small} to {large} with more articles')


class PermissionTests(ItsmTestCase):
    @classmethod
    def setUpTestData(cls):
        cls.published = ArticleFactory(state=S.PUBLISHED, audience='everyone', title='Printer jams on tray 2')
        cls.requester = cls.make_user(cls, Role.REQUESTER)

    def test_requesters_are_refused_every_desk_page(self):
        self.client.force_login(self.requester)
        article = self.published
        pages = [
            url('article_list'),
            url('article_add'),
            url('review_due'),
            url('article_detail', article),
            url('article_edit', article),
            url('article_versions', article),
            url('article_version', article, version=1),
            url('article_compare', article),
        ]
        for page in pages:
            with self.subTest(page=page):
                self.assertHttpStatus(self.client.get(page), 403)
        self.assertHttpStatus(self.client.post(url('article_preview'), {'body': '# Hi'}), 403)
        self.assertHttpStatus(self.client.post(url('article_vote', article), {'helpful': 'yes'}), 403)
        self.assertEqual(Article.objects.get(pk=article.pk).view_count, 0)

    def test_staff_who_do_not_write_read_but_do_not_write(self):
        reader = self.make_user(Role.MANAGER)
        self.client.force_login(reader)
        self.assertHttpStatus(self.client.get(url('article_list')), 200)
        response = self.client.get(url('article_detail', self.published))
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'Printer jams on tray 2')
        self.assertNotContains(response, url('article_edit', self.published))
        self.assertHttpStatus(self.client.get(url('article_add')), 403)
        before = Article.objects.count()
        self.assertHttpStatus(self.client.post(url('article_add'), {'short_description': 'X', 'body': 'Y'}), 403)
        self.assertEqual(Article.objects.count(), before)

    def test_writers_create_drafts(self):
        writer = make_writer()
        self.client.force_login(writer)
        response = self.client.post(
            url('article_add'),
            {'short_description': 'Map a network drive', 'article_type': 'how_to', 'audience': 'agents', 'body': 'x'},
        )
        self.assertHttpStatus(response, 302)
        article = Article.objects.get(short_description='Map a network drive')
        self.assertEqual(response['Location'], article.get_absolute_url())
        self.assertEqual(article.state, S.DRAFT)
        self.assertEqual(article.owner, writer)

    def test_only_knowledge_managers_publish(self):
        draft = ArticleFactory(state=S.REVIEW)
        writer = make_writer()
        self.client.force_login(writer)
        page = self.client.get(url('article_detail', draft))
        self.assertNotContains(page, url('article_publish', draft))
        self.assertHttpStatus(self.client.post(url('article_publish', draft), {'change_note': 'First'}), 403)
        self.assertEqual(Article.objects.get(pk=draft.pk).state, S.REVIEW)

        manager = make_knowledge_manager()
        self.client.force_login(manager)
        page = self.client.get(url('article_detail', draft))
        self.assertContains(page, url('article_publish', draft))
        response = self.client.post(url('article_publish', draft), {'change_note': 'First cut'})
        self.assertHttpStatus(response, 302)
        draft.refresh_from_db()
        self.assertEqual((draft.state, draft.version), (S.PUBLISHED, 1))
        self.assertEqual(draft.published_version.change_note, 'First cut')
        self.assertEqual(draft.published_version.approved_by, manager)

    def test_an_article_in_review_is_edited_by_knowledge_managers_only(self):
        article = ArticleFactory(state=S.REVIEW)
        self.client.force_login(make_writer())
        self.assertNotContains(self.client.get(url('article_detail', article)), url('article_edit', article))
        data = {'short_description': 'Changed', 'body': 'New', 'article_type': 'faq', 'audience': 'agents'}
        response = self.client.post(url('article_edit', article), data)
        self.assertContains(response, 'only a knowledge manager edits it now')
        self.assertNotEqual(Article.objects.get(pk=article.pk).short_description, 'Changed')


class ArticlePageTests(ItsmTestCase):
    def setUp(self):
        self.service = make_ci(CIClass.SERVICE, name='Remote access')
        self.category = make_category('Network')
        self.writer = make_writer()
        self.article = ArticleFactory(
            state=S.PUBLISHED,
            audience='everyone',
            title='Reset a VPN token',
            body='Open **the portal** and choose *Reset*.',
            summary='Two minutes, no call needed.',
            services=[self.service],
            categories=[self.category],
            owner=self.writer,
            review_by=timezone.localdate() + dt.timedelta(days=30),
        )

    def test_readers_see_the_rendered_published_version_and_the_facts(self):
        self.client.force_login(self.make_user(Role.MANAGER))
        response = self.client.get(url('article_detail', self.article))
        self.assertContains(response, 'Open <strong>the portal</strong> and choose <em>Reset</em>.', html=True)
        self.assertContains(response, 'Two minutes, no call needed.')
        self.assertContains(response, 'Remote access')
        self.assertContains(response, 'Network')
        self.assertContains(response, 'Requesters and agents')
        self.assertContains(response, str(self.writer))
        self.assertContains(response, url('article_versions', self.article))
        self.assertNotContains(response, 'Draft of version')

    def test_writers_see_the_next_draft_and_readers_the_published_version(self):
        manager = make_knowledge_manager()
        article = services.article_revise(article=self.article, actor=as_actor(manager))
        services.article_update(article=article, actor=as_actor(manager), body='Call the desk instead.')

        self.client.force_login(self.writer)
        response = self.client.get(url('article_detail', self.article))
        self.assertContains(response, 'Draft of version 2')
        self.assertContains(response, 'Call the desk instead.')
        self.assertContains(response, f'{url("article_compare", self.article)}?from=1&amp;to=draft')

        self.client.force_login(self.make_user(Role.MANAGER))
        response = self.client.get(url('article_detail', self.article))
        self.assertNotContains(response, 'Draft of version 2')
        body = article_body(response)
        self.assertNotIn('Call the desk instead.', body)
        self.assertIn('<strong>the portal</strong>', body)

    def test_known_error_approver_and_no_assignment_facts(self):
        known_error = KnownErrorFactory(title='VPN drops every hour')
        manager = make_knowledge_manager(first_name='Kim', last_name='Keeper')
        article = ArticleFactory(title='Work around the VPN drops', known_error=known_error)
        article = publish_again(article, manager)
        self.client.force_login(self.writer)
        response = self.client.get(url('article_detail', article))
        self.assertContains(response, f'href="{known_error.get_absolute_url()}"')
        self.assertContains(response, '<dt>Approved by</dt><dd>Kim Keeper</dd>', html=True)
        self.assertNotContains(response, '<dt>Assignee</dt>')

    def test_a_new_draft_says_it_is_not_published(self):
        draft = ArticleFactory(author=self.writer)
        self.client.force_login(self.writer)
        response = self.client.get(url('article_detail', draft))
        self.assertContains(response, 'Draft: not published yet.')
        self.assertContains(response, url('article_edit', draft))

    def test_counters_and_vote(self):
        VoteFactory(article=self.article, voter=make_writer(), helpful=True)
        VoteFactory(article=self.article, voter=make_writer(), helpful=False)
        reader = self.make_user(Role.MANAGER)
        self.client.force_login(reader)
        response = self.client.get(url('article_detail', self.article))
        self.assertContains(response, 'id="article-vote-form"')
        self.assertContains(response, 'name="helpful" value="yes"')
        self.assertContains(response, 'name="helpful" value="no"')
        self.assertRegex(response.content.decode(), r'Helpful</span> <strong>1</strong>')
        self.assertRegex(response.content.decode(), r'Not helpful</span> <strong>1</strong>')

        response = self.client.post(url('article_vote', self.article), {'helpful': 'yes', 'comment': 'Clear steps'})
        self.assertHttpStatus(response, 302)
        article = Article.objects.get(pk=self.article.pk)
        self.assertEqual((article.helpful_count, article.not_helpful_count), (2, 1))
        self.assertEqual(article.votes.get(voter=reader).comment, 'Clear steps')

    def test_a_vote_without_a_choice_is_refused_with_the_reason(self):
        self.client.force_login(self.make_user(Role.MANAGER))
        response = self.client.post(url('article_vote', self.article), {'comment': 'Hmm'})
        self.assertHttpStatus(response, 400)
        self.assertContains(response, 'Say whether the article helped.', status_code=400)
        self.assertEqual(Article.objects.get(pk=self.article.pk).helpful_count, 0)

    def test_opening_the_page_counts_one_view_and_htmx_refreshes_none(self):
        self.client.force_login(self.make_user(Role.MANAGER))
        self.client.get(url('article_detail', self.article))
        self.client.get(url('article_detail', self.article))
        self.client.get(url('article_detail', self.article), headers={'HX-Request': 'true'})
        article = Article.objects.get(pk=self.article.pk)
        self.assertEqual(article.view_count, 2)
        self.assertEqual(ArticleViewDay.objects.get(article=article).views, 2)
        self.assertContains(self.client.get(url('article_detail', self.article)), 'Views</span> <strong>3</strong>')

    def test_drafts_count_no_views(self):
        draft = ArticleFactory()
        self.client.force_login(self.writer)
        self.client.get(url('article_detail', draft))
        self.assertEqual(Article.objects.get(pk=draft.pk).view_count, 0)

    def test_page_queries_do_not_grow_with_versions_votes_and_services(self):
        self.client.force_login(self.make_user(Role.MANAGER))
        page = url('article_detail', self.article)
        self.client.get(page)
        small = self.count_queries(lambda: self.assertHttpStatus(self.client.get(page), 200))
        for n in range(9):
            VersionFactory(article=self.article, body=f'Version {n + 2} of the steps.', change_note=f'Pass {n}')
            VoteFactory(article=self.article, voter=make_writer(), helpful=bool(n % 2))
        services.article_revise(article=self.article, actor=as_actor(None))
        article = Article.objects.get(pk=self.article.pk)
        services.article_update(
            article=article,
            actor=as_actor(None),
            services=[make_ci(CIClass.SERVICE) for _ in range(5)],
            categories=[make_category() for _ in range(4)],
        )
        article = publish_again(article)
        self.assertEqual(article.version, 11)
        large = self.count_queries(lambda: self.assertHttpStatus(self.client.get(page), 200))
        self.assertEqual(small, large, f'article page queries grew from {small} to {large}')

    def test_a_published_article_is_revised_before_it_is_edited(self):
        self.client.force_login(self.writer)
        self.assertNotContains(self.client.get(url('article_detail', self.article)), url('article_edit', self.article))
        response = self.client.post(
            url('article_edit', self.article),
            {'short_description': 'Changed', 'body': 'x', 'article_type': 'faq', 'audience': 'agents'},
        )
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'start a new version')
        self.assertEqual(Article.objects.get(pk=self.article.pk).short_description, 'Reset a VPN token')


def article_body(response) -> str:
    """The rendered body of the article page (the timeline may quote the working copy's changes)."""
    content = response.content.decode()
    start = content.index('id="article-body"')
    return content[start : content.index('</div>', start)]


def past_review(article, days: int):
    """Publishing moves a past review date forward: set one that has passed since."""
    Article.objects.filter(pk=article.pk).update(review_by=timezone.localdate() - dt.timedelta(days=days))


def publish_again(article, approver=None):
    services.article_submit(article=Article.objects.get(pk=article.pk), actor=as_actor(approver))
    return services.article_publish(article=Article.objects.get(pk=article.pk), actor=as_actor(approver))


class ListTests(ItsmTestCase):
    def setUp(self):
        self.writer = make_writer()
        self.client.force_login(self.writer)
        today = timezone.localdate()
        self.live = ArticleFactory(state=S.PUBLISHED, title='Install the VPN client')
        past_review(self.live, 3)
        self.faq = ArticleFactory(
            state=S.PUBLISHED,
            title='Why is my mailbox full',
            article_type='faq',
            audience='everyone',
            review_by=today + dt.timedelta(days=60),
        )
        self.draft = ArticleFactory(title='Printer offline after update', author=self.writer)
        self.retired = ArticleFactory(state=S.RETIRED, title='Old fax instructions')

    def rows(self, **params):
        response = self.client.get(url('article_list'), params)
        self.assertHttpStatus(response, 200)
        return {a.number for a in response.context['object_list']}

    def test_tabs(self):
        self.assertEqual(self.rows(), {self.live.number, self.faq.number})
        self.assertEqual(self.rows(tab='work'), {self.draft.number})
        self.assertEqual(self.rows(tab='mine'), {self.draft.number})
        self.assertEqual(self.rows(tab='retired'), {self.retired.number})
        self.assertEqual(
            self.rows(tab='all'), {self.live.number, self.faq.number, self.draft.number, self.retired.number}
        )
        self.assertEqual(self.rows(tab='nonsense'), {self.live.number, self.faq.number})

    def test_filters(self):
        self.assertEqual(self.rows(q='mailbox'), {self.faq.number})
        self.assertEqual(self.rows(tab='all', article_type='faq'), {self.faq.number})
        self.assertEqual(self.rows(audience='everyone'), {self.faq.number})
        self.assertEqual(self.rows(tab='all', state='draft'), {self.draft.number})
        self.assertEqual(self.rows(tab='all', owner='me'), {self.draft.number})
        service = make_ci(CIClass.SERVICE, name='Messaging')
        services.article_revise(article=self.faq, actor=as_actor(None))
        services.article_update(article=Article.objects.get(pk=self.faq.pk), actor=as_actor(None), services=[service])
        self.assertEqual(self.rows(tab='all', service=service.number), {self.faq.number})

    def test_an_unusable_filter_shows_its_error_and_no_rows(self):
        response = self.client.get(url('article_list'), {'article_type': 'poem'})
        self.assertHttpStatus(response, 200)
        self.assertEqual(list(response.context['object_list']), [])
        self.assertTrue(response.context['filterset'].form.errors)

    def test_columns_flag_past_review_dates_and_helpful_share(self):
        VoteFactory(article=self.live, voter=make_writer(), helpful=True)
        VoteFactory(article=self.live, voter=make_writer(), helpful=True)
        VoteFactory(article=self.live, voter=make_writer(), helpful=False)
        response = self.client.get(url('article_list'))
        content = response.content.decode()
        for heading in ('Title', 'Type', 'Audience', 'State', 'Version', 'Owner', 'Review by', 'Helpful', 'Views'):
            self.assertIn(f'>{heading}', content)
        self.assertEqual(content.count('pc-review-overdue'), 1)
        self.assertIn('66%', content)
        # Readers still read a live article while its next version is drafted: it is still overdue.
        services.article_revise(article=self.live, actor=as_actor(None))
        content = self.client.get(url('article_list')).content.decode()
        self.assertEqual(content.count('pc-review-overdue'), 1)

    def test_htmx_answers_the_table_only(self):
        response = self.client.get(url('article_list'), {'q': 'VPN'}, headers={'HX-Request': 'true'})
        self.assertHttpStatus(response, 200)
        self.assertNotContains(response, '<html')
        self.assertContains(response, self.live.number)


class FormPageTests(ItsmTestCase):
    def setUp(self):
        self.writer = make_writer()
        self.client.force_login(self.writer)

    def test_create_page_offers_the_preview(self):
        response = self.client.get(url('article_add'))
        self.assertContains(response, 'New article')
        self.assertContains(response, f'hx-post="{url("article_preview")}"')
        self.assertContains(response, 'name="body"')

    def test_missing_title_and_body_come_back_as_form_errors(self):
        response = self.client.post(url('article_add'), {'short_description': '  ', 'body': '', 'summary': 'Kept'})
        self.assertHttpStatus(response, 200)
        form = response.context['form']
        self.assertIn('short_description', form.errors)
        self.assertIn('body', form.errors)
        self.assertContains(response, 'Kept')
        self.assertFalse(Article.objects.exists())

    def test_an_unknown_configuration_item_is_a_form_error(self):
        response = self.client.post(
            url('article_add'),
            {'short_description': 'T', 'body': 'B', 'article_type': 'how_to', 'audience': 'agents', 'cis': 'CI9999'},
        )
        self.assertHttpStatus(response, 200)
        self.assertIn('cis', response.context['form'].errors)

    def test_edit_a_draft(self):
        draft = ArticleFactory(author=self.writer, title='Map a drive')
        response = self.client.post(
            url('article_edit', draft),
            {
                'short_description': 'Map a network drive',
                'body': 'Use `net use`.',
                'article_type': 'how_to',
                'audience': 'agents',
            },
        )
        self.assertHttpStatus(response, 302)
        draft.refresh_from_db()
        self.assertEqual((draft.short_description, draft.body), ('Map a network drive', 'Use `net use`.'))

    def test_preview_renders_and_sanitises(self):
        response = self.client.post(
            url('article_preview'), {'body': '# Steps\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1))'}
        )
        self.assertHttpStatus(response, 200)
        self.assertContains(response, '<h1>Steps</h1>', html=True)
        self.assertNotContains(response, '<script')
        self.assertNotContains(response, 'javascript:')
        self.assertContains(self.client.post(url('article_preview'), {'body': ' '}), 'Nothing written yet.')

    def test_preview_only_by_post(self):
        self.assertHttpStatus(self.client.get(url('article_preview')), 405)


class VersionPageTests(ItsmTestCase):
    def setUp(self):
        self.manager = make_knowledge_manager()
        self.article = ArticleFactory(
            state=S.PUBLISHED, title='Reset MFA', body='Line one\nLine two\nLine three', actor=as_actor(self.manager)
        )
        VersionFactory(
            article=self.article,
            actor=self.manager,
            change_note='Clearer second step',
            body='Line one\nLine 2 <script>alert(1)</script>\nLine three\nLine four',
            audience='everyone',
        )
        self.client.force_login(make_writer())

    def test_history(self):
        response = self.client.get(url('article_versions', self.article))
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'Clearer second step')
        self.assertContains(response, str(self.manager))
        self.assertContains(response, url('article_version', self.article, version=1))
        self.assertContains(response, 'Readers see this')

    def test_one_version(self):
        response = self.client.get(url('article_version', self.article, version=1))
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'Line three')
        self.assertContains(response, 'An earlier version: readers see version 2.')
        self.assertHttpStatus(self.client.get(url('article_version', self.article, version=9)), 404)

    def test_compare_two_versions_escapes_every_line(self):
        response = self.client.get(url('article_compare', self.article), {'from': '1', 'to': '2'})
        self.assertHttpStatus(response, 200)
        content = response.content.decode()
        self.assertIn('Agents only', content)
        self.assertIn('Requesters and agents', content)
        self.assertIn('Line 2 &lt;script&gt;alert(1)&lt;/script&gt;', content)
        self.assertNotIn('<script>alert(1)', content)
        self.assertIn('pc-diff-removed', content)
        self.assertIn('pc-diff-added', content)
        lines = [(line.kind, line.old_number, line.new_number) for line in response.context['lines']]
        self.assertEqual(
            lines,
            [('same', 1, 1), ('removed', 2, None), ('added', None, 2), ('same', 3, 3), ('added', None, 4)],
        )
        self.assertEqual(response.context['changes'], [('Audience', 'Agents only', 'Requesters and agents')])

    def test_compare_with_the_working_copy(self):
        services.article_revise(article=self.article, actor=as_actor(self.manager))
        services.article_update(
            article=Article.objects.get(pk=self.article.pk), actor=as_actor(self.manager), title='Reset MFA codes'
        )
        response = self.client.get(url('article_compare', self.article), {'from': '2', 'to': 'draft'})
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'Working copy')
        self.assertContains(response, 'Reset MFA codes')
        self.assertFalse(response.context['body_changed'])

    def test_compare_an_unknown_version_says_so(self):
        response = self.client.get(url('article_compare', self.article), {'from': '7', 'to': 'draft'})
        self.assertHttpStatus(response, 400)
        self.assertContains(response, 'has no version “7”', status_code=400)


class ReviewDueTests(ItsmTestCase):
    def test_live_articles_past_their_review_date_with_days_overdue(self):
        today = timezone.localdate()
        owner = make_writer(first_name='Rhea', last_name='Stone')
        late = ArticleFactory(state=S.PUBLISHED, title='Late article', owner=owner)
        past_review(late, 5)
        ArticleFactory(state=S.PUBLISHED, title='Fresh article', review_by=today + dt.timedelta(days=5))
        ArticleFactory(title='Draft article', review_by=today - dt.timedelta(days=5))
        self.client.force_login(self.make_user(Role.MANAGER))
        response = self.client.get(url('review_due'))
        self.assertHttpStatus(response, 200)
        self.assertContains(response, late.number)
        self.assertContains(response, 'Rhea Stone')
        self.assertContains(response, '5 days')
        self.assertNotContains(response, 'Fresh article')
        self.assertNotContains(response, 'Draft article')

    def test_queries_do_not_grow_with_rows(self):
        self.client.force_login(self.make_user(Role.MANAGER))

        def grow(count):
            for n in range(count):
                past_review(ArticleFactory(state=S.PUBLISHED, owner=make_writer()), n + 1)

        grow(1)
        small = self.count_queries(lambda: self.client.get(url('review_due')))
        grow(6)
        large = self.count_queries(lambda: self.client.get(url('review_due')))
        self.assertEqual(small, large)
