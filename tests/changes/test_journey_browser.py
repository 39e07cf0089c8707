"""A normal change from its draft to its closure in a real browser, as each person sees it.

An engineer drafts a normal change on the payroll server → the risk card shows the open incident on Payroll, the
service that depends on it, and the rule that raises the risk → the change manager assesses it and sends it to the
CAB → the CAB members vote in the meeting → the change manager schedules it and it shows on the change calendar → the
engineer records the passing tests, implements it and marks it done → the change manager reviews and closes it.
"""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from changes.choices import ChangeState, RiskLevel, RiskSignal
from changes.models import Cab, Change, RiskAnswer, RiskQuestion, RiskRule
from cmdb.choices import CIClass, Environment, RelationshipType
from itsm.audit import Actor
from itsm.choices import Role, Tier
from tests.browser import remote_requests, screenshot, switch_person
from tests.changes.factories import clear_risk_data
from tests.cmdb.factories import link, make_ci, make_service
from tests.factories import SupportGroupFactory, make_ticket, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = 'pitcrew-test-pw'


@pytest.fixture
def desk():
    """Payroll depends on the payroll app, which runs on srv-pay (production); an incident is open on Payroll. A CAB
    of two members (a majority approves), a meeting tomorrow morning, a one-question questionnaire and a rule: an open
    incident on what a change touches makes it high risk."""
    erin = make_user(Role.L2_ENGINEER, username='erin', first_name='Erin', last_name='Engineer')
    make_user(Role.CHANGE_MANAGER, username='max', first_name='Max', last_name='Manager')
    carol = make_user(Role.CAB_MEMBER, username='carol', first_name='Carol', last_name='Cab')
    cal = make_user(Role.CAB_MEMBER, username='cal', first_name='Cal', last_name='Cab')
    SupportGroupFactory(name='Platform', tier=Tier.L2, members=[erin])
    payroll = make_service('Payroll').ci
    app = make_ci(CIClass.APPLICATION, name='Payroll app', environment=Environment.PRODUCTION)
    server = make_ci(CIClass.SERVER, name='srv-pay', environment=Environment.PRODUCTION)
    link(app, RelationshipType.RUNS_ON, server)
    link(payroll, RelationshipType.DEPENDS_ON, app)
    incident = make_ticket(short_description='Payslips are not generated', service=payroll)

    clear_risk_data()
    question = RiskQuestion.objects.create(position=10, text='Has this been done before?')
    RiskAnswer.objects.create(question=question, position=10, label='Yes, often', score=0)
    RiskAnswer.objects.create(question=question, position=20, label='Never', score=4)
    RiskRule.objects.create(
        name='Incidents open on what it touches', signal=RiskSignal.OPEN_INCIDENTS, threshold=1, raise_to=RiskLevel.HIGH
    )

    from changes.cab import meeting_create

    cab = Cab.objects.create(name='Change advisory board', policy='majority')
    cab.members.set([carol, cal])
    start = timezone.localtime() + dt.timedelta(days=2)
    start = start.replace(hour=10, minute=0, second=0, microsecond=0)
    manager = Actor(user=make_user(Role.CHANGE_MANAGER, username='mona'), channel='ui')
    meeting = meeting_create(
        actor=manager,
        cab=cab,
        starts_at=start - dt.timedelta(days=1),
        window_start=start - dt.timedelta(days=1),
        window_end=start + dt.timedelta(days=7),
    )
    return {'server': server, 'payroll': payroll, 'incident': incident, 'start': start, 'meeting': meeting}


def sign_in_as(page, live_server, username):
    switch_person(page, live_server, username, PASSWORD)
    expect(page.locator('#user-menu')).to_contain_text(username)


def run_action(page, name: str, fields: dict[str, str] | None = None, *, done: str, select=None, check=()) -> None:
    """Open an action of the change page in its panel, fill it and submit it (htmx, no reload)."""
    page.locator('#change-header').get_by_role('link', name=name, exact=True).click()
    panel = page.locator('#change-action-panel')
    expect(panel.get_by_role('button', name=name, exact=True)).to_be_visible()
    for label, value in (fields or {}).items():
        panel.get_by_label(label, exact=True).fill(value)
    for label, value in (select or {}).items():
        panel.get_by_label(label, exact=True).select_option(value)
    for label in check:  # radio buttons drawn as a select group: the label takes the click
        panel.get_by_text(label, exact=True).click()
        expect(panel.get_by_label(label, exact=True)).to_be_checked()
    panel.get_by_role('button', name=name, exact=True).click()
    expect(panel).to_contain_text(done)


def local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime('%Y-%m-%dT%H:%M')


