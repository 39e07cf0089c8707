"""Time zones in Chromium: a person picks their zone on the profile and every time follows it; chart labels use
the desk's date format."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from itsm.choices import Role
from itsm.models import User
from itsm.timezones import format_date
from tests.browser import login, remote_requests, screenshot
from tests.factories import make_ticket, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = 'pitcrew-test-pw'


def test_the_profile_zone_change_moves_every_time(live_server, page):
    make_user(Role.MANAGER, username='mia', first_name='Mia', last_name='Manager')
    login(page, live_server, 'mia', PASSWORD)
    page.goto(f'{live_server.url}/profile/')
    expect(page.get_by_test_id('current-zone')).to_have_text('UTC')
    page.get_by_label('Time zone').select_option('Asia/Kolkata')
    page.get_by_role('button', name='Save time zone').click()
    expect(page.get_by_role('alert')).to_contain_text('Times are now shown in Asia/Kolkata (IST).')
    expect(page.get_by_test_id('current-zone')).to_have_text('Asia/Kolkata (IST)')
    expect(page.get_by_label('Time zone')).to_have_value('Asia/Kolkata')
    # "Last sign-in" moved to India time, with its zone.
    expect(page.locator('.datagrid-item', has_text='Last sign-in')).to_contain_text(' IST')
    assert User.objects.get(username='mia').time_zone == 'Asia/Kolkata'
    screenshot(page, 'profile-time-zone')

    # Charts label days in the same format as the pages.
    make_ticket()
    today = timezone.localdate()
    start = today - dt.timedelta(days=2)
    page.goto(f'{live_server.url}/reports/?from={start.isoformat()}&to={today.isoformat()}&interval=day')
    expect(page.locator('canvas#chart-volume')).to_be_visible()
    page.wait_for_function("!!document.getElementById('chart-volume').chart")
    drawn = page.evaluate("document.getElementById('chart-volume').chart.data.labels")
    assert drawn == [format_date(start + dt.timedelta(days=n)) for n in range(3)], drawn
    assert page.evaluate("window.pitcrewFormatDay('2026-03-02', 'j M Y')") == '2 Mar 2026'
    assert page.evaluate("window.pitcrewFormatDay('2026-03-02', 'D d/m/Y')") == 'Mon 02/03/2026'
    assert page.evaluate("window.pitcrewFormatDay('Week of 2 Mar 2026', 'j M Y')") == 'Week of 2 Mar 2026'
    assert not page.console_errors, page.console_errors
    assert remote_requests(page) == []
