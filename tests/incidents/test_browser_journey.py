"""An incident from report to closure in a real browser, as each person sees it.

A requester reports in the portal → an L1 agent assigns it to the service desk and accepts it in the queue →
escalates it to L2 → an L2 engineer accepts and completes it → the requester confirms → Closed.
"""

import re

import pytest
from playwright.sync_api import expect

from cmdb.choices import Criticality
from incidents.models import Category, ResponseTemplate, Ticket
from itsm.choices import Role, Tier
from tests.browser import remote_requests, screenshot, switch_person
from tests.cmdb.factories import make_service
from tests.factories import SupportGroupFactory, make_ticket, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = 'pitcrew-test-pw'


@pytest.fixture
def desk():
    """An L1 desk escalating to a desktop L2 team, a requester, and some work already in the queues."""
    robin = make_user(Role.REQUESTER, username='robin', first_name='Robin', last_name='Reed', department='Finance')
    sam = make_user(Role.SERVICE_DESK_AGENT, username='sam', first_name='Sam', last_name='Agent')
    nina = make_user(Role.L2_ENGINEER, username='nina', first_name='Nina', last_name='Novak')
    lead = make_user(Role.INCIDENT_MANAGER, username='lena', first_name='Lena', last_name='Lead')
    l2 = SupportGroupFactory(name='Desktop L2', tier=Tier.L2, manager=lead, members=[nina])
    l1 = SupportGroupFactory(name='Service Desk', tier=Tier.L1, manager=lead, members=[sam], escalation_group=l2)
    make_service('Remote access', criticality=Criticality.HIGH)
    hardware, _ = Category.objects.get_or_create(name='Hardware', parent=None)
    Category.objects.get_or_create(name='Laptop', parent=hardware)
    ResponseTemplate.objects.get_or_create(
        name='Greeting',
        defaults={
            'kind': 'opening',
            'text': 'Hello {caller_name},\n\nthank you for contacting the service desk about {number}.',
        },
    )
    callers = [
        make_user(first_name=first, last_name=last, vip=vip)
        for first, last, vip in [('Alice', 'Archer', False), ('Bruno', 'Baker', True), ('Chen', 'Cho', False)]
    ]
    backlog = [
        ('Core switch in building B is down', 'high', 'critical', 'assigned'),
        ('Payroll export fails with error 500', 'medium', 'urgent', 'accepted'),
        ('New starter needs a laptop', 'low', 'negotiated', 'new'),
        ('Printer on the 2nd floor is jammed', 'low', 'normal', 'assigned'),
        ('Shared drive is slow', 'medium', 'normal', 'pending'),
    ]
    for n, (text, impact, urgency, state) in enumerate(backlog):
        make_ticket(
            caller=callers[n % 3],
            short_description=text,
            impact=impact,
            urgency=urgency,
            state=state,
            group=l1,
            agent=sam,
            channel='phone',
        )
    return {'robin': robin, 'sam': sam, 'nina': nina}


def sign_in_as(page, live_server, username):
    switch_person(page, live_server, username, PASSWORD)


