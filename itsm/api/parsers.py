"""The API's JSON parser: DRF's, refusing bodies nested deeper than anything the API reads, and NUL characters.

Python's decoder recurses once per level, so a body nested a few thousand levels deep raises RecursionError (a 500)
and one just under the interpreter's limit parses but breaks whatever recurses over it later (copying, validating,
storing a JSON field). No endpoint takes more than a few levels, so anything deeper than JSON_MAX_DEPTH is refused
with a 400 before a view sees it. A NUL character (`\\u0000`) is refused too: no text or JSON column can store it
on PostgreSQL, so it would fail at the database instead of naming the field.
"""

from __future__ import annotations

from rest_framework import parsers
from rest_framework.exceptions import ParseError

JSON_MAX_DEPTH = 64


def depth(value) -> int:
    """How deeply `value` nests lists and objects (a scalar is 0), measured without recursion."""
    return _walk(value)[0]


def _walk(value) -> tuple[int, bool]:
    """(depth, holds a NUL character) of a parsed body, without recursion; stops past JSON_MAX_DEPTH."""
    deepest, nul = 0, False
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, str):
            nul = nul or '\x00' in item
            continue
        if isinstance(item, dict):
            nul = nul or any('\x00' in key for key in item)
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        if level > JSON_MAX_DEPTH:
            break
        stack.extend((child, level + 1) for child in children)
    return deepest, nul


def too_deep() -> ParseError:
    return ParseError(f'JSON parse error - the body nests lists or objects more than {JSON_MAX_DEPTH} levels deep.')


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise too_deep() from None
        deepest, nul = _walk(data)
        if deepest > JSON_MAX_DEPTH:
            raise too_deep()
        if nul:
            raise ParseError('JSON parse error - the body holds a NUL character (\\u0000), which no field can store.')
        return data
