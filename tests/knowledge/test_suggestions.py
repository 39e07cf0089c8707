"""Suggestions while something is reported: requesters get the articles for everyone that match what they type,
with "This solved it" (a deflection, no report) and "Read"; the desk's new-ticket form gets articles and known
errors for the text, the CI and the service."""

from __future__ import annotations

import pytest
from django.urls import reverse

from incidents.models import Ticket
from itsm.choices import Impact, Role, Urgency
from knowledge.models import Deflection
from tests.cmdb.factories import make_ci, make_service
from tests.factories import make_user
from tests.knowledge.factories import ArticleFactory
from tests.problems.factories import KnownErrorFactory

pytestmark = pytest.mark.django_db

SUGGEST = reverse('knowledge:suggest')
DEFLECT = reverse('knowledge:deflect')


@pytest.fixture
def requester(client):
    user = make_user(Role.REQUESTER)
    client.force_login(user)
    return user


@pytest.fixture
def agent():
    return make_user(Role.SERVICE_DESK_AGENT)


@pytest.fixture
def public():
    return ArticleFactory(
        state='published', audience='everyone', title='VPN disconnects every hour', body='Renew the certificate.'
    )


@pytest.fixture
def desk_only():
    return ArticleFactory(
        state='published', audience='agents', title='VPN gateway drops sessions', body='Restart the VPN gateway.'
    )


def suggested(response) -> list[str]:
    return [hit.article.number for hit in response.context['hits']]


def test_requester_is_offered_public_articles_only(client, requester, public, desk_only):
    response = client.get(SUGGEST, {'short_description': 'my vpn keeps dropping'})
    assert response.status_code == 200
    assert suggested(response) == [public.number]
    html = response.content.decode()
    assert 'This solved it' in html
    assert f'formaction="{DEFLECT}"' in html
    assert desk_only.title not in html


def test_requester_cannot_ask_for_the_desk_list(client, requester, public, desk_only):
    response = client.get(SUGGEST, {'short_description': 'vpn gateway', 'desk': '1'})
    assert suggested(response) == [public.number]
    assert 'Known error' not in response.content.decode()


def test_drafts_and_short_text_suggest_nothing(client, requester):
    ArticleFactory(audience='everyone', title='VPN draft')
    assert suggested(client.get(SUGGEST, {'short_description': 'vpn'})) == []
    assert suggested(client.get(SUGGEST, {'short_description': 'vp'})) == []
    assert client.get(SUGGEST, {'short_description': ''}).content.strip() == b''


def test_read_link_carries_what_was_typed(client, requester, public):
    html = client.get(SUGGEST, {'short_description': 'vpn drops'}).content.decode()
    assert f'{reverse("knowledge:help_article", args=[public.number])}?report=vpn%20drops' in html


def test_desk_form_gets_articles_and_known_errors_for_text_ci_and_service(client, agent, public, desk_only):
    gateway = make_ci(name='VPN gateway')
    service = make_service('Remote access')
    on_ci = KnownErrorFactory(title='Licence pool exhausted', cis=[gateway])
    by_text = KnownErrorFactory(title='VPN client hangs at login', symptoms='The client hangs.')
    KnownErrorFactory(title='Printer offline', symptoms='No paper.')
    client.force_login(agent)
    response = client.get(
        SUGGEST, {'short_description': 'VPN client drops', 'ci': gateway.number, 'service': service.pk, 'desk': '1'}
    )
    assert response.status_code == 200
    found = response.context['found']
    assert {hit.article.number for hit in found.articles} == {public.number, desk_only.number}
    assert [ke.number for ke in found.known_errors] == [on_ci.number, by_text.number]
    html = response.content.decode()
    assert 'Licence pool exhausted' in html
    assert 'Printer offline' not in html


def test_suggest_needs_sign_in(client, public):
    response = client.get(SUGGEST, {'short_description': 'vpn'})
    assert response.status_code == 302


