"""Forms of the knowledge pages: what they accept, refuse, and hand to the services."""

from __future__ import annotations

import datetime as dt

from cmdb.choices import CIClass
from itsm.choices import Role
from knowledge.forms import ArticleEditForm, ArticleForm, PreviewForm, PublishForm, VoteForm
from tests.base import ItsmTestCase
from tests.cmdb.factories import make_ci
from tests.knowledge.factories import ArticleFactory, make_writer
from tests.problems.factories import make_category


class ArticleFormTests(ItsmTestCase):
    def data(self, **overrides):
        return {
            'short_description': '  Reset a VPN token  ',
            'article_type': 'how_to',
            'audience': 'everyone',
            'summary': 'Two minutes.',
            'body': 'Open the portal.',
            **overrides,
        }

    def test_the_services_receive_the_title_and_every_field(self):
        service = make_ci(CIClass.SERVICE, name='Remote access')
        server = make_ci(CIClass.SERVER, name='vpn-gw-01')
        category = make_category('Network')
        owner = make_writer()
        form = ArticleForm(
            self.data(
                owner=owner.pk,
                review_by='2027-01-31',
                services=[service.pk],
                cis=f'{server.number}, vpn-gw-01',
                categories=[category.pk],
            )
        )
        self.assertTrue(form.is_valid(), form.errors)
        fields = form.service_fields()
        self.assertNotIn('short_description', fields)
        self.assertEqual(fields['title'], 'Reset a VPN token')
        self.assertEqual(fields['owner'], owner)
        self.assertEqual(fields['review_by'], dt.date(2027, 1, 31))
        self.assertEqual(list(fields['services']), [service])
        self.assertEqual(fields['cis'], [server])
        self.assertEqual(list(fields['categories']), [category])
        self.assertEqual(fields['audience'], 'everyone')

    def test_title_and_body_are_required_and_not_blank(self):
        form = ArticleForm(self.data(short_description='   ', body='\n  \n'))
        self.assertFalse(form.is_valid())
        self.assertIn('short_description', form.errors)
        self.assertEqual(form.errors['body'], ['Write the article: the body is empty.'])

    def test_unknown_choices_and_items_are_refused(self):
        form = ArticleForm(self.data(article_type='poem', audience='world', cis='CI404'))
        self.assertFalse(form.is_valid())
        self.assertEqual(set(form.errors), {'article_type', 'audience', 'cis'})

    def test_only_services_are_offered_as_services_and_only_staff_as_owners(self):
        make_ci(CIClass.SERVER, name='db-01')
        service = make_ci(CIClass.SERVICE, name='E-mail')
        requester = self.make_user(Role.REQUESTER)
        writer = make_writer()
        form = ArticleForm()
        self.assertEqual(list(form.fields['services'].queryset), [service])
        owners = list(form.fields['owner'].queryset)
        self.assertIn(writer, owners)
        self.assertNotIn(requester, owners)
        self.assertIn('data-preview-url', str(form['body']))

    def test_edit_form_starts_from_the_working_copy(self):
        server = make_ci(CIClass.SERVER, name='vpn-gw-02')
        article = ArticleFactory(title='Map a drive', cis=[server])
        form = ArticleEditForm(instance=article)
        self.assertEqual(form['short_description'].value(), 'Map a drive')
        self.assertIn(server.number, str(form['cis']))


class ActionFormTests(ItsmTestCase):
    def setUp(self):
        self.article = ArticleFactory(state='published')
        self.user = make_writer()

    def test_vote_buttons_say_yes_or_no(self):
        helpful = VoteForm({'helpful': 'yes', 'comment': 'Clear'}, record=self.article, user=self.user)
        self.assertTrue(helpful.is_valid())
        self.assertEqual(helpful.service_kwargs(), {'helpful': True, 'comment': 'Clear'})
        not_helpful = VoteForm({'helpful': 'no'}, record=self.article, user=self.user)
        self.assertTrue(not_helpful.is_valid())
        self.assertIs(not_helpful.service_kwargs()['helpful'], False)

    def test_a_vote_needs_a_choice_and_a_short_comment(self):
        form = VoteForm({'comment': 'x' * 501}, record=self.article, user=self.user)
        self.assertFalse(form.is_valid())
        self.assertEqual(form.errors['helpful'], ['Say whether the article helped.'])
        self.assertIn('comment', form.errors)
        self.assertFalse(VoteForm({'helpful': 'maybe'}, record=self.article, user=self.user).is_valid())

    def test_publish_takes_an_optional_change_note(self):
        form = PublishForm({'change_note': 'Clearer steps'}, record=self.article, user=self.user)
        self.assertTrue(form.is_valid())
        self.assertEqual(form.service_kwargs(), {'change_note': 'Clearer steps'})
        self.assertTrue(PublishForm({}, record=self.article, user=self.user).is_valid())
        self.assertFalse(PublishForm({'change_note': 'x' * 301}, record=self.article, user=self.user).is_valid())

    def test_preview_keeps_the_text_as_written(self):
        form = PreviewForm({'body': '  indented code\n'})
        self.assertTrue(form.is_valid())
        self.assertEqual(form.cleaned_data['body'], '  indented code\n')
