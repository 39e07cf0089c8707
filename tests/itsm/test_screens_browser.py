"""Screens that fit: the queue, a ticket page and the requester portal at 1,280 px and on a 390 px phone.

Chromium opens each page at both sizes and checks that the page never scrolls sideways (a wide table scrolls inside
its own box, or becomes stacked cards on the phone), that the sidebar runs to the bottom of a long page, that the
navigation folds behind its toggler on the phone, and that the elements people work with are on screen. Screenshots
go under the test's temporary folder.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from itsm.choices import Role, Tier
from tests.browser import login, settled, switch_person
from tests.factories import SupportGroupFactory, make_ticket, make_user
from tests.sla.factories import all_priorities, make_calendar, make_ola

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = 'pitcrew-test-pw'
DESKTOP = {'width': 1280, 'height': 800}
PHONE = {'width': 390, 'height': 844}

LONG_TEXT = (
    'Since this morning the VPN client disconnects every few minutes on the third floor; the event log shows '
    'TLS renegotiation failures against vpn-gw-02.example.com and the users lose their drafts each time. '
)


@pytest.fixture
def desk():
    """An agent whose queue is longer than a screen, with SLA and OLA clocks on business hours (some paused, whose
    badges say so at length), a ticket with a long conversation, a requester's portal."""
    agent = make_user(Role.SERVICE_DESK_AGENT, username='sam', first_name='Sam', last_name='Agent')
    group = SupportGroupFactory(name='Service desk with a long name', tier=Tier.L1, members=[agent])
    office = make_calendar('Office hours')
    all_priorities(response=240, resolution=2000, calendar=office)
    make_ola(group, calendar=office)
    requester = make_user(Role.REQUESTER, username='robin', first_name='Robin', last_name='Requester-Longname')
    for index in range(30):
        make_ticket(
            caller=requester if index % 3 == 0 else None,
            state=('pending' if index % 4 == 1 else 'accepted') if index % 2 else 'assigned',
            group=group,
            agent=agent,
            impact='high' if index % 5 == 0 else 'low',
            urgency='critical' if index % 5 == 0 else 'normal',
            short_description=f'Ticket {index}: {LONG_TEXT[: 40 + index * 3]}',
        )
    ticket = make_ticket(
        caller=requester, state='accepted', group=group, agent=agent, short_description='VPN drops on floor 3'
    )
    from incidents import services
    from itsm.audit import Actor

    for number in range(6):
        services.ticket_comment(ticket=ticket, actor=Actor(user=agent, channel='ui'), body=f'{number}: {LONG_TEXT}')
    return {'agent': agent, 'requester': requester, 'ticket': ticket}


def open_page(browser, viewport):
    context = browser.new_context(viewport=viewport, locale='en-US')
    context.set_default_timeout(10_000)
    return context, context.new_page()


def measure(page) -> dict:
    return page.evaluate(
        """() => {
        const sidebar = document.querySelector('.pc-sidebar');
        const box = sidebar ? sidebar.getBoundingClientRect() : null;
        return {
          scrollWidth: document.documentElement.scrollWidth,
          innerWidth: window.innerWidth,
          pageHeight: document.documentElement.scrollHeight,
          innerHeight: window.innerHeight,
          sidebarBottom: box ? box.bottom + window.scrollY : null,
          sidebarHeight: box ? box.height : null,
        };
    }"""
    )


def assert_fits(page, name: str) -> dict:
    figures = measure(page)
    if figures['scrollWidth'] > figures['innerWidth']:  # name the elements that stick out, to say what to fix
        figures['too_wide'] = page.evaluate(
            """() => [...document.querySelectorAll('body *')]
            .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
            .slice(-3).map((e) => e.outerHTML.slice(0, 160))"""
        )
    assert figures['scrollWidth'] <= figures['innerWidth'], f'{name} scrolls sideways: {figures}'
    return figures


