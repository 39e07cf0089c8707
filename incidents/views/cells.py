"""Ticket table cells drawn in Python (`Column.render`, `itsm.tables`): the ticket lists' and the queues' cells,
without a template per cell. The badges are those of `incidents/_priority.html` and `incidents/_state.html`."""

from __future__ import annotations

from django.template.defaulttags import CsrfTokenNode
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from itsm.tables import format_html, labelled_cells
from itsm.timezones import format_datetime

from ..choices import PRIORITY_COLOURS, STATE_COLOURS


def _url(ticket) -> str:
    """The ticket's page, reversed once per row (several cells link to it)."""
    url = getattr(ticket, '_page_url', None)
    if url is None:
        url = ticket._page_url = ticket.get_absolute_url()
    return url


VIP = mark_safe(' <span class="badge bg-yellow-lt" title="VIP caller">VIP</span>')
CASE = mark_safe(' <span class="badge bg-azure-lt" title="Case">CS</span>')
SECURITY = mark_safe(
    ' <span class="badge bg-red-lt" title="Security incident"><i class="ti ti-shield-lock" aria-hidden="true"></i>'
    '<span class="visually-hidden">Security incident</span></span>'
)
DASH = mark_safe('<span class="text-secondary">—</span>')
NOBODY = mark_safe('<span class="text-secondary">Nobody yet</span>')


def priority_badge(priority, colours=PRIORITY_COLOURS) -> SafeString:
    """`incidents/_priority.html` (no meaning shown), with its closing newline."""
    colour = colours.get(priority, '')
    css = f'bg-{colour} text-white' if priority < 2 else f'bg-{colour}-lt'
    return format_html('<span class="badge pc-prio {}">P{}</span>\n', css, priority)


def state_badge(ticket, colours=STATE_COLOURS) -> SafeString:
    """`incidents/_state.html`, with its closing newline."""
    return format_html(
        '<span class="badge pc-state bg-{}-lt">{}</span>\n', colours.get(ticket.state, ''), ticket.get_state_display()
    )


def _vip(ticket) -> SafeString:
    return VIP if ticket.caller.vip else ''


# ---------------------------------------------------------------------------------------- ticket lists
def number(record, value, column, context=None) -> SafeString:
    return format_html(
        '<a href="{}" class="fw-medium text-nowrap" title="{}">{}</a>\n',
        _url(record),
        record,
        record.number,
    )


def priority(record, value, column, context=None) -> SafeString:
    return format_html('{}\n', priority_badge(value, column.colors))


def state(record, value, column, context=None) -> SafeString:
    attention = ''
    if record.attention:
        since = format_datetime(record.attention_since) if record.attention_since else ''
        icon = 'arrow-back-up' if record.attention == 'reopened' else 'message-circle-exclamation'
        attention = format_html(
            ' <span class="badge bg-orange-lt pc-attention" title="Since {}, until someone working it opens it">'
            '<i class="ti ti-{} me-1" aria-hidden="true"></i>{}</span>',
            since,
            icon,
            record.get_attention_display(),
        )
    return format_html('{}{}\n', state_badge(record, column.colors), attention)


# ---------------------------------------------------------------------------------------------- queues
def queue_number(record, value, column, context=None) -> SafeString:
    return format_html(
        '<span class="pc-queue-number"><a href="{}" class="fw-medium" title="{}">{}</a> {}{}{}</span>\n',
        _url(record),
        record,
        record.number,
        priority_badge(record.priority),
        CASE if record.kind == 'case' else '',
        SECURITY if record.security_incident else '',
    )


def queue_description(record, value, column, context=None) -> SafeString:
    pending = ''
    if record.state == 'pending' and record.pending_reason:
        pending = format_html(' · {}', record.get_pending_reason_display())
    return format_html(
        '<a href="{}" class="text-reset">{}</a>\n'
        '<div class="small text-secondary pc-queue-meta"><span title="Caller">{}</span>{}{}</div>\n',
        _url(record),
        record.short_description,
        record.caller,
        _vip(record),
        pending,
    )


def queue_group(record, value, column, context=None) -> SafeString:
    group = record.assignment_group
    assignee = format_html('<span title="Assignee">{}</span>', record.assignee) if record.assignee else NOBODY
    return format_html(
        '<div class="text-truncate pc-queue-group" title="{}">{}</div>\n'
        '<div class="small text-truncate pc-queue-group">{}</div>\n',
        group or 'No group',
        group or '—',
        assignee,
    )


