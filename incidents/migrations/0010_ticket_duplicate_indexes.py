"""The ticket's own indexes on kind (and its LIKE twin), caller, category, service and CI go: an index of the ticket's
Meta leads with each of them, so they only cost room and writes."""

import django.db.models.deletion
from django.conf import settings
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
    ('incidents_ticket_kind_d4986b0e', 'incidents_ticket', 'kind', False),
    ('incidents_ticket_kind_d4986b0e_like', 'incidents_ticket', 'kind', True),
    ('incidents_ticket_caller_id_c332232a', 'incidents_ticket', 'caller_id', False),
    ('incidents_ticket_category_id_0649e5d6', 'incidents_ticket', 'category_id', False),
    ('incidents_ticket_service_id_8539f307', 'incidents_ticket', 'service_id', False),
    ('incidents_ticket_ci_id_f1fcf3d4', 'incidents_ticket', 'ci_id', False),
]


class Migration(migrations.Migration):
    dependencies = [
        ('cmdb', '0002_service_status_page_and_announce_list'),
        ('incidents', '0009_ticket_security_incident'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='ticket',
                    name='caller',
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name='tickets_called',
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name='ticket',
                    name='category',
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        limit_choices_to={'parent': None},
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name='+',
                        to='incidents.category',
                    ),
                ),
                migrations.AlterField(
                    model_name='ticket',
                    name='ci',
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name='tickets',
                        to='cmdb.configurationitem',
                        verbose_name='configuration item',
                    ),
                ),
                migrations.AlterField(
                    model_name='ticket',
                    name='kind',
                    field=models.CharField(
                        choices=[('incident', 'Incident'), ('case', 'Case')], default='incident', max_length=10
                    ),
                ),
                migrations.AlterField(
                    model_name='ticket',
                    name='service',
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        limit_choices_to={'ci_class': 'service'},
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name='service_tickets',
                        to='cmdb.configurationitem',
                    ),
                ),
            ],
            database_operations=[_index_operation(INDEXES)],
        ),
    ]
