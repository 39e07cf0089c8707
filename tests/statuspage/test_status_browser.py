"""The status page in Chromium, as an anonymous visitor sees it during a major incident: nothing leaves the machine,
no script is needed, and the subscription form works from the page."""

import pytest
from playwright.sync_api import expect

from major_incidents.choices import ServiceImpact, UpdateAudience
from statuspage.models import Subscriber
from tests.browser import remote_requests, screenshot, wait_for_live_server_requests
from tests.major_incidents.factories import UpdateFactory

from .factories import make_major, make_private_service, make_public_service, post_public

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def outage():
    mail = make_public_service('Student e-mail')
    make_public_service('Campus Wi-Fi')
    make_private_service('Payroll batch')
    major = make_major(
        services=[mail], service_impact=ServiceImpact.MAJOR_OUTAGE, public_title='E-mail unavailable for everyone'
    )
    post_public(major, body='We know webmail is down and are working on it.')
    post_public(major, body='The storage controller is being replaced.', status='identified')
    UpdateFactory(major_incident=major, audience=UpdateAudience.INTERNAL, body='Vendor case 4711 opened.')
    return major


def test_anonymous_visitor_sees_the_outage_and_subscribes(live_server, page, outage):
    page.goto(f'{live_server.url}/status/')
    expect(page.get_by_role('heading', name='Major outage')).to_be_visible()
    expect(page.get_by_role('link', name='E-mail unavailable for everyone')).to_be_visible()
    expect(page.get_by_text('The storage controller is being replaced.')).to_be_visible()
    expect(page.get_by_role('link', name='Campus Wi-Fi')).to_be_visible()
    expect(page.locator('.sp-history').first.locator('.sp-day')).to_have_count(90)
    body = page.content()
    assert 'Vendor case 4711' not in body
    assert 'Payroll batch' not in body
    assert '<script' not in body
    # The colours carry the status: today's cell of the broken service is red, the others green.
    colour = 'cell => getComputedStyle(cell).backgroundColor'
    mail_row = page.locator('.list-group-item', has=page.get_by_role('link', name='Student e-mail'))
    wifi_row = page.locator('.list-group-item', has=page.get_by_role('link', name='Campus Wi-Fi'))
    red = mail_row.locator('.sp-day').last.evaluate(colour)
    green = wifi_row.locator('.sp-day').last.evaluate(colour)
    assert red != green
    assert mail_row.locator('.sp-day').first.evaluate(colour) == green
    assert mail_row.locator('.sp-day').last.get_attribute('title').endswith(f'Major outage ({outage.number})')
    screenshot(page, 'statuspage-major-outage')

    page.get_by_label('E-mail address').fill('visitor@example.org')
    page.get_by_role('checkbox', name='Student e-mail').check()
    page.get_by_role('button', name='Subscribe by e-mail').click()
    expect(page.get_by_role('heading', name='Check your inbox')).to_be_visible()
    subscriber = Subscriber.objects.get(email='visitor@example.org')
    assert [ci.number for ci in subscriber.services.all()] == [outage.services.get().number]

    page.goto(f'{live_server.url}/status/incidents/{outage.number}/')
    expect(page.get_by_role('heading', name='E-mail unavailable for everyone')).to_be_visible()
    expect(page.get_by_text('We know webmail is down and are working on it.')).to_be_visible()
    assert remote_requests(page) == []
    assert page.console_errors == []


def test_the_page_works_without_javascript(live_server, browser, outage):
    context = browser.new_context(java_script_enabled=False, viewport={'width': 390, 'height': 844})
    try:
        page = context.new_page()
        requests = []
        page.on('request', lambda request: requests.append(request.url))
        page.goto(f'{live_server.url}/status/')
        expect(page.get_by_role('link', name='E-mail unavailable for everyone')).to_be_visible()
        expect(page.locator('.sp-day[title]')).to_have_count(180)
        page.get_by_label('E-mail address').fill('phone@example.org')
        page.get_by_role('button', name='Subscribe by e-mail').click()
        expect(page.get_by_role('heading', name='Check your inbox')).to_be_visible()
        assert Subscriber.objects.filter(email='phone@example.org', confirmed_at__isnull=True).exists()
        screenshot(page, 'statuspage-phone-without-javascript')
        page.requests = requests
        assert remote_requests(page) == []
    finally:
        context.close()
        wait_for_live_server_requests()
