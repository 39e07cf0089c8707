"""History entries store their field changes compactly (`itsm.fields.FieldChangesField`: no schema change), and
the content type's own index goes: the record index (content type, object, time) leads with it."""

import django.db.models.deletion
from django.db import migrations, models

import itsm.fields


def _index_operation(indexes):
    """Drop (forwards) or build again (backwards) only the indexes: altering the fields would also drop and re-add
    their foreign keys, and re-adding one checks every row of the table under an exclusive lock."""

    def drop(apps, schema_editor):
        for name, _table, _column, _like in indexes:
            schema_editor.execute(f'DROP INDEX IF EXISTS {schema_editor.quote_name(name)}')

    def create(apps, schema_editor):
        postgres = schema_editor.connection.vendor == 'postgresql'
        for name, table, column, like in indexes:
            if like and not postgres:
                continue
            ops = ' varchar_pattern_ops' if like else ''
            quote = schema_editor.quote_name
            schema_editor.execute(f'CREATE INDEX {quote(name)} ON {quote(table)} ({quote(column)}{ops})')

    return migrations.RunPython(drop, create)


INDEXES = [
    ('itsm_timelineentry_content_type_id_4623c11a', 'itsm_timelineentry', 'content_type_id', False),
]


class Migration(migrations.Migration):
    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('itsm', '0010_number_sequences'),
    ]

    operations = [
        migrations.AlterField(
            model_name='timelineentry',
            name='changes',
            field=itsm.fields.FieldChangesField(blank=True, default=list),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='timelineentry',
                    name='content_type',
                    field=models.ForeignKey(
                        db_index=False, on_delete=django.db.models.deletion.PROTECT, to='contenttypes.contenttype'
                    ),
                ),
            ],
            database_operations=[_index_operation(INDEXES)],
        ),
    ]
