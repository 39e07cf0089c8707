"""No page crashes: every role signs in and follows every same-site link it is shown.

The crawl starts from the home page (whose navigation menu lists every area the role may open), the requester
portal and one record of each kind (the demo data, plus a record made by the model's own page tests for kinds the
demo leaves empty). It follows every `href` breadth-first and fetches the fragments pages load with htmx
(`hx-get`) as htmx does, one address per view and set of query parameter names, at most two per view.

It fails on any 5xx answer, on any exception a page raises (a missing filter argument such as
`default:record.get_status_display` is one: Django raises VariableDoesNotExist for it), on any printed template
variable that names an attribute its object lacks, and on a link shown to a role that answers 403 for it.
Templates render in debug mode during the crawl, so a template error names its template and line. The pages the
crawl starts from may answer 403 or 404 (a role that may not open them): those are logged, not failures.
"""

from __future__ import annotations

import contextvars
import importlib
import pkgutil
import shutil
import tempfile
import time
import traceback
import uuid
from collections import Counter, deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from unittest import mock
from urllib.parse import urldefrag, urljoin, urlsplit

from django.apps import apps
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.signals import request_finished
from django.db import close_old_connections
from django.template import TemplateSyntaxError
from django.template.base import FilterExpression, Variable, VariableDoesNotExist
from django.template.context import BaseContext
from django.test import override_settings
from django.urls import Resolver404, resolve

import tests
from cmdb.models import ConfigurationItem
from incidents.models import Ticket
from itsm.audit import Actor
from itsm.choices import Role
from itsm.conversation import attach
from itsm.models import User
from itsm.roles import PROJECT_APPS
from sla.choices import EventKind
from sla.models import ClockEvent, SlaClock
from tests.base import ItsmTestCase, ViewTestCases
from tests.cmdb.factories import make_service
from tests.factories import make_ticket, make_user

# Pages a crawl must not open: signing out ends the session, the admin site is Django's own.
SKIPPED_PREFIXES = ('/logout', '/admin/', settings.STATIC_URL, settings.MEDIA_URL)
# The same page again with other values adds little: one URL per view and set of query parameter names (a sort,
# a page, a filter), at most a few per view (other records, other filters). Starting pages are always opened.
VARIANTS_PER_PAGE = 1
VARIANTS_PER_VIEW = 2
MAX_PAGES_PER_ROLE = 300
START = '(start)'


class InvalidTemplateVariable(TemplateSyntaxError):
    pass


# Whether the variable being resolved is printed or filtered (`{{ x.y }}`, `{{ x.y|default:… }}`), where Django
# would quietly print '' for a failed lookup; tags that test a value (`{% if %}`, `{% for %}`) tolerate failures.
_printing = contextvars.ContextVar('printing', default=False)
_resolve_expression = FilterExpression.resolve
_resolve_variable = Variable.resolve


def _strict_expression(self, context, ignore_failures=False):
    token = _printing.set(not ignore_failures)
    try:
        return _resolve_expression(self, context, ignore_failures)
    finally:
        _printing.reset(token)


def _strict_variable(self, context):
    """Raise when a printed variable names an attribute or key its object lacks.

    A name missing from the context altogether (`{{ search_query|default:'' }}` on a page that sets none) is the
    usual way templates treat optional context, and an attribute of nothing (`{{ ticket.assignee.email }}`
    without an assignee) prints ''. A failed lookup on an object that exists (`{{ record.get_status_display }}` on
    a ticket) is a mistake in the template.
    """
    try:
        return _resolve_variable(self, context)
    except VariableDoesNotExist as error:
        if _printing.get() and len(error.params) == 2:
            bit, current = error.params
            if not isinstance(current, BaseContext) and current is not None:
                raise InvalidTemplateVariable(
                    f'{{{{ {self.var} }}}}: {type(current).__name__} has no attribute or key "{bit}"'
                ) from None
        raise


STRICT_TEMPLATES = [
    {**settings.TEMPLATES[0], 'OPTIONS': {**settings.TEMPLATES[0]['OPTIONS'], 'debug': True}},
]


@contextmanager
def strict_templates():
    """Templates in debug mode (errors name their template and line) that raise on invalid variables."""
    with (
        override_settings(TEMPLATES=STRICT_TEMPLATES),
        mock.patch.object(FilterExpression, 'resolve', _strict_expression),
        mock.patch.object(Variable, 'resolve', _strict_variable),
    ):
        yield


