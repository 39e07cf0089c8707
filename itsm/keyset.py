"""Keyset reading of a list: the next page is the rows after the last one shown, by the list's sort key, so a page
deep in a list costs what the first one costs. The API reads by `?cursor=`; list pages read on by `?after=` past
the pages they count (`itsm.paginator.COUNT_BOUND`).

A list has a keyset when it is ordered by concrete, non-null columns of its own table, all ascending or all
descending; the primary key ends the key, so the order is total. `(a, b, id) > (x, y, z)` (or `<`) is then one row
comparison that an index on those columns answers as a range.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as InvalidValue
from django.db import connections
from django.db.models import Field, QuerySet


class InvalidCursor(ValueError):
    """A cursor this list did not hand out (garbage, another sort, another length)."""


@dataclass(frozen=True)
class Keyset:
    fields: tuple[Field, ...]
    descending: bool


def keyset_of(queryset: QuerySet) -> Keyset | None:
    """The list's sort key, or None when the list is ordered by anything a keyset cannot follow (a relation, an
    expression, a column that may be null, or mixed directions)."""
    model = queryset.model
    names = list(queryset.query.order_by or model._meta.ordering)
    fields, directions = [], set()
    for name in names:
        if not isinstance(name, str):
            return None
        bare = name.removeprefix('-')
        if '__' in bare or bare == '?':
            return None
        try:
            field = model._meta.pk if bare == 'pk' else model._meta.get_field(bare)
        except FieldDoesNotExist:
            return None
        if field.null or not field.concrete:
            return None
        directions.add(name.startswith('-'))
        if field not in fields:
            fields.append(field)
    if len(directions) > 1:
        return None
    if model._meta.pk not in fields:
        fields.append(model._meta.pk)
    return Keyset(tuple(fields), descending=directions == {True})


def rows_after(queryset: QuerySet, keyset: Keyset, values: list) -> QuerySet:
    """The rows that come after the row whose sort key is `values` (from `decode_cursor`)."""
    connection = connections[queryset.db]
    try:
        params = [f.get_db_prep_value(f.to_python(v), connection) for f, v in zip(keyset.fields, values, strict=True)]
    except (InvalidValue, TypeError, ValueError):
        raise InvalidCursor('The cursor does not fit this list.') from None
    quote = connection.ops.quote_name
    table = quote(queryset.model._meta.db_table)
    columns = ', '.join(f'{table}.{quote(f.column)}' for f in keyset.fields)
    placeholders = ', '.join(['%s'] * len(params))
    comparison = '<' if keyset.descending else '>'
    return queryset.extra(where=[f'({columns}) {comparison} ({placeholders})'], params=params)


def encode_cursor(row, keyset: Keyset) -> str:
    """The cursor that reads on after `row`."""
    values = []
    for field in keyset.fields:
        value = getattr(row, field.attname)
        values.append(value.isoformat() if hasattr(value, 'isoformat') else value)
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip('=')


def decode_cursor(token: str, keyset: Keyset) -> list | None:
    """The sort key a cursor carries (None for an empty cursor: the top of the list)."""
    if not token:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(token + '=' * (-len(token) % 4)))
    except (ValueError, RecursionError):  # not base64 or JSON, or JSON nested past the parser's depth
        raise InvalidCursor('The cursor is not one this list handed out.') from None
    if not isinstance(values, list) or len(values) != len(keyset.fields):
        raise InvalidCursor('The cursor is not one this list handed out.')
    return values
