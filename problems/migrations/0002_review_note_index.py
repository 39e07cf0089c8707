"""A partial index for the "Needs problem review" queue (`problems.incident_links.review_queue`) on PostgreSQL.

The queue asks which incidents have a review note (a timeline entry whose `data` holds `problem_review`). Without an
index, that question probes every incident's history: about 0.2 s for 50,000 tickets and growing with them. The
notes are few, so an index of them alone is small and answers at once. Other databases skip it (tests, SQLite).
"""

from django.db import migrations

INDEX = 'problems_review_notes'


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == 'postgresql':
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON itsm_timelineentry (object_id, at) WHERE data ? 'problem_review'"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == 'postgresql':
        schema_editor.execute(f'DROP INDEX IF EXISTS {INDEX}')


class Migration(migrations.Migration):
    dependencies = [
        ('itsm', '0004_people_time_zone'),
        ('problems', '0001_problems_and_known_errors'),
    ]

    operations = [migrations.RunPython(create_index, drop_index)]
