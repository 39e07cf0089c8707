"""Generic pages every app builds on: list, detail, create, edit, delete and one-click actions.

An app view is a few declarative lines::

    class SupportGroupListView(ObjectListView):
        queryset = selectors.support_group_list()
        filterset_class = SupportGroupFilterSet
        columns = ['name', 'tier', 'manager', Column('member_count', 'Members')]

Reads come from a selector, writes go through a service with an `Actor`, and every view checks the model
permission of its action (`itsm.permissions.ModelPermissionMixin`). URL names follow
`<app_label>:<model_name>_<action>` (`list`, `detail`, `add`, `edit`, `delete`); detail, edit and delete take
`number` for numbered models (`itsm.models.NumberedModel`) and `pk` otherwise. Process records (incidents, problems,
changes...) have richer pages built on these: `itsm.views.records`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import models
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from itsm import selectors, services
from itsm.audit import Actor
from itsm.errors import ApplicationError
from itsm.keyset import InvalidCursor, decode_cursor, encode_cursor, keyset_of, rows_after
from itsm.models import NumberedModel
from itsm.paginator import BoundedPaginator, KeysetPage
from itsm.permissions import ModelPermissionMixin, may_write

__all__ = (
    'Column',
    'ObjectActionView',
    'ObjectCreateView',
    'ObjectDeleteView',
    'ObjectDetailView',
    'ObjectEditView',
    'ObjectListView',
    'StaffOnlyMixin',
    'add_service_errors',
    'error_text',
    'inline_error',
    'lookup_kwarg',
    'object_url',
    'safe_next',
)

# htmx leaves 4xx answers unswapped; those carrying this header are form fragments with the error shown inline
# (static/pitcrew/records/records.js swaps them into place).
INLINE_ERROR_HEADER = 'Pitcrew-Inline-Error'


def lookup_kwarg(model: type[models.Model]) -> str:
    """The URL keyword that identifies a record: `number` for numbered models, `pk` otherwise."""
    return 'number' if issubclass(model, NumberedModel) else 'pk'


def object_url(obj_or_model, action: str) -> str:
    """`<app>:<model>_<action>` reversed for a record (or a model, for `list`/`add`); '' when not routed."""
    is_instance = isinstance(obj_or_model, models.Model)
    model = type(obj_or_model) if is_instance else obj_or_model
    opts = model._meta
    kwargs = {}
    if is_instance:
        key = lookup_kwarg(model)
        kwargs = {key: obj_or_model.number if key == 'number' else obj_or_model.pk}
    try:
        return reverse(f'{opts.app_label}:{opts.model_name}_{action}', kwargs=kwargs)
    except NoReverseMatch:
        return ''


def error_text(error: ValidationError | ApplicationError) -> str:
    """A service's refusal as one line, for a message or a list of refusals."""
    if isinstance(error, ApplicationError):
        return error.detail
    return ' '.join(error.messages)


def add_service_errors(form, error: ValidationError | ApplicationError) -> None:
    """Put a service's refusal back on the form: per field where the form has that field, at the top otherwise."""
    if isinstance(error, ApplicationError):
        form.add_error(None, error.detail)
        return
    if not hasattr(error, 'error_dict'):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        if name in form.fields:
            form.add_error(name, errors)
        else:
            label = '' if name == '__all__' else f'{name.replace("_", " ").capitalize()}: '
            for message in ValidationError(errors).messages:
                form.add_error(None, f'{label}{message}')


def inline_error(response: HttpResponse) -> HttpResponse:
    """Mark a 4xx htmx answer as a form to swap in (the refusal shown next to the input)."""
    response[INLINE_ERROR_HEADER] = '1'
    return response


def safe_next(request, default: str = '') -> str:
    """The `next` address the request carries (POST or query string), when it stays on this site."""
    url = request.POST.get('next') or request.GET.get('next') or ''
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=False):
        return url
    return default


#
# Base
#


