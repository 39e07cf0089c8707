"""Clocks on any process record, step 2 of 3: every existing clock measures a ticket, so it gets the ticket's
content type and the ticket's id (one UPDATE, on SQLite and PostgreSQL alike). Reversed, the ticket id comes
back from `object_id`; clocks of other kinds of record, which have no ticket, are deleted then."""

from django.db import migrations
from django.db.models import F


def _ticket_type(apps, *, create: bool):
    ContentType = apps.get_model('contenttypes', 'ContentType')
    if create:
        return ContentType.objects.get_or_create(app_label='incidents', model='ticket')[0]
    return ContentType.objects.filter(app_label='incidents', model='ticket').first()


def clocks_to_records(apps, schema_editor):
    SlaClock = apps.get_model('sla', 'SlaClock')
    unconverted = SlaClock.objects.filter(object_id__isnull=True)
    if not unconverted.exists():
        return
    unconverted.update(content_type_id=_ticket_type(apps, create=True).pk, object_id=F('ticket_id'))


def clocks_to_tickets(apps, schema_editor):
    SlaClock = apps.get_model('sla', 'SlaClock')
    ticket_type = _ticket_type(apps, create=False)
    others = SlaClock.objects.all() if ticket_type is None else SlaClock.objects.exclude(content_type=ticket_type)
    others.delete()
    SlaClock.objects.update(ticket_id=F('object_id'))


class Migration(migrations.Migration):
    dependencies = [
        ('sla', '0004_clock_record_fields'),
    ]

    operations = [
        migrations.RunPython(clocks_to_records, clocks_to_tickets, elidable=False),
    ]
