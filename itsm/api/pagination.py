"""API pagination: numbered pages with a bounded count, and a keyset (cursor) mode for reading deep into a list."""

from __future__ import annotations

import base64
import json

from django.core.exceptions import FieldDoesNotExist
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from itsm.paginator import COUNT_BOUND, BoundedPaginator

COUNT_DESCRIPTION = (
    f'Rows matching the query, counted exactly up to {COUNT_BOUND:,}. Beyond that `count` is {COUNT_BOUND:,} and '
    '`count_exact` is false: a lower bound, not the total. Null in cursor mode, which does not count.'
)
CURSOR_DESCRIPTION = (
    'Keyset pagination for reading deep into a list: send `cursor` empty for the first page, then follow `next` '
    '(forward only). Each page costs the same wherever it is in the list; `count` is null.'
)


class StandardPagination(PageNumberPagination):
    """`{"count", "next", "previous", "results"}`; clients may ask for up to 500 rows a page.

    `count` is exact up to `COUNT_BOUND` rows and the bound beyond, with `"count_exact": false` added: no page
    counts a whole table. Page numbers reach as far as the bound (`KeysetPagination` reads on from there).
    """

    page_size = 50
    page_size_query_param = 'page_size'
    max_page_size = 500
    django_paginator_class = BoundedPaginator

    def get_paginated_response(self, data):
        paginator = self.page.paginator
        body = {'count': paginator.count, 'next': self.get_next_link(), 'previous': self.get_previous_link()}
        if not paginator.count_exact:
            body['count_exact'] = False  # only past the bound: an exact count keeps the answer as it always was
        return Response({**body, 'results': data})

    def get_paginated_response_schema(self, schema):
        described = super().get_paginated_response_schema(schema)
        properties = described['properties']
        properties['count'] = {'type': 'integer', 'nullable': True, 'example': 123, 'description': COUNT_DESCRIPTION}
        properties['count_exact'] = {
            'type': 'boolean',
            'description': f'Present, and false, only when more than {COUNT_BOUND:,} rows match (`count` is then a '
            'lower bound) and in cursor mode.',
        }
        return described


INVALID_CURSOR = 'Not a cursor this list handed out: start with an empty `cursor` or follow the `next` link.'


class KeysetPagination(StandardPagination):
    """`StandardPagination` with a cursor mode for lists clients read deep into (the view allows `cursor` among
    its `query_parameters`): `?cursor=` (empty) starts at the top, `next` carries on after the page's last row by
    its sort key, and the last numbered page of a list longer than the bound links on by cursor."""

    cursor_query_param = 'cursor'

    def paginate_queryset(self, queryset, request, view=None):
        self.cursor_mode = self.cursor_query_param in request.query_params
        if not self.cursor_mode:
            return super().paginate_queryset(queryset, request, view)
        self.request = request
        size = self.get_page_size(request)
        keys = keyset_fields(queryset)
        after = decode_cursor(request.query_params[self.cursor_query_param], len(keys))
        if after is not None:
            params = stored_values(queryset, keys, after)
            queryset = queryset.extra(where=[after_condition(queryset, keys)], params=params)
        rows = list(queryset[: size + 1])
        self.next_cursor = encode_cursor(rows[size - 1], keys) if len(rows) > size else None
        return rows[:size]

    def get_paginated_response(self, data):
        if not self.cursor_mode:
            return super().get_paginated_response(data)
        next_link = None
        if self.next_cursor is not None:
            url = self.request.build_absolute_uri()
            next_link = replace_query_param(url, self.cursor_query_param, self.next_cursor)
        return Response({'count': None, 'count_exact': False, 'next': next_link, 'previous': None, 'results': data})

    def get_next_link(self):
        if not self.page.has_next() and not self.page.paginator.count_exact:
            # The last numbered page of a list longer than the bound: read on by cursor after its last row.
            keys = keyset_fields(self.page.paginator.object_list, strict=False)
            if keys and self.page.object_list:
                url = remove_query_param(self.request.build_absolute_uri(), self.page_query_param)
                last = list(self.page.object_list)[-1]
                return replace_query_param(url, self.cursor_query_param, encode_cursor(last, keys))
        return super().get_next_link()

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        parameters.append(
            {
                'name': self.cursor_query_param,
                'required': False,
                'in': 'query',
                'description': CURSOR_DESCRIPTION,
                'schema': {'type': 'string'},
            }
        )
        return parameters


def keyset_fields(queryset, *, strict: bool = True) -> list:
    """The model fields the list is ordered by, ending with the primary key: a total order to continue after.
    Lists ordered by anything else (a relation, an expression, a column that may be null) have no cursor mode."""
    model = queryset.model
    names = list(queryset.query.order_by or model._meta.ordering)
    fields = []
    for name in names:
        if not isinstance(name, str) or name.startswith('-') or '__' in name:
            return _refuse(strict)
        field_name = model._meta.pk.name if name == 'pk' else name
        try:
            field = model._meta.get_field(field_name)
        except FieldDoesNotExist:
            return _refuse(strict)
        if field.null or not field.concrete:
            return _refuse(strict)
        fields.append(field)
    if model._meta.pk not in fields:
        fields.append(model._meta.pk)
    return fields


def _refuse(strict: bool) -> list:
    if strict:
        raise ValidationError({'cursor': 'This list cannot be read by cursor; use page numbers.'})
    return []


def after_condition(queryset, fields) -> str:
    """`(a, b, id) > (%s, %s, %s)`: one row comparison the (a, b, id) index answers as a range."""
    from django.db import connections

    quote = connections[queryset.db].ops.quote_name
    table = quote(queryset.model._meta.db_table)
    columns = ', '.join(f'{table}.{quote(f.column)}' for f in fields)
    return f'({columns}) > ({", ".join(["%s"] * len(fields))})'


def stored_values(queryset, fields, values) -> list:
    """The cursor's values as the database stores them (times in UTC as the backend writes them)."""
    from django.core.exceptions import ValidationError as InvalidValue
    from django.db import connections

    connection = connections[queryset.db]
    try:
        return [f.get_db_prep_value(f.to_python(v), connection) for f, v in zip(fields, values, strict=True)]
    except (InvalidValue, TypeError, ValueError):
        raise ValidationError({'cursor': [INVALID_CURSOR]}) from None


def encode_cursor(row, fields) -> str:
    values = [fields_value(row, f) for f in fields]
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip('=')


def fields_value(row, field):
    value = getattr(row, field.attname)
    return value.isoformat() if hasattr(value, 'isoformat') else value


def decode_cursor(token: str, length: int) -> list | None:
    if not token:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(token + '=' * (-len(token) % 4)))
    except (ValueError, RecursionError):  # not base64 or JSON, or JSON nested past the parser's depth
        raise ValidationError({'cursor': [INVALID_CURSOR]}) from None
    if not isinstance(values, list) or len(values) != length:
        raise ValidationError({'cursor': [INVALID_CURSOR]})
    return values
