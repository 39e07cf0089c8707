"""Articles on the incident page ("Used to resolve", the articles already used, known errors for its text, CI and
service) and on a known error's page (its articles, "Publish as article" in one action)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from itsm.choices import Role
from knowledge.models import Article, ArticleUse
from tests.base import load_related
from tests.cmdb.factories import make_ci
from tests.factories import make_group_with_agent, make_ticket, make_user
from tests.knowledge.factories import ArticleFactory, UseFactory
from tests.problems.factories import KnownErrorFactory

pytestmark = pytest.mark.django_db

USE = reverse('knowledge:incident_use')


@pytest.fixture
def desk():
    group, agent = make_group_with_agent()
    gateway = make_ci(name='VPN gateway')
    incident = make_ticket(
        short_description='VPN disconnects every hour', ci=gateway, state='accepted', group=group, agent=agent
    )
    article = ArticleFactory(state='published', title='VPN disconnects: renew the certificate', cis=[gateway])
    return {'agent': agent, 'group': group, 'incident': incident, 'article': article, 'gateway': gateway}


def panel(response) -> dict | None:
    """The knowledge panel of a ticket page whose related records were loaded (`load_related`)."""
    for shown in response.related.context['record_panels']:
        if shown['template'] == 'knowledge/_incident_articles.html':
            return shown
    return None


def test_incident_page_suggests_articles_and_known_errors_with_used_to_resolve(client, desk):
    # Those of its CI are offered by the known errors panel with Apply; this one adds those matching its words.
    KnownErrorFactory(title='VPN licence pool exhausted', cis=[desk['gateway']])
    by_text = KnownErrorFactory(title='Hotel networks: VPN disconnects', symptoms='The tunnel drops.')
    client.force_login(desk['agent'])
    response = load_related(client, client.get(desk['incident'].get_absolute_url()))
    shown = panel(response)
    assert [hit.article for hit in shown['kb_articles']] == [desk['article']]
    assert shown['kb_known_errors'] == [by_text]
    assert shown['kb_may_use'] is True
    html = response.content.decode()
    assert 'Used to resolve' in html
    assert f'action="{USE}"' in html


def test_used_to_resolve_links_the_article_and_lists_it(client, desk):
    client.force_login(desk['agent'])
    incident, article = desk['incident'], desk['article']
    response = client.post(USE, {'article': article.number, 'incident': incident.number})
    assert response.status_code == 302
    assert response['Location'] == incident.get_absolute_url()
    use = ArticleUse.objects.get()
    assert (use.article, use.incident, use.used_by) == (article, incident, desk['agent'])
    article.refresh_from_db()
    incident.refresh_from_db()
    assert (article.use_count, incident.knowledge_used) == (1, True)
    shown = panel(load_related(client, client.get(incident.get_absolute_url())))
    assert [u.article for u in shown['kb_used']] == [article]
    assert shown['kb_articles'] == []  # already used: not suggested again


def test_used_to_resolve_is_offered_on_a_completed_incident(client, desk):
    incident = make_ticket(
        short_description='VPN disconnects again', state='completed', group=desk['group'], agent=desk['agent']
    )
    client.force_login(desk['agent'])
    assert panel(load_related(client, client.get(incident.get_absolute_url())))['kb_may_use'] is True
    client.post(USE, {'article': desk['article'].number, 'incident': incident.number})
    assert ArticleUse.objects.filter(incident=incident).exists()


def test_requesters_neither_see_the_panel_nor_record_a_use(client, desk):
    caller = desk['incident'].caller
    client.force_login(caller)
    response = client.post(USE, {'article': desk['article'].number, 'incident': desk['incident'].number})
    assert response.status_code == 403
    assert not ArticleUse.objects.exists()


def test_unknown_numbers_answer_404(client, desk):
    client.force_login(desk['agent'])
    assert client.post(USE, {'article': 'KB9999999', 'incident': desk['incident'].number}).status_code == 404
    assert client.post(USE, {'article': desk['article'].number, 'incident': 'INC9999999'}).status_code == 404


def test_a_draft_cannot_resolve_an_incident(client, desk):
    draft = ArticleFactory(title='VPN notes in progress')
    client.force_login(desk['agent'])
    assert client.post(USE, {'article': draft.number, 'incident': desk['incident'].number}).status_code == 404


def test_incident_panel_costs_constant_queries(client, desk, django_assert_max_num_queries):
    client.force_login(desk['agent'])
    url = desk['incident'].get_absolute_url()
    UseFactory(article=ArticleFactory(state='published', title='VPN old fix'), incident=desk['incident'])
    load_related(client, client.get(url))
    with CaptureQueriesContext(connection) as few:
        load_related(client, client.get(url))
    for n in range(3):
        ArticleFactory(state='published', title=f'VPN disconnects tip {n}', cis=[desk['gateway']])
        KnownErrorFactory(title=f'VPN licence {n}', cis=[desk['gateway']])
        KnownErrorFactory(title=f'VPN disconnects at site {n}')
        UseFactory(article=ArticleFactory(state='published', title=f'VPN used {n}'), incident=desk['incident'])
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = load_related(client, client.get(url))
    assert len(panel(response)['kb_used']) == 4


def test_known_error_page_offers_publish_as_article_then_lists_it(client):
    manager = make_user(Role.KNOWLEDGE_MANAGER, Role.PROBLEM_MANAGER)
    known = KnownErrorFactory(title='Mail client freezes on start')
    client.force_login(manager)
    page = client.get(known.get_absolute_url()).content.decode()
    assert 'Publish as article' in page
    response = client.post(reverse('knowledge:from_known_error', args=[known.number]))
    article = Article.objects.get(known_error=known)
    assert response.status_code == 302
    assert response['Location'] == article.get_absolute_url()
    page = client.get(known.get_absolute_url()).content.decode()
    assert article.number in page
    assert 'Publish as article' not in page
    again = client.post(reverse('knowledge:from_known_error', args=[known.number]))
    assert again.status_code == 302
    assert again['Location'] == known.get_absolute_url()
    assert Article.objects.filter(known_error=known).count() == 1


def test_requesters_cannot_publish_a_known_error(client):
    known = KnownErrorFactory(title='Mail client freezes on start', public=True)
    client.force_login(make_user(Role.REQUESTER))
    assert client.post(reverse('knowledge:from_known_error', args=[known.number])).status_code == 403
    assert not Article.objects.exists()


def test_cases_are_not_resolved_with_articles(client, desk):
    case = make_ticket(
        kind='case',
        short_description='VPN disconnects question',
        group=desk['group'],
        agent=desk['agent'],
        state='accepted',
    )
    client.force_login(desk['agent'])
    shown = panel(load_related(client, client.get(case.get_absolute_url())))
    assert shown is None or shown['kb_may_use'] is False
    client.post(USE, {'article': desk['article'].number, 'incident': case.number})
    assert not ArticleUse.objects.exists()