def assert_sidebar_reaches_bottom(page, name: str) -> None:
    """The sidebar runs to the foot of a long page, and its menu is still on screen scrolled to the bottom."""
    figures = measure(page)
    assert figures['pageHeight'] > figures['innerHeight'] * 1.5, f'{name} is not a long page: {figures}'
    assert figures['sidebarBottom'] >= figures['pageHeight'] - 1, (
        f'the sidebar stops above the foot of {name}: {figures}'
    )
    page.evaluate("window.scrollTo({top: document.documentElement.scrollHeight, behavior: 'instant'})")
    menu_top = page.evaluate("() => document.querySelector('#sidebar-menu').getBoundingClientRect().top")
    assert 0 <= menu_top < figures['innerHeight'], f'the menu scrolled away with {name}: top at {menu_top}'
    expect(page.get_by_role('navigation', name='Main navigation').get_by_role('link', name='Home')).to_be_in_viewport()
    page.evaluate("window.scrollTo({top: 0, behavior: 'instant'})")


@pytest.mark.parametrize('viewport', [DESKTOP, PHONE], ids=['1280', '390'])
def test_queue_record_and_portal_fit(live_server, browser, desk, viewport, tmp_path):
    phone = viewport['width'] < 500
    size = f'{viewport["width"]}x{viewport["height"]}'
    context, page = open_page(browser, viewport)
    try:
        login(page, live_server, 'sam', PASSWORD)

        page.goto(f'{live_server.url}/queues/?q=mine')
        expect(page.get_by_role('heading', name='My work')).to_be_visible()
        rows = page.locator('#object-table .pc-queue-table tbody tr')
        expect(rows).to_have_count(16)
        first = rows.first
        for cell in ('number', 'short_description', 'state', 'assignment_group', 'opened_at'):
            expect(first.locator(f'.pc-col-{cell}')).to_be_visible()
        expect(first.get_by_test_id('sla-badge').first).to_be_visible()
        expect(page.locator('#object-table [data-sla-state="paused"]').first).to_be_visible()
        expect(page.get_by_test_id('waiting-table')).to_be_visible()  # below my work, drawn after the page
        assert_fits(page, 'the queue')
        if phone:
            expect(page.get_by_role('button', name='Show navigation')).to_be_visible()
            expect(page.get_by_role('navigation', name='Main navigation')).to_be_hidden()
        else:
            # Nothing in the table needs a scrollbar of its own at this width either.
            table = page.evaluate(
                "() => { const t = document.querySelector('.pc-queue-table').closest('.table-responsive');"
                ' return [t.scrollWidth, t.clientWidth]; }'
            )
            assert table[0] <= table[1], f'the queue table scrolls inside its box at 1,280 px: {table}'
            assert_sidebar_reaches_bottom(page, 'the queue')
        page.screenshot(path=str(tmp_path / f'queue-{size}.png'), full_page=True)

        # Optional columns on demand, remembered for the next visit.
        page.get_by_role('button', name='Columns').click()
        page.get_by_role('checkbox', name='Caller').check()
        page.get_by_role('button', name='Apply').last.click()
        caller = page.locator('#object-table .pc-queue-table tbody tr').first.locator('.pc-col-caller')
        expect(caller).to_be_visible()
        page.goto(f'{live_server.url}/queues/?q=mine')
        expect(caller).to_be_visible()
        assert_fits(page, 'the queue with the caller column')

        ticket = desk['ticket']
        page.goto(f'{live_server.url}{ticket.get_absolute_url()}')
        expect(page.get_by_role('heading', name='VPN drops on floor 3')).to_be_visible()
        settled(page)  # the related records and the SLA panel, drawn after the page
        expect(page.get_by_test_id('related-records')).to_be_attached()
        expect(page.locator('#sla-panel-live .card')).to_be_visible()
        assert_fits(page, 'the ticket page')
        if not phone:
            assert_sidebar_reaches_bottom(page, 'the ticket page')
        page.screenshot(path=str(tmp_path / f'ticket-{size}.png'), full_page=True)

        switch_person(page, live_server, 'robin', PASSWORD)
        page.goto(f'{live_server.url}/portal/')
        expect(page.locator('main').get_by_text('VPN drops on floor 3').first).to_be_visible()
        assert_fits(page, 'the portal')
        page.screenshot(path=str(tmp_path / f'portal-{size}.png'), full_page=True)
        page.goto(f'{live_server.url}/portal/{ticket.number}/')
        expect(page.get_by_role('heading', name='VPN drops on floor 3')).to_be_visible()
        assert_fits(page, 'a portal ticket')
        page.screenshot(path=str(tmp_path / f'portal-ticket-{size}.png'), full_page=True)
    finally:
        context.close()
