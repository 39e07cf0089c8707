"""Clocks on any process record, step 3 of 3: the generic reference is required, the ticket column goes, and
the indexes and the one-open-clock-per-kind constraint are keyed on (content_type, object_id) again. Two small
partial indexes serve the breached and at-risk filters: with the record's content type to check, reading those
clocks from the table cost more than the foreign key's lookups did (see sla/README.md)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('sla', '0005_clock_record_data'),
    ]

    operations = [
        migrations.AlterField(
            model_name='slaclock',
            name='content_type',
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name='+',
                to='contenttypes.contenttype',
            ),
        ),
        migrations.AlterField(
            model_name='slaclock',
            name='object_id',
            field=models.PositiveBigIntegerField(),
        ),
        migrations.RemoveField(model_name='slaclock', name='ticket'),
        migrations.AlterModelOptions(
            name='slaclock',
            options={'ordering': ['content_type', 'object_id', 'id'], 'verbose_name': 'SLA clock'},
        ),
        migrations.AddIndex(
            model_name='slaclock',
            index=models.Index(fields=['content_type', 'object_id', 'due_at'], name='sla_clock_record_due'),
        ),
        migrations.AddIndex(
            model_name='slaclock',
            index=models.Index(
                condition=models.Q(('due_at__isnull', False), ('stopped_at__isnull', True)),
                fields=['content_type', 'object_id', 'due_at'],
                name='sla_clock_open_due',
            ),
        ),
        migrations.AddIndex(
            model_name='slaclock',
            index=models.Index(
                condition=models.Q(('breached_at__isnull', False), ('state', 'breached'), _connector='OR'),
                fields=['content_type', 'object_id'],
                name='sla_clock_breached',
            ),
        ),
        migrations.AddIndex(
            model_name='slaclock',
            index=models.Index(
                condition=models.Q(
                    ('breached_at__isnull', True), ('stopped_at__isnull', True), ('warned_at__isnull', False)
                ),
                fields=['content_type', 'object_id'],
                name='sla_clock_at_risk',
            ),
        ),
        migrations.AddConstraint(
            model_name='slaclock',
            constraint=models.UniqueConstraint(
                condition=models.Q(('stopped_at__isnull', True)),
                fields=('content_type', 'object_id', 'kind'),
                name='sla_clock_one_open_per_kind',
            ),
        ),
    ]
