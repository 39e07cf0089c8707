"""The dependency map in Chromium: it draws the CIs around a server, and the depth control redraws it."""

import pytest
from playwright.sync_api import expect

from cmdb.choices import CIClass
from itsm.choices import Role
from tests.browser import login, remote_requests, screenshot
from tests.factories import make_user

from .factories import link, make_ci, make_service

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = 'pitcrew-test-pw'


@pytest.fixture
def estate():
    """A server with what runs on it, what it needs, and the services above."""
    router = make_ci(CIClass.NETWORK_DEVICE, 'rtr-fra-01', status='in_production')
    lan = make_ci(CIClass.NETWORK_SEGMENT, 'LAN 2 – Data centre', status='in_production')
    san = make_ci(CIClass.STORAGE, 'san-fra-01', status='in_production')
    host = make_ci(CIClass.SERVER, 'esx-fra-01', status='maintenance')
    link(lan, 'connected_to', router)
    link(host, 'connected_to', lan)
    link(host, 'depends_on', san)
    shop = make_service(name='Webshop', status='degraded', criticality='critical').ci
    mail = make_service(name='Managed mail').ci
    for vm_name, apps in [('vm-web-01', ['Shop front end', 'Payments API']), ('vm-mail-01', ['Exchange'])]:
        vm = make_ci(CIClass.VIRTUAL_MACHINE, vm_name, status='in_production')
        link(vm, 'runs_on', host)
        for name in apps:
            app = make_ci(CIClass.APPLICATION, name, status='installed' if name == 'Payments API' else 'in_production')
            link(app, 'installed_on', vm)
            link(mail if name == 'Exchange' else shop, 'depends_on', app)
    db = make_ci(CIClass.DATABASE, 'orders-db', status='in_production')
    link(db, 'runs_on', host)
    make_user(Role.SERVICE_DESK_AGENT, username='sam', first_name='Sam', last_name='Agent')
    return host


def test_dependency_map_draws_and_changes_depth(live_server, page, estate):
    login(page, live_server, 'sam', PASSWORD)
    page.goto(f'{live_server.url}{estate.get_absolute_url()}')
    page.get_by_role('link', name='Dependency map').click()
    expect(page.get_by_role('heading', name='Dependency map of esx-fra-01')).to_be_visible()

    graph = page.locator('#dependency-map')
    status = page.locator('#map-status')
    # Depth 2: the server; LAN and SAN, the router behind the LAN; two VMs and the database, the three
    # applications on the VMs.
    expect(graph).to_have_attribute('data-loaded-depth', '2')
    expect(graph).to_have_attribute('data-node-count', '10')
    expect(status).to_have_text('10 CIs, 9 relationships')
    expect(graph.locator('canvas').first).to_be_visible()

    page.get_by_label('Depth').select_option('1')
    expect(graph).to_have_attribute('data-loaded-depth', '1')
    expect(graph).to_have_attribute('data-node-count', '6')
    expect(page).to_have_url(f'{live_server.url}/cmdb/cis/{estate.number}/map/?depth=1')

    page.get_by_label('Depth').select_option('3')
    expect(graph).to_have_attribute('data-node-count', '12')  # the two services join
    expect(status).to_have_text('12 CIs, 12 relationships')
    page.wait_for_timeout(300)  # let cytoscape finish painting before the picture
    path = screenshot(page, 'cmdb-dependency-map')
    assert path.exists() and path.stat().st_size > 10_000

    assert remote_requests(page) == []
    assert page.console_errors == []


def test_ci_and_service_pages_and_the_add_form(live_server, page, estate):
    make_user(Role.CHANGE_MANAGER, username='tom', first_name='Tom', last_name='Becker')
    login(page, live_server, 'tom', PASSWORD)
    page.goto(f'{live_server.url}{estate.get_absolute_url()}')
    expect(page.get_by_role('heading', name='Relationships')).to_be_visible()
    expect(page.get_by_test_id('impact-table')).to_contain_text('Webshop')
    # Upstream at depth 1: the LAN and the SAN only (htmx swaps the panel).
    page.get_by_label('Direction').select_option('upstream')
    expect(page.get_by_test_id('impact-table').locator('tbody tr')).to_have_count(3)
    page.get_by_label('Depth', exact=True).select_option('1')
    expect(page.get_by_test_id('impact-table').locator('tbody tr')).to_have_count(2)
    screenshot(page, 'cmdb-ci-detail')

    page.goto(f'{live_server.url}/cmdb/services/')
    page.get_by_role('link', name='Webshop').first.click()
    expect(page.get_by_test_id('raci-matrix')).to_be_visible()
    screenshot(page, 'cmdb-service-detail')

    # Choosing a class on the add form swaps in that class's attribute inputs.
    page.goto(f'{live_server.url}/cmdb/cis/add/')
    page.get_by_label('Class').select_option('database')
    expect(page.get_by_label('Engine')).to_be_visible()
    page.get_by_label('Name').fill('billing-db')
    page.get_by_label('Status').select_option('installed')
    page.get_by_label('Engine').select_option('postgresql')
    page.get_by_label('Port', exact=True).fill('5432')
    screenshot(page, 'cmdb-ci-add')
    page.get_by_role('button', name='Create configuration item').click()
    expect(page.get_by_role('heading', name='billing-db')).to_be_visible()
    expect(page.get_by_text('Engine postgresql Port 5432')).to_be_visible()
    assert remote_requests(page) == []
    assert page.console_errors == []
