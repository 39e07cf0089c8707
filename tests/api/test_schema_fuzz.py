"""Property-based fuzz of the whole OpenAPI schema: no operation answers 5xx, whatever input it gets.

The schema is the one `/api/v1/schema/` serves (drf-spectacular, generated in-process). Schemathesis generates
requests for every operation from it, valid input and input that breaks the schema (wrong types, missing fields,
values out of range), and sends them to the Django application in-process (WSGI, no server).

Path parameters name real records: the demo data is loaded once per test process (plus one record of each kind
the demo leaves empty, made by the model's own page tests), and for every `{number}`, `{id}` and the like the fuzz
reads the operation's own list as the person fuzzing, so most examples reach a record and the rest probe
numbers that do not exist. Each example runs in a savepoint that is rolled back, so a DELETE or a transition in
one example leaves the next the same data.

Checks run on every answer:
- `not_a_server_error`: no status >= 500 (a view's exception is shown with its traceback);
- `content_type_conformance`: an answer with a documented status has a documented content type;
- `documented_success_status`: a 2xx answer is one of the operation's documented 2xx statuses.
Not run: schemathesis' `status_code_conformance` (the schema documents the successful answers only, while
400/403/404/409 are the API's documented error conventions, README "The API", so it flags every refusal) and
`response_schema_conformance` (it reports where the generated schema is looser than the answers, not failures:
fields that may be null without `nullable`, blank choices, `time` values without an offset, and `comments/` and
`timeline/` documented as pages while they answer a list).

Each operation is one test item (its label is the id), run as an administrator and, with fewer examples, as a
requester; pytest-xdist shares the items between its workers, each of which loads the data once. Hypothesis is
derandomized (the same examples on every run) and bounded by `FUZZ_EXAMPLES`/`FUZZ_REQUESTER_EXAMPLES`.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field

import hypothesis
import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection, transaction
from django.test import override_settings
from drf_spectacular.generators import SchemaGenerator
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance

ADMIN_EXAMPLES = int(os.environ.get('FUZZ_EXAMPLES', '3'))
REQUESTER_EXAMPLES = int(os.environ.get('FUZZ_REQUESTER_EXAMPLES', '1'))
METHODS = ('get', 'post', 'put', 'patch', 'delete')
PARAMETER = re.compile(r'{(\w+)}')


def _schema():
    # The schema exactly as `/api/v1/schema/` serves it, as JSON (dates and decimals as their text).
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return schemathesis.openapi.from_dict(json.loads(json.dumps(generated, default=str)))


SCHEMA = _schema()
SCHEMA.app = WSGIHandler()
OPERATIONS = sorted((result.ok() for result in SCHEMA.get_all_operations()), key=lambda op: (op.path, op.method))


@schemathesis.check
def documented_success_status(ctx, response, case):
    """A successful answer has a status the operation documents (201 for a creation, 204 for a deletion...)."""
    documented = {code for code in case.operation.responses.status_codes if code.startswith('2')}
    if 200 <= response.status_code < 300 and documented and str(response.status_code) not in documented:
        raise AssertionError(f'answered {response.status_code}, documented {sorted(documented)}')


CHECKS = [not_a_server_error, content_type_conformance, documented_success_status]


# ------------------------------------------------------------------------------------------------ the data
@dataclass
class FuzzData:
    tokens: dict[str, str]
    # Real path parameter values per person: {username: {operation path: [{'number': 'INC0001001'}, ...]}}
    paths: dict[str, dict[str, list[dict[str, str]]]] = field(default_factory=dict)


@contextmanager
def in_process_requests():
    """Requests reach Django as a WSGI server would send them, but keep the test's connection and transaction
    (as Django's test client does), and a view's exception is kept for the failure message."""
    errors: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            if record.exc_info:
                errors.append(''.join(traceback.format_exception(*record.exc_info)))

    keep = Keep(level=logging.ERROR)
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    # Django logs a view's exception on `django.request`, the API's exception handler on `itsm.api.errors`.
    logging.getLogger().addHandler(keep)
    try:
        with override_settings(ALLOWED_HOSTS=['localhost']):
            yield errors
    finally:
        logging.getLogger().removeHandler(keep)
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _seed():
    from django.apps import apps

    from itsm.audit import Actor
    from itsm.models import User
    from itsm.roles import PROJECT_APPS
    from itsm.tokens import token_create
    from tests.factories import make_ticket
    from tests.itsm.test_crawl import page_test_classes

    call_command('load_demo_data', stdout=open(os.devnull, 'w'))  # noqa: SIM115
    makers = page_test_classes()
    tables = set(connection.introspection.table_names())
    for label in PROJECT_APPS:
        for model in apps.get_app_config(label).get_models():
            if model._meta.db_table in tables and model in makers and not model._default_manager.exists():
                makers[model]().make_object()
    requester = User.objects.get(username='requester')
    make_ticket(caller=requester, short_description='Laptop does not start')
    tokens = {}
    for username in ('admin', 'requester'):
        user = User.objects.get(username=username)
        tokens[username] = token_create(user=user, actor=Actor(user=user, channel='api'), name='Fuzz')[1]
    return FuzzData(tokens=tokens)


def _values(client, token: str, path: str, name: str, limit: int = 3) -> list[str]:
    """Up to `limit` values of `name` (or the record's number or id) in the list at `path`."""
    body = _listing(client, token, path, limit)
    items = body.get('results', body) if isinstance(body, dict) else body
    if not isinstance(items, list):
        return []
    values = []
    for item in items[:limit]:
        if not isinstance(item, dict):
            continue
        for key in (name, 'number', 'id', 'slug', 'name'):
            if item.get(key) not in (None, ''):
                values.append(str(item[key]))
                break
    return values


@functools.cache
def _listing(client, token: str, path: str, limit: int):
    """The first `limit` records of the list at `path` (each list is read once, whatever its actions)."""
    response = client.get(path, query_string={'page_size': limit}, headers={'Authorization': f'Bearer {token}'})
    return json.loads(response.get_data()) if response.status_code == 200 else []


def _real_parameters(client, token: str, path: str) -> list[dict[str, str]]:
    """Path parameter sets naming real records for `path`: each parameter from the list before it."""
    combos: list[dict[str, str]] = [{}]
    for match in PARAMETER.finditer(path):
        name = match.group(1)
        listing = path[: match.start()]
        found = []
        for combo in combos:
            prefix = listing.format(**combo)
            found += [{**combo, name: value} for value in _values(client, token, prefix, name)]
        combos = found[:3]
        if not combos:
            return []
    return combos


# The demo data stays loaded for the whole module: reference numbers go on from it until the module ends.
pytestmark = pytest.mark.module_data


@pytest.fixture(scope='module')
def fuzz_data(django_db_setup, django_db_blocker):
    """The demo data, loaded once per test process in a transaction rolled back after the module."""
    from schemathesis.python import wsgi

    with django_db_blocker.unblock(), transaction.atomic():
        data = _seed()
        client = wsgi.get_client(SCHEMA.app)
        with in_process_requests():
            for username, token in data.tokens.items():
                data.paths[username] = {
                    path: _real_parameters(client, token, path)
                    for path in {op.path for op in OPERATIONS}
                    if PARAMETER.search(path)
                }
        _listing.cache_clear()
        yield data
        transaction.set_rollback(True)


# ------------------------------------------------------------------------------------------------ the fuzz
def _strategy(operation, real: list[dict[str, str]]):
    """Valid and invalid requests for `operation`; three in four name a real record where there is one."""
    strategies = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        generated = operation.as_strategy(mode)
        if real:
            named = st.sampled_from(real).flatmap(
                lambda values, m=mode: operation.as_strategy(m, path_parameters=values)
            )
            strategies.append(st.one_of(named, named, named, generated))
        else:
            strategies.append(generated)
    return st.one_of(strategies)


def fuzz(operation, data: FuzzData, username: str, examples: int):
    headers = {'Authorization': f'Bearer {data.tokens[username]}'}
    real = data.paths[username].get(operation.path, [])
    if username != 'admin':
        real = real + data.paths['admin'].get(operation.path, [])

    @hypothesis.settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        print_blob=False,
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate, hypothesis.Phase.shrink],
    )
    @hypothesis.given(case=_strategy(operation, real))
    def run(case):
        with in_process_requests() as errors, transaction.atomic():
            response = case.call(headers=headers)
            transaction.set_rollback(True)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (AssertionError, BaseExceptionGroup) as failure:
            if not errors:
                raise
            found = '\n'.join(str(each) for each in getattr(failure, 'exceptions', [failure]))
            raise AssertionError(f'{found}\n\nThe view raised:\n{errors[-1]}') from None

    run()


