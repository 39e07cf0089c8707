"""Keyboard shortcuts of the queues and ticket pages in a real browser: j/k move, x selects, o opens, t takes, c goes to
the comment box, ? lists them, and keys typed into a field stay the field's."""

import re

import pytest
from playwright.sync_api import expect

from incidents.choices import TicketState
from incidents.models import Ticket
from itsm.choices import Role, Tier
from tests.browser import login, screenshot
from tests.factories import SupportGroupFactory, make_ticket, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = 'pitcrew-test-pw'


@pytest.fixture
def queue():
    sam = make_user(Role.SERVICE_DESK_AGENT, username='sam', first_name='Sam', last_name='Agent')
    desk = SupportGroupFactory(name='Service Desk', tier=Tier.L1, members=[sam])
    caller = make_user(first_name='Robin', last_name='Reed')
    tickets = {}
    for name, impact, urgency, state in (
        ('switch', 'high', 'critical', TicketState.ASSIGNED),
        ('payroll', 'medium', 'urgent', TicketState.ASSIGNED),
        ('printer', 'low', 'normal', TicketState.ASSIGNED),
        ('laptop', 'low', 'negotiated', TicketState.ACCEPTED),
    ):
        tickets[name] = make_ticket(
            caller=caller,
            short_description=f'{name.capitalize()} needs attention',
            impact=impact,
            urgency=urgency,
            state=state,
            group=desk,
            agent=sam,
        )
    return {'sam': sam, **tickets}


def focused(page):
    return page.locator('.pc-queue-table tbody tr[data-pc-focused]')


def test_queue_and_ticket_shortcuts(live_server, page, queue):
    login(page, live_server, 'sam', PASSWORD)
    expect(page).to_have_url(re.compile(r'/queues/\?q=mine$'))  # an agent lands on their work
    expect(page.get_by_role('heading', name='Waiting in my groups')).to_be_visible()
    expect(page.get_by_test_id('waiting-table')).to_be_visible()  # drawn once the page has loaded

    page.goto(f'{live_server.url}/queues/?q=all')
    page.keyboard.press('?')
    dialog = page.get_by_role('dialog', name='Keyboard shortcuts')
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text('Take the ticket')
    screenshot(page, 'incidents-queue-shortcuts', full_page=False)
    page.keyboard.press('Escape')
    expect(dialog).to_be_hidden()

    switch, payroll = queue['switch'], queue['payroll']
    page.keyboard.press('j')
    expect(focused(page)).to_contain_text(switch.number)
    page.keyboard.press('j')
    expect(focused(page)).to_contain_text(payroll.number)
    page.keyboard.press('k')
    expect(focused(page)).to_contain_text(switch.number)
    page.keyboard.press('x')
    expect(focused(page).get_by_label(f'Select {switch.number}')).to_be_checked()
    expect(page.locator('[data-pc-selected-count]')).to_have_text('1 selected')

    # Typed into a field, the keys are text.
    search = page.get_by_placeholder('Number or words')
    search.click()
    search.press('j')
    expect(search).to_have_value('j')
    expect(focused(page)).to_contain_text(switch.number)

    # t takes the focused row and comes back to the queue.
    page.goto(f'{live_server.url}/queues/?q=all')
    page.keyboard.press('j')
    expect(focused(page)).to_contain_text(switch.number)
    page.keyboard.press('t')
    expect(page.get_by_role('alert').first).to_contain_text(f'You took {switch.number}')
    stored = Ticket.objects.get(pk=switch.pk)
    assert (stored.state, stored.assignee_id) == (TicketState.ACCEPTED, queue['sam'].pk)

    # o opens the focused row; on the ticket page, c goes to the comment box and t takes the ticket.
    expect(page.locator('.pc-queue-table tbody tr', has_text=payroll.number).first).to_be_visible()
    for _ in range(8):  # the rows of both tables, until the payroll ticket
        page.keyboard.press('j')
        if payroll.number in focused(page).text_content():
            break
    page.keyboard.press('o')
    expect(page).to_have_url(re.compile(f'/tickets/{payroll.number}/$'))
    page.wait_for_load_state('load')  # the shortcuts listen once the page's scripts ran
    page.keyboard.press('c')
    expect(page.locator('#comment-body')).to_be_focused()
    page.locator('#comment-body').press('t')
    expect(page.locator('#comment-body')).to_have_value('t')
    page.locator('#comment-body').fill('')
    page.locator('#comment-body').blur()
    page.keyboard.press('t')
    expect(page.locator('#ticket-header')).to_contain_text('Accepted')
    expect(page.locator('#ticket-header')).to_contain_text('Sam Agent')
    assert Ticket.objects.get(pk=payroll.pk).state == TicketState.ACCEPTED