def sla_badge_list(clocks, context) -> SafeString:
    """`sla/_badge_list.html` for a row's running clocks ('' when none shows), with the countdown script the first
    time on the page (the `sla_badges` tag's flag, shared through the template context)."""
    from sla.badges import badges_for
    from sla.templatetags.sla import _script_once

    badges = badges_for(clocks)
    if not badges:
        return ''
    spans = ''.join(
        format_html(
            '<span class="badge bg-{}-lt pc-sla" data-sla-state="{}"{}{} data-testid="sla-badge" title="{}">'
            '<i class="ti ti-{} me-1" aria-hidden="true"></i><span class="pc-sla-label">{}</span>&nbsp;'
            '<span class="pc-sla-time">{}</span></span>',
            b.color,
            b.state,
            format_html(' data-sla-due="{}"', b.due) if b.due else '',
            format_html(' data-sla-risk="{}"', b.risk) if b.risk else '',
            b.title,
            b.icon,
            b.label,
            b.text,
        )
        for b in badges
    )
    script = ''
    if context is not None and _script_once(context):
        script = format_html('<script src="{}" defer></script>', static('pitcrew/sla/sla.js'))
    wrapper = '<span class="pc-sla-badges d-inline-flex flex-wrap gap-1">{}</span>{}\n'
    return format_html(wrapper, mark_safe(spans), script)


def queue_age(record, value, column, context=None) -> SafeString:
    from sla.selectors import record_clocks
    from sla.templatetags.sla import sla_forecast

    opened = record.opened_at
    return format_html(
        '<time datetime="{}" title="Opened {}" class="text-nowrap">{}</time><div class="pc-queue-sla">{}{}</div>\n',
        timezone.localtime(opened).isoformat() if opened else '',
        format_datetime(opened) if opened else '',
        record.age,
        sla_badge_list(record_clocks(record), context),
        sla_forecast(record),
    )


def queue_priority(record, value, column, context=None) -> SafeString:
    return format_html('{}\n', priority_badge(record.priority))


def queue_caller(record, value, column, context=None) -> SafeString:
    return format_html('<span class="text-nowrap">{}{}</span>\n', record.caller, _vip(record))


def queue_assignee(record, value, column, context=None) -> SafeString:
    return format_html('<span class="text-nowrap">{}</span>\n', record.assignee or DASH)


# ------------------------------------------------------------------------------------------- queue rows
def take_form(ticket, context) -> SafeString:
    """Take on a row the person may take ('' otherwise): a form that assigns the ticket to them and accepts it,
    coming back to this page (`take_next` in the context: a fragment's page)."""
    if not getattr(ticket, 'can_take', False):
        return ''
    request = context.get('request')
    back = context.get('take_next') or (request.get_full_path() if request is not None else '')
    return format_html(
        '<form method="post" action="{}" class="pc-take-form">\n'
        '  {}<input type="hidden" name="next" value="{}">\n'
        '  <button type="submit" class="btn btn-sm btn-outline-primary" data-pc-take aria-label="Take {}"'
        ' title="Assign to me and accept (t)">Take</button>\n'
        '</form>\n',
        reverse('incidents:ticket_take', args=[ticket.number]),
        CsrfTokenNode().render(context),  # what `{% csrf_token %}` writes
        back,
        ticket.number,
    )


def queue_rows(tickets, columns, context) -> list[SafeString]:
    """The queue table's `<tr>`s (`incidents/queue/_table.html`): the bulk select box (ticked when the page is
    drawn again after a refused bulk action), the labelled cells and Take."""
    selected = context.get('selected_ids') or ()
    rows = []
    for ticket in tickets:
        rows.append(
            format_html(
                '<tr class="pc-prio-row-{}">\n'
                '          <td class="pc-queue-select"><input type="checkbox" class="form-check-input m-0 align-middle"'
                ' name="tickets" value="{}" form="bulk-form" aria-label="Select {}"{}></td>\n'
                '          {}\n'
                '          <td class="text-end pc-queue-actions">\n            {}          </td>\n'
                '        </tr>',
                ticket.priority,
                ticket.pk,
                ticket.number,
                mark_safe(' checked') if str(ticket.pk) in selected else '',
                labelled_cells(ticket, columns, context),
                take_form(ticket, context),
            )
        )
    return rows


def waiting_rows(tickets, context) -> list[SafeString]:
    """'Waiting in my groups' below my work (`incidents/queue.html`): number, priority, state, description, group,
    age and Take of each unowned ticket."""
    rows = []
    for ticket in tickets:
        url = _url(ticket)
        opened = ticket.opened_at
        rows.append(
            format_html(
                '<tr class="pc-prio-row-{}">\n'
                '          <td class="text-nowrap"><a href="{}" class="fw-medium" title="{}">{}</a></td>\n'
                '          <td>{}</td>\n'
                '          <td>{}</td>\n'
                '          <td class="pc-cell-wrap"><a href="{}" class="text-reset">{}</a></td>\n'
                '          <td class="text-nowrap">{}</td>\n'
                '          <td class="text-end text-nowrap"><time datetime="{}">{}</time></td>\n'
                '          <td class="text-end">{}</td>\n'
                '        </tr>',
                ticket.priority,
                url,
                ticket,
                ticket.number,
                priority_badge(ticket.priority),
                state_badge(ticket),
                url,
                ticket.short_description,
                ticket.assignment_group or '',
                timezone.localtime(opened).isoformat() if opened else '',
                ticket.age,
                take_form(ticket, context),
            )
        )
    return rows
