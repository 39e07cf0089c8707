"""The incident page's prediction card and the portal's sentence in Chromium at 1,280 px and on a 390 px phone:
the card is on the page with its band, the requester reads the plain sentence, nothing scrolls sideways."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from incidents.models import Ticket
from itsm.choices import Role
from predictions import services
from tests.browser import login, screenshot
from tests.factories import SupportGroupFactory, make_ticket, make_user
from tests.itsm.test_screens_browser import DESKTOP, PASSWORD, PHONE, assert_fits, open_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_prediction_card_and_portal_sentence_fit(live_server, browser):
    agent = make_user(Role.SERVICE_DESK_AGENT, username='sam')
    requester = make_user(Role.REQUESTER, username='robin')
    group = SupportGroupFactory(name='Service desk', members=[agent])
    now = timezone.now()
    for index in range(25):  # the history: written directly, only its times matter
        finished = now - dt.timedelta(days=1 + index)
        Ticket(
            short_description=f'Printer {index} jammed',
            caller=requester,
            assignment_group=group,
            state='completed',
            opened_at=finished - dt.timedelta(hours=1 + index % 10),
            completed_at=finished,
        ).save()
    ticket = make_ticket(state='accepted', group=group, agent=agent, caller=requester, short_description='Jammed')
    services.predictions_tick()
    for viewport in (DESKTOP, PHONE):
        size = f'{viewport["width"]}x{viewport["height"]}'
        context, page = open_page(browser, viewport)
        try:
            login(page, live_server, 'sam', PASSWORD)
            page.goto(f'{live_server.url}{ticket.get_absolute_url()}')
            card = page.get_by_test_id('prediction-panel')
            expect(card).to_contain_text('Predicted resolution')
            expect(card.get_by_test_id('prediction-band')).to_contain_text('80 %')
            expect(card.get_by_test_id('prediction-basis')).to_contain_text('From 25 similar tickets')
            assert_fits(page, f'the incident page at {size}')
            screenshot(page, f'prediction-card-{size}')
        finally:
            context.close()
        context, page = open_page(browser, viewport)
        try:
            login(page, live_server, 'robin', PASSWORD)
            page.goto(f'{live_server.url}/portal/{ticket.number}/')
            expect(page.get_by_test_id('expected')).to_contain_text('Similar requests are usually resolved within')
            assert_fits(page, f'the portal ticket at {size}')
        finally:
            context.close()
