"""Shared test base classes.

A model gets its CRUD, permission, timeline, filter and query-count tests by subclassing
`APITestCases.ModelAPITestCase` and `ViewTestCases.ModelViewTestCase` and declaring a few attributes.
`tests/test_model_coverage.py` fails for a model of ours that has neither.

What is written is read back from the database (`assertStored`), and every write is also tried by someone without
the right (`user_without`), whatever the declared roles: a refusal test never passes by not running.
Lifecycle actions of process records have their own generated tests: see `tests/workflow.py`.
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

from django.core.exceptions import FieldDoesNotExist
from django.db import connection, models
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse
from rest_framework.test import APIClient

from itsm.choices import Role, TimelineKind
from itsm.models import NumberedModel, TimelineEntry, User
from itsm.permissions import user_can

from .factories import make_user

_RELATED_SLOT = re.compile(r'<div id="[\w-]+-related" class="pc-related-slot" hx-get="(?P<url>[^"]+)"')
_OUT_OF_BAND = re.compile(r'<div id="(?P<id>[^"]+)"[^>]*\bhx-swap-oob="true"')


def _div_end(html: str, start: int) -> int:
    """Where the `<div>` opened at `start` closes (just past its `</div>`); our templates nest divs properly."""
    depth = 0
    for tag in re.finditer(r'<(/?)div\b[^>]*>', html[start:]):
        depth += -1 if tag.group(1) else 1
        if depth == 0:
            return start + tag.end()
    raise AssertionError(f'unclosed <div> at {start}')


def load_related(client, response):
    """`response` (a record page, or an htmx answer that swaps its facts) as the browser shows it once htmx has
    loaded what its related-records slot asks for (`records/_related_slot.html`): the slot replaced by the fragment,
    and each element the fragment sends out of band put in place of the page's element with its id. The fragment's
    own response is `response.related`. Fails when the page has no slot."""
    html = response.content.decode()
    slot = _RELATED_SLOT.search(html)
    assert slot is not None, 'the page has no related-records slot'
    related = client.get(slot.group('url').replace('&amp;', '&'), headers={'HX-Request': 'true'})
    assert related.status_code == 200, f'{slot.group("url")} answered {related.status_code}'
    fragment = related.content.decode()
    for oob in reversed(list(_OUT_OF_BAND.finditer(fragment))):
        element = fragment[oob.start() : _div_end(fragment, oob.start())]
        fragment = fragment[: oob.start()] + fragment[oob.start() + len(element) :]
        target = re.search(rf'<div id="{re.escape(oob.group("id"))}"', html)
        if target is not None:
            html = html[: target.start()] + element + html[_div_end(html, target.start()) :]
    slot = _RELATED_SLOT.search(html)
    html = html[: slot.start()] + fragment + html[_div_end(html, slot.start()) :]
    response.content = html.encode()
    response.related = related
    return response


class ItsmTestCase(TestCase):
    """Helpers every test class uses: people with roles, clients, status assertions that explain themselves."""

    def make_user(self, *roles: str, **kwargs):
        return make_user(*roles, **kwargs)

    def api_client(self, user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    def assertHttpStatus(self, response, expected: int):
        body = getattr(response, 'data', None)
        if body is None:
            content = response.content.decode(errors='replace')
            if 'form' in (response.context or {}) and response.context['form'] is not None:
                content = f'form errors: {response.context["form"].errors.as_json()}'
            body = content[:2000]
        self.assertEqual(
            response.status_code, expected, f'expected HTTP {expected}, got {response.status_code}: {body}'
        )

    def timeline(self, obj, kind: str | None = None):
        entries = TimelineEntry.objects.for_object(obj)
        return entries.filter(kind=kind) if kind else entries

    def count_queries(self, func) -> int:
        with CaptureQueriesContext(connection) as ctx:
            func()
        return len(ctx.captured_queries)


def _lookup_value(obj) -> Any:
    return obj.number if isinstance(obj, NumberedModel) else obj.pk


TRUE_INPUT = (True, 'on', 'true', 'True', '1', 1)


def _same_text(a: Any, b: Any) -> bool:
    return str(a).strip().casefold() == str(b).strip().casefold()


def _names_of(related) -> set[str]:
    """How input may name a related object: its key, username, name or number, or its display text."""
    names = {str(related.pk), str(related)}
    for attr in ('username', 'name', 'number'):
        value = getattr(related, attr, None)
        if value not in (None, ''):
            names.add(str(value))
    return {name.casefold() for name in names}


def _words(value: Any) -> list[str]:
    """The words of a value, however nested: input typed as text ("50, 75, 90") against the structure stored."""
    if isinstance(value, dict):
        return [w for item in value.values() for w in _words(item)]
    if isinstance(value, list | tuple):
        return [w for item in value for w in _words(item)]
    return str(value).replace(',', ' ').casefold().split() if value is not None else []


def _stores(obj, f, value: Any) -> bool:
    """Whether field `f` of `obj` holds the submitted `value` (as the form or serializer would have cleaned it)."""
    if f.many_to_many:
        stored = [_names_of(item) for item in getattr(obj, f.name).all()]
        wanted = [str(v).casefold() for v in (value if isinstance(value, list | tuple) else [value]) if v != '']
        return len(stored) == len(wanted) and all(any(w in names for names in stored) for w in wanted)
    if f.is_relation:
        related = getattr(obj, f.name)
        if value in (None, ''):
            return related is None
        return related is not None and str(value).casefold() in _names_of(related)
    stored = getattr(obj, f.attname)
    if f.name == 'password' and hasattr(obj, 'check_password'):
        return obj.check_password(value)
    if isinstance(f, models.BooleanField):
        return stored == (value in TRUE_INPUT)
    if isinstance(f, models.JSONField):
        return stored == value or sorted(_words(stored)) == sorted(_words(value))
    if f.choices and stored not in (None, '') and _same_text(dict(f.flatchoices).get(stored, ''), value):
        return True  # input by label ('P2' for 2)
    if value in (None, '') and stored in (None, ''):
        return True
    try:
        wanted = f.to_python(value)
    except Exception:  # noqa: BLE001 - a value the field cannot read is not what it stores
        return False
    if isinstance(stored, str) and isinstance(wanted, str):
        return _same_text(stored, wanted)  # services normalise case and spacing ('fr' → 'FR')
    return stored == wanted


def stored_mismatches(obj, data: dict[str, Any]) -> tuple[list[str], int]:
    """Compare submitted input with what `obj` holds in the database.

    Returns (the fields whose stored value differs, how many fields could be compared). Keys that are not model
    fields (write-only input such as a reason) are not compared.
    """
    obj = type(obj)._base_manager.get(pk=obj.pk)
    mismatches, compared = [], 0
    for name, value in data.items():
        try:
            f = obj._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if f.auto_created and not f.concrete:
            continue  # a reverse relation
        compared += 1
        if not _stores(obj, f, value):
            stored = getattr(obj, f.attname, None) if not f.many_to_many else list(getattr(obj, name).all())
            mismatches.append(f'{name}: sent {value!r}, stored {stored!r}')
    return mismatches, compared


class WriteRightsMixin:
    """Who must be refused a write. `read_only_roles` may view the model but not write it; the forbidden
    tests try them first, then the view and denied roles, then a person without any role, and fail loudly if
    everyone they try may write."""

    model: ClassVar[type] = None
    read_only_roles: ClassVar[tuple[str, ...]] = ()

    def user_without(self, action: str):
        """A person who lacks the model permission for `action` ('add', 'change', 'delete')."""
        tried = []
        for roles in (self.read_only_roles, self.view_roles, self.denied_roles):
            if not roles or set(roles) & set(self.write_roles):
                continue
            user = self.make_user(*roles)
            if not user_can(user, self.model, action):
                return user
            tried.append(roles)
        user = self.roleless()
        if not user_can(user, self.model, action):
            return user
        raise self.failureException(
            f'{type(self).__name__}: every person tried ({tried} and one without a role) may {action} '
            f'{self.model._meta.label}; declare `read_only_roles` or `denied_roles` without that right'
        )

    def roleless(self):
        """A person with no role at all."""
        return User.objects.create(username=f'no.role.{User.objects.count()}')

    def assertStored(self, obj, data: dict[str, Any]):
        """The object exists in the database and holds the submitted values."""
        self.assertTrue(type(obj)._base_manager.filter(pk=obj.pk).exists(), f'{obj!r} is not in the database')
        mismatches, compared = stored_mismatches(obj, data)
        self.assertFalse(mismatches, f'stored values differ from the input: {mismatches}')
        self.assertTrue(compared, f'none of {sorted(data)} is a field of {self.model._meta.label}: nothing to check')


class APITestCases:
    """Namespace, so the test runner does not collect the abstract bases."""

    class ModelAPITestCase(WriteRightsMixin, ItsmTestCase):
        """CRUD over `/api/v1/<basename>/` for one model.

        Declare `model`, `basename`, `make_object()`, `create_data()`, `update_data`; optionally `view_roles`,
        `write_roles`, `denied_roles`, `read_only_roles` (may view, not write), `read_only_fields`,
        `supports_delete` and `filter_cases()`.
        """

        model: ClassVar[type] = None
        basename: ClassVar[str] = ''
        view_roles: ClassVar[tuple[str, ...]] = (Role.SERVICE_DESK_AGENT,)
        write_roles: ClassVar[tuple[str, ...]] = (Role.ADMINISTRATOR,)
        denied_roles: ClassVar[tuple[str, ...]] = (Role.REQUESTER,)
        update_data: ClassVar[dict[str, Any]] = {}
        read_only_fields: ClassVar[dict[str, Any]] = {}
        supports_delete: ClassVar[bool] = True
        query_rows: ClassVar[tuple[int, int]] = (2, 8)

        def make_object(self, **kwargs):
            raise AssertionError(f'{type(self).__name__} must define make_object()')

        def create_data(self) -> dict[str, Any]:
            raise AssertionError(f'{type(self).__name__} must define create_data()')

        def filter_cases(self) -> list[tuple[dict[str, str], list]]:
            """[(query params, objects expected among the results and no others)]."""
            return []

        def assert_deleted(self, obj):
            self.assertFalse(self.model._default_manager.filter(pk=obj.pk).exists())

        # -- helpers
        def list_url(self) -> str:
            return reverse(f'api:{self.basename}-list')

        def detail_url(self, obj) -> str:
            return reverse(f'api:{self.basename}-detail', args=[_lookup_value(obj)])

        def viewer(self):
            return self.make_user(*self.view_roles)

        def writer(self):
            return self.make_user(*self.write_roles)

        def outsider(self):
            return self.make_user(*self.denied_roles)

        def routed_methods(self, url: str) -> set[str]:
            """The HTTP methods the API routes at `url` (lower case)."""
            return set(getattr(resolve(url).func, 'actions', {}))

        def result_keys(self, response) -> set:
            key = 'number' if issubclass(self.model, NumberedModel) else 'id'
            return {row[key] for row in response.data['results']}

        # -- generic tests
        def test_anonymous_is_refused(self):
            response = self.api_client().get(self.list_url())
            self.assertHttpStatus(response, 401)
            self.assertIn('detail', response.data)

        def test_list_without_role_is_forbidden(self):
            self.make_object()
            response = self.api_client(self.outsider()).get(self.list_url())
            self.assertHttpStatus(response, 403)
            self.assertEqual(response.data['code'], 'permission_denied')

        def test_list_and_retrieve(self):
            obj = self.make_object()
            client = self.api_client(self.viewer())
            response = client.get(self.list_url())
            self.assertHttpStatus(response, 200)
            self.assertEqual(set(response.data), {'count', 'next', 'previous', 'results'})
            self.assertIn(_lookup_value(obj), self.result_keys(response))
            response = client.get(self.detail_url(obj))
            self.assertHttpStatus(response, 200)

        def test_create_writes_record_and_timeline(self):
            data = self.create_data()
            response = self.api_client(self.writer()).post(self.list_url(), data, format='json')
            self.assertHttpStatus(response, 201)
            key = 'number' if issubclass(self.model, NumberedModel) else 'pk'
            obj = self.model._default_manager.get(**{key: response.data['number' if key == 'number' else 'id']})
            self.assertStored(obj, data)
            self.assertTrue(self.timeline(obj, TimelineKind.CREATED).exists(), 'no "created" timeline entry')

        def test_create_without_permission_is_forbidden(self):
            user, data = self.user_without('add'), self.create_data()
            before = self.model._default_manager.count()
            response = self.api_client(user).post(self.list_url(), data, format='json')
            self.assertHttpStatus(response, 403)
            self.assertEqual(self.model._default_manager.count(), before)

        def test_create_rejects_malformed_json(self):
            response = self.api_client(self.writer()).post(
                self.list_url(), data='{"broken', content_type='application/json'
            )
            self.assertHttpStatus(response, 400)
            self.assertEqual(response.data['code'], 'parse_error')

        def test_update_records_field_changes(self):
            obj = self.make_object()
            response = self.api_client(self.writer()).patch(self.detail_url(obj), self.update_data, format='json')
            self.assertHttpStatus(response, 200)
            self.assertStored(obj, self.update_data)
            entry = self.timeline(obj).exclude(kind=TimelineKind.CREATED).last()
            self.assertIsNotNone(entry, 'an update must write a timeline entry')
            changed = {c['field'] for c in entry.changes}
            fields = {f.name for f in self.model._meta.get_fields()}
            self.assertLessEqual(set(self.update_data) & fields, changed, 'the entry must name the changed fields')

        def test_update_without_permission_is_forbidden(self):
            obj = self.make_object()
            before = self.model._default_manager.filter(pk=obj.pk).values().get()
            entries = self.timeline(obj).count()
            url = self.detail_url(obj)
            response = self.api_client(self.user_without('change')).patch(url, self.update_data, format='json')
            # Without a PATCH route the answer is 405 whoever asks; with one, a person without the right gets 403.
            self.assertHttpStatus(response, 403 if 'patch' in self.routed_methods(url) else 405)
            self.assertEqual(self.model._default_manager.filter(pk=obj.pk).values().get(), before)
            self.assertEqual(self.timeline(obj).count(), entries)

        def read_only_data(self, obj) -> dict[str, Any]:
            """Values the API must ignore or refuse: `read_only_fields`, else the key (and the number)."""
            if self.read_only_fields:
                return dict(self.read_only_fields)
            data = {'id': obj.pk + 1000}
            if isinstance(obj, NumberedModel):
                data['number'] = 'XX9999999'
            return data

        def test_read_only_fields_are_not_writable(self):
            obj = self.make_object()
            data = self.read_only_data(obj)
            response = self.api_client(self.writer()).patch(self.detail_url(obj), data, format='json')
            self.assertIn(response.status_code, (200, 400))
            manager = self.model._base_manager
            stored = manager.filter(pk=obj.pk).values().first()
            self.assertIsNotNone(stored, f'{obj!r} moved or vanished after a PATCH of read-only fields')
            if 'id' in data:
                self.assertFalse(manager.filter(pk=data['id']).exists(), 'the key must not be writable')
            for name, value in data.items():
                if name != 'id':
                    self.assertNotEqual(stored.get(name), value, f'{name} must not be writable through the API')

        def test_delete(self):
            obj = self.make_object()
            response = self.api_client(self.writer()).delete(self.detail_url(obj))
            if not self.supports_delete:
                self.assertHttpStatus(response, 405)
                return
            self.assertHttpStatus(response, 204)
            self.assert_deleted(obj)

        def test_delete_without_permission_is_forbidden(self):
            obj = self.make_object()
            response = self.api_client(self.user_without('delete')).delete(self.detail_url(obj))
            # Without a DELETE route the answer is 405 whoever asks; with one, a person without the right gets 403.
            self.assertHttpStatus(response, 403 if self.supports_delete else 405)
            self.assertTrue(self.model._default_manager.filter(pk=obj.pk).exists())

        def test_filters(self):
            cases = self.filter_cases()
            client = self.api_client(self.viewer())
            for params, expected in cases:
                with self.subTest(params=params):
                    response = client.get(self.list_url(), {**params, 'page_size': 500})
                    self.assertHttpStatus(response, 200)
                    self.assertEqual(self.result_keys(response), {_lookup_value(o) for o in expected})

        def test_list_query_count_does_not_grow_with_rows(self):
            client = self.api_client(self.viewer())
            few, many = self.query_rows
            for _ in range(few):
                self.make_object()
            client.get(self.list_url())  # warm per-user caches (permissions) so both measurements compare rows only
            small = self.count_queries(lambda: self.assertHttpStatus(client.get(self.list_url()), 200))
            for _ in range(many - few):
                self.make_object()
            large = self.count_queries(lambda: self.assertHttpStatus(client.get(self.list_url()), 200))
            self.assertEqual(small, large, f'list queries grew from {small} to {large} with more rows')

    class ReadOnlyCollection:
        """Mix in before `ModelAPITestCase` for collections written elsewhere (an action, the lifecycle, a sweep,
        the notification kit): the API offers no create, edit or delete (405) and nothing changes."""

        refused_update: ClassVar[dict[str, Any]] = {'note': 'x'}

        def test_create_writes_record_and_timeline(self):
            before = self.model._default_manager.count()
            response = self.api_client(self.writer()).post(self.list_url(), self.refused_update, format='json')
            self.assertHttpStatus(response, 405)
            self.assertEqual(self.model._default_manager.count(), before)

        def test_create_without_permission_is_forbidden(self):
            response = self.api_client(self.user_without('add')).post(self.list_url(), {}, format='json')
            self.assertIn(response.status_code, (403, 405))
            # Whoever may read the collection is told the method is not offered at all.
            response = self.api_client(self.viewer()).post(self.list_url(), {}, format='json')
            self.assertHttpStatus(response, 405)

        def test_create_rejects_malformed_json(self):
            response = self.api_client(self.writer()).post(self.list_url(), '{"x', content_type='application/json')
            self.assertHttpStatus(response, 405)

        def test_update_records_field_changes(self):
            obj = self.make_object()
            before = self.model._default_manager.filter(pk=obj.pk).values().get()
            response = self.api_client(self.writer()).patch(self.detail_url(obj), self.refused_update, format='json')
            self.assertHttpStatus(response, 405)
            self.assertEqual(self.model._default_manager.filter(pk=obj.pk).values().get(), before)

        def test_update_without_permission_is_forbidden(self):
            obj = self.make_object()
            response = self.api_client(self.user_without('change')).patch(self.detail_url(obj), {}, format='json')
            self.assertHttpStatus(response, 405)

        def test_read_only_fields_are_not_writable(self):
            obj = self.make_object()
            before = self.model._default_manager.filter(pk=obj.pk).values().get()
            data = {'created_at': '2020-01-01T00:00:00Z'}
            response = self.api_client(self.writer()).patch(self.detail_url(obj), data, format='json')
            self.assertHttpStatus(response, 405)
            self.assertEqual(self.model._default_manager.filter(pk=obj.pk).values().get(), before)


class ViewTestCases:
    """Namespace for the page test bases."""

    class ModelViewTestCase(WriteRightsMixin, ItsmTestCase):
        """List, detail, add, edit and delete pages of one model, by the `<app>:<model>_<action>` URL names.

        Declare `model`, `make_object()`, `form_data()` and `edit_data()`; optionally the role tuples
        (`read_only_roles`: may view, not write), and `delete_action` (e.g. 'deactivate' for records that are
        retired rather than deleted).
        """

        model: ClassVar[type] = None
        view_roles: ClassVar[tuple[str, ...]] = (Role.SERVICE_DESK_AGENT,)
        write_roles: ClassVar[tuple[str, ...]] = (Role.ADMINISTRATOR,)
        denied_roles: ClassVar[tuple[str, ...]] = (Role.REQUESTER,)
        delete_action: ClassVar[str] = 'delete'
        query_rows: ClassVar[tuple[int, int]] = (2, 8)

        def make_object(self, **kwargs):
            raise AssertionError(f'{type(self).__name__} must define make_object()')

        def form_data(self) -> dict[str, Any]:
            raise AssertionError(f'{type(self).__name__} must define form_data()')

        def edit_data(self, obj) -> dict[str, Any]:
            return self.form_data()

        def assert_deleted(self, obj):
            self.assertFalse(self.model._default_manager.filter(pk=obj.pk).exists())

        def url(self, action: str, obj=None) -> str:
            opts = self.model._meta
            name = f'{opts.app_label}:{opts.model_name}_{action}'
            if obj is None:
                return reverse(name)
            key = 'number' if isinstance(obj, NumberedModel) else 'pk'
            return reverse(name, kwargs={key: _lookup_value(obj)})

        def login(self, *roles):
            user = self.make_user(*roles)
            self.client.force_login(user)
            return user

        def test_anonymous_is_sent_to_login(self):
            response = self.client.get(self.url('list'))
            self.assertHttpStatus(response, 302)
            self.assertIn(reverse('itsm:login'), response['Location'])

        def test_list_and_detail(self):
            obj = self.make_object()
            self.login(*self.view_roles)
            response = self.client.get(self.url('list'))
            self.assertHttpStatus(response, 200)
            self.assertContains(response, str(obj))
            response = self.client.get(self.url('detail', obj))
            self.assertHttpStatus(response, 200)
            self.assertContains(response, str(obj))

        def test_list_htmx_partial(self):
            self.make_object()
            self.login(*self.view_roles)
            response = self.client.get(self.url('list'), headers={'HX-Request': 'true'})
            self.assertHttpStatus(response, 200)
            self.assertNotContains(response, '<html')

        def test_pages_without_role_are_forbidden(self):
            obj = self.make_object()
            self.login(*self.denied_roles)
            self.assertHttpStatus(self.client.get(self.url('list')), 403)
            self.assertHttpStatus(self.client.get(self.url('detail', obj)), 403)

        def test_add(self):
            self.login(*self.write_roles)
            self.assertHttpStatus(self.client.get(self.url('add')), 200)
            before = set(self.model._default_manager.values_list('pk', flat=True))
            data = self.form_data()
            response = self.client.post(self.url('add'), data)
            self.assertHttpStatus(response, 302)
            created = self.model._default_manager.exclude(pk__in=before)
            self.assertEqual(created.count(), 1)
            self.assertStored(created.get(), data)
            self.assertTrue(self.timeline(created.get(), TimelineKind.CREATED).exists())

        def test_add_without_permission_is_forbidden(self):
            self.client.force_login(self.user_without('add'))
            self.assertHttpStatus(self.client.get(self.url('add')), 403)
            data = self.form_data()
            before = self.model._default_manager.count()
            self.assertHttpStatus(self.client.post(self.url('add'), data), 403)
            self.assertEqual(self.model._default_manager.count(), before)

        def test_add_invalid_keeps_input_and_shows_errors(self):
            self.login(*self.write_roles)
            data = {key: value for key, value in self.form_data().items()}
            response = self.client.post(self.url('add'), {**data, **self.invalid_form_data()})
            self.assertHttpStatus(response, 200)
            form = response.context['form']
            self.assertTrue(form.errors, 'an invalid form must come back with errors')
            self.assertContains(response, 'is-invalid')

        def invalid_form_data(self) -> dict[str, Any]:
            """Values that make the form invalid (default: the first required field blanked)."""
            form_class = self.client.get(self.url('add')).context['form'].__class__
            required = [n for n, f in form_class.base_fields.items() if f.required]
            return {required[0]: ''}

        def test_edit(self):
            obj = self.make_object()
            self.login(*self.write_roles)
            self.assertHttpStatus(self.client.get(self.url('edit', obj)), 200)
            data = self.edit_data(obj)
            response = self.client.post(self.url('edit', obj), data)
            self.assertHttpStatus(response, 302)
            self.assertStored(obj, data)
            self.assertTrue(self.timeline(obj).exclude(kind=TimelineKind.CREATED).exists())

        def test_edit_without_permission_is_forbidden(self):
            obj = self.make_object()
            data = self.edit_data(obj)
            before = self.model._default_manager.filter(pk=obj.pk).values().get()
            entries = self.timeline(obj).count()
            self.client.force_login(self.user_without('change'))
            self.assertHttpStatus(self.client.post(self.url('edit', obj), data), 403)
            self.assertEqual(self.model._default_manager.filter(pk=obj.pk).values().get(), before)
            self.assertEqual(self.timeline(obj).count(), entries)

        def test_delete(self):
            obj = self.make_object()
            self.login(*self.write_roles)
            response = self.client.post(self.url(self.delete_action, obj))
            self.assertHttpStatus(response, 302)
            self.assert_deleted(obj)

        def test_list_query_count_does_not_grow_with_rows(self):
            self.login(*self.view_roles)
            few, many = self.query_rows
            for _ in range(few):
                self.make_object()
            self.client.get(self.url('list'))
            small = self.count_queries(lambda: self.assertHttpStatus(self.client.get(self.url('list')), 200))
            for _ in range(many - few):
                self.make_object()
            large = self.count_queries(lambda: self.assertHttpStatus(self.client.get(self.url('list')), 200))
            self.assertEqual(small, large, f'list page queries grew from {small} to {large} with more rows')


def dumps(data) -> str:
    return json.dumps(data, sort_keys=True, default=str)
