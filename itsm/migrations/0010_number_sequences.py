"""Reference numbers on PostgreSQL come from one sequence per prefix (`itsm.numbering`): each existing counter
becomes a sequence that continues after its last number. Reversing writes the sequences' positions back."""

from django.db import migrations

SEQUENCE_PREFIX = 'itsm_number_'


def create_sequences(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != 'postgresql':
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute('SELECT prefix, last FROM itsm_numbersequence')
        for prefix, last in cursor.fetchall():
            name = quote(f'{SEQUENCE_PREFIX}{prefix}')
            cursor.execute(f'CREATE SEQUENCE IF NOT EXISTS {name} AS bigint MINVALUE 1 START WITH {int(last) + 1}')
            # A sequence already there (created by a process that ran ahead) must not hand out a counted number.
            cursor.execute(
                f'SELECT setval(%s, %s) WHERE %s >= (SELECT CASE WHEN is_called THEN last_value + 1 '
                f'ELSE last_value END FROM {name})',
                [name, last, last],
            )


def write_back_counters(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != 'postgresql':
        return
    with connection.cursor() as cursor:
        cursor.execute(
            'SELECT sequencename, COALESCE(last_value, start_value - 1) FROM pg_sequences '
            'WHERE schemaname = current_schema() AND sequencename LIKE %s',
            [SEQUENCE_PREFIX.replace('_', r'\_') + '%'],
        )
        for name, last in cursor.fetchall():
            cursor.execute(
                'INSERT INTO itsm_numbersequence (prefix, last) VALUES (%s, %s) '
                'ON CONFLICT (prefix) DO UPDATE SET last = GREATEST(itsm_numbersequence.last, EXCLUDED.last)',
                [name.removeprefix(SEQUENCE_PREFIX), last],
            )
            cursor.execute(f'DROP SEQUENCE {connection.ops.quote_name(name)}')


class Migration(migrations.Migration):
    dependencies = [
        ('itsm', '0009_notification_outbox'),
    ]

    operations = [
        migrations.RunPython(create_sequences, write_back_counters),
    ]
