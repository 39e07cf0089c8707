"""The core pages in a real browser: sign in, home, people list with live filtering, global search.

Every test also checks that the page never asked anything from a host other than this machine: Pitcrew must
work offline, so all CSS, fonts and scripts are served from static/.
"""

import re

import pytest
from playwright.sync_api import expect

from itsm.choices import Role, Tier
from tests.browser import login, remote_requests, screenshot
from tests.factories import SupportGroupFactory, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = 'pitcrew-test-pw'


@pytest.fixture
def desk():
    """A small service desk: an administrator, agents in groups over three tiers, some requesters."""
    admin = make_user(Role.ADMINISTRATOR, username='ada', first_name='Ada', last_name='Admin', is_staff=True)
    agent = make_user(Role.SERVICE_DESK_AGENT, username='sam', first_name='Sam', last_name='Agent')
    engineer = make_user(Role.L2_ENGINEER, username='nina', first_name='Nina', last_name='Network')
    expert = make_user(Role.L3_ENGINEER, username='otto', first_name='Otto', last_name='Oncall')
    for first, last, department in [('Alice', 'Archer', 'Finance'), ('Bruno', 'Baker', 'Sales'), ('Chen', 'Cho', 'HR')]:
        make_user(username=first.lower(), first_name=first, last_name=last, department=department, vip=first == 'Chen')
    l3 = SupportGroupFactory(name='Network L3', tier=Tier.L3, manager=expert, members=[expert])
    l2 = SupportGroupFactory(name='Network L2', tier=Tier.L2, manager=engineer, members=[engineer], escalation_group=l3)
    SupportGroupFactory(name='Service desk', tier=Tier.L1, manager=admin, members=[admin, agent], escalation_group=l2)
    return admin


def test_sign_in_home_people_and_search(live_server, page, desk):
    page.goto(f'{live_server.url}/')
    expect(page).to_have_url(re.compile(r'/login/\?next=/$'))
    expect(page.get_by_role('heading', name='Sign in to the service desk')).to_be_visible()
    screenshot(page, 'login')

    page.get_by_label('Username').fill('ada')
    page.get_by_label('Password').fill('wrong password')
    page.get_by_role('button', name='Sign in').click()
    expect(page.get_by_role('alert')).to_contain_text('Please enter a correct username and password')
    screenshot(page, 'login-error')

    login(page, live_server, 'ada', PASSWORD)
    expect(page.get_by_role('heading', name='Welcome, Ada')).to_be_visible()
    expect(page.get_by_text('active people')).to_be_visible()
    expect(page.get_by_role('link', name='Support groups').first).to_be_visible()
    screenshot(page, 'home-administrator')

    page.get_by_role('navigation', name='Main navigation').get_by_role('link', name='People').click()
    expect(page.get_by_role('heading', name='People')).to_be_visible()
    rows = page.locator('#object-table tbody tr')
    expect(rows).to_have_count(7)
    screenshot(page, 'people-list')

    # Typing in the filter box swaps only the table (htmx) and keeps the filter in the address.
    page.locator('#filter-form').get_by_label('Search').fill('archer')
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text('Alice Archer')
    expect(page).to_have_url(re.compile(r'q=archer'))

    page.get_by_role('link', name='Alice Archer').click()
    expect(page.get_by_role('heading', name='Alice Archer')).to_be_visible()
    expect(page.get_by_text('History')).to_be_visible()
    screenshot(page, 'person-detail')

    search = page.get_by_label('Search Pitcrew')
    search.fill('network')
    search.press('Enter')
    expect(page.get_by_role('heading', name='Search')).to_be_visible()
    expect(page.get_by_role('link', name=re.compile('Network L2'))).to_be_visible()
    expect(page.get_by_role('link', name=re.compile('Nina Network'))).to_be_visible()
    screenshot(page, 'search-results')

    assert remote_requests(page) == []
    assert page.console_errors == []


