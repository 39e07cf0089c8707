"""Shared test base classes.

A model gets its CRUD, permission, timeline, filter and query-count tests by subclassing
`APITestCases.ModelAPITestCase` and `ViewTestCases.ModelViewTestCase` and declaring a few attributes.
`tests/test_model_coverage.py` fails for a model of ours that has neither.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from itsm.choices import Role, TimelineKind
from itsm.models import NumberedModel, TimelineEntry

from .factories import make_user


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


class APITestCases:
    """Namespace, so the test runner does not collect the abstract bases."""

    class ModelAPITestCase(ItsmTestCase):
        """CRUD over `/api/v1/<basename>/` for one model.

        Declare `model`, `basename`, `make_object()`, `create_data()`, `update_data`; optionally `view_roles`,
        `write_roles`, `denied_roles`, `read_only_fields`, `supports_delete` and `filter_cases()`.
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
            response = self.api_client(self.writer()).post(self.list_url(), self.create_data(), format='json')
            self.assertHttpStatus(response, 201)
            key = 'number' if issubclass(self.model, NumberedModel) else 'pk'
            obj = self.model._default_manager.get(**{key: response.data['number' if key == 'number' else 'id']})
            self.assertTrue(self.timeline(obj, TimelineKind.CREATED).exists(), 'no "created" timeline entry')

        def test_create_without_permission_is_forbidden(self):
            client, data = self.api_client(self.viewer()), self.create_data()
            before = self.model._default_manager.count()
            response = client.post(self.list_url(), data, format='json')
            if set(self.view_roles) & set(self.write_roles):
                self.assertHttpStatus(response, 201)
                return
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
            entry = self.timeline(obj).exclude(kind=TimelineKind.CREATED).last()
            self.assertIsNotNone(entry, 'an update must write a timeline entry')
            changed = {c['field'] for c in entry.changes}
            self.assertTrue(changed, 'the entry must name the changed fields')

        def test_read_only_fields_are_not_writable(self):
            obj = self.make_object()
            if not self.read_only_fields:
                self.assertTrue(hasattr(obj, 'pk'))
                return
            response = self.api_client(self.writer()).patch(self.detail_url(obj), self.read_only_fields, format='json')
            self.assertIn(response.status_code, (200, 400))
            obj.refresh_from_db()
            for name, value in self.read_only_fields.items():
                self.assertNotEqual(getattr(obj, name), value, f'{name} must not be writable through the API')

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
            response = self.api_client(self.viewer()).delete(self.detail_url(obj))
            self.assertIn(response.status_code, (403, 405))
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


class ViewTestCases:
    """Namespace for the page test bases."""

    class ModelViewTestCase(ItsmTestCase):
        """List, detail, add, edit and delete pages of one model, by the `<app>:<model>_<action>` URL names.

        Declare `model`, `make_object()`, `form_data()` and `edit_data()`; optionally the role tuples,
        and `delete_action` (e.g. 'deactivate' for records that are retired rather than deleted).
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
            response = self.client.post(self.url('add'), self.form_data())
            self.assertHttpStatus(response, 302)
            created = self.model._default_manager.exclude(pk__in=before)
            self.assertEqual(created.count(), 1)
            self.assertTrue(self.timeline(created.get(), TimelineKind.CREATED).exists())

        def test_add_without_permission_is_forbidden(self):
            self.login(*self.view_roles)
            if set(self.view_roles) & set(self.write_roles):
                self.assertHttpStatus(self.client.get(self.url('add')), 200)
                return
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
            response = self.client.post(self.url('edit', obj), self.edit_data(obj))
            self.assertHttpStatus(response, 302)
            self.assertTrue(self.timeline(obj).exclude(kind=TimelineKind.CREATED).exists())

        def test_edit_without_permission_is_forbidden(self):
            obj = self.make_object()
            self.login(*self.view_roles)
            expected = 302 if set(self.view_roles) & set(self.write_roles) else 403
            self.assertHttpStatus(self.client.post(self.url('edit', obj), self.edit_data(obj)), expected)

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
