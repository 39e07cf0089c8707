"""A major incident from a flood of incidents to the problem for its root cause, in a real browser, as each person
sees it.

A flood of incidents on one service → the incident manager sees the candidate banner and the candidate → declares
the major incident → the team is activated and two updates go out on the cadence, one public → an anonymous visitor
reads it on the status page → the incident manager declares the service restored and the child incidents complete →
the service owner and the business owner validate → the review is written with an action item → a problem is
opened for the root cause.
"""

import re

import pytest
from playwright.sync_api import expect

from cmdb.models import Service
from incidents.choices import TicketState
from itsm.choices import Role, Tier
from major_incidents.models import ActionItem, MajorIncident, MajorIncidentCandidate
from problems.models import Problem
from tests.browser import screenshot, switch_person
from tests.cmdb.factories import make_service
from tests.factories import SupportGroupFactory, make_ticket, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = 'pitcrew-test-pw'
FLOOD = 3
PUBLIC_TEXT = 'Student e-mail is down for everyone; we are restoring the mail relays.'
ROOT_CAUSE = 'The relay certificate expired and nobody was reminded.'
RESOLUTION = 'Renewed the relay certificate and restarted the mail relays.'


@pytest.fixture
def desk(settings):
    settings.MAJOR_CANDIDATE_FLOOD_COUNT = FLOOD
    settings.MAJOR_CANDIDATE_FLOOD_MINUTES = 15
    people = {
        'grace': make_user(Role.INCIDENT_MANAGER, username='grace', first_name='Grace', last_name='Manager'),
        'ted': make_user(Role.L2_ENGINEER, username='ted', first_name='Ted', last_name='Lead'),
        'cora': make_user(Role.SERVICE_DESK_AGENT, username='cora', first_name='Cora', last_name='Comms'),
        'victor': make_user(Role.SERVICE_OWNER, username='victor', first_name='Victor', last_name='Owner'),
        'hannah': make_user(Role.BUSINESS_OWNER, username='hannah', first_name='Hannah', last_name='Business'),
        'sam': make_user(Role.SERVICE_DESK_AGENT, username='sam', first_name='Sam', last_name='Agent'),
    }
    group = SupportGroupFactory(name='Service Desk', tier=Tier.L1, members=[people['sam']])
    service = make_service('Student e-mail', service_owner=people['victor'], business_owner=people['hannah'])
    Service.objects.filter(pk=service.pk).update(public=True, public_name='E-mail')
    # The flood, logged by callers through the incident services and taken on by the desk.
    incidents = [
        make_ticket(
            short_description=f'Cannot send e-mail ({n})',
            service=service.ci,
            state='accepted',
            group=group,
            agent=people['sam'],
        )
        for n in range(FLOOD)
    ]
    return {'people': people, 'service': service, 'incidents': incidents}


def sign_in_as(page, live_server, username):
    switch_person(page, live_server, username, PASSWORD)


def run_action(page, name: str, *, fill=None, select=None, done: str) -> None:
    """Open an action of the major-incident page in its panel, fill it and submit it."""
    page.locator('#majorincident-header').get_by_role('link', name=name, exact=True).click()
    panel = page.locator('#majorincident-action-panel')
    expect(panel.get_by_role('button', name=name, exact=True)).to_be_visible()
    for label, value in (select or {}).items():
        panel.get_by_label(label, exact=True).select_option(value)
    for label, value in (fill or {}).items():
        panel.get_by_label(label, exact=True).fill(value)
    panel.get_by_role('button', name=name, exact=True).click()
    expect(panel).to_contain_text(done)