class LinkParser(HTMLParser):
    """Links (`<a href>`) and the fragments htmx loads (`hx-get` on any element), as (address, is_fragment)."""

    def __init__(self):
        super().__init__()
        self.links: list[tuple[str, bool]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == 'a' and attrs.get('href'):
            self.links.append((attrs['href'], False))
        if attrs.get('hx-get'):
            self.links.append((attrs['hx-get'], True))


def same_site_links(html: str, base: str) -> list[tuple[str, bool]]:
    parser = LinkParser()
    parser.feed(html)
    links = []
    for href, fragment in parser.links:
        href = urldefrag(href.strip())[0]
        if not href or href.startswith(('mailto:', 'tel:', 'javascript:', 'data:')):
            continue
        parts = urlsplit(href)
        if parts.scheme or parts.netloc:
            if parts.netloc not in ('testserver', ''):
                continue
            href = parts.path + (f'?{parts.query}' if parts.query else '')
        elif not href.startswith('/'):
            href = urljoin(base, href)
        links.append((href, fragment))
    return links


def page_key(url: str) -> tuple:
    """Which page a URL opens: its view and the names of its query parameters (not their values)."""
    parts = urlsplit(url)
    try:
        match = resolve(parts.path)
    except Resolver404:
        return (parts.path, ())
    keys = tuple(sorted({pair.split('=', 1)[0] for pair in parts.query.split('&') if pair}))
    return (match.view_name, keys)


@dataclass
class CrawlReport:
    role: str
    visited: int = 0
    failures: list[str] = field(default_factory=list)
    forbidden: list[tuple[str, str]] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)


def crawl(client, role: str, start: list[str]) -> CrawlReport:
    report = CrawlReport(role)
    queue = deque((url, START, False) for url in start)
    seen: set[tuple[str, bool]] = set()
    variants: Counter = Counter()
    while queue and report.visited < MAX_PAGES_PER_ROLE:
        url, referrer, fragment = queue.popleft()
        if (url, fragment) in seen or urlsplit(url).path.startswith(SKIPPED_PREFIXES):
            continue
        seen.add((url, fragment))
        key = (*page_key(url), fragment)
        if referrer != START and (variants[key] >= VARIANTS_PER_PAGE or variants[key[0]] >= VARIANTS_PER_VIEW):
            continue
        variants[key] += 1
        variants[key[0]] += 1
        report.visited += 1
        what = f'{url} ({"htmx fragment " if fragment else ""}linked from {referrer})'
        try:
            response = client.get(url, headers={'HX-Request': 'true'} if fragment else {})
        except Exception as error:
            report.failures.append(f'{role}: {what} raised {"".join(traceback.format_exception_only(error)).strip()}')
            continue
        if response.status_code >= 500:
            report.failures.append(f'{role}: {what} answered {response.status_code}')
        elif response.status_code == 403:
            report.forbidden.append((url, referrer))
        elif response.status_code == 404:
            report.missing.append((url, referrer))
        elif response.status_code in (301, 302, 303, 307, 308):
            queue.append((response['Location'], url, False))
        elif response.streaming:
            b''.join(response.streaming_content)
        elif response.status_code == 200 and 'html' in response.get('Content-Type', ''):
            for link, is_fragment in same_site_links(response.content.decode(errors='replace'), url):
                if (link, is_fragment) not in seen:
                    queue.append((link, url, is_fragment))
        close_files(response)
    return report


def close_files(response) -> None:
    """Close what a response holds open (a downloaded file) as the test client leaves it. Without the
    request_finished signal: its connection clean-up would close the test's database connection, which is inside
    the test case's transaction (PostgreSQL then answers every later query with "connection already closed")."""
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def page_test_classes() -> dict[type, type]:
    """Each model's page tests (`ViewTestCases.ModelViewTestCase`), which know how to make one of its records."""
    for module in pkgutil.walk_packages(tests.__path__, prefix='tests.'):
        if module.name.rsplit('.', 1)[-1].startswith('test_'):
            importlib.import_module(module.name)
    return {sub.model: sub for sub in _all_subclasses(ViewTestCases.ModelViewTestCase) if getattr(sub, 'model', None)}


def record_url(obj) -> str:
    try:
        return obj.get_absolute_url()
    except Exception:
        return ''


