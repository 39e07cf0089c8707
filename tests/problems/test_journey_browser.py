"""A problem from an incident to its resolution in a real browser, as each person sees it.

An agent raises a problem from an incident → the problem manager assesses it, records the root cause and a
workaround, and records a known error from it → the known error is offered when the agent logs a new incident on
that CI, and applied → the problem manager resolves the problem → the linked incident's caller reads the news in the
portal; the problem management dashboard counts the root cause found and the incidents linked.
"""

import re

import pytest
from playwright.sync_api import expect

from incidents.models import Category, Ticket
from itsm.choices import Role, Tier
from problems.models import KnownError, Problem
from tests.browser import remote_requests, screenshot, switch_person
from tests.cmdb.factories import make_ci, make_service
from tests.factories import SupportGroupFactory, make_ticket, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = 'pitcrew-test-pw'
ROOT_CAUSE = 'The VPN gateway drops sessions when its licence pool is exhausted.'
WORKAROUND = 'Disconnect and reconnect the VPN client; a freed licence is taken within a minute.'
RESOLUTION = 'Licence pool doubled and a capacity alert added on the gateway.'


@pytest.fixture
def desk():
    """A service desk agent, a problem manager, a caller with an accepted incident on the VPN gateway."""
    robin = make_user(Role.REQUESTER, username='robin', first_name='Robin', last_name='Reed')
    sam = make_user(Role.SERVICE_DESK_AGENT, username='sam', first_name='Sam', last_name='Agent')
    paula = make_user(Role.PROBLEM_MANAGER, username='paula', first_name='Paula', last_name='Problem')
    desk_group = SupportGroupFactory(name='Service Desk', tier=Tier.L1, members=[sam])
    service = make_service('Remote access').ci
    gateway = make_ci(name='VPN gateway')
    network, _ = Category.objects.get_or_create(name='Network', parent=None)
    incident = make_ticket(
        caller=robin,
        short_description='VPN disconnects every few minutes',
        description='Since this morning the VPN drops while I work from home.',
        category=network,
        service=service,
        ci=gateway,
        state='accepted',
        group=desk_group,
        agent=sam,
    )
    return {'incident': incident, 'gateway': gateway, 'robin': robin, 'paula': paula}


def sign_in_as(page, live_server, username):
    switch_person(page, live_server, username, PASSWORD)


def run_action(page, name: str, fields: dict[str, str] | None = None, *, done: str) -> None:
    """Open an action of the problem page in its panel, fill it and submit it (htmx, no reload)."""
    page.locator('#problem-header').get_by_role('link', name=name, exact=True).click()
    panel = page.locator('#problem-action-panel')
    expect(panel.get_by_role('button', name=name, exact=True)).to_be_visible()
    for label, value in (fields or {}).items():
        panel.get_by_label(label, exact=True).fill(value)
    panel.get_by_role('button', name=name, exact=True).click()
    expect(panel).to_contain_text(done)