class StaffOnlyMixin:
    """Desk pages. People who only raise requests use the portal, where they see nothing but their own records."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.user.is_requester_only:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class ObjectViewMixin(ModelPermissionMixin):
    """The model, its selector queryset and the record named by the URL."""

    queryset: models.QuerySet | None = None
    template_name = ''
    # What pages call the records when the model's verbose names do not suit (User: "person", "people").
    verbose_name = ''
    verbose_name_plural = ''

    def get_permission_model(self):
        if self.model is None and self.queryset is None:
            raise ImproperlyConfigured(f'{type(self).__name__} needs a queryset (from a selector) or a model.')
        return self.model or self.queryset.model

    def get_queryset(self) -> models.QuerySet:
        queryset = self.queryset.all() if self.queryset is not None else self.model._default_manager.all()
        if hasattr(queryset, 'visible_to'):
            queryset = queryset.visible_to(self.request.user)
        return queryset

    def get_object(self) -> models.Model:
        model = self.get_permission_model()
        key = lookup_kwarg(model)
        value = self.kwargs.get(key)
        if value is None:
            raise ImproperlyConfigured(f'{type(self).__name__} expects a URL keyword "{key}".')
        if key == 'number':
            value = str(value).upper()
        try:
            obj = self.get_queryset().get(**{key: value})
        except (model.DoesNotExist, ValueError):
            raise Http404(f'No {model._meta.verbose_name} {value}.') from None
        if self.permission_action in ('change', 'delete') and not may_write(self.request.user, obj):
            raise PermissionDenied
        return obj

    def actor(self) -> Actor:
        return Actor.from_request(self.request)

    def base_context(self) -> dict[str, Any]:
        model = self.get_permission_model()
        return {
            'model': model,
            'opts': model._meta,
            'object_name': self.verbose_name or str(model._meta.verbose_name),
            'object_name_plural': self.verbose_name_plural or str(model._meta.verbose_name_plural),
            'list_url': object_url(model, 'list'),
        }

    def render(self, context: dict[str, Any], template_name: str | None = None, status: int = 200):
        context = {**self.base_context(), **context}
        return render(self.request, template_name or self.template_name, context, status=status)


#
# List
#


@dataclass
class Column:
    """A table column. `name` is a field, annotation or attribute (dotted paths follow relations).

    `order_by` is what `?sort=<name>` orders by ('' means the name itself when it is a field or annotation,
    None disables sorting); `linkify` links the cell to the record; `template` renders the cell with
    `{'record', 'value', 'column'}`, or `render(record, value, column, context)` returns its HTML in Python
    (cheaper: `itsm.tables`); `colors` maps values to Tabler colours for choice badges. An `optional` column is
    left out until the person asks for it in the page's "Columns" chooser (see `ObjectListView`).
    """

    name: str
    label: str = ''
    order_by: str | None = ''
    linkify: bool = False
    template: str = ''
    colors: dict[str, str] = field(default_factory=dict)
    css_class: str = ''
    optional: bool = False
    render: Callable[..., str] | None = None

    def bind(self, model: type[models.Model], queryset: models.QuerySet) -> Column:
        head = self.name.split('.')[0]
        model_field = _get_field(model, head)
        label = self.label
        if not label:
            if head == '__str__':
                label = model._meta.verbose_name
            else:
                label = model_field.verbose_name if model_field is not None else head.replace('_', ' ')
            label = str(label)[:1].upper() + str(label)[1:]
        order_by = self.order_by
        if order_by == '':
            sortable = '.' not in self.name and (
                (model_field is not None and model_field.concrete and not model_field.many_to_many)
                or head in queryset.query.annotations
            )
            order_by = head if sortable else None
        colors = self.colors or getattr(model, 'badge_colors', {}).get(head, {})
        return Column(
            self.name, label, order_by, self.linkify, self.template, colors, self.css_class, self.optional, self.render
        )


def _get_field(model, name):
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


class ObjectListView(ObjectViewMixin, View):
    """A filterable, sortable, paginated table. htmx requests get only the table (`includes/_table.html`).

    Columns declared `optional` stay hidden until chosen: `?columns=<name>&columns=<name>` (or one
    comma-separated value; `?columns=` alone hides them all again) shows those, and the choice is remembered in
    the person's session for this page until they choose again. The table's "Columns" menu sends it.
    """

    permission_action = 'view'
    filterset_class = None
    columns: list[str | Column] = []
    template_name = 'generic/object_list.html'
    table_template_name = 'includes/_table.html'
    paginate_by = 50
    max_page_size = 500
    title = ''
    filter_labels: dict[str, str] = {}  # label overrides for the filter bar, e.g. {'vip': 'VIP'}

    def get_columns(self, queryset) -> list[Column]:
        """The columns shown: every column that is not optional, and the optional ones the person chose."""
        model = queryset.model
        columns = [c if isinstance(c, Column) else Column(c) for c in self.columns or ['__str__']]
        bound = [c.bind(model, queryset) for c in columns]
        if not any(c.linkify for c in bound):
            bound[0].linkify = True
        self.declared_columns = bound
        chosen = self.chosen_columns(bound)
        return [c for c in bound if not c.optional or c.name in chosen]

    def column_session_key(self) -> str:
        match = self.request.resolver_match
        return f'columns:{match.view_name if match else self.request.path}'

    def chosen_columns(self, columns: list[Column]) -> set[str]:
        """Names of the optional columns to show: asked for in `?columns=`, else remembered, else none."""
        optional = {c.name for c in columns if c.optional}
        if not optional:
            return set()
        session = getattr(self.request, 'session', None)
        key = self.column_session_key()
        if 'columns' in self.request.GET:
            asked = {name.strip() for value in self.request.GET.getlist('columns') for name in value.split(',')}
            chosen = asked & optional
            if session is not None:
                session[key] = sorted(chosen)
            return chosen
        remembered = session.get(key, []) if session is not None else []
        return set(remembered) & optional

    def column_context(self, columns: list[Column]) -> dict[str, Any]:
        """What the "Columns" chooser shows: each optional column with whether it is shown, and the other query
        parameters of the page to keep when the choice is sent."""
        shown = {c.name for c in columns}
        choices = [(c, c.name in shown) for c in getattr(self, 'declared_columns', columns) if c.optional]
        kept = [
            (key, value)
            for key, values in self.request.GET.lists()
            if key not in ('columns', 'page')
            for value in values
            if value != ''
        ]
        return {'column_choices': choices, 'column_kept_params': kept}

    def sort(self, queryset, columns: list[Column]):
        requested = self.request.GET.get('sort', '')
        name = requested.removeprefix('-')
        # A hidden optional column still sorts: a bookmarked `?sort=` keeps working whatever is shown.
        candidates = [*columns, *getattr(self, 'declared_columns', [])]
        column = next((c for c in candidates if c.name == name and c.order_by), None)
        if column is None:
            return queryset, ''
        descending = requested.startswith('-')
        fields = [f.strip() for f in column.order_by.split(',')]
        order = [(f[1:] if f.startswith('-') else f'-{f}') if descending else f for f in fields]
        return queryset.order_by(*order, '-pk' if descending else 'pk'), requested

    def clean_url(self) -> str:
        """The current URL without empty filter values, for the address bar after an htmx update."""
        params = QueryDict(mutable=True)
        for key, values in self.request.GET.lists():
            kept = [v for v in values if v not in ('', 'unknown')]
            if kept:
                params.setlist(key, kept)
        query = params.urlencode()
        return f'{self.request.path}?{query}' if query else self.request.path

    def page_size(self) -> int:
        try:
            size = int(self.request.GET.get('per_page', self.paginate_by))
        except ValueError:
            return self.paginate_by
        return max(1, min(size, self.max_page_size))

    def prepare_filter_form(self, form):
        """Filter bar wording: "Any" for an unset choice, the search box first, labels from `filter_labels`."""
        for name, form_field in form.fields.items():
            if name in self.filter_labels:
                form_field.label = self.filter_labels[name]
            widget = form_field.widget
            if isinstance(widget, forms.NullBooleanSelect):
                widget.choices = [('unknown', 'Any'), ('true', 'Yes'), ('false', 'No')]
            elif getattr(form_field, 'empty_label', None) is not None:
                form_field.empty_label = 'Any'
                # The widget holds its own copy of the choices iterator; hand it the relabelled one.
                form_field.widget.choices = form_field.choices
            elif isinstance(form_field, forms.ChoiceField):
                choices = form_field.choices
                form_field.choices = [('', 'Any') if value == '' else (value, label) for value, label in choices]
        if 'q' in form.fields:
            form.fields = {'q': form.fields['q'], **{k: v for k, v in form.fields.items() if k != 'q'}}
        return form

    def get_context(self) -> dict[str, Any]:
        queryset = self.get_queryset()
        filterset = None
        if self.filterset_class is not None:
            filterset = self.filterset_class(self.request.GET or None, queryset=queryset, request=self.request)
            if filterset.is_bound:
                # An unusable filter value shows its error and no rows, never the unfiltered list.
                queryset = filterset.qs if filterset.is_valid() else queryset.none()
        columns = self.get_columns(queryset)
        queryset, sort = self.sort(queryset, columns)
        paginator = BoundedPaginator(queryset, self.page_size())
        page = self.page_after(paginator) if 'after' in self.request.GET else None
        if page is None:
            page = paginator.get_page(self.request.GET.get('page'))
            page.read_on_url = self.read_on_url(page)
        model = queryset.model
        return {
            'title': self.title or (self.verbose_name_plural or str(model._meta.verbose_name_plural)).capitalize(),
            'filterset': filterset,
            'filter_form': self.prepare_filter_form(filterset.form) if filterset is not None else None,
            'filters_active': bool(filterset is not None and filterset.is_bound and filterset.form.has_changed()),
            'columns': columns,
            **self.column_context(columns),
            'page_obj': page,
            'object_list': page.object_list,
            'sort': sort,
            'add_url': object_url(model, 'add'),
        }

    def read_on_url(self, page) -> str:
        """Past the counted rows: on the last numbered page of a list longer than the bound, the link that reads on
        by the list's sort key after the page's last row ('' when there is nothing past it or no key to follow)."""
        paginator = page.paginator
        if paginator.count_exact or page.has_next() or not page.object_list:
            return ''
        keyset = keyset_of(paginator.object_list)
        if keyset is None:
            return ''
        return self._url_after(encode_cursor(list(page.object_list)[-1], keyset))

    def page_after(self, paginator) -> KeysetPage | None:
        """`?after=`: the page of rows after a row of the list, by its sort key (deep in a list, past the pages
        counted); None, with a message, for a cursor that does not fit the list (its sort changed)."""
        queryset, size = paginator.object_list, paginator.per_page
        keyset = keyset_of(queryset)
        try:
            if keyset is None:
                raise InvalidCursor('This list cannot be read on by its sort key.')
            after = decode_cursor(self.request.GET['after'], keyset)
            rows = list((rows_after(queryset, keyset, after) if after is not None else queryset)[: size + 1])
        except InvalidCursor:
            messages.error(self.request, 'That link to further rows no longer fits this list: back to its first page.')
            return None
        shown = rows[:size]
        next_url = self._url_after(encode_cursor(shown[-1], keyset)) if len(rows) > size else ''
        return KeysetPage(object_list=shown, paginator=paginator, next_url=next_url, first_url=self._url_after(None))

    def _url_after(self, cursor: str | None) -> str:
        params = self.request.GET.copy()
        params.pop('page', None)
        params.pop('after', None)
        if cursor is not None:
            params['after'] = cursor
        query = params.urlencode()
        return f'{self.request.path}?{query}' if query else self.request.path

    def get(self, request, *args, **kwargs):
        context = self.get_context()
        if request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request:
            response = self.render(context, self.table_template_name)
            response['HX-Push-Url'] = self.clean_url()
        else:
            response = self.render(context)
        # The same URL answers with the table alone or the whole page: caches must keep both apart.
        patch_vary_headers(response, ['HX-Request'])
        return response


#
# Detail
#


class ObjectDetailView(ObjectViewMixin, View):
    """One record with its timeline. Requester-only people see only the public part of the timeline."""

    permission_action = 'view'
    template_name = 'generic/object_detail.html'
    fields: list[str | Column] = []  # shown in the default details card; every editable field when empty
    # Records a requester follows in the portal mark which timeline entries they do not see.
    timeline_visibility = False

    def get_timeline(self, obj):
        return selectors.timeline_for(obj, public_only=self.request.user.is_requester_only)

    def get_fields(self, obj) -> list[tuple[str, Column, models.Model]]:
        names = self.fields or [
            f.name
            for f in obj._meta.get_fields()
            if getattr(f, 'editable', False) and not f.auto_created and f.name not in ('password',)
        ]
        queryset = self.get_queryset()
        columns = [(c if isinstance(c, Column) else Column(c)).bind(type(obj), queryset) for c in names]
        return [(column.label, column, obj) for column in columns]

    def get_extra_context(self, obj) -> dict[str, Any]:
        return {}

    def get(self, request, *args, **kwargs):
        obj = self.get_object()
        context = {
            'object': obj,
            'timeline': self.get_timeline(obj),
            'timeline_visibility': self.timeline_visibility and not self.request.user.is_requester_only,
            'detail_fields': self.get_fields(obj),
            'edit_url': object_url(obj, 'edit'),
            'delete_url': object_url(obj, 'delete'),
            **self.get_extra_context(obj),
        }
        return self.render(context)


#
# Create and edit
#


class ObjectFormView(ObjectViewMixin, View):
    """A ModelForm validates; a service writes. Refusals from the service land on the form, input kept."""

    form_class = None
    template_name = 'generic/object_form.html'
    # A keyword-only service `service(actor=..., **fields)`; ObjectEditView adds the record as
    # `service_object_kwarg`. Left None, the audited generic `record_create`/`record_update` is used.
    service: Callable[..., models.Model] | None = None
    success_message = ''

    def get_form_class(self):
        if self.form_class is None:
            raise ImproperlyConfigured(f'{type(self).__name__} needs a form_class.')
        return self.form_class

    def get_form(self, instance=None):
        data = self.request.POST if self.request.method == 'POST' else None
        files = self.request.FILES if self.request.method == 'POST' else None
        return self.get_form_class()(data=data, files=files, instance=instance, **self.get_form_kwargs())

    def get_form_kwargs(self) -> dict[str, Any]:
        return {}

    def service_fields(self, form) -> dict[str, Any]:
        """What the service receives besides the actor: the form's `service_fields()` or its cleaned data."""
        if hasattr(form, 'service_fields'):
            return form.service_fields()
        return dict(form.cleaned_data)

    def get_service(self):
        # Read from the class so a plain function assigned as `service = services.x` is not bound as a method.
        return type(self).service

    def get_success_url(self, obj) -> str:
        default = obj.get_absolute_url() if hasattr(obj, 'get_absolute_url') else object_url(obj, 'detail')
        return safe_next(self.request, default)

    def save(self, form) -> models.Model:
        raise NotImplementedError

    def form_context(self, form, obj=None) -> dict[str, Any]:
        return {'form': form, 'object': obj, 'next': self.request.GET.get('next', '')}

    def process(self, form, obj=None):
        if form.is_valid():
            try:
                saved = self.save(form)
            except (ValidationError, ApplicationError) as error:
                add_service_errors(form, error)
            else:
                verb = 'updated' if obj is not None else 'created'
                name = (self.verbose_name or str(saved._meta.verbose_name)).capitalize()
                message = self.success_message or f'{name} “{saved}” {verb}.'
                messages.success(self.request, message)
                return HttpResponseRedirect(self.get_success_url(saved))
        return self.render(self.form_context(form, obj))