@pytest.mark.django_db
@pytest.mark.parametrize('operation', OPERATIONS, ids=lambda op: f'{op.method.upper()} {op.path}')
def test_no_operation_answers_a_server_error_to_an_administrator(operation, fuzz_data):
    fuzz(operation, fuzz_data, 'admin', ADMIN_EXAMPLES)


@pytest.mark.django_db
@pytest.mark.parametrize('operation', OPERATIONS, ids=lambda op: f'{op.method.upper()} {op.path}')
def test_no_operation_answers_a_server_error_to_a_requester(operation, fuzz_data):
    fuzz(operation, fuzz_data, 'requester', REQUESTER_EXAMPLES)


def test_the_fuzz_covers_every_operation_of_the_schema():
    served = SchemaGenerator().get_schema(request=None, public=True)['paths']
    expected = {(method, path) for path, item in served.items() for method in item if method in METHODS}
    assert {(op.method, op.path) for op in OPERATIONS} == expected
    assert len(OPERATIONS) > 400


@pytest.mark.django_db
def test_the_fuzz_fails_on_a_server_error_and_shows_the_views_exception(fuzz_data, monkeypatch):
    from itsm.api.views import SupportGroupViewSet

    def broken(self, request, *args, **kwargs):
        raise RuntimeError('the list broke')

    monkeypatch.setattr(SupportGroupViewSet, 'list', broken)
    operation = next(op for op in OPERATIONS if (op.method, op.path) == ('get', '/api/v1/groups/'))
    with pytest.raises(AssertionError, match='RuntimeError: the list broke'):
        fuzz(operation, fuzz_data, 'admin', 1)
