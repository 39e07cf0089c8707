"""Major-incident pages in Chromium: the list with an overdue update in red, and the record page with its cards;
previewing a template fills the update form, and posting it lists the update. Nothing leaves the machine."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from itsm.choices import Role
from major_incidents.choices import MajorIncidentState, UpdateAudience
from major_incidents.models import MajorIncident, MajorIncidentUpdate
from tests.browser import login, remote_requests, screenshot
from tests.factories import make_ticket, make_user
from tests.major_incidents.factories import (
    ChildFactory,
    UpdateTemplateFactory,
    make_major,
    make_public_service,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = 'pitcrew-test-pw'


@pytest.fixture
def major():
    manager = make_user(Role.INCIDENT_MANAGER, username='ines', first_name='Ines', last_name='Marsh')
    service = make_public_service('Student e-mail')
    major = make_major(
        MajorIncidentState.ASSESSMENT,
        services=[service],
        incident_manager=manager,
        priority=0,
        short_description='Student e-mail is down',
    )
    ChildFactory(major_incident=major, caller=make_user(first_name='Pia', last_name='Lund'))
    make_ticket(short_description='Webmail says 503', service=service)
    MajorIncident.objects.filter(pk=major.pk).update(next_update_due=timezone.now() - dt.timedelta(minutes=4))
    UpdateTemplateFactory(
        name='Investigating (internal)',
        audience=UpdateAudience.INTERNAL,
        subject='{number} under investigation',
        body='{title}: the team is on it.',
    )
    return major


def test_list_and_record_page(live_server, page, major):
    login(page, live_server, 'ines', PASSWORD)
    page.goto(f'{live_server.url}/major-incidents/')
    row = page.get_by_role('row').filter(has_text=major.number)
    expect(row).to_contain_text('Student e-mail is down')
    expect(row.locator('.pc-overdue')).to_be_visible()
    screenshot(page, 'major-incident-list')

    row.get_by_role('link', name=major.number).click()
    expect(page.get_by_role('heading', name='Student e-mail is down')).to_be_visible()
    expect(page.locator('#major-next-update')).to_contain_text('Overdue')
    expect(page.locator('#major-children')).to_contain_text('Pia Lund')
    expect(page.locator('#major-link-form')).to_contain_text('Webmail says 503')
    expect(page.locator('#major-impact')).to_contain_text('Student e-mail')
    expect(page.locator('#majorincident-facts')).to_contain_text('Ines Marsh')
    screenshot(page, 'major-incident')

    form = page.locator('#major-update-form')
    form.get_by_label('Template').select_option(label='Investigating (internal)')
    form.get_by_test_id('update-preview').click()
    expect(form.get_by_label('Subject')).to_have_value(f'{major.number} under investigation')
    expect(form.get_by_label('Text')).to_have_value('Student e-mail is down: the team is on it.')
    form.get_by_role('button', name='Post the update').click()
    expect(page.locator('#major-updates .major-update').first).to_contain_text('the team is on it.')
    assert MajorIncidentUpdate.objects.filter(major_incident=major, audience=UpdateAudience.INTERNAL).count() == 1
    assert remote_requests(page) == []
    assert page.console_errors == []


def test_declare_from_an_incident(live_server, page):
    manager = make_user(Role.INCIDENT_MANAGER, username='ines', first_name='Ines', last_name='Marsh')
    service = make_public_service('Payroll')
    incident = make_ticket(short_description='Payroll will not open', service=service)
    login(page, live_server, 'ines', PASSWORD)
    page.goto(f'{live_server.url}/major-incidents/declare/?incident={incident.number}')
    expect(page.locator('#major-declare-source')).to_contain_text(incident.number)
    expect(page.get_by_label('Short description')).to_have_value('Payroll will not open')
    expect(page.get_by_label('Priority')).to_have_value('1')
    expect(page.get_by_label('Incident manager')).to_have_value(str(manager.pk))
    page.get_by_label('Public title').fill('Payroll unavailable')
    screenshot(page, 'major-incident-declare')
    page.get_by_role('button', name='Declare', exact=True).click()
    expect(page.get_by_role('heading', name='Payroll will not open')).to_be_visible()
    major = MajorIncident.objects.get(source_incident=incident)
    expect(page.locator('#major-children')).to_contain_text(incident.number)
    assert major.public_title == 'Payroll unavailable'
    assert list(major.services.all()) == [service]
    assert (major.priority, major.incident_manager) == (1, manager)
    assert remote_requests(page) == []
    assert page.console_errors == []