def test_problem_from_incident_to_known_error_to_resolution(live_server, page, desk):
    incident = desk['incident']

    # The agent raises a problem from the incident's Problem card; the form is filled from the incident.
    sign_in_as(page, live_server, 'sam')
    page.goto(f'{live_server.url}{incident.get_absolute_url()}')
    card = page.get_by_test_id('incident-problem')
    expect(card).to_contain_text('Not recorded with a problem.')
    card.get_by_role('link', name='Raise a problem').click()
    expect(page.get_by_role('heading', name=f'Raise a problem from {incident.number}')).to_be_visible()
    expect(page.get_by_label('Short description')).to_have_value('VPN disconnects every few minutes')
    page.get_by_label('Symptoms').fill('VPN sessions drop for many home workers at once.')
    page.get_by_role('button', name='Raise the problem').click()
    problem = Problem.objects.get()
    expect(page.get_by_role('alert').first).to_contain_text(f'{problem.number} raised; {incident.number} is linked')
    expect(page.get_by_test_id('incident-problem')).to_contain_text(problem.number)
    assert list(problem.cis.all()) == [desk['gateway']]

    # The problem manager assesses it, analyses it and records the root cause and the workaround.
    sign_in_as(page, live_server, 'paula')
    page.goto(f'{live_server.url}{problem.get_absolute_url()}')
    expect(page.get_by_role('heading', name='VPN disconnects every few minutes')).to_be_visible()
    header = page.locator('#problem-header')
    expect(header).to_contain_text('New')
    run_action(page, 'Assess', done=f'{problem.number} is assessed; Paula Problem owns it.')
    expect(header).to_contain_text('Assessed')
    run_action(page, 'Start root-cause analysis', done=f'Root-cause analysis of {problem.number} has started.')
    run_action(
        page,
        'Record analysis',
        {'Root cause': ROOT_CAUSE, 'Workaround': WORKAROUND},
        done=f'The analysis of {problem.number} is recorded.',
    )
    expect(header).to_contain_text('Root cause known')
    screenshot(page, 'problems-problem-analysed')

    # ... and records a known error from it, filled from the problem (its CI among them).
    page.get_by_test_id('problem-known-errors').get_by_role('link', name='Record a known error').click()
    expect(page.get_by_test_id('prefilled')).to_contain_text(problem.number)
    expect(page.get_by_label('Workaround')).to_have_value(WORKAROUND)
    page.get_by_label('Title').fill('VPN sessions drop when the licence pool is exhausted')
    page.get_by_role('button', name=re.compile('^Create')).click()
    known_error = KnownError.objects.get()
    expect(page.get_by_text(known_error.number).first).to_be_visible()
    assert list(known_error.cis.all()) == [desk['gateway']]

    # The agent logs a new incident on that CI: the known error and its workaround are offered.
    sign_in_as(page, live_server, 'sam')
    page.get_by_role('navigation', name='Main navigation').get_by_role('link', name='New ticket').click()
    expect(page.get_by_role('heading', name='New ticket')).to_be_visible()
    page.wait_for_load_state('load')
    page.get_by_label('Short description').fill('VPN keeps dropping')
    offer = page.get_by_test_id('known-error-offer')
    expect(offer).to_have_count(0)
    page.locator('#id_ci').fill(desk['gateway'].number)
    page.locator('#id_ci').dispatch_event('change')
    expect(offer).to_contain_text(known_error.number)
    expect(offer).to_contain_text(WORKAROUND)
    screenshot(page, 'problems-known-error-offered', full_page=False)
    # The agent applies it as the ticket is opened: the caller gets the workaround, the incident joins the problem.
    page.get_by_label('Caller', exact=True).fill('robin')
    offer.get_by_label('Apply when the ticket is opened').check()
    page.get_by_role('button', name='Open ticket').click()
    expect(page.get_by_role('heading', name=re.compile(f'Apply {known_error.number}'))).to_be_visible()
    page.get_by_role('button', name='Apply', exact=True).click()
    second = Ticket.objects.get(short_description='VPN keeps dropping')
    expect(page.get_by_role('alert').first).to_contain_text(
        f'{known_error.number} applied to {second.number}. Linked to {problem.number}.'
    )
    expect(page.get_by_role('heading', name='VPN keeps dropping')).to_be_visible()

    # The problem manager resolves the problem: the linked incident hears of it.
    sign_in_as(page, live_server, 'paula')
    page.goto(f'{live_server.url}{problem.get_absolute_url()}')
    run_action(page, 'Resolve', {'Resolution': RESOLUTION}, done=f'{problem.number} is resolved.')
    expect(page.locator('#problem-header')).to_contain_text('Resolved')
    screenshot(page, 'problems-problem-resolved')

    # The dashboard counts the root cause found, and its figure leads to the problem.
    page.get_by_role('navigation', name='Main navigation').get_by_role('link', name='Problem dashboard').click()
    expect(page.get_by_role('heading', name='Problem management dashboard')).to_be_visible()
    card = page.locator('[data-measure="time_to_root_cause"]')
    expect(card).to_contain_text('1 problem')
    share = page.locator('[data-measure="known_error_share"]')
    expect(share).to_contain_text('1 with a known error')
    expect(share).to_contain_text('2 linked to a problem')
    screenshot(page, 'problems-dashboard')
    card.locator('.pc-kpi-value').click()
    expect(page.get_by_role('link', name=problem.number)).to_be_visible()

    # The caller reads the news in the portal, and not the desk's work note.
    sign_in_as(page, live_server, 'robin')
    page.goto(f'{live_server.url}/portal/')
    page.get_by_role('link', name='VPN disconnects every few minutes').click()
    news = f'The underlying cause of this incident has been found and fixed ({problem.number}): {RESOLUTION}'
    expect(page.get_by_text(news).first).to_be_visible()
    expect(page.get_by_text(f'{problem.number} resolved:')).to_have_count(0)
    screenshot(page, 'problems-portal-report-back')
    assert Ticket.objects.get(pk=incident.pk).problem_link.problem == problem
    assert Ticket.objects.get(pk=second.pk).problem_link.problem == problem

    assert remote_requests(page) == []
    assert page.console_errors == []