def test_normal_change_from_draft_to_closure(live_server, page, desk):
    start = desk['start']

    # The engineer drafts a normal change on the payroll server.
    sign_in_as(page, live_server, 'erin')
    page.goto(f'{live_server.url}/changes/new/')
    page.get_by_label('Type').select_option('normal')
    page.get_by_label('Short description').fill('Patch the payroll server kernel')
    page.get_by_label('Configuration items').fill(desk['server'].number)
    page.get_by_label('Planned start').fill(local(start))
    page.get_by_label('Planned end').fill(local(start + dt.timedelta(hours=2)))
    page.get_by_label('Justification').fill('The running kernel is out of support.')
    page.get_by_label('Implementation plan').fill('Drain the payroll app, patch, reboot, re-enable.')
    page.get_by_label('Backout plan').fill('Boot the previous kernel from the boot menu.')
    page.get_by_label('Test plan').fill('Run a test payroll for one employee.')
    page.get_by_role('button', name='Create').click()
    expect(page.locator('#change-header')).to_contain_text('Patch the payroll server kernel')
    change = Change.objects.get(short_description='Patch the payroll server kernel')
    assert change.state == ChangeState.DRAFT and change.environment == Environment.PRODUCTION

    # The risk card: the open incident on Payroll (reached downstream of the server), and why the risk is high.
    risk = page.get_by_test_id('change-risk')
    expect(risk.locator('[data-signal="open_incidents"]')).to_contain_text('Payslips are not generated')
    expect(risk.locator('[data-signal="open_incidents"]')).to_contain_text('on Payroll')
    expect(risk.locator('[data-signal="downstream_services"]')).to_contain_text('Payroll')
    expect(risk.get_by_test_id('risk-reasons')).to_contain_text(
        'Raised to High: 1 open incident on Payroll (rule "Incidents open on what it touches")'
    )
    incident_link = risk.get_by_role('link', name=f'{desk["incident"].number} Payslips are not generated')
    expect(incident_link).to_have_attribute('href', desk['incident'].get_absolute_url())
    # The engineer answers the questionnaire on the card.
    risk.get_by_label('Has this been done before?').select_option(label='Yes, often')
    risk.get_by_role('button', name='Save answers').click()
    expect(page.get_by_test_id('change-risk')).to_contain_text('1 of 1 answered')
    screenshot(page, 'change-journey-risk')
    run_action(page, 'Submit', done='is submitted for assessment')

    # The change manager assesses it (the risk is stored with its reasons) and asks the CAB.
    sign_in_as(page, live_server, 'max')
    page.goto(f'{live_server.url}{change.get_absolute_url()}')
    run_action(page, 'Assess', done='is assessed: risk high, route cab')
    expect(page.locator('#change-header')).to_contain_text('Risk: High')
    run_action(page, 'Request authorisation', done='awaits the authorisation of Change advisory board')

    # The change manager builds the meeting's agenda; both members vote to approve in the meeting.
    meeting_url = f'{live_server.url}{desk["meeting"].get_absolute_url()}'
    page.goto(meeting_url)
    page.get_by_test_id('build-agenda').click()
    expect(page.locator(f'#agenda-{change.number}')).to_be_visible()
    for member in ('carol', 'cal'):
        sign_in_as(page, live_server, member)
        page.goto(meeting_url)
        row = page.locator(f'#agenda-{change.number}')
        form = row.get_by_test_id('vote-form')
        form.get_by_text('Approve', exact=True).click()
        form.get_by_label('Comment').fill(f'{member}: fine with the backout plan.')
        form.get_by_role('button', name='Vote').click()
        expect(page.locator(f'#agenda-{change.number}')).to_contain_text('You voted approve')
    screenshot(page, 'change-journey-cab')
    change.refresh_from_db()
    assert change.authorized_at is not None

    # The change manager schedules it; it is on the change calendar.
    sign_in_as(page, live_server, 'max')
    page.goto(f'{live_server.url}{change.get_absolute_url()}')
    run_action(page, 'Schedule', done='is scheduled')
    page.goto(f'{live_server.url}/changes/calendar/list/?date={timezone.localtime(start).date().isoformat()}')
    entry = page.locator(f'#calendar-list tr[data-change="{change.number}"]')
    expect(entry).to_contain_text('Patch the payroll server kernel')
    expect(entry).to_contain_text('Scheduled')
    screenshot(page, 'change-journey-calendar')

    # The engineer records the passing tests, implements it and marks it done.
    sign_in_as(page, live_server, 'erin')
    page.goto(f'{live_server.url}{change.get_absolute_url()}')
    run_action(
        page,
        'Record tests',
        {'Test results': 'Test payroll for one employee: payslip correct.'},
        check=['Passed'],
        done='are recorded',
    )
    run_action(page, 'Start implementation', done='has started')
    run_action(page, 'Implementation done', done='awaits its review')

    # The change manager reviews and closes it with its outcome.
    sign_in_as(page, live_server, 'max')
    page.goto(f'{live_server.url}{change.get_absolute_url()}')
    run_action(
        page,
        'Close',
        {'Post-implementation review': 'Patched in the window; payroll ran the next morning.'},
        select={'Outcome': 'successful'},
        done='is closed',
    )
    change.refresh_from_db()
    assert (change.state, change.outcome) == (ChangeState.CLOSED, 'successful')
    screenshot(page, 'change-journey-closed')
    assert remote_requests(page) == []
