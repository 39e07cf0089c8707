"""History entries lose their index on time alone: a record's entries are read through the record index (content
type, object, time), and the admin lists every record's entries newest recorded first by the primary key."""

from django.db import migrations, models

INDEX = 'itsm_timelineentry_at_34b338e9'


def drop_index(apps, schema_editor):
    schema_editor.execute(f'DROP INDEX IF EXISTS {schema_editor.quote_name(INDEX)}')


def create_index(apps, schema_editor):
    quote = schema_editor.quote_name
    schema_editor.execute(f'CREATE INDEX {quote(INDEX)} ON {quote("itsm_timelineentry")} ({quote("at")})')


class Migration(migrations.Migration):
    dependencies = [
        ('itsm', '0011_timeline_compact_changes'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(model_name='timelineentry', name='at', field=models.DateTimeField()),
            ],
            database_operations=[migrations.RunPython(drop_index, create_index)],
        ),
    ]
