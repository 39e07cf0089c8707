"""The hypercare dashboard and the overview of running periods in Chromium at 1,280 px and on a 390 px phone: the
chart is drawn from its data island, the figures are on screen and nothing scrolls sideways."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from incidents.models import Ticket
from itsm.choices import Role
from tests.browser import login, screenshot
from tests.factories import make_ticket, make_user
from tests.itsm.test_screens_browser import DESKTOP, PASSWORD, PHONE, assert_fits, open_page

from .factories import make_period, service_ci

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_dashboard_and_overview_fit(live_server, browser):
    make_user(Role.INCIDENT_MANAGER, username='grace')
    service = service_ci(name='E-mail services with a rather long service name for the card')
    now = timezone.now()
    period = make_period(service, starts_at=now - dt.timedelta(days=9), ends_at=now + dt.timedelta(days=12))
    for index in range(8):
        ticket = make_ticket(service=service, short_description=f'Mail issue {index} after the migration')
        opened = now - dt.timedelta(days=index * 2, hours=3)
        Ticket.objects.filter(pk=ticket.pk).update(opened_at=opened, completed_at=opened + dt.timedelta(hours=index))
    for viewport in (DESKTOP, PHONE):
        size = f'{viewport["width"]}x{viewport["height"]}'
        context, page = open_page(browser, viewport)
        try:
            login(page, live_server, 'grace', PASSWORD)
            page.goto(f'{live_server.url}{period.get_absolute_url()}')
            expect(page.get_by_test_id('hypercare-figures')).to_be_visible()
            page.wait_for_function(
                "() => { const c = document.getElementById('hypercare-volume');"
                ' return c && window.Chart && Chart.getChart(c) !== undefined; }'
            )
            assert page.evaluate("() => Chart.getChart('hypercare-volume').data.datasets.length") == 2
            assert_fits(page, f'the hypercare dashboard at {size}')
            screenshot(page, f'hypercare-dashboard-{size}')
            page.goto(f'{live_server.url}/hypercare/')
            expect(page.get_by_test_id('hypercare-active')).to_contain_text('rather long service name')
            assert_fits(page, f'the hypercare overview at {size}')
            screenshot(page, f'hypercare-overview-{size}')
        finally:
            context.close()
