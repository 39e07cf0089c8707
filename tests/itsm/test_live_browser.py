"""Two people on the desk at once: what one does shows up on the other's open record page, queue and bell without a
reload (static/pitcrew/live.js polling itsm/views/live.py), and the acting person's SLA panel refreshes itself."""

import pytest
from playwright.sync_api import expect

from itsm.choices import Role
from tests.browser import login, remote_requests, screenshot
from tests.factories import SupportGroupFactory, make_ticket, make_user
from tests.sla.factories import make_sla

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = 'pitcrew-test-pw'


@pytest.fixture
def desk(settings):
    settings.LIVE_POLL_SECONDS = 1
    make_sla(priority=3, response=60, resolution=480)
    sam = make_user(Role.SERVICE_DESK_AGENT, username='sam', first_name='Sam', last_name='Agent')
    kim = make_user(Role.SERVICE_DESK_AGENT, username='kim', first_name='Kim', last_name='Colleague')
    group = SupportGroupFactory(name='Service Desk', members=[sam, kim])
    ticket = make_ticket(state='assigned', group=group, short_description='Printer on the 2nd floor is jammed')
    return group, ticket


def test_an_action_by_one_agent_shows_on_the_others_pages_without_reload(live_server, browser, page, desk):
    group, ticket = desk
    record_url = f'{live_server.url}{ticket.get_absolute_url()}'

    # Kim watches the ticket and the group's queue.
    kim = browser.new_context(viewport={'width': 1440, 'height': 900}, locale='en-US')
    kim.set_default_timeout(10_000)
    try:
        kim_record = kim.new_page()
        login(kim_record, live_server, 'kim', PASSWORD)
        kim_record.goto(record_url)
        expect(kim_record.locator('#ticket-header')).to_contain_text('Assigned')
        kim_queue = kim.new_page()
        kim_queue.goto(f'{live_server.url}/queues/group/{group.pk}/')
        row = kim_queue.locator('#object-table tbody tr', has_text=ticket.number)
        expect(row).to_contain_text('Assigned')
        for watching in (kim_record, kim_queue):
            watching.evaluate('window.stillTheSamePage = true')

        # Sam accepts it and writes a work note naming Kim.
        login(page, live_server, 'sam', PASSWORD)
        page.goto(record_url)
        page.locator('#ticket-header').get_by_role('button', name='Accept').click()
        expect(page.locator('#ticket-header')).to_contain_text('Accepted')
        # The SLA panel refreshed itself after the action: the response clock has stopped.
        expect(page.locator('[data-clock-kind="response"]')).to_contain_text('Stopped')
        page.locator('#comment-body').fill('@kim the toner is in the cupboard, can you bring one?')
        page.get_by_role('button', name='Add', exact=True).click()
        expect(page.locator('#ticket-comment-form')).to_contain_text('Work note added.')

        # Kim's pages follow without a reload; the bell counts the mention.
        expect(kim_record.locator('#ticket-header')).to_contain_text('Accepted')
        expect(kim_record.locator('[data-clock-kind="response"]')).to_contain_text('Stopped')
        expect(kim_record.locator('#ticket-timeline')).to_contain_text('the toner is in the cupboard')
        expect(row).to_contain_text('Accepted')
        for watching in (kim_record, kim_queue):
            assert watching.evaluate('window.stillTheSamePage') is True
        bell = kim_record.locator('#inbox-bell')
        # The assignment to Kim's group at the start, and the mention.
        expect(bell.get_by_test_id('inbox-unread')).to_have_text('2')
        screenshot(kim_record, 'live-record-of-the-other-agent')
        screenshot(kim_queue, 'live-queue-of-the-other-agent')

        # Opening the notification goes to the ticket and marks it read.
        bell.get_by_test_id('inbox-bell').click()
        item = bell.get_by_test_id('inbox-item').filter(has_text='Sam Agent mentioned you in a work note')
        expect(item).to_have_count(1)
        item.click()
        expect(kim_record).to_have_url(record_url)
        expect(kim_record.locator('#inbox-bell').get_by_test_id('inbox-bell')).to_be_visible()
        expect(kim_record.locator('#inbox-bell').get_by_test_id('inbox-unread')).to_have_text('1')
        assert remote_requests(page) == []
        assert page.console_errors == []
    finally:
        kim.close()


HOLD_PAGE_FETCHES = """() => {
    // live.js fetches the page itself when the version moves: hold those answers until the test lets them through.
    window.heldPages = [];
    const realFetch = window.fetch;
    window.fetch = (url, options) => {
        const answer = realFetch(url, options);
        if (String(url) !== window.location.href) return answer;
        return new Promise((resolve) => window.heldPages.push(() => resolve(answer)));
    };
}"""

RELEASE_AND_READ_HEADER = """async () => {
    window.heldPages.forEach((release) => release());
    await new Promise((resolve) => setTimeout(resolve, 150));
    return document.querySelector('#ticket-header').textContent;
}"""


def test_a_page_fetched_before_my_own_action_does_not_undo_it(live_server, page, desk):
    from incidents.services import ticket_comment
    from itsm.audit import Actor
    from itsm.models import User

    _, ticket = desk
    login(page, live_server, 'sam', PASSWORD)
    page.goto(f'{live_server.url}{ticket.get_absolute_url()}')
    header = page.locator('#ticket-header')
    expect(header).to_contain_text('Assigned')
    page.evaluate(HOLD_PAGE_FETCHES)

    # Kim writes a note: Sam's page notices and fetches itself again, but that answer (still "Assigned") is held.
    ticket_comment(ticket=ticket, actor=Actor(user=User.objects.get(username='kim')), body='On my way', internal=True)
    page.wait_for_function('() => window.heldPages.length > 0')
    # Meanwhile Sam accepts the ticket: the answer to the action shows it accepted.
    header.get_by_role('button', name='Accept').click()
    expect(header).to_contain_text('Accepted')

    # The page fetched before the action arrives last: it is dropped, and the header stays as the action left it.
    assert 'Accepted' in page.evaluate(RELEASE_AND_READ_HEADER)
    # The next poll fetches the page afresh and shows Kim's note too.
    expect(page.locator('#ticket-timeline')).to_contain_text('On my way')
    expect(header).to_contain_text('Accepted')
    assert page.console_errors == []
