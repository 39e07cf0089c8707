"""Template helpers of the generic pages: table cells, badges, form widgets, timeline values and URLs."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms, template
from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

from itsm import tables
from itsm.audit import EMPTY_WORDS, in_words
from itsm.choices import Channel, Role, TimelineKind
from itsm.permissions import may_write, user_can
from itsm.timezones import format_date, format_datetime, format_relative, zone_label
from itsm.views.generic import Column
from itsm.views.generic import object_url as _object_url

register = template.Library()

EMPTY = tables.EMPTY

TIMELINE_ICONS = {
    TimelineKind.CREATED: ('plus', 'green'),
    TimelineKind.TRANSITION: ('arrow-right', 'blue'),
    TimelineKind.FIELD_CHANGE: ('pencil', 'azure'),
    TimelineKind.COMMENT: ('message', 'teal'),
    TimelineKind.WORK_NOTE: ('notes', 'yellow'),
    TimelineKind.NOTIFICATION: ('mail', 'purple'),
    TimelineKind.ATTACHMENT: ('paperclip', 'cyan'),
    TimelineKind.LINK: ('link', 'indigo'),
    TimelineKind.DELETED: ('trash', 'red'),
    TimelineKind.SLA_WARNING: ('clock-exclamation', 'orange'),
    TimelineKind.SLA_BREACH: ('alarm', 'red'),
    TimelineKind.SLA_RETARGET: ('clock-edit', 'lime'),
    TimelineKind.IMPORT: ('download', 'secondary'),
}
CHANNEL_ICONS = {
    Channel.UI: 'browser',
    Channel.API: 'api',
    Channel.EMAIL: 'mail',
    Channel.MONITORING: 'heart-rate-monitor',
    Channel.SYSTEM: 'settings-automation',
}
MESSAGE_CLASSES = {'error': 'danger', 'debug': 'secondary'}
MESSAGE_ICONS = {'success': 'circle-check', 'error': 'alert-circle', 'warning': 'alert-triangle', 'info': 'info-circle'}


#
# Form controls
#


@register.simple_tag
def choice_options(choices, selected=None):
    """The `<option>`s of a filter's select from `(value, label)` pairs, the one whose value is `selected` chosen.
    A list can run to a thousand services; a template loop would render several nodes for each of them."""
    return mark_safe(
        ''.join(
            f'<option value="{escape(value)}"{" selected" if value == selected else ""}>{escape(label)}</option>'
            for value, label in choices
        )
    )


#
# URLs and permissions
#


@register.simple_tag
def object_url(obj_or_model, action: str) -> str:
    """`{% object_url object 'edit' %}`: the record's page for an action, '' when the app has no such page."""
    if obj_or_model is None or obj_or_model == '':
        return ''
    if isinstance(obj_or_model, models.QuerySet):
        obj_or_model = obj_or_model.model
    return _object_url(obj_or_model, action)


@register.simple_tag
def can(user, obj_or_model, action: str) -> bool:
    """`{% can user object 'change' as may_edit %}`: the model permission for `action`."""
    if obj_or_model is None or obj_or_model == '':
        return False
    model = obj_or_model.model if isinstance(obj_or_model, models.QuerySet) else obj_or_model
    if isinstance(model, models.Model) and action in ('change', 'delete') and not may_write(user, model):
        return False
    model = type(model) if isinstance(model, models.Model) else model
    return user_can(user, model, action)


@register.filter
def verbose_name(obj) -> str:
    model = obj.model if isinstance(obj, models.QuerySet) else obj
    return str(model._meta.verbose_name)


@register.filter
def verbose_name_plural(obj) -> str:
    model = obj.model if isinstance(obj, models.QuerySet) else obj
    return str(model._meta.verbose_name_plural)


#
# Values, badges and table cells
#


@register.simple_tag
def badge(text, color: str = 'secondary', icon: str = ''):
    """A small coloured label; `color` is a Tabler colour name (green, red, azure...)."""
    return tables.badge_html(text, color, icon)


@register.filter
def role_label(slug: str) -> str:
    try:
        return Role(slug).label
    except ValueError:
        return slug


@register.filter
def get_item(mapping, key):
    return mapping.get(key, '') if hasattr(mapping, 'get') else ''


@register.filter
def role_labels(user) -> list[str]:
    """A person's role labels in the order roles are declared."""
    slugs = user.role_slugs() if hasattr(user, 'role_slugs') else set()
    return [label for value, label in Role.choices if value in slugs]


format_value = tables.format_value


@register.simple_tag(takes_context=True)
def render_cell(context, record, column: Column):
    """One table cell (or detail value) of `record` for a bound `Column`."""
    return tables.cell_html(record, column, context)