def test_suggest_fragment_costs_constant_queries(client, requester, django_assert_max_num_queries):
    ArticleFactory(state='published', audience='everyone', title='VPN tip one')
    with django_assert_max_num_queries(10) as few:
        client.get(SUGGEST, {'short_description': 'vpn tip'})
    for n in range(4):
        ArticleFactory(state='published', audience='everyone', title=f'VPN tip more {n}')
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(SUGGEST, {'short_description': 'vpn tip'})
    assert len(response.context['hits']) == 5


def test_desk_fragment_costs_constant_queries(client, agent, django_assert_max_num_queries):
    gateway = make_ci(name='VPN gateway')
    ArticleFactory(state='published', title='VPN tip one', cis=[gateway])
    KnownErrorFactory(title='VPN licence', cis=[gateway])
    client.force_login(agent)
    query = {'short_description': 'vpn tip', 'ci': gateway.number, 'desk': '1'}
    with django_assert_max_num_queries(14) as few:
        client.get(SUGGEST, query)
    for n in range(3):
        ArticleFactory(state='published', title=f'VPN tip more {n}', cis=[gateway])
        KnownErrorFactory(title=f'VPN licence {n}', cis=[gateway])
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(SUGGEST, query)


def test_this_solved_it_counts_a_deflection_and_makes_no_report(client, requester, public):
    response = client.post(
        DEFLECT, {'article': public.number, 'short_description': 'VPN drops', 'kind': 'incident', 'urgency': '3'}
    )
    assert response.status_code == 200
    assert 'no request was sent' in response.content.decode()
    assert reverse('incidents:portal') in response.content.decode()
    deflection = Deflection.objects.get()
    assert (deflection.article, deflection.requester, deflection.query) == (public, requester, 'VPN drops')
    public.refresh_from_db()
    assert public.deflection_count == 1
    assert not Ticket.objects.exists()


def test_this_solved_it_from_the_article_page_keeps_the_typed_text(client, requester, public):
    page = client.get(reverse('knowledge:help_article', args=[public.number]), {'report': 'VPN drops'})
    assert 'This solved it' in page.content.decode()
    client.post(DEFLECT, {'article': public.number, 'report': 'VPN drops'})
    assert Deflection.objects.get().query == 'VPN drops'


def test_article_page_without_a_report_does_not_offer_this_solved_it(client, requester, public):
    page = client.get(reverse('knowledge:help_article', args=[public.number]))
    assert 'This solved it' not in page.content.decode()


def test_a_desk_only_article_cannot_deflect_a_requester(client, requester, desk_only):
    assert client.post(DEFLECT, {'article': desk_only.number}).status_code == 404
    assert client.post(DEFLECT, {'article': 'KB9999999'}).status_code == 404
    assert client.get(DEFLECT).status_code == 405
    assert not Deflection.objects.exists()


def test_portal_form_asks_for_suggestions_and_still_sends_without_them(client, requester):
    page = client.get(reverse('incidents:portal_new')).content.decode()
    assert f'hx-get="{SUGGEST}"' in page
    assert 'keyup changed delay' in page
    assert reverse('knowledge:help') in page
    report = {'kind': 'incident', 'short_description': 'VPN drops', 'urgency': Urgency.NORMAL, 'impact': Impact.LOW}
    response = client.post(reverse('incidents:portal_new'), report)
    assert response.status_code == 302
    assert Ticket.objects.filter(short_description='VPN drops').exists()


def test_agent_ticket_form_asks_for_desk_suggestions(client, agent):
    client.force_login(agent)
    page = client.get(reverse('incidents:incident_add')).content.decode()
    assert f'hx-get="{SUGGEST}?desk=1"' in page


def test_odd_item_values_suggest_without_errors(client, agent, public):
    client.force_login(agent)
    for value in ('99999999999999999999', 'not-a-number', '<b>'):
        response = client.get(SUGGEST, {'short_description': 'vpn drops', 'ci': value, 'service': value, 'desk': '1'})
        assert response.status_code == 200