class ObjectCreateView(ObjectFormView):
    permission_action = 'add'

    def save(self, form):
        service = self.get_service()
        if service is None:
            model = self.get_permission_model()
            return services.record_create(model=model, fields=self.service_fields(form), actor=self.actor())
        return service(actor=self.actor(), **self.service_fields(form))

    def get(self, request, *args, **kwargs):
        return self.render(self.form_context(self.get_form()))

    def post(self, request, *args, **kwargs):
        return self.process(self.get_form())


class ObjectEditView(ObjectFormView):
    permission_action = 'change'
    service_object_kwarg = 'obj'

    def save(self, form):
        # The form validated its own copy of the record; the service gets a fresh one so its audit snapshot
        # holds the stored values, not those the form already applied.
        obj = self.get_object()
        service = self.get_service()
        if service is None:
            return services.record_update(obj=obj, fields=self.service_fields(form), actor=self.actor())
        return service(actor=self.actor(), **{self.service_object_kwarg: obj}, **self.service_fields(form))

    def get(self, request, *args, **kwargs):
        obj = self.get_object()
        return self.render(self.form_context(self.get_form(instance=obj), obj))

    def post(self, request, *args, **kwargs):
        obj = self.get_object()
        return self.process(self.get_form(instance=self.get_object()), obj)


