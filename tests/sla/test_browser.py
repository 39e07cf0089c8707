"""SLA badges in a real browser: the countdown ticks, shows orange past the first warning, red once overdue."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from itsm.choices import Role
from sla.models import SlaClock
from tests.browser import login, remote_requests, screenshot
from tests.factories import make_ticket, make_user
from tests.sla.factories import make_sla

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = 'pitcrew-test-pw'


def test_the_sla_monitor_counts_down_live(live_server, page):
    make_user(Role.SERVICE_DESK_AGENT, username='sam')
    make_sla(priority=3, response=5, resolution=480)
    ticket = make_ticket(short_description='Printer jammed')
    # The five-minute response target started 4 min 52 s ago: past its 75 % warning, due in 8 seconds.
    started = timezone.now() - dt.timedelta(minutes=4, seconds=52)
    SlaClock.objects.filter(ticket=ticket, kind='response').update(
        started_at=started, run_started_at=started, due_at=started + dt.timedelta(minutes=5)
    )

    login(page, live_server, 'sam', PASSWORD)
    page.goto(f'{live_server.url}/sla/clocks/?ticket={ticket.number}')
    response = page.locator('.pc-sla[data-sla-due][title^="Response"]')
    expect(response).to_have_class(re.compile(r'\bbg-orange-lt\b'))
    shown = response.locator('.pc-sla-time').inner_text()
    assert re.fullmatch(r'\d+s left', shown), shown
    expect(response.locator('.pc-sla-time')).not_to_have_text(shown, timeout=3000)
    expect(response.locator('.pc-sla-time')).to_contain_text('overdue', timeout=15_000)
    expect(response).to_have_class(re.compile(r'\bbg-red-lt\b'))
    screenshot(page, 'sla-monitor')
    assert remote_requests(page) == []
    assert page.console_errors == []
