"""API pagination: numbered pages with a bounded count, and a keyset (cursor) mode for reading deep into a list."""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from itsm.keyset import InvalidCursor, decode_cursor, encode_cursor, keyset_of, rows_after
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
        keyset = keyset_of(queryset)
        if keyset is None:
            raise ValidationError({'cursor': 'This list cannot be read by cursor; use page numbers.'})
        try:
            after = decode_cursor(request.query_params[self.cursor_query_param], keyset)
            if after is not None:
                queryset = rows_after(queryset, keyset, after)
        except InvalidCursor:
            raise ValidationError({'cursor': [INVALID_CURSOR]}) from None
        rows = list(queryset[: size + 1])
        self.next_cursor = encode_cursor(rows[size - 1], keyset) if len(rows) > size else None
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
            keyset = keyset_of(self.page.paginator.object_list)
            if keyset and self.page.object_list:
                url = remove_query_param(self.request.build_absolute_uri(), self.page_query_param)
                last = list(self.page.object_list)[-1]
                return replace_query_param(url, self.cursor_query_param, encode_cursor(last, keyset))
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
