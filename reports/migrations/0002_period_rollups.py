from django.db import migrations, models


def forget_daily_rollups(apps, schema_editor):
    """Rollups are a cache of the tickets: without rows the next refresh rebuilds every day, now with the
    group × agent rows and the week and month sums."""
    apps.get_model('reports', 'DailyRollup').objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ('reports', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='dailyrollup',
            name='dimension',
            field=models.CharField(
                choices=[
                    ('all', 'All tickets'),
                    ('group', 'Group'),
                    ('service', 'Service'),
                    ('category', 'Category'),
                    ('channel', 'Channel'),
                    ('agent', 'Agent'),
                    ('agreement', 'SLA'),
                    ('group_agent', 'Group and agent'),
                    ('day', 'Day marker'),
                ],
                max_length=12,
            ),
        ),
        migrations.AlterField(
            model_name='dailyrollup',
            name='key',
            field=models.CharField(
                blank=True, help_text='The dimension value: an id, a channel, `group:agent`, or empty.', max_length=40
            ),
        ),
        migrations.CreateModel(
            name='PeriodRollup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                (
                    'dimension',
                    models.CharField(
                        choices=[
                            ('all', 'All tickets'),
                            ('group', 'Group'),
                            ('service', 'Service'),
                            ('category', 'Category'),
                            ('channel', 'Channel'),
                            ('agent', 'Agent'),
                            ('agreement', 'SLA'),
                            ('group_agent', 'Group and agent'),
                            ('day', 'Day marker'),
                        ],
                        max_length=12,
                    ),
                ),
                (
                    'key',
                    models.CharField(
                        blank=True,
                        help_text='The dimension value: an id, a channel, `group:agent`, or empty.',
                        max_length=40,
                    ),
                ),
                (
                    'kind',
                    models.CharField(blank=True, choices=[('incident', 'Incident'), ('case', 'Case')], max_length=10),
                ),
                (
                    'priority',
                    models.PositiveSmallIntegerField(
                        choices=[(0, 'P0'), (1, 'P1'), (2, 'P2'), (3, 'P3'), (4, 'P4')], default=0
                    ),
                ),
                ('opened', models.PositiveIntegerField(default=0, help_text='Tickets opened that day.')),
                ('accepted', models.PositiveIntegerField(default=0, help_text='Tickets first accepted that day.')),
                (
                    'accept_seconds',
                    models.FloatField(default=0, help_text='Sum of opened → accepted times of those tickets.'),
                ),
                (
                    'completed',
                    models.PositiveIntegerField(
                        default=0, help_text='Tickets completed that day (their current completion).'
                    ),
                ),
                (
                    'resolve_seconds',
                    models.FloatField(default=0, help_text='Sum of opened → completed times of those tickets.'),
                ),
                (
                    'first_time',
                    models.PositiveIntegerField(
                        default=0, help_text='Completed tickets never reassigned and never reopened.'
                    ),
                ),
                (
                    'reopened',
                    models.PositiveIntegerField(default=0, help_text='Completed tickets reopened at least once.'),
                ),
                (
                    'reassigned',
                    models.PositiveIntegerField(default=0, help_text='Completed tickets reassigned at least once.'),
                ),
                (
                    'reassignments',
                    models.PositiveIntegerField(default=0, help_text='Reassignments of the completed tickets.'),
                ),
                (
                    'response_met',
                    models.PositiveIntegerField(default=0, help_text='SLA response clocks met, decided that day.'),
                ),
                (
                    'response_breached',
                    models.PositiveIntegerField(default=0, help_text='SLA response clocks breached, decided that day.'),
                ),
                (
                    'resolution_met',
                    models.PositiveIntegerField(default=0, help_text='SLA resolution clocks met, decided that day.'),
                ),
                (
                    'resolution_breached',
                    models.PositiveIntegerField(
                        default=0, help_text='SLA resolution clocks breached, decided that day.'
                    ),
                ),
                ('ola_met', models.PositiveIntegerField(default=0, help_text='OLA clocks met, decided that day.')),
                (
                    'ola_breached',
                    models.PositiveIntegerField(default=0, help_text='OLA clocks breached, decided that day.'),
                ),
                (
                    'answered_in_target',
                    models.PositiveIntegerField(
                        default=0, help_text='Tickets opened that day accepted within their response target.'
                    ),
                ),
                (
                    'answered_late',
                    models.PositiveIntegerField(
                        default=0, help_text='Tickets opened that day whose response target passed before acceptance.'
                    ),
                ),
                (
                    'accept_hist',
                    models.JSONField(blank=True, default=dict, help_text='Accepted tickets per duration bucket.'),
                ),
                (
                    'resolve_hist',
                    models.JSONField(blank=True, default=dict, help_text='Completed tickets per duration bucket.'),
                ),
                (
                    'computed_at',
                    models.DateTimeField(help_text='The moment the data this row was computed from is as of.'),
                ),
                ('period', models.CharField(choices=[('week', 'Week'), ('month', 'Month')], max_length=5)),
                ('start', models.DateField(help_text='The first day: a Monday, or the 1st of the month.')),
                (
                    'combined',
                    models.BooleanField(
                        default=False,
                        help_text='Sums every ticket kind and priority (kind and priority then stay blank and 0): what a figure neither filtered nor split by kind or priority reads.',
                    ),
                ),
            ],
            options={
                'ordering': ['period', 'start', 'dimension', 'key', 'combined', 'kind', 'priority'],
                'constraints': [
                    models.UniqueConstraint(
                        fields=('dimension', 'period', 'combined', 'start', 'key', 'kind', 'priority'),
                        name='period_rollup_unique_cell',
                    )
                ],
            },
        ),
        migrations.RunPython(forget_daily_rollups, migrations.RunPython.noop),
    ]
