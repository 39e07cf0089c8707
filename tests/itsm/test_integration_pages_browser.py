"""The integration pages in Chromium: a person's API tokens, an administrator's webhook subscriptions and monitoring
sources, and the alert list, at 1,280 px and on a 390 px phone.

Each secret is shown once and gone on the next visit; every page fits the screen without sideways scrolling.
Screenshots go under the test's temporary folder.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from itsm.choices import Role
from monitoring import services as monitoring_services
from monitoring.models import AlertSource
from tests.browser import login
from tests.factories import SupportGroupFactory, make_user
from webhooks.models import WebhookSubscription

from .test_screens_browser import DESKTOP, PASSWORD, PHONE, assert_fits, open_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def admin():
    person = make_user(Role.ADMINISTRATOR, username='ada', first_name='Ada', last_name='Admin')
    SupportGroupFactory(name='Server and Storage', members=[person])
    return person


@pytest.mark.parametrize('viewport', [DESKTOP, PHONE], ids=['1280', '390'])
def test_tokens_webhooks_and_monitoring_pages(live_server, browser, admin, viewport, tmp_path):
    size = f'{viewport["width"]}x{viewport["height"]}'
    context, page = open_page(browser, viewport)
    try:
        login(page, live_server, 'ada', PASSWORD)

        # API tokens: created read-only, the key shown once, then revoked.
        page.goto(f'{live_server.url}/profile/tokens/')
        form = page.get_by_test_id('token-form')
        form.locator('input[name="name"]').fill('Nightly export')
        form.locator('input[name="read_only"]').check()
        form.get_by_role('button', name='Create token').click()
        key = page.get_by_test_id('token-key')
        assert key.input_value().startswith('pc_')
        row = page.get_by_test_id('token-row').filter(has_text='Nightly export')
        expect(row).to_contain_text('Read-only')
        expect(row).to_contain_text('Active')
        assert_fits(page, 'the tokens page')
        page.screenshot(path=str(tmp_path / f'tokens-{size}.png'), full_page=True)
        page.reload()
        expect(page.get_by_test_id('token-key')).to_have_count(0)  # shown once: gone on a reload
        page.get_by_role('button', name='Revoke Nightly export').click()
        expect(page.get_by_test_id('token-row').filter(has_text='Nightly export')).to_contain_text('Revoked')

        # A webhook subscription: the signing secret is shown once on its page.
        page.goto(f'{live_server.url}/webhooks/add/')
        page.locator('input[name="name"]').fill('Chat bridge')
        page.locator('input[name="url"]').fill('http://127.0.0.1:9/hooks/pitcrew')
        page.locator('input[name="events"]').first.check()
        page.locator('input[name="allow_private_destination"]').check()
        page.locator('form').filter(has=page.locator('input[name="url"]')).locator('button[type="submit"]').click()
        expect(page.get_by_test_id('webhook-secret')).to_be_visible()
        subscription = WebhookSubscription.objects.get(name='Chat bridge')
        assert page.get_by_test_id('webhook-secret').input_value() == subscription.secret
        assert_fits(page, 'the webhook page')
        page.screenshot(path=str(tmp_path / f'webhook-{size}.png'), full_page=True)
        page.reload()
        expect(page.get_by_test_id('webhook-secret')).to_have_count(0)
        page.goto(f'{live_server.url}/webhooks/')
        expect(page.get_by_role('link', name='Chat bridge')).to_be_visible()
        assert_fits(page, 'the webhook list')

        # A monitoring source: its token shown once; an alert it raised listed with its incident.
        page.goto(f'{live_server.url}/monitoring/sources/add/')
        page.locator('input[name="name"]').fill('Prometheus production')
        page.locator('form').filter(has=page.locator('input[name="name"]')).locator('button[type="submit"]').click()
        expect(page.locator('#new-token-value')).to_be_visible()
        token = page.locator('#new-token-value').inner_text().strip()
        source = AlertSource.objects.get(name='Prometheus production')
        assert source.token_prefix and token.startswith(source.token_prefix)
        assert_fits(page, 'the monitoring source page')
        page.screenshot(path=str(tmp_path / f'monitoring-source-{size}.png'), full_page=True)
        page.reload()
        expect(page.locator('#new-token-value')).to_have_count(0)

        outcome = monitoring_services.alert_trigger(
            source=source, dedup_key='db1-disk', summary='Disk /var on db1 is 95% full', severity='critical'
        )
        page.goto(f'{live_server.url}/monitoring/')
        expect(page.get_by_role('link', name='Disk /var on db1 is 95% full', exact=True)).to_be_visible()
        expect(page.get_by_role('link', name=outcome.incident.number)).to_be_visible()
        assert_fits(page, 'the alert list')
        page.screenshot(path=str(tmp_path / f'alerts-{size}.png'), full_page=True)
    finally:
        context.close()