def test_type_ahead_filter_boxes_add_and_remove_chips(live_server, page, queue):
    login(page, live_server, 'sam', PASSWORD)
    page.goto(f'{live_server.url}/queues/?q=all')
    rows = page.locator('#object-table tbody tr')
    expect(rows).to_have_count(4)

    state = page.locator('[data-pc-chips="state"]')
    state.get_by_role('combobox', name='State').fill('assig')
    state.get_by_role('combobox', name='State').fill('Assigned')
    state.get_by_role('combobox', name='State').press('Enter')
    expect(state.locator('[data-pc-chip]')).to_have_text(['Assigned×'])
    expect(page).to_have_url(re.compile(r'state=assigned'))
    expect(rows).to_have_count(3)

    priority = page.locator('[data-pc-chips="priority"]')
    priority.get_by_role('combobox', name='Priority').fill('p1')
    priority.get_by_role('combobox', name='Priority').press('Enter')
    expect(priority.locator('[data-pc-chip]')).to_have_text(['P1×'])
    expect(page).to_have_url(re.compile(r'priority=1'))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(queue['switch'].number)
    screenshot(page, 'incidents-queue-filter-chips', full_page=False)

    state.get_by_role('link', name='Remove state Assigned').click()
    expect(state.locator('[data-pc-chip]')).to_have_count(0)
    expect(page).not_to_have_url(re.compile(r'state='))
    expect(rows).to_have_count(1)

    # A value nobody offers is not turned into a chip.
    state.get_by_role('combobox', name='State').fill('Sleeping')
    state.get_by_role('combobox', name='State').press('Enter')
    expect(state.get_by_role('combobox', name='State')).to_have_class(re.compile('is-invalid'))
    expect(state.locator('[data-pc-chip]')).to_have_count(0)


def test_the_bulk_bar_shows_the_fields_of_the_chosen_operation(live_server, page, queue):
    login(page, live_server, 'sam', PASSWORD)
    page.goto(f'{live_server.url}/queues/?q=all')
    bar = page.locator('#bulk-form')
    operation = bar.get_by_label('Operation')
    expect(bar.get_by_label('Group')).to_be_visible()
    expect(bar.get_by_label('Waiting for')).to_be_hidden()
    operation.select_option('pend')
    expect(bar.get_by_label('Waiting for')).to_be_visible()
    expect(bar.get_by_label('Group')).to_be_hidden()
    expect(bar.get_by_label('Resolution code')).to_be_hidden()
    operation.select_option('complete')
    expect(bar.get_by_label('Resolution code')).to_be_visible()
    expect(bar.get_by_label('Waiting for')).to_be_hidden()

    # Put a selected ticket on hold from the bar.
    page.locator('.pc-queue-table tbody tr', has_text=queue['laptop'].number).get_by_role('checkbox').check()
    operation.select_option('pend')
    bar.get_by_label('Waiting for').select_option(label='Awaiting a vendor')
    bar.get_by_label('Note to the caller').fill('The vendor ships the part on Monday.')
    bar.get_by_role('button', name='Apply to selected').click()
    expect(page.get_by_role('alert').first).to_contain_text(f'1 ticket put on hold: {queue["laptop"].number}.')
    assert Ticket.objects.get(pk=queue['laptop'].pk).state == TicketState.PENDING
