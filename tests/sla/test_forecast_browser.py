"""The queue with tickets likely to breach, in Chromium at 1,280 px and on a 390 px phone: the badge with its reason
is on screen, the switch filters, and the page does not scroll sideways."""

import pytest
from playwright.sync_api import expect

from incidents.choices import TicketState
from itsm.choices import Role
from sla.forecast import queue_forecast
from tests.browser import login, screenshot
from tests.factories import make_group_with_agent, make_ticket, make_user
from tests.itsm.test_screens_browser import DESKTOP, PHONE, assert_fits, open_page
from tests.sla.factories import make_sla

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = 'pitcrew-test-pw'


@pytest.mark.parametrize('viewport', [DESKTOP, PHONE], ids=['1280', '390'])
def test_the_queue_shows_tickets_likely_to_breach(live_server, browser, settings, viewport):
    settings.SLA_FORECAST_MIN_RATE = 0.2  # an idle group: one ticket every five hours
    make_sla(priority=3, response=60, resolution=480)
    group, _ = make_group_with_agent(name='Service Desk')
    sam = make_user(Role.SERVICE_DESK_AGENT, username='sam')
    group.members.add(sam)
    for n in range(4):
        make_ticket(
            state=TicketState.ACCEPTED,
            group=group,
            agent=sam,
            short_description=f'VPN drops every few minutes on floor {n + 1}',
        )
    assert queue_forecast().warned == 2

    context, page = open_page(browser, viewport)
    try:
        login(page, live_server, 'sam', PASSWORD)
        page.goto(f'{live_server.url}/queues/group/{group.pk}/')
        badges = page.get_by_test_id('sla-forecast')
        expect(badges).to_have_count(2)
        expect(badges.first).to_be_visible()
        title = badges.first.get_attribute('title')
        assert title.startswith('Resolution · P3 incidents: ') and 'ahead, 0.2/h completed: due in' in title, title
        assert_fits(page, 'the queue with forecast badges')
        screenshot(page, f'queue-forecast-{viewport["width"]}')
        page.get_by_test_id('likely-toggle').click()
        expect(page.locator('#object-table .pc-queue-table tbody tr')).to_have_count(2)
        assert_fits(page, 'the likely-to-breach queue')
    finally:
        context.close()
