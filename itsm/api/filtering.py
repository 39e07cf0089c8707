"""Query parameters on the API: filters as the filter sets declare them, and nothing else.

A parameter the endpoint does not know (a typo, or a filter it lacks such as `?parent=`) would otherwise be ignored
and the client would get every record while believing it filtered them; it is refused with a 400 naming it.
"""

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError

# Understood by every endpoint: the renderer and the pagination.
COMMON_PARAMETERS = frozenset({'format', 'page', 'page_size'})


def filter_parameters(filterset) -> set[str]:
    """The query parameter names of a filter set's fields (range filters answer to `<name>_after`, `_min`, ...)."""
    names = set()
    for name, field in filterset.form.fields.items():
        suffixes = getattr(field.widget, 'widgets_names', None)
        names.update(f'{name}{suffix}' for suffix in suffixes) if suffixes else names.add(name)
    return names


def is_list(view) -> bool:
    if hasattr(view, 'action'):  # viewsets
        return view.action == 'list'
    return (getattr(view, 'lookup_url_kwarg', None) or getattr(view, 'lookup_field', 'pk')) not in view.kwargs


class StrictFilterBackend(DjangoFilterBackend):
    """`DjangoFilterBackend` that answers 400 for query parameters a list endpoint does not understand. A view lists
    parameters it reads itself in `query_parameters`; record endpoints and actions check their own."""

    def filter_queryset(self, request, queryset, view):
        if is_list(view):
            self.refuse_unknown_parameters(request, queryset, view)
        return super().filter_queryset(request, queryset, view)

    def refuse_unknown_parameters(self, request, queryset, view) -> None:
        allowed = set(COMMON_PARAMETERS) | set(getattr(view, 'query_parameters', ()))
        filterset = self.get_filterset(request, queryset, view)
        if filterset is not None:
            allowed |= filter_parameters(filterset)
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:
            known = ', '.join(sorted(allowed - COMMON_PARAMETERS)) or 'none'
            raise ValidationError(
                {name: [f'Unknown query parameter "{name}". This endpoint filters by: {known}.'] for name in unknown}
            )
