"""The help centre: requesters search and browse the live articles for everyone, read one at its published version
(a view counted), vote, and never reach drafts or desk-only articles."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.urls import reverse

from itsm.choices import Role
from itsm.models import Attachment
from knowledge import services
from knowledge.models import Article, ArticleViewDay, ArticleVote
from tests.cmdb.factories import make_service
from tests.factories import make_user
from tests.knowledge.factories import ArticleFactory, VersionFactory, as_actor

pytestmark = pytest.mark.django_db


@pytest.fixture
def requester(client):
    user = make_user(Role.REQUESTER)
    client.force_login(user)
    return user


@pytest.fixture
def public():
    return ArticleFactory(
        state='published',
        audience='everyone',
        title='VPN drops every hour',
        summary='Renew the certificate.',
        body='## Fix\n\nRenew the **client certificate**.\n\n<script>alert(1)</script>',
    )


@pytest.fixture
def desk_only():
    return ArticleFactory(state='published', audience='agents', title='VPN gateway certificate rotation')


def help_url(article):
    return reverse('knowledge:help_article', args=[article.number])


def test_browse_lists_live_articles_for_everyone_only(client, requester, public, desk_only):
    draft = ArticleFactory(audience='everyone', title='VPN draft notes')
    page = client.get(reverse('knowledge:help'))
    assert page.status_code == 200
    text = page.content.decode()
    assert 'VPN drops every hour' in text
    assert desk_only.title not in text
    assert draft.title not in text


def test_search_finds_public_article_and_never_desk_only(client, requester, public, desk_only):
    page = client.get(reverse('knowledge:help'), {'q': 'vpn certificate'})
    assert page.status_code == 200
    hits = [hit.article for hit in page.context['hits']]
    assert hits == [public]
    assert 'gateway certificate rotation' not in page.content.decode()


def test_browse_by_type_and_service(client, requester, public):
    service = make_service('Remote access')
    faq = ArticleFactory(state='published', audience='everyone', article_type='faq', services=[service])
    page = client.get(reverse('knowledge:help'), {'type': 'faq'})
    assert list(page.context['articles']) == [faq]
    page = client.get(reverse('knowledge:help'), {'service': service.number})
    assert list(page.context['articles']) == [faq]


def test_article_page_renders_published_version_sanitised_and_counts_a_view(client, requester, public):
    page = client.get(help_url(public))
    assert page.status_code == 200
    body = page.content.decode()
    assert '<strong>client certificate</strong>' in body
    assert '<script>alert(1)</script>' not in body
    public.refresh_from_db()
    assert public.view_count == 1
    assert ArticleViewDay.objects.get(article=public).views == 1


def test_readers_see_the_published_version_while_the_next_is_drafted(client, requester, public):
    writer = make_user(Role.SERVICE_DESK_AGENT)
    draft = services.article_revise(article=public, actor=as_actor(writer))
    services.article_update(article=draft, actor=as_actor(writer), title='Unfinished new title')
    page = client.get(help_url(public))
    assert page.status_code == 200
    assert 'VPN drops every hour' in page.content.decode()
    assert 'Unfinished new title' not in page.content.decode()


def test_desk_only_draft_and_retired_articles_answer_404_to_a_requester(client, requester, desk_only):
    draft = ArticleFactory(audience='everyone')
    retired = ArticleFactory(state='published', audience='everyone')
    services.article_retire(article=retired, actor=as_actor(None), reason='Replaced by a newer article.')
    for article in (desk_only, draft, retired):
        assert client.get(help_url(article)).status_code == 404
    desk_only.refresh_from_db()
    assert desk_only.view_count == 0


def test_staff_read_desk_only_articles_in_the_help_centre(client, desk_only):
    client.force_login(make_user(Role.SERVICE_DESK_AGENT))
    assert client.get(help_url(desk_only)).status_code == 200


def test_vote_with_a_comment_and_change_it(client, requester, public):
    response = client.post(help_url(public), {'helpful': 'no', 'comment': 'Still <b>drops</b>'})
    assert response.status_code == 302
    vote = ArticleVote.objects.get(article=public, voter=requester)
    assert (vote.helpful, vote.comment) == (False, 'Still <b>drops</b>')
    client.post(help_url(public), {'helpful': 'yes'})
    public.refresh_from_db()
    assert (public.helpful_count, public.not_helpful_count) == (1, 0)
    page = client.get(help_url(public))
    assert 'You answered “yes”' in page.content.decode()


def test_a_vote_without_an_answer_is_a_form_error(client, requester, public):
    response = client.post(help_url(public), {'helpful': 'maybe'})
    assert response.status_code == 400
    assert not ArticleVote.objects.exists()


def test_requester_sees_public_attachments_only(client, requester, public):
    kind = ContentType.objects.get_for_model(Article)
    for name, shown in (('steps.pdf', True), ('internal.pdf', False)):
        Attachment.objects.create(
            content_type=kind,
            object_id=public.pk,
            file=ContentFile(b'%PDF-1.4', name=name),
            filename=name,
            mime_type='application/pdf',
            size=8,
            public=shown,
        )
    page = client.get(help_url(public)).content.decode()
    assert 'steps.pdf' in page
    assert 'internal.pdf' not in page
    steps = Attachment.objects.get(filename='steps.pdf')
    assert client.get(steps.get_absolute_url()).status_code == 200


def test_anonymous_people_are_sent_to_sign_in(client, public):
    response = client.get(help_url(public))
    assert response.status_code == 302
    assert '/login/' in response['Location']


def test_help_page_queries_do_not_grow_with_articles(client, requester, django_assert_max_num_queries):
    for n in range(3):
        ArticleFactory(state='published', audience='everyone', title=f'Printer tip {n}')
    with django_assert_max_num_queries(12) as few:
        client.get(reverse('knowledge:help'))
    for n in range(6):
        ArticleFactory(state='published', audience='everyone', title=f'Scanner tip {n}')
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse('knowledge:help'))


def test_newer_version_is_what_readers_get(client, requester, public):
    VersionFactory(article=public, title='VPN drops every hour (updated)')
    page = client.get(help_url(public))
    assert 'VPN drops every hour (updated)' in page.content.decode()
    assert page.context['version'].version == 2


def test_search_results_come_in_pages(client, requester, monkeypatch):
    monkeypatch.setattr('knowledge.views.portal.PAGE_SIZE', 2)
    for n in range(3):
        ArticleFactory(state='published', audience='everyone', title=f'Printer jam number {n}')
    first = client.get(reverse('knowledge:help'), {'q': 'printer'})
    assert (len(first.context['hits']), first.context['total'], first.context['has_next']) == (2, 3, True)
    assert 'page=2' in first.content.decode()
    second = client.get(reverse('knowledge:help'), {'q': 'printer', 'page': '2'})
    assert (len(second.context['hits']), second.context['has_next']) == (1, False)
    assert client.get(reverse('knowledge:help'), {'q': 'printer', 'page': 'x'}).status_code == 200


def test_odd_filters_are_ignored_not_errors(client, requester, public):
    response = client.get(reverse('knowledge:help'), {'type': 'nonsense', 'service': 'CI999'})
    assert response.status_code == 200