def test_group_pages_and_form_errors(live_server, page, desk):
    login(page, live_server, 'ada', PASSWORD)
    page.goto(f'{live_server.url}/groups/')
    expect(page.locator('#object-table tbody tr')).to_have_count(3)
    screenshot(page, 'groups-list')

    page.locator('#object-table td:first-child a', has_text=re.compile('^Network L2$')).click()
    expect(page.get_by_role('heading', name='Network L2')).to_be_visible()
    expect(page.get_by_text('Nina Network').first).to_be_visible()
    screenshot(page, 'group-detail')

    page.get_by_role('link', name='Edit').click()
    page.get_by_label('Name').fill('')
    page.get_by_label('Description').fill('Routers, switches and the campus Wi-Fi.')
    page.get_by_role('button', name='Save changes').click()
    expect(page.locator('.invalid-feedback')).to_contain_text('This field is required.')
    expect(page.get_by_label('Description')).to_have_value('Routers, switches and the campus Wi-Fi.')
    screenshot(page, 'group-form-errors')

    page.get_by_label('Name').fill('Network and Wi-Fi L2')
    page.get_by_role('button', name='Save changes').click()
    expect(page.get_by_role('alert')).to_contain_text('Support group “Network and Wi-Fi L2” updated.')
    expect(page.locator('.pc-timeline')).to_contain_text('Network and Wi-Fi L2')
    screenshot(page, 'group-after-edit')

    page.goto(f'{live_server.url}/people/add/')
    page.get_by_label('Username').fill('new.agent')
    page.get_by_role('button', name='Create person').click()
    expect(page.locator('.is-invalid').first).to_be_visible()
    expect(page.get_by_label('Username')).to_have_value('new.agent')
    screenshot(page, 'person-form-errors')

    assert remote_requests(page) == []
    assert page.console_errors == []


def test_requester_home_and_forbidden_page(live_server, page, desk):
    login(page, live_server, 'alice', PASSWORD)
    expect(page.get_by_role('heading', name='My requests')).to_be_visible()
    expect(page.get_by_role('navigation', name='Main navigation').get_by_role('link', name='People')).to_have_count(0)
    screenshot(page, 'home-requester')

    response = page.goto(f'{live_server.url}/people/')
    assert response.status == 403
    expect(page.get_by_text('You do not have permission to see this page')).to_be_visible()
    screenshot(page, 'forbidden')

    page.goto(f'{live_server.url}/no/such/page/')
    expect(page.get_by_text('There is nothing at this address')).to_be_visible()
    screenshot(page, 'not-found')

    page.locator('#user-menu').click()
    page.get_by_role('button', name='Sign out').click()
    expect(page.get_by_text('You are signed out.')).to_be_visible()

    assert remote_requests(page) == []


def test_people_table_sorts_filters_and_pages_in_place(live_server, page, desk):
    for n in range(55):
        make_user(username=f'caller{n:02d}', first_name='Caller', last_name=f'{n:02d}')
    login(page, live_server, 'ada', PASSWORD)
    page.goto(f'{live_server.url}/people/')
    page.evaluate('window.stillSamePage = true')
    rows = page.locator('#object-table tbody tr')
    expect(rows).to_have_count(50)
    expect(page.locator('#object-table .card-footer')).to_contain_text('1–50 of 62')

    table = page.locator('#object-table')
    table.get_by_role('link', name='Username').click()
    expect(page).to_have_url(re.compile(r'sort=username'))
    expect(rows.first.locator('td').nth(1)).to_have_text('ada')
    table.get_by_role('link', name='Username').click()
    expect(page).to_have_url(re.compile(r'sort=-username'))
    expect(rows.first.locator('td').nth(1)).to_have_text('sam')

    # Filtering keeps the chosen order; paging keeps both.
    page.locator('#filter-form').get_by_label('Search').fill('caller')
    expect(page).to_have_url(re.compile(r'q=caller'))
    expect(page).to_have_url(re.compile(r'sort=-username'))
    expect(rows.first.locator('td').nth(1)).to_have_text('caller54')
    expect(page.locator('#list-count')).to_have_text('55 people matching the filters')
    table.get_by_role('link', name='Next page').click()
    expect(page).to_have_url(re.compile(r'page=2'))
    expect(rows).to_have_count(5)
    expect(rows.first.locator('td').nth(1)).to_have_text('caller04')
    screenshot(page, 'people-filtered-sorted-page-2')

    assert page.evaluate('window.stillSamePage') is True, 'the table must update without a page load'
    assert remote_requests(page) == []
    assert page.console_errors == []