def test_requester_to_l1_to_l2_and_back_to_closure(live_server, page, desk):
    # The requester reports a problem in the portal.
    sign_in_as(page, live_server, 'robin')
    page.get_by_role('navigation', name='Main navigation').get_by_role('link', name='My requests').click()
    expect(page.get_by_role('heading', name='My requests')).to_be_visible()
    page.get_by_role('link', name='Report a problem').click()
    page.get_by_label('What is wrong, in one line?').fill('Laptop cannot connect to the VPN')
    page.get_by_label('Details').fill('Error 809 since this morning, at home and in the office.')
    page.get_by_label('How much does it affect your work?').select_option(label='I cannot work at all')
    page.get_by_label('Which service is it about?').select_option(label='Remote access')
    screenshot(page, 'portal-new', full_page=False)
    page.get_by_role('button', name='Send').click()
    expect(page.get_by_role('heading', name='Laptop cannot connect to the VPN')).to_be_visible()
    expect(page.get_by_role('status').first).to_contain_text('We have received your request as INC')
    number = Ticket.objects.get(short_description='Laptop cannot connect to the VPN').number
    expect(page.get_by_text('We have received it and will pass it to the right team shortly.').first).to_be_visible()

    # The L1 agent finds it among the unassigned tickets, gives it to the desk and accepts it.
    sign_in_as(page, live_server, 'sam')
    page.goto(f'{live_server.url}/queues/?q=unassigned')
    expect(page.get_by_role('heading', name='Unassigned')).to_be_visible()
    row = page.locator('#object-table tbody tr', has_text=number)
    expect(row).to_contain_text('Robin Reed')
    expect(row).to_contain_text('New')
    row.get_by_label(f'Select {number}').check()
    expect(page.locator('[data-pc-selected-count]')).to_have_text('1 selected')
    page.locator('#id_group').select_option(label='Service Desk')
    page.get_by_role('button', name='Apply to selected').click()
    expect(page.get_by_role('alert').first).to_contain_text(f'1 ticket assigned to Service Desk: {number}.')
    row = page.locator('#object-table tbody tr', has_text=number)
    expect(row).to_contain_text('Assigned')
    screenshot(page, 'incidents-queue')

    # Filtering swaps only the table.
    page.get_by_placeholder('Number or words').fill('VPN')
    expect(page.locator('#object-table tbody tr')).to_have_count(1)
    expect(page).to_have_url(re.compile(r'search=VPN'))
    page.get_by_role('button', name=f'Take {number}').click()
    expect(page.get_by_role('alert').first).to_contain_text(f'You took {number}')

    page.goto(f'{live_server.url}/queues/')
    expect(page.get_by_role('heading', name='My work')).to_be_visible()
    page.get_by_role('link', name=number, exact=True).click()
    expect(page.get_by_role('heading', name='Laptop cannot connect to the VPN')).to_be_visible()
    header = page.locator('#ticket-header')
    expect(header).to_contain_text('Accepted')

    # A work note for the desk, a comment for the caller, then functional escalation to L2 (htmx, no reload).
    page.locator('#comment-body').fill('Certificate on the laptop expired; needs re-enrolment by desktop L2.')
    page.get_by_role('button', name='Add', exact=True).click()
    expect(page.locator('#ticket-comment-form')).to_contain_text('Work note added.')
    page.get_by_text('Comment to the caller').click()
    page.locator('#comment-template').select_option(label='Opening line: Greeting')
    expect(page.locator('#comment-body')).to_have_value(re.compile(f'Hello Robin Reed,\n\nthank you .* {number}'))
    page.locator('#comment-body').press('Control+End')
    page.locator('#comment-body').type(' A colleague from desktop support will contact you today.')
    page.get_by_role('button', name='Add', exact=True).click()
    expect(page.locator('#ticket-comment-form')).to_contain_text('Comment sent to Robin Reed.')
    expect(page.locator('#ticket-timeline')).to_contain_text('Certificate on the laptop expired')

    header.get_by_role('link', name='Escalate', exact=True).click()
    panel = page.locator('#ticket-action-panel')
    expect(panel.get_by_role('heading', name=f'Escalate · {number}')).to_be_visible()
    panel.get_by_role('button', name='Escalate').click()
    expect(panel.locator('.invalid-feedback')).to_contain_text('This field is required.')
    screenshot(page, 'incidents-action-panel', full_page=False)
    panel.get_by_label('Reason').fill('Certificate re-enrolment needs desktop L2.')
    panel.get_by_role('button', name='Escalate').click()
    expect(panel).to_contain_text(f'{number} is escalated to Desktop L2.')
    expect(header).to_contain_text('Assigned')
    expect(header).to_contain_text('Desktop L2')
    expect(header.get_by_role('button', name='Accept')).to_have_count(0)  # no longer Sam's group
    expect(page.locator('#ticket-timeline')).to_contain_text('Certificate re-enrolment needs desktop L2.')
    screenshot(page, 'incidents-ticket-detail')

    # The L2 engineer accepts it from the group queue and completes it.
    sign_in_as(page, live_server, 'nina')
    page.goto(f'{live_server.url}/queues/')
    page.get_by_role('navigation', name='Queues').get_by_role('link', name=re.compile('Desktop L2')).click()
    expect(page.get_by_role('heading', name='Desktop L2')).to_be_visible()
    page.get_by_role('button', name=f'Take {number}').click()
    expect(page.get_by_role('alert').first).to_contain_text(f'You took {number}')
    page.goto(f'{live_server.url}/tickets/{number}/')
    header = page.locator('#ticket-header')
    expect(header).to_contain_text('Nina Novak')
    header.get_by_role('link', name='Complete').click()
    panel = page.locator('#ticket-action-panel')
    panel.get_by_label('Resolution code').select_option(label='Solved (permanently)')
    panel.get_by_label('Resolution notes').fill('Re-enrolled the device certificate; VPN connects again.')
    panel.get_by_role('button', name='Complete').click()
    expect(panel).to_contain_text('is completed; the caller is asked to confirm.')
    expect(header).to_contain_text('Completed')
    expect(page.locator('#ticket-summary')).to_contain_text('Re-enrolled the device certificate')
    screenshot(page, 'incidents-ticket-completed')

    # The requester sees the public story only, and confirms.
    sign_in_as(page, live_server, 'robin')
    page.goto(f'{live_server.url}/portal/')
    expect(page.get_by_role('status').first).to_contain_text('waiting for your confirmation')
    screenshot(page, 'portal-home')
    page.get_by_role('link', name='Laptop cannot connect to the VPN').click()
    expect(page.get_by_role('heading', name='Is it solved?')).to_be_visible()
    expect(page.get_by_text('A colleague from desktop support will contact you today.')).to_be_visible()
    expect(page.get_by_text('Certificate on the laptop expired')).to_have_count(0)
    expect(page.get_by_text('Certificate re-enrolment needs desktop L2.')).to_have_count(0)
    screenshot(page, 'portal-ticket')
    page.get_by_role('button', name='Yes, it is solved').click()
    expect(page.get_by_role('status').first).to_contain_text(f'Thank you for confirming. {number} is closed.')
    expect(page.locator('.pc-state').first).to_have_text('Closed')
    assert Ticket.objects.get(number=number).state == 'closed'

    # Another person's ticket does not exist for the requester.
    other = Ticket.objects.exclude(caller=desk['robin']).first()
    response = page.goto(f'{live_server.url}/portal/{other.number}/')
    assert response.status == 404

    assert remote_requests(page) == []
    # The browser logs the two refusals the journey provoked on purpose (the escalation without a reason, the
    # other person's ticket), and nothing else.
    assert page.console_errors == [
        'Failed to load resource: the server responded with a status of 400 (Bad Request)',
        'Failed to load resource: the server responded with a status of 404 (Not Found)',
    ]


