"""The queue table's rows and Take, drawn in Python (`incidents.views.cells`): a template per row cost more than
the rest of the table."""

from django import template

from ..views import cells

register = template.Library()


@register.simple_tag(takes_context=True)
def queue_rows(context, tickets, columns):
    """`{% queue_rows object_list columns as rows %}`: each ticket's `<tr>`."""
    return cells.queue_rows(tickets, columns, context)


@register.simple_tag(takes_context=True)
def take_form(context, ticket):
    """`{% take_form ticket %}`: Take, when the person may take the ticket."""
    return cells.take_form(ticket, context)


@register.simple_tag(takes_context=True)
def waiting_rows(context, tickets):
    """`{% waiting_rows waiting as rows %}`: the unowned tickets below my work, each with Take."""
    return cells.waiting_rows(tickets, context)
