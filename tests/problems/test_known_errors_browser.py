"""Known errors in Chromium: offered on the new-ticket form as the agent picks the CI, applied on to the ticket the
agent opens (the workaround as a comment to the caller), and offered to a requester on the portal form as they pick
the service."""

import pytest
from playwright.sync_api import expect

from itsm.choices import Role, Tier
from problems.models import KnownErrorUse
from tests.browser import login, remote_requests, screenshot
from tests.cmdb.factories import make_ci, make_service
from tests.factories import SupportGroupFactory, make_user
from tests.problems.factories import KnownErrorFactory, make_problem

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = 'pitcrew-test-pw'


@pytest.fixture
def known():
    sam = make_user(Role.SERVICE_DESK_AGENT, username='sam', first_name='Sam', last_name='Agent')
    SupportGroupFactory(name='Service Desk', tier=Tier.L1, members=[sam])
    make_user(Role.REQUESTER, username='robin', first_name='Robin', last_name='Reed')
    ci = make_ci(name='Mail gateway')
    service = make_service(name='E-mail')
    problem = make_problem(state='fix_in_progress', cis=[ci])
    on_ci = KnownErrorFactory(
        problem=problem, cis=[ci], title='Outlook freezes at start', workaround='Start Outlook with /safe.'
    )
    on_service = KnownErrorFactory(
        services=[service.ci], public=True, title='Webmail login loops', workaround='Clear the browser cookies.'
    )
    return {'ci': ci, 'service': service, 'problem': problem, 'on_ci': on_ci, 'on_service': on_service}


def test_agent_is_offered_the_known_error_and_applies_it(live_server, page, known):
    login(page, live_server, 'sam', PASSWORD)
    page.goto(f'{live_server.url}/tickets/new/')
    page.wait_for_load_state('load')
    page.get_by_label('Caller', exact=True).fill('robin')
    page.get_by_label('Short description').fill('Outlook hangs on start')
    page.get_by_label('Configuration item', exact=True).fill(known['ci'].number)
    page.get_by_label('Configuration item', exact=True).press('Tab')
    offer = page.get_by_test_id('known-error-offer')
    expect(offer).to_contain_text(known['on_ci'].number)
    expect(offer).to_contain_text('Start Outlook with /safe.')
    screenshot(page, 'problems-known-error-offer')
    offer.get_by_label('Apply when the ticket is opened').check()
    page.get_by_role('button', name='Open ticket').click()

    expect(page.get_by_role('heading', name=f'Apply {known["on_ci"].number}')).to_be_visible()
    page.get_by_role('button', name='Apply').click()
    expect(page.get_by_test_id('known-errors-panel')).to_contain_text('Applied')
    use = KnownErrorUse.objects.get(known_error=known['on_ci'])
    assert use.incident.problem_link.problem == known['problem']
    assert remote_requests(page) == []
    assert page.console_errors == []


def test_requester_is_offered_public_known_issues_of_the_service(live_server, page, known):
    login(page, live_server, 'robin', PASSWORD)
    page.goto(f'{live_server.url}/portal/new/')
    page.wait_for_load_state('load')
    page.get_by_label('Which service is it about?').select_option(label='E-mail')
    issues = page.get_by_test_id('known-issues')
    expect(issues).to_contain_text('Webmail login loops')
    expect(issues).to_contain_text('Clear the browser cookies.')
    expect(issues).not_to_contain_text('Outlook freezes')
    screenshot(page, 'problems-portal-known-issues', full_page=False)
    assert page.console_errors == []
