from django.db import migrations, models


def forget_rollups(apps, schema_editor):
    """Rollups are a cache of the tickets: without rows the next refresh rebuilds every day, and with them each
    ticket's contribution, which later refreshes take away and add again instead of re-rolling whole days."""
    apps.get_model('reports', 'DailyRollup').objects.all().delete()
    apps.get_model('reports', 'PeriodRollup').objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ('reports', '0002_period_rollups'),
    ]

    operations = [
        migrations.CreateModel(
            name='RollupContribution',
            fields=[
                ('ticket_id', models.BigIntegerField(primary_key=True, serialize=False)),
                (
                    'entries',
                    models.TextField(
                        help_text='JSON list of [base, day ordinal, kind, priority, dimension keys, bucket, counter '
                        'values].'
                    ),
                ),
            ],
        ),
        migrations.RunPython(forget_rollups, migrations.RunPython.noop),
    ]
