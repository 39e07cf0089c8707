"""Playwright fixtures: Debian's Chromium driven against pytest-django's `live_server`.

`browser` is one Chromium per test session; `page` is a fresh context (no cookies) per test. Pages record every
request they make in `page.requests`, so a test can assert that nothing left the machine. Screenshots go to
`test-artifacts/screenshots/<name>.png`.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.servers import wait_for_live_server_requests

CHROMIUM = os.environ.get('CHROMIUM_PATH', '/usr/bin/chromium')
CHROMIUM_ARGS = [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
]
SCREENSHOTS = Path(__file__).resolve().parent.parent / 'test-artifacts' / 'screenshots'
LOOPBACK_HOSTS = {'localhost', '127.0.0.1', '::1', '[::1]'}

os.environ.setdefault('DJANGO_ALLOW_ASYNC_UNSAFE', 'true')


@pytest.fixture(scope='session')
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f'Chromium is not installed at {CHROMIUM} (apt-get install chromium)')
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={'width': 1440, 'height': 900}, locale='en-US')
    context.set_default_timeout(10_000)
    new_page = context.new_page()
    new_page.requests = []
    new_page.console_errors = []
    new_page.on('request', lambda request: new_page.requests.append(request.url))
    new_page.on('console', lambda message: message.type == 'error' and new_page.console_errors.append(message.text))
    yield new_page
    context.close()
    wait_for_live_server_requests()


def login(page, live_server, username: str, password: str) -> None:
    """Sign in through the login form and wait for the page that follows."""
    page.goto(f'{live_server.url}/login/')
    page.get_by_label('Username').fill(username)
    page.get_by_label('Password').fill(password)
    with page.expect_navigation():
        page.get_by_role('button', name='Sign in').click()


def switch_person(page, live_server, username: str, password: str) -> None:
    """Sign out whoever the page was and sign in as `username`: leave the last page, let the live server finish
    what it left in flight (a late answer would set its cookies again), clear the cookies, log in."""
    page.goto('about:blank')
    wait_for_live_server_requests()
    page.context.clear_cookies()
    login(page, live_server, username, password)


def settled(page) -> None:
    """Wait until nothing on the page is still loading (`aria-busy`: a record's related records and SLA panel, which
    arrive after the page, or the dependency map)."""
    from playwright.sync_api import expect

    expect(page.locator('[aria-busy="true"]')).to_have_count(0)


def screenshot(page, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot as test-artifacts/screenshots/<name>.png, once the page has settled, and return its path."""
    settled(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f'{name}.png'
    page.screenshot(path=str(path), full_page=full_page)
    return path


def remote_requests(page) -> list[str]:
    """Requests the page made to anything but this machine (data: and blob: URLs are local)."""
    remote = []
    for url in page.requests:
        parts = urlsplit(url)
        if parts.scheme in ('data', 'blob', 'about'):
            continue
        if (parts.hostname or '') not in LOOPBACK_HOSTS and not (parts.hostname or '').startswith('127.'):
            remote.append(url)
    return remote
