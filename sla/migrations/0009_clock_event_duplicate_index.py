"""A clock event's own index on its clock goes: the unique (clock, percent) constraint leads with it."""

import django.db.models.deletion
from django.db import migrations, models


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
    ('sla_clockevent_clock_id_6b23ba1a', 'sla_clockevent', 'clock_id', False),
]


class Migration(migrations.Migration):
    dependencies = [
        ('sla', '0008_clock_forecast'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='clockevent',
                    name='clock',
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name='events',
                        to='sla.slaclock',
                    ),
                ),
            ],
            database_operations=[_index_operation(INDEXES)],
        ),
    ]