#
# Delete and one-click actions
#


class ObjectActionView(ObjectViewMixin, View):
    """Confirm on GET, run `service(actor=..., <service_object_kwarg>=record)` on POST (e.g. deactivate)."""

    permission_action = 'change'
    template_name = 'generic/object_confirm.html'
    service: Callable[..., Any] | None = None
    service_object_kwarg = 'obj'
    action_label = ''
    action_description = ''
    button_class = 'btn-primary'
    success_message = ''

    def get_service(self):
        service = type(self).service
        if service is None:
            raise ImproperlyConfigured(f'{type(self).__name__} needs a service.')
        return service

    def get_success_url(self, obj) -> str:
        return obj.get_absolute_url() if hasattr(obj, 'get_absolute_url') else object_url(obj, 'detail')

    def perform(self, obj):
        return self.get_service()(actor=self.actor(), **{self.service_object_kwarg: obj})

    def context(self, obj, **extra) -> dict[str, Any]:
        return {
            'object': obj,
            'action_label': self.action_label,
            'action_description': self.action_description,
            'button_class': self.button_class,
            **extra,
        }

    def get(self, request, *args, **kwargs):
        return self.render(self.context(self.get_object()))

    def post(self, request, *args, **kwargs):
        obj = self.get_object()
        try:
            self.perform(obj)
        except (ValidationError, ApplicationError) as error:
            messages.error(request, error_text(error))
            return HttpResponseRedirect(self.get_success_url(obj))
        messages.success(request, self.success_message or f'{self.action_label}: done for “{obj}”.')
        return HttpResponseRedirect(self.get_success_url(obj))


