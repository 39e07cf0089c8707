"""The built-in round-the-clock calendar, `24x7`, which the highest priorities run on."""

from django.db import migrations

DAYS = ('mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun')


def create_24x7(apps, schema_editor):
    BusinessCalendar = apps.get_model('sla', 'BusinessCalendar')
    BusinessCalendar.objects.get_or_create(
        name='24x7',
        defaults={
            'timezone': 'UTC',
            'hours': {day: ['00:00-24:00'] for day in DAYS},
            'builtin': True,
            'description': 'Every hour of every day, no holidays.',
        },
    )


class Migration(migrations.Migration):
    dependencies = [('sla', '0001_initial')]

    operations = [migrations.RunPython(create_24x7, migrations.RunPython.noop)]