@register.simple_tag(takes_context=True)
def table_rows(context, records, columns: list[Column]):
    """Every row of a table (`<tr>` with its cells), drawn in Python: `{% table_rows object_list columns as rows %}`."""
    return tables.table_rows(records, columns, context)


@register.simple_tag(takes_context=True)
def labelled_cells(context, record, columns: list[Column]):
    """A row's cells, each classed by its column and labelled for narrow screens (the queue's rows)."""
    return tables.labelled_cells(record, columns, context)


@register.filter
def sort_state(column: Column, current: str) -> str:
    """'asc', 'desc' or '' for a column given the current `?sort=` value."""
    if current == column.name:
        return 'asc'
    if current == f'-{column.name}':
        return 'desc'
    return ''


@register.filter
def next_sort(column: Column, current: str) -> str:
    """The `?sort=` value a click on the column header asks for: ascending first, then descending."""
    return f'-{column.name}' if current == column.name else column.name


@register.filter
def read_on_url(page) -> str:
    """The link that reads on past a list's counted pages by its sort key ('' for pagers without one)."""
    return getattr(page, 'read_on_url', '')


@register.filter
def is_keyset_page(page) -> bool:
    """Whether the page was read after a row by the list's sort key (`itsm.paginator.KeysetPage`)."""
    return getattr(page, 'is_keyset', False)


@register.filter
def count_text(paginator) -> str:
    """How many rows a list holds, as its pager says it: exact, or 'more than 10,000' past a bounded count."""
    if not hasattr(paginator, 'num_pages'):
        return ''
    text = getattr(paginator, 'count_text', None)
    return text if text is not None else str(paginator.count)


@register.filter
def page_range(paginator, number: int) -> list:
    """Page numbers around `number` with None where pages are left out."""
    return [
        None if page == paginator.ELLIPSIS else page
        for page in paginator.get_elided_page_range(number, on_each_side=2, on_ends=1)
    ]


#
# Times: one format, in the active (the person's) time zone
#


def _moment(value) -> dt.datetime | dt.date | None:
    """A datetime or date, also from the ISO text a JSON value holds; None for anything else."""
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value:
        try:
            return dt.datetime.fromisoformat(value) if 'T' in value or ' ' in value else dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


@register.filter
def when(value):
    """`{{ ticket.opened_at|when }}`: `<time>` with '5 Dec 2026 14:05 CET' in the person's zone (a dash if empty)."""
    moment = _moment(value)
    if moment is None:
        return EMPTY
    if not isinstance(moment, dt.datetime):
        return format_html('<time datetime="{}">{}</time>', moment.isoformat(), format_date(moment))
    return format_html(
        '<time datetime="{}" title="{}">{}</time>', moment.isoformat(), zone_label(), format_datetime(moment)
    )


@register.filter
def ago(value):
    """`{{ ticket.opened_at|ago }}`: '3 h ago' (or 'in 2 days'), the full time in its title."""
    moment = _moment(value)
    if not isinstance(moment, dt.datetime):
        return when(value)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>', moment.isoformat(), format_datetime(moment), format_relative(moment)
    )


@register.filter
def when_text(value) -> str:
    """The same text without markup (attributes, e-mails); '' if empty."""
    moment = _moment(value)
    if moment is None:
        return ''
    return format_datetime(moment) if isinstance(moment, dt.datetime) else format_date(moment)


@register.filter
def day(value) -> str:
    """'5 Dec 2026' (a datetime's day in the person's zone); '' if empty."""
    moment = _moment(value)
    return format_date(moment) if moment is not None else ''


@register.simple_tag
def current_zone() -> str:
    """'Europe/Paris (CET)': the zone times are shown and typed in."""
    return zone_label()


@register.simple_tag
def date_display_format() -> str:
    """The desk's date format (Django's format characters), for scripts that write dates (chart labels)."""
    return settings.DATE_DISPLAY_FORMAT


@register.simple_tag
def now_in_zone() -> str:
    """The time now, in the person's zone and the desk's format."""
    return format_datetime(dt.datetime.now(dt.UTC))


@register.filter
def is_datetime_input(bound_field) -> bool:
    """A field whose widget takes a date and time: the form says which zone it is read in."""
    return isinstance(bound_field.field.widget, forms.DateTimeInput)


#
# Forms
#


