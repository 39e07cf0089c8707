"""The schedule page in Chromium at 1,280 px and on a 390 px phone: no sideways scroll, who is on call now and the
two weeks of shifts on screen. Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from itsm.choices import Role
from tests.browser import login, screenshot
from tests.factories import make_user

from .factories import make_group, make_layer, make_override, make_schedule

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = 'pitcrew-test-pw'


def test_the_schedule_page_fits_desktop_and_phone(live_server, browser):
    import datetime as dt

    from django.utils import timezone

    group, people = make_group(name='Server and Storage with a rather long group name', members=3)
    schedule = make_schedule(group=group, name='Primary on call', time_zone='Europe/London')
    make_layer(schedule=schedule, members=people, name='Around the clock', handoff='weekly')
    make_layer(
        schedule=schedule,
        members=people[:2],
        name='Business hours',
        handoff='daily',
        restrict_days=[0, 1, 2, 3, 4],
        restrict_from=dt.time(9),
        restrict_to=dt.time(17),
    )
    now = timezone.now()
    make_override(schedule=schedule, person=people[2], start=now + dt.timedelta(days=2), end=now + dt.timedelta(days=3))
    make_user(Role.L2_ENGINEER, username='viewer')
    for name, viewport in (('desktop', {'width': 1280, 'height': 800}), ('phone', {'width': 390, 'height': 844})):
        context = browser.new_context(viewport=viewport, locale='en-US')
        page = context.new_page()
        try:
            login(page, live_server, 'viewer', PASSWORD)
            page.goto(f'{live_server.url}{schedule.get_absolute_url()}')
            expect(page.locator('#now-and-next')).to_contain_text('On call now')
            expect(page.locator('#shifts .pc-shift').first).to_be_visible()
            widths = page.evaluate('[document.documentElement.scrollWidth, window.innerWidth]')
            assert widths[0] <= widths[1], f'{name}: the schedule page scrolls sideways {widths}'
            screenshot(page, f'oncall-schedule-{name}')
        finally:
            context.close()