class CrawlTests(ItsmTestCase):
    """One crawl per role over the demo data."""

    @classmethod
    def setUpTestData(cls):
        call_command('load_demo_data', stdout=open('/dev/null', 'w'))  # noqa: SIM115
        # A person holding only that role, for each role: what the role alone shows and allows.
        cls.people = {role: make_user(role, username=f'crawl-{role}') for role in Role.values}
        cls.people[Role.ADMINISTRATOR] = User.objects.get(username='admin')
        # An SLA breach as the sweep records it (the demo's clocks have not run long enough for one).
        clock = SlaClock.objects.order_by('pk').first()
        ClockEvent.objects.create(
            clock=clock, percent=100, kind=EventKind.BREACH, crossed_at=clock.started_at, claim=uuid.uuid4()
        )
        # A file on a ticket, stored in a folder of this test class.
        cls.media_root = tempfile.mkdtemp(prefix='crawl-media-')
        ticket = Ticket.objects.filter(service__isnull=False).order_by('pk').first()
        upload = SimpleUploadedFile('screen.png', b'\x89PNG\r\n\x1a\n' + b'0' * 64, content_type='image/png')
        with override_settings(MEDIA_ROOT=cls.media_root):
            attach(ticket, actor=Actor(user=cls.people[Role.ADMINISTRATOR], channel='ui'), upload=upload)
        # Kinds the demo leaves empty get a record from their own page tests.
        makers = page_test_classes()
        cls.unseeded = []
        for label in PROJECT_APPS:
            for model in apps.get_app_config(label).get_models():
                if model._default_manager.exists() or not hasattr(model, 'get_absolute_url'):
                    continue
                if model in makers:
                    makers[model]().make_object()
                else:
                    cls.unseeded.append(model._meta.label)
        # The requester's own ticket, so the portal has a conversation to show.
        cls.people[Role.REQUESTER].refresh_from_db()
        make_ticket(caller=cls.people[Role.REQUESTER], short_description='Laptop does not start')

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.media_root, ignore_errors=True)

    def start_urls(self) -> list[str]:
        urls = ['/', '/portal/']
        for label in PROJECT_APPS:
            for model in apps.get_app_config(label).get_models():
                obj = model._default_manager.order_by('pk').first()
                if obj is not None and (url := record_url(obj)):
                    urls.append(url)
        # The known crash: the page of a service CI that tickets name.
        ci = ConfigurationItem.objects.filter(pk__in=Ticket.objects.values('service')).first()
        urls.append(ci.get_absolute_url())
        return urls

    def crawl_as(self, role: str) -> CrawlReport:
        self.client.force_login(self.people[role])
        with strict_templates(), override_settings(MEDIA_ROOT=self.media_root):
            report = crawl(self.client, role, self.start_urls())
        for url, referrer in report.forbidden:
            print(f'403 {role}: {url} (linked from {referrer})')
        for url, referrer in report.missing:
            print(f'404 {role}: {url} (linked from {referrer})')
        return report

    def test_every_kind_of_record_has_a_starting_page(self):
        self.assertEqual(self.unseeded, [], 'kinds of record with no demo data and no page tests to make one')

    def test_strict_templates_catch_a_missing_attribute_and_a_missing_filter_argument(self):
        from django.template import engines

        ticket = Ticket.objects.first()
        with strict_templates():
            engine = engines['django']
            self.assertEqual(engine.from_string('{{ nothing|default:"" }}').render({}), '')
            with self.assertRaises(InvalidTemplateVariable):
                engine.from_string('{{ record.get_status_display }}').render({'record': ticket})
            # The crash of CI pages: a filter argument naming an attribute tickets lack.
            template = (
                '{% with state=record.get_state_display|default:record.get_status_display %}{{ state }}{% endwith %}'
            )
            with self.assertRaises((VariableDoesNotExist, InvalidTemplateVariable)):
                engine.from_string(template).render({'record': ticket})
            # Tags that test a value tolerate it, as Django does.
            self.assertEqual(engine.from_string('{% if record.x %}x{% endif %}').render({'record': ticket}), '')


class ServiceCIPageTests(ItsmTestCase):
    def test_the_page_of_a_service_ci_that_tickets_name_lists_them_with_their_state(self):
        service = make_service('Payroll')
        ticket = make_ticket(service=service.ci, short_description='Payslips are missing')
        self.client.force_login(self.make_user(Role.SERVICE_DESK_AGENT))
        with strict_templates():
            response = self.client.get(service.ci.get_absolute_url())
        self.assertHttpStatus(response, 200)
        self.assertContains(response, f'href="{ticket.get_absolute_url()}"')
        self.assertContains(response, f'<span class="badge bg-secondary-lt">{ticket.get_state_display()}</span>')


def _crawl_test(role: str):
    def test(self):
        started = time.monotonic()
        report = self.crawl_as(role)
        print(f'{role}: {report.visited} pages in {time.monotonic() - started:.1f} s')
        self.assertGreater(report.visited, 3, f'{role} reached almost nothing')
        self.assertEqual(report.failures, [], '\n'.join(report.failures))
        # A link a role is shown should open for that role (the pages the crawl starts from are not links).
        shown = [f'{url} (linked from {referrer})' for url, referrer in report.forbidden if referrer != START]
        self.assertEqual(shown, [], f'links shown to {role} that answer 403:\n' + '\n'.join(shown))

    test.__name__ = f'test_crawl_as_{role}'
    test.__doc__ = f'Every link a {Role(role).label} is shown opens without a crash.'
    return test


for _role in Role.values:
    setattr(CrawlTests, f'test_crawl_as_{_role}', _crawl_test(_role))
