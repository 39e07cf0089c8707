"""The Content-Security-Policy holds on the pages people use: Chromium opens them over the demo data and no page
reports a violation (an inline script or style, eval, anything loaded from elsewhere), while htmx, the charts and
the server-computed sizes still work."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from itsm.demo import DEMO_PASSWORD
from tests.browser import login, switch_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WATCH = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`);
});
"""


def staff_pages() -> list[str]:
    from cmdb.models import ConfigurationItem
    from hypercare.models import HypercarePeriod
    from incidents.models import Ticket
    from knowledge.models import Article
    from major_incidents.models import MajorIncident
    from oncall.models import OnCallSchedule
    from problems.models import Problem

    ticket = Ticket.objects.filter(sla_clocks__isnull=False).order_by('pk').first()
    article = Article.objects.order_by('pk').first()
    return [
        '/',
        '/queues/',
        ticket.get_absolute_url(),
        '/incidents/new/',
        '/reports/',
        ConfigurationItem.objects.filter(ci_class='service').order_by('pk').first().get_absolute_url(),
        ConfigurationItem.objects.filter(ci_class='service').order_by('pk').first().get_absolute_url() + 'map/',
        Problem.objects.order_by('pk').first().get_absolute_url(),
        '/problems/candidates/',
        article.get_absolute_url(),
        '/knowledge/dashboard/',
        article.get_absolute_url() + 'compare/',
        MajorIncident.objects.order_by('pk').first().get_absolute_url(),
        '/changes/calendar/',
        '/sla/clocks/',
        OnCallSchedule.objects.order_by('pk').first().get_absolute_url(),
        HypercarePeriod.objects.order_by('pk').first().get_absolute_url(),
        '/inbox/',
        '/oncall/',
        '/profile/',
        '/admin/',
        '/status/',
    ]


def test_no_page_reports_a_policy_violation(page, live_server):
    call_command('load_demo_data', stdout=open('/dev/null', 'w'))  # noqa: SIM115
    pages = staff_pages()
    # Every answer carries the policy (a page that loses it would pass the browser check below vacuously).
    client = Client()
    client.login(username='admin', password=DEMO_PASSWORD)
    for path in pages:
        response = client.get(path, follow=True)
        assert response.status_code == 200, path
        assert "script-src 'self'" in response['Content-Security-Policy'], path

    page.add_init_script(WATCH)
    login(page, live_server, 'admin', DEMO_PASSWORD)
    seen = {}
    for path in pages:
        page.goto(f'{live_server.url}{path}')
        page.wait_for_load_state('networkidle')
        seen[path] = page.evaluate('window.__cspViolations')
    # The server-computed sizes reached the page through data-pc-style (an SLA bar has a width).
    page.goto(f'{live_server.url}{pages[2]}')
    page.wait_for_load_state('networkidle')
    widths = page.eval_on_selector_all('.progress-bar[data-pc-style]', 'bars => bars.map(bar => bar.style.width)')
    assert widths and all(width.endswith('%') for width in widths), widths

    switch_person(page, live_server, 'requester', DEMO_PASSWORD)
    for path in ('/portal/', '/knowledge/help/'):
        page.goto(f'{live_server.url}{path}')
        page.wait_for_load_state('networkidle')
        seen[path] = page.evaluate('window.__cspViolations')

    assert {path: found for path, found in seen.items() if found} == {}
    assert [error for error in page.console_errors if 'Content Security Policy' in error] == []
