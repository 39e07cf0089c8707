"""Rendered API answers let go of what they no longer need, so reference counting frees it with the request.

Django REST framework ties an answer into reference cycles: the response names itself in `renderer_context`, the
request names itself in `parser_context` (beside the view, which holds its paginator and the page it read), and
serialized data names its serializer, which names the data back and the rows it serialized. Whatever hangs off a
cycle waits for the cyclic garbage collector: after a list of fifty tickets, some 6,000 objects (the rows, their
references and clocks, their representations), and every few requests one of them pays for a collection over all
of them. Once the answer is rendered none of those links is used again; cutting them leaves only small cycles
(a serializer and its fields) behind. The answer's `data` stays as it was.
"""

from __future__ import annotations


def release(response) -> None:
    """Cut the links above from a rendered DRF response (anything else is left alone)."""
    context = getattr(response, 'renderer_context', None)
    if not context or not getattr(response, 'is_rendered', False):
        return
    response.renderer_context = None
    request = context.get('request')
    if request is not None:
        request.parser_context = None
    view = context.get('view')
    if view is not None:
        # A viewset holds bound methods of itself (`get` is its `list`): forget what the request gave it and read.
        vars(view).clear()
    data = getattr(response, 'data', None)
    # The serialized data itself, or a page's envelope around it ({'count': …, 'results': […]}).
    for value in (data, *(data.values() if isinstance(data, dict) else ())):
        serializer = getattr(value, 'serializer', None)
        if serializer is not None:
            value.serializer = None
            # A list's serializer and its child were both given the rows, and the context names the view.
            for holder in filter(None, (serializer, getattr(serializer, 'child', None))):
                for name in ('instance', '_args', '_kwargs', '_context', '_data'):
                    vars(holder).pop(name, None)


class ReleaseApiResponseMiddleware:
    """Applies `release` to every answer once it is rendered (the innermost middleware: views render first)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        release(response)
        return response
