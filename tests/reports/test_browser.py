"""The SLA/KPI overview in Chromium: charts drawn from the local Chart.js, a KPI and a chart bar drilling down
to the tickets behind them, the team dashboard and an agent's own page. Screenshots go to
test-artifacts/screenshots/reports-*.png."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from itsm.choices import Role
from itsm.models import SupportGroup
from reports import services
from tests.browser import login, remote_requests, screenshot
from tests.factories import make_user
from tests.sla.factories import frozen

from .scenario import NOW, build_desk

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = 'pitcrew-test-pw'
RANGE = 'from=2026-03-02&to=2026-03-08'


@pytest.fixture
def desk():
    world = build_desk()
    make_user(Role.MANAGER, username='mia', first_name='Mia', last_name='Manager')
    SupportGroup.objects.filter(pk=world.desk.pk).update(manager=world.alice)
    with frozen(NOW):
        services.rollup_refresh(now=NOW)
    return world


def chart_point(page, chart_id: str, dataset: int, index: int) -> tuple[float, float]:
    """Page coordinates of one bar or point of a drawn chart."""
    box = page.locator(f'#{chart_id}').bounding_box()
    x, y = page.evaluate(
        """([id, dataset, index]) => {
            const element = document.getElementById(id).chart.getDatasetMeta(dataset).data[index];
            const props = element.getProps(['x', 'y', 'base'], true);
            return [props.x, props.base !== undefined ? (props.y + props.base) / 2 : props.y];
        }""",
        [chart_id, dataset, index],
    )
    return box['x'] + x, box['y'] + y


def test_overview_charts_and_drill_down(live_server, page, desk):
    login(page, live_server, 'mia', PASSWORD)
    page.goto(f'{live_server.url}/reports/?{RANGE}')
    expect(page.get_by_role('heading', name='SLA/KPI overview')).to_be_visible()
    mttr = page.locator('.pc-kpi[data-measure="mttr"]')
    expect(mttr).to_contain_text('11.25')
    expect(mttr).to_contain_text('4 tickets')
    for chart in ('chart-volume', 'chart-mttr', 'chart-sla', 'chart-answer', 'chart-priority', 'chart-backlog'):
        assert page.evaluate(f"!!document.getElementById('{chart}').chart"), f'{chart} was not drawn'
    # Axes carry their units.
    titles = page.evaluate("document.getElementById('chart-mttr').chart.options.scales.y.title.text")
    assert titles == 'Hours from opened to completed (h)'
    # The definition is one hover away.
    mttr.get_by_role('button', name=re.compile('What MTTR means')).hover()
    expect(page.get_by_role('tooltip')).to_contain_text('Mean time to resolve')
    screenshot(page, 'reports-overview')
    assert not page.console_errors, page.console_errors
    assert remote_requests(page) == []

    # A KPI drills down to the tickets behind it.
    mttr.locator('a.pc-kpi-value').click()
    expect(page).to_have_url(re.compile(r'/reports/tickets/\?.*measure=mttr'))
    expect(page.get_by_role('heading', name='MTTR')).to_be_visible()
    expect(page.locator('tbody tr')).to_have_count(4)
    expect(page.locator('#drill-scope')).to_contain_text('4 tickets')
    screenshot(page, 'reports-drilldown-mttr')

    # So does a bar: the completed tickets of 2 March (two of them).
    page.go_back()
    page.locator('#chart-volume').scroll_into_view_if_needed()
    x, y = chart_point(page, 'chart-volume', 1, 0)
    page.mouse.click(x, y)
    expect(page).to_have_url(re.compile(r'measure=volume.*part=completed|part=completed.*measure=volume'))
    expect(page.locator('tbody tr')).to_have_count(2)
    screenshot(page, 'reports-drilldown-bar')


def test_empty_overview(live_server, page, desk):
    login(page, live_server, 'mia', PASSWORD)
    page.goto(f'{live_server.url}/reports/?from=2025-01-01&to=2025-01-31')
    expect(page.get_by_text('Nothing to chart for these filters and dates.').first).to_be_visible()
    screenshot(page, 'reports-overview-empty')
    assert not page.console_errors, page.console_errors


def test_team_and_agent_pages(live_server, page, desk):
    login(page, live_server, 'alice', PASSWORD)
    page.goto(f'{live_server.url}/reports/teams/{desk.desk.pk}/?{RANGE}')
    expect(page.get_by_role('heading', name='Service Desk')).to_be_visible()
    expect(page.locator('#agents tbody tr')).to_have_count(1)
    screenshot(page, 'reports-team')
    page.locator('#agents tbody a', has_text='Alice Agent').first.click()
    expect(page.get_by_role('heading', name='My KPIs')).to_be_visible()
    expect(page.get_by_role('heading', name='Key result areas')).to_be_visible()
    screenshot(page, 'reports-agent')
    assert not page.console_errors, page.console_errors