@register.filter
def bs_field(bound_field, size: str = ''):
    """Render a form field's widget with Bootstrap/Tabler classes and its error state (`size`: 'sm' or 'lg')."""
    widget = bound_field.field.widget
    classes = [widget.attrs.get('class', '')]
    sized = size in ('sm', 'lg')
    if isinstance(widget, forms.CheckboxInput):
        classes.append('form-check-input')
    elif isinstance(widget, forms.Select | forms.SelectMultiple) and not isinstance(
        widget, forms.CheckboxSelectMultiple | forms.RadioSelect
    ):
        classes.append(f'form-select form-select-{size}' if sized else 'form-select')
    elif not isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
        classes.append(f'form-control form-control-{size}' if sized else 'form-control')
    if bound_field.errors:
        classes.append('is-invalid')
    attrs = {'class': ' '.join(c for c in classes if c)}
    described = []
    if bound_field.help_text:
        described.append(f'{bound_field.auto_id}_help')
    if bound_field.errors:
        described.append(f'{bound_field.auto_id}_error')
        attrs['aria-invalid'] = 'true'
    if described:
        attrs['aria-describedby'] = ' '.join(described)
    return bound_field.as_widget(attrs=attrs)


@register.filter
def widget_type(bound_field) -> str:
    """'checkbox', 'multicheck', 'radio' or 'input': how `_form.html` lays the field out."""
    widget = bound_field.field.widget
    if isinstance(widget, forms.CheckboxSelectMultiple):
        return 'multicheck'
    if isinstance(widget, forms.RadioSelect):
        return 'radio'
    if isinstance(widget, forms.CheckboxInput):
        return 'checkbox'
    return 'input'


@register.filter
def is_wide(bound_field) -> bool:
    """Fields that take the form's full width; the others sit two to a row."""
    widget = bound_field.field.widget
    wide = getattr(bound_field.form, 'wide_fields', ())
    return bound_field.name in wide or isinstance(
        widget, forms.Textarea | forms.CheckboxSelectMultiple | forms.RadioSelect | forms.SelectMultiple
    )


#
# Timeline
#


@register.filter
def timeline_icon(kind: str) -> str:
    return TIMELINE_ICONS.get(kind, ('point', 'secondary'))[0]


@register.filter
def timeline_color(kind: str) -> str:
    return TIMELINE_ICONS.get(kind, ('point', 'secondary'))[1]


@register.filter
def channel_icon(channel: str) -> str:
    return CHANNEL_ICONS.get(channel, 'point')


ISO_DATETIME = re.compile(r'^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}')


@register.filter
def timeline_value(value):
    """A before/after value from the JSON history in words (`itsm.audit.in_words`): "yes", "1 Jan 2027",
    "Monday–Friday 08:00–18:00", "1 Jan 2027 (New Year's Day)"; nothing reads "empty"."""
    if value is None or value == '' or value == [] or value == {}:
        return format_html('<span class="text-secondary">{}</span>', EMPTY_WORDS)
    return in_words(value)


@register.simple_tag
def change_display(change: dict, record=None) -> dict[str, Any]:
    """A field change with choice values shown by their labels (and a person's groups shown as roles)."""
    name = change.get('field', '')
    label = change.get('label') or name
    before, after = change.get('before'), change.get('after')
    labels: dict = {}
    if isinstance(record, models.Model):
        try:
            model_field = record._meta.get_field(name)
        except FieldDoesNotExist:
            model_field = None
        if model_field is not None and getattr(model_field, 'choices', None):
            labels = {str(k): v for k, v in model_field.flatchoices}
        elif name == 'groups' and isinstance(record, AbstractUser):
            label, labels = 'Roles', dict(Role.choices)

    def shown(value):
        if not labels:
            return value
        if isinstance(value, list):
            return [labels.get(str(item), item) for item in value]
        return labels.get(str(value), value) if value is not None else None

    return {'label': str(label)[:1].upper() + str(label)[1:], 'before': shown(before), 'after': shown(after)}


@register.simple_tag
def transition_labels(entry, record=None) -> dict[str, str]:
    """The human labels of a transition entry's from/to states, read from the record's choice field."""
    source, target = entry.data.get('from'), entry.data.get('to')
    model = type(record) if isinstance(record, models.Model) else entry.content_type.model_class()
    if model is not None:
        for model_field in model._meta.concrete_fields:
            choices = dict(model_field.flatchoices) if model_field.choices else {}
            if source in choices or target in choices:
                return {'from': choices.get(source, source), 'to': choices.get(target, target)}
    return {'from': source, 'to': target}


#
# Messages
#


@register.filter
def message_class(message) -> str:
    tag = message.level_tag
    return MESSAGE_CLASSES.get(tag, tag)


@register.filter
def message_icon(message) -> str:
    return MESSAGE_ICONS.get(message.level_tag, 'info-circle')