class ObjectDeleteView(ObjectActionView):
    """Confirm, then `record_delete` (or `service`). Records still referenced are kept, with a message saying why."""

    permission_action = 'delete'
    template_name = 'generic/object_confirm_delete.html'
    button_class = 'btn-danger'
    success_url = ''

    def get_service(self):
        return type(self).service or services.record_delete

    def get_success_url(self, obj) -> str:
        return self.success_url or object_url(type(obj), 'list') or reverse('itsm:home')

    def post(self, request, *args, **kwargs):
        obj = self.get_object()
        label = f'{(self.verbose_name or str(obj._meta.verbose_name)).capitalize()} “{obj}”'
        try:
            self.perform(obj)
        except (ProtectedError, RestrictedError) as error:
            referencing = error.protected_objects if isinstance(error, ProtectedError) else error.restricted_objects
            blockers = sorted({str(o) for o in referencing})
            shown = ', '.join(blockers[:10]) + (f' and {len(blockers) - 10} more' if len(blockers) > 10 else '')
            text = f'{label} cannot be deleted: it is still referenced by {shown}.'
            return self.render(self.context(obj, error=text, blockers=blockers), status=409)
        except (ValidationError, ApplicationError) as error:
            return self.render(self.context(obj, error=error_text(error)), status=409)
        messages.success(request, self.success_message or f'{label} deleted.')
        return HttpResponseRedirect(self.get_success_url(obj))


def compact_age(moment, now=None) -> str:
    """How long ago, in the largest one or two units: 45m, 3h 20m, 2d 4h, 6w (queue rows)."""
    if moment is None:
        return ''
    seconds = max(0, int(((now or timezone.now()) - moment).total_seconds()))
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if days >= 14:
        return f'{days // 7}w'
    if days:
        return f'{days}d {hours % 24}h' if hours % 24 else f'{days}d'
    if hours:
        return f'{hours}h {minutes % 60}m' if minutes % 60 else f'{hours}h'
    return f'{minutes}m'
