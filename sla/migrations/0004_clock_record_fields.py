"""Clocks on any process record, step 1 of 3: the generic (content_type, object_id) columns next to the ticket.

The ticket reference becomes nullable (so the steps can be reversed) and the indexes and the constraint keyed on
it go; step 3 creates them again on (content_type, object_id). Record states and kinds may be longer than a
ticket's, so a pause's state and an SLA's kind get room for them."""

import django.db.models.deletion
from django.db import migrations, models

import sla.records


class Migration(migrations.Migration):
    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('incidents', '0006_tickets_on_process_record'),
        ('sla', '0003_open_clock_due'),
    ]

    operations = [
        migrations.RemoveConstraint(model_name='slaclock', name='sla_clock_one_open_per_kind'),
        migrations.RemoveIndex(model_name='slaclock', name='sla_clock_ticket_due'),
        migrations.RemoveIndex(model_name='slaclock', name='sla_clock_open_due'),
        migrations.AlterField(
            model_name='slaclock',
            name='ticket',
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name='sla_clocks',
                to='incidents.ticket',
            ),
        ),
        migrations.AddField(
            model_name='slaclock',
            name='content_type',
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name='+',
                to='contenttypes.contenttype',
            ),
        ),
        migrations.AddField(
            model_name='slaclock',
            name='object_id',
            field=models.PositiveBigIntegerField(null=True),
        ),
        migrations.AlterField(
            model_name='clockpause',
            name='ticket_state',
            field=models.CharField(max_length=24),
        ),
        migrations.AlterField(
            model_name='servicelevelagreement',
            name='ticket_kind',
            field=models.CharField(choices=sla.records.kind_choices, default='incident', max_length=24),
        ),
    ]
