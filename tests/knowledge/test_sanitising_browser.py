"""An article whose body carries script payloads is published and opened in Chromium: nothing in it runs."""

import pytest

from itsm.choices import Role
from knowledge.models import Article
from tests.browser import login, remote_requests
from tests.factories import make_user
from tests.knowledge.factories import ArticleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = 'pitcrew-test-pw'

# The image's source answers, but is no image: it fails to decode, which would fire `onerror` were it kept.
HOSTILE_BODY = """## Looks harmless

<script>alert('script')</script>

<img src="/static/pitcrew/records/records.js" onerror="alert('onerror')" alt="Not an image">

<body onload="alert('onload')"><svg onload="alert('svg')"></svg></body>

[Reset your password](javascript:alert('link'))

<a href="javascript:alert('anchor')" id="raw-anchor">Raw anchor</a>

<iframe src="javascript:alert('iframe')"></iframe>

<style>body { display: none; }</style>

<div style="background:url(javascript:alert('style'))">Styled</div>

Last line of the steps.
"""


@pytest.fixture
def hostile():
    make_user(Role.SERVICE_DESK_AGENT, username='sam', first_name='Sam', last_name='Agent')
    return ArticleFactory(state='published', audience='everyone', title='Hostile article', body=HOSTILE_BODY)


def test_hostile_body_runs_nothing(live_server, page, hostile):
    dialogs = []
    page.on('dialog', lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    login(page, live_server, 'sam', PASSWORD)
    page.goto(f'{live_server.url}/knowledge/{hostile.number}/')
    page.wait_for_load_state('load')
    body = page.locator('#article-body')
    assert 'Last line of the steps.' in body.inner_text()
    page.wait_for_timeout(300)

    assert dialogs == []
    assert body.locator('img').count() == 1  # kept, so a handler left on it would have fired
    assert body.locator('script, iframe, style, svg, body').count() == 0
    handlers = body.evaluate(
        """element => [...element.querySelectorAll('*')].flatMap(
            node => [...node.attributes].map(a => a.name)).filter(name => name.startsWith('on') || name === 'style')"""
    )
    assert handlers == []
    hrefs = body.evaluate("element => [...element.querySelectorAll('a')].map(a => a.getAttribute('href') || '')")
    assert all(not href.strip().lower().startswith('javascript:') for href in hrefs), hrefs
    # Every script element of the page is the application's own (served from /static/), none from the body.
    sources = page.evaluate("() => [...document.scripts].map(s => s.getAttribute('src') || s.textContent)")
    assert not [s for s in sources if 'alert(' in s]
    assert page.console_errors == []
    assert remote_requests(page) == []
    assert Article.objects.get(pk=hostile.pk).view_count == 1
