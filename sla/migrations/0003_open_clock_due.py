"""A partial index of the open clocks' due times: the queues sort every open ticket by its nearest due."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ('sla', '0002_builtin_calendar'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='slaclock',
            index=models.Index(
                condition=models.Q(('due_at__isnull', False), ('stopped_at__isnull', True)),
                fields=['ticket', 'due_at'],
                name='sla_clock_open_due',
            ),
        ),
    ]
