"""A requester's report that never had to be made, in a real browser: a published article for everyone about a VPN
problem; the requester opens the portal's new-report form and types → the article is suggested → they read it → "This
solved it" → a confirmation. The deflection is counted and no ticket exists. An article for the desk only is never
suggested to them."""

import pytest
from playwright.sync_api import expect

from incidents.models import Ticket
from itsm.choices import Role
from knowledge.models import Article, Deflection
from tests.browser import login, remote_requests, screenshot
from tests.factories import make_user
from tests.knowledge.factories import ArticleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = 'pitcrew-test-pw'


@pytest.fixture
def articles():
    public = ArticleFactory(
        state='published',
        audience='everyone',
        title='VPN disconnects every hour',
        summary='Renew the VPN certificate yourself.',
        body='## Fix\n\n1. Open **Certificates** in the VPN client.\n2. Choose *Renew*.\n',
    )
    desk_only = ArticleFactory(
        state='published',
        audience='agents',
        title='VPN gateway licence pool exhausted',
        body='Free licences on the VPN gateway console.',
    )
    return public, desk_only


def test_a_suggested_article_solves_the_report(page, live_server, articles):
    public, desk_only = articles
    make_user(Role.REQUESTER, username='robin', first_name='Robin', last_name='Reed')
    login(page, live_server, 'robin', PASSWORD)

    page.goto(f'{live_server.url}/portal/new/')
    page.get_by_label('What is wrong, in one line?').press_sequentially('My VPN disconnects all the time', delay=20)
    suggestions = page.get_by_test_id('article-suggestions')
    expect(suggestions).to_contain_text('VPN disconnects every hour')
    expect(suggestions).not_to_contain_text(desk_only.title)
    screenshot(page, 'knowledge-suggestion')

    # "Read" opens the article beside the form, which keeps what was typed.
    with page.context.expect_page() as opened:
        suggestions.get_by_role('link', name='Read').click()
    article_page = opened.value
    article_page.wait_for_load_state()
    expect(article_page.get_by_test_id('article-body')).to_contain_text('Open Certificates in the VPN client.')
    expect(page.get_by_label('What is wrong, in one line?')).to_have_value('My VPN disconnects all the time')
    screenshot(article_page, 'knowledge-suggested-article')

    article_page.get_by_role('button', name='This solved it').click()
    expect(article_page.get_by_test_id('deflected')).to_contain_text('no request was sent')
    screenshot(article_page, 'knowledge-deflected')
    article_page.close()

    deflection = Deflection.objects.get()
    assert (deflection.article_id, deflection.query) == (public.pk, 'My VPN disconnects all the time')
    assert Article.objects.get(pk=public.pk).deflection_count == 1
    assert not Ticket.objects.exists()
    assert Article.objects.get(pk=public.pk).view_count == 1
    assert remote_requests(page) == []


def test_this_solved_it_straight_from_the_form(page, live_server, articles):
    public, _ = articles
    make_user(Role.REQUESTER, username='kim', first_name='Kim', last_name='Lee')
    login(page, live_server, 'kim', PASSWORD)

    page.goto(f'{live_server.url}/portal/new/')
    page.get_by_label('What is wrong, in one line?').press_sequentially('vpn disconnects', delay=20)
    suggestions = page.get_by_test_id('article-suggestions')
    expect(suggestions).to_contain_text('VPN disconnects every hour')
    with page.expect_navigation():
        suggestions.get_by_role('button', name='This solved it').click()
    expect(page.get_by_test_id('deflected')).to_be_visible()
    page.get_by_role('link', name='Back to my requests').click()
    expect(page).to_have_url(f'{live_server.url}/portal/')
    assert Deflection.objects.get().article_id == public.pk
    assert not Ticket.objects.exists()


def test_a_desk_only_article_is_never_suggested_to_a_requester(page, live_server, articles):
    _, desk_only = articles
    make_user(Role.REQUESTER, username='ash', first_name='Ash', last_name='Moss')
    login(page, live_server, 'ash', PASSWORD)

    page.goto(f'{live_server.url}/portal/new/')
    page.get_by_label('What is wrong, in one line?').press_sequentially('VPN gateway licence pool', delay=20)
    suggestions = page.get_by_test_id('article-suggestions')
    expect(suggestions).to_contain_text('VPN disconnects every hour')  # the search answered
    expect(page.locator('#article-suggestions')).not_to_contain_text('licence pool exhausted')
    page.goto(f'{live_server.url}/knowledge/help/{desk_only.number}/')
    expect(page.get_by_role('heading', name=desk_only.title)).to_have_count(0)


def test_an_agent_records_the_article_that_resolved_an_incident(page, live_server, articles):
    from tests.cmdb.factories import make_ci
    from tests.factories import make_group_with_agent, make_ticket

    public, desk_only = articles
    group, agent = make_group_with_agent()
    gateway = make_ci(name='VPN gateway')
    incident = make_ticket(
        short_description='VPN disconnects every hour for a caller',
        ci=gateway,
        state='accepted',
        group=group,
        agent=agent,
    )
    login(page, live_server, agent.username, PASSWORD)

    # The new-ticket form suggests articles (desk-only ones too) as the short description is typed.
    page.goto(f'{live_server.url}/incidents/new/')
    page.locator('#id_short_description').press_sequentially('VPN gateway licence', delay=20)
    expect(page.get_by_test_id('desk-suggestions')).to_contain_text(desk_only.title)

    page.goto(f'{live_server.url}{incident.get_absolute_url()}')
    knowledge = page.get_by_test_id('knowledge-panel')
    expect(knowledge).to_contain_text(public.title)
    item = knowledge.get_by_test_id('suggested-article').filter(has_text=public.title)
    with page.expect_navigation():
        item.get_by_role('button', name='Used to resolve').click()
    expect(page.get_by_test_id('used-article')).to_contain_text(public.number)
    screenshot(page, 'knowledge-used-to-resolve')
    assert Article.objects.get(pk=public.pk).use_count == 1
    assert Ticket.objects.get(pk=incident.pk).knowledge_used