def test_flood_to_declared_to_status_page_to_review_and_problem(live_server, page, browser, desk):
    people, incidents = desk['people'], desk['incidents']
    candidate = MajorIncidentCandidate.objects.get(reason='flood')
    assert candidate.incident_count == FLOOD

    # The incident manager sees the banner and the candidate, and declares from it.
    sign_in_as(page, live_server, 'grace')
    banner = page.get_by_test_id('page-banner')
    expect(banner).to_contain_text('1 major-incident candidate waiting')
    banner.get_by_role('link', name='Review it').click()
    page.get_by_role('link', name=re.compile('Many incidents on one service')).first.click()
    expect(page.get_by_test_id('candidate-incidents')).to_contain_text(incidents[0].number)
    page.get_by_test_id('declare-from-candidate').click()
    expect(page.get_by_role('heading', name='Declare a major incident')).to_be_visible()
    page.get_by_label('Short description').fill('Student e-mail down for everyone')
    page.get_by_label('Public title').fill('E-mail delivery failing')
    page.locator('form.pc-form button[type=submit]').first.click()
    expect(page.locator('#majorincident-header')).to_contain_text('Student e-mail down for everyone')
    major = MajorIncident.objects.get()
    assert set(major.child_links.values_list('incident_id', flat=True)) == {i.pk for i in incidents}
    screenshot(page, 'major-incident-declared')

    # The team is assembled; two updates go out on the cadence, the second one public.
    run_action(
        page,
        'Activate the response',
        select={'Tech lead': str(people['ted'].pk), 'Communications lead': str(people['cora'].pk)},
        done='active',
    )
    sign_in_as(page, live_server, 'cora')
    page.goto(f'{live_server.url}{major.get_absolute_url()}')
    run_action(
        page,
        'Post an update',
        select={'Audience': 'recipients', 'Status': 'identified'},
        fill={'Text': 'The mail relays lost quorum; the platform team is rebuilding them.'},
        done='Update posted',
    )
    run_action(
        page,
        'Post an update',
        select={'Audience': 'public', 'Status': 'identified'},
        fill={'Text': PUBLIC_TEXT},
        done='Update posted',
    )
    assert list(major.updates.values_list('on_time', flat=True)) == [True, True]

    # An anonymous visitor reads it on the status page.
    visitor = browser.new_context()
    try:
        public = visitor.new_page()
        public.goto(f'{live_server.url}/status/')
        expect(public.get_by_text('E-mail delivery failing').first).to_be_visible()
        expect(public.get_by_text(PUBLIC_TEXT).first).to_be_visible()
        screenshot(public, 'status-page-major-incident')
        public.goto('about:blank')
    finally:
        visitor.close()

    # The incident manager moves it on and declares the service restored: the children complete.
    sign_in_as(page, live_server, 'grace')
    page.goto(f'{live_server.url}{major.get_absolute_url()}')
    run_action(page, 'Assess the scope', done='assessment')
    run_action(page, 'Start the resolution', done='being resolved')
    run_action(page, 'Service restored', fill={'Resolution': RESOLUTION}, done='resolved')
    for incident in incidents:
        incident.refresh_from_db()
        assert incident.state == TicketState.COMPLETED, incident.number
    page.goto(f'{live_server.url}{incidents[0].get_absolute_url()}')
    expect(page.locator('body')).to_contain_text('Completed')

    # Both owners validate the restored service.
    for owner in ('victor', 'hannah'):
        sign_in_as(page, live_server, owner)
        page.goto(f'{live_server.url}{major.get_absolute_url()}')
        run_action(page, 'Validate the service', done='validation')
    assert major.validations.count() == 2

    # The review, with an action item, and a problem for the root cause.
    sign_in_as(page, live_server, 'grace')
    page.goto(f'{live_server.url}{major.get_absolute_url()}')
    page.locator('#major-review-link').click()
    page.get_by_role('button', name='Start the review').click()
    expect(page.get_by_role('heading', name=f'Edit the review of {major.number}')).to_be_visible()
    page.get_by_label('Root cause').fill(ROOT_CAUSE)
    page.get_by_label('What went well').fill('The flood was seen within minutes.')
    page.get_by_label('How well the process was followed').select_option('4')
    page.get_by_role('button', name='Save the review').click()
    expect(page.get_by_test_id('root-cause')).to_contain_text(ROOT_CAUSE)
    page.get_by_role('link', name='Add an action item').click()
    page.get_by_label('Description').fill('Alert 30 days before any certificate expires')
    page.get_by_label('Owner').select_option(str(people['ted'].pk))
    page.get_by_label('Due date').fill('2099-01-31')
    page.get_by_role('button', name='Add the action item').click()
    expect(page.get_by_test_id('action-item')).to_contain_text('Alert 30 days before any certificate expires')
    assert ActionItem.objects.get().owner == people['ted']
    page.get_by_role('button', name='Open a problem for the root cause').click()
    problem = Problem.objects.get()
    expect(page.get_by_test_id('review-problem')).to_contain_text(problem.number)
    assert set(problem.incident_links.values_list('incident_id', flat=True)) == {i.pk for i in incidents}
    expect(page.locator('#review-timeline')).to_contain_text(incidents[0].number)
    screenshot(page, 'major-incident-review')

    # The dashboard counts it, charts it and the action item is listed with its owner.
    page.goto(f'{live_server.url}/major-incidents/dashboard/?days=30')
    expect(page.locator('[data-measure="major_incidents"] .h1')).to_have_text('1')
    expect(page.locator('#chart-major-incidents')).to_be_visible()
    page.goto(f'{live_server.url}/major-incidents/action-items/?view=all')
    expect(page.get_by_test_id('action-item-row')).to_contain_text('Ted Lead')
    assert not page.console_errors, page.console_errors
