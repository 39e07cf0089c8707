"""Search indexes for knowledge articles (see knowledge/search.py).

PostgreSQL: a GIN index on the weighted tsvector of each published version (title A, summary B, body C), and the
pg_trgm extension for the typo-tolerant fallback. No trigram index: the fallback runs only when the words matched
nothing and reads the titles of the live articles, and an index would tie the extension to this schema.
SQLite: the FTS5 table `knowledge_article_fts` (rowid = article id), filled from the live articles.
"""

from django.db import migrations

VECTOR = (
    "setweight(to_tsvector('english'::regconfig, coalesce(v.title, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(v.summary, '')), 'B') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(v.body, '')), 'C')"
)
# The index expression names the columns without the alias the queries use; it is the same expression.
INDEX_VECTOR = VECTOR.replace('v.', '')

FTS_CREATE = (
    'CREATE VIRTUAL TABLE IF NOT EXISTS knowledge_article_fts USING fts5('
    "title, summary, body, tokenize = 'porter unicode61 remove_diacritics 2')"
)
MARKERS = '\ue000\ue001'


def create(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == 'postgresql':
            cursor.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
            cursor.execute(
                'CREATE INDEX IF NOT EXISTS knowledge_version_search '
                f'ON knowledge_articleversion USING GIN (({INDEX_VECTOR}))'
            )
        elif connection.vendor == 'sqlite':
            cursor.execute(FTS_CREATE)
            Article = apps.get_model('knowledge', 'Article')
            live = Article.objects.filter(published_version__isnull=False).exclude(state='retired')
            for article in live.select_related('published_version'):
                version = article.published_version
                values = [
                    ''.join(ch for ch in value if ch not in MARKERS)
                    for value in (version.title, version.summary, version.body)
                ]
                cursor.execute(
                    'INSERT INTO knowledge_article_fts (rowid, title, summary, body) VALUES (%s, %s, %s, %s)',
                    [article.pk, *values],
                )


def drop(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == 'postgresql':
            cursor.execute('DROP INDEX IF EXISTS knowledge_version_search')
        elif connection.vendor == 'sqlite':
            cursor.execute('DROP TABLE IF EXISTS knowledge_article_fts')


class Migration(migrations.Migration):
    dependencies = [('knowledge', '0001_articles')]

    operations = [migrations.RunPython(create, drop)]