def test_agent_opens_a_ticket_with_a_live_priority_preview(live_server, page, desk):
    sign_in_as(page, live_server, 'sam')
    page.get_by_role('navigation', name='Main navigation').get_by_role('link', name='New ticket').click()
    expect(page.get_by_role('heading', name='New ticket')).to_be_visible()
    page.wait_for_load_state('load')  # htmx binds the caller box's suggestions once the page has loaded
    page.get_by_label('Caller', exact=True).fill('robi')
    expect(page.locator('#caller-options option')).to_have_count(1)
    page.get_by_label('Caller', exact=True).fill('robin')
    page.get_by_label('Short description').fill('Docking station does not charge')
    page.get_by_label('Category', exact=True).select_option(label='Hardware')
    expect(page.locator('#id_subcategory option', has_text='Laptop')).to_have_count(1)
    page.locator('#id_subcategory').select_option(label='Laptop')
    preview = page.locator('#priority-preview')
    expect(preview).to_contain_text('P3')
    page.get_by_label('Impact', exact=True).select_option('high')
    page.get_by_label('Urgency', exact=True).select_option('critical')
    expect(preview).to_contain_text('P1')
    screenshot(page, 'incidents-new-ticket')
    page.get_by_role('button', name='Open ticket').click()
    expect(page.get_by_role('heading', name='Docking station does not charge')).to_be_visible()
    expect(page.locator('#ticket-header')).to_contain_text('P1')
    expect(page.locator('#ticket-facts')).to_contain_text('Hardware › Laptop')

    page.get_by_role('navigation', name='Main navigation').get_by_role('link', name='Incidents', exact=True).click()
    expect(page.locator('#object-table tbody tr')).to_have_count(6)
    # The priority box suggests as one types; Enter turns the pick into a chip and applies it.
    page.get_by_label('Priority').fill('P1')
    page.get_by_label('Priority').press('Enter')
    expect(page.locator('#object-table tbody tr')).to_have_count(2)
    expect(page.locator('[data-pc-chip]')).to_contain_text('P1')
    screenshot(page, 'incidents-list')

    page.goto(f'{live_server.url}/priority-matrix/')
    expect(page.get_by_role('heading', name='Priority matrix')).to_be_visible()
    screenshot(page, 'incidents-priority-matrix')
    assert remote_requests(page) == []
    assert page.console_errors == []
