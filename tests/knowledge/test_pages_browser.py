"""The desk's knowledge pages in Chromium: the list, an article with a draft of its next version, writing with the
preview, and the comparison of two versions; screenshots of each."""

import pytest
from playwright.sync_api import expect

from itsm.audit import Actor
from itsm.choices import Role
from knowledge import services
from knowledge.models import Article
from tests.browser import login, remote_requests, screenshot
from tests.cmdb.factories import make_ci
from tests.factories import make_user
from tests.knowledge.factories import ArticleFactory, VersionFactory, VoteFactory, make_writer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = 'pitcrew-test-pw'


@pytest.fixture
def articles():
    sam = make_user(Role.SERVICE_DESK_AGENT, username='sam', first_name='Sam', last_name='Agent')
    manager = make_user(Role.KNOWLEDGE_MANAGER, username='kim', first_name='Kim', last_name='Keeper')
    service = make_ci('service', name='Remote access')
    vpn = ArticleFactory(
        state='published',
        audience='everyone',
        title='Reconnect the VPN after a password change',
        summary='Sign out of the client and in again.',
        body='## Steps\n\n1. Quit the VPN client.\n2. Sign in with the new password.\n3. Check the lock icon.',
        services=[service],
        owner=sam,
    )
    VersionFactory(
        article=vpn,
        actor=manager,
        change_note='Mention the lock icon colour',
        body='## Steps\n\n1. Quit the VPN client.\n2. Sign in with your **new** password.\n3. The lock icon turns '
        'green.\n\n> Still red? Call the desk.',
    )
    for n in range(3):
        VoteFactory(article=vpn, voter=make_writer(), helpful=n != 1)
    article = services.article_revise(article=Article.objects.get(pk=vpn.pk), actor=Actor(user=sam, channel='ui'))
    services.article_update(
        article=article, actor=Actor(user=sam, channel='ui'), body=article.body + '\n\nThen reopen Outlook.'
    )
    ArticleFactory(state='published', title='Why is my mailbox full', article_type='faq', owner=sam)
    ArticleFactory(title='Printer offline after the update', author=sam)
    return {'vpn': vpn, 'sam': sam}


def test_list_article_and_compare(live_server, page, articles):
    vpn = articles['vpn']
    login(page, live_server, 'sam', PASSWORD)
    page.goto(f'{live_server.url}/knowledge/')
    expect(page.get_by_role('link', name=vpn.number)).to_be_visible()
    expect(page.locator('#object-table')).to_contain_text('Why is my mailbox full')
    screenshot(page, 'knowledge-article-list')

    page.get_by_role('link', name='Drafts & review').click()
    expect(page.locator('#object-table')).to_contain_text('Printer offline after the update')

    page.goto(f'{live_server.url}/knowledge/{vpn.number}/')
    expect(page.locator('.pc-draft-banner')).to_contain_text('Draft of version 3')
    expect(page.locator('#article-body')).to_contain_text('Then reopen Outlook.')
    expect(page.locator('#article-body strong')).to_have_text('new')
    screenshot(page, 'knowledge-article-page')

    page.locator('.pc-draft-banner').get_by_role('link').click()
    expect(page.get_by_role('heading', name='Version 2 → Working copy')).to_be_visible()
    expect(page.locator('#compare-body tr.pc-diff-added').last).to_contain_text('Then reopen Outlook.')
    page.goto(f'{live_server.url}/knowledge/{vpn.number}/compare/?from=1&to=2')
    expect(page.locator('#compare-body tr.pc-diff-removed').first).to_be_visible()
    screenshot(page, 'knowledge-article-compare')
    assert remote_requests(page) == []
    assert page.console_errors == []


def test_write_with_preview_and_vote(live_server, page, articles):
    login(page, live_server, 'sam', PASSWORD)
    page.goto(f'{live_server.url}/knowledge/new/')
    page.get_by_label('Title').fill('Map a network drive')
    page.get_by_label('Body').fill('# Map it\n\nUse **File Explorer**.\n\n<script>alert(1)</script>')
    page.get_by_role('button', name='Preview').click()
    preview = page.locator('#article-preview')
    expect(preview.locator('h1')).to_have_text('Map it')
    expect(preview.locator('strong')).to_have_text('File Explorer')
    assert preview.locator('script').count() == 0
    screenshot(page, 'knowledge-article-form-preview')
    page.get_by_role('button', name='Create article').click()
    expect(page.locator('.pc-draft-banner')).to_contain_text('not published yet')
    assert Article.objects.get(short_description='Map a network drive').state == 'draft'

    vpn = articles['vpn']
    page.goto(f'{live_server.url}/knowledge/{vpn.number}/')
    page.locator('#article-vote-form').get_by_role('button', name='Helpful', exact=True).click()
    expect(page.get_by_role('status')).to_contain_text('your rating')
    assert Article.objects.get(pk=vpn.pk).helpful_count == 3
    assert page.console_errors == []
