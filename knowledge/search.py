"""Knowledge search: ranked full-text search over the published version of live articles.

Only the published version (`Article.published_version`) is searched, weighted title A, summary B, body C, and only
among the articles `Article.objects.readable_by(user)` allows: the permission queryset is a subquery of every
search, so a requester never finds an agents-only article, a draft or a retired one.

The query uses web syntax: bare words must all match, "a quoted phrase" matches as a phrase, `or` between two terms
takes either, `-word` leaves out the articles with that word.

PostgreSQL: a GIN index on an expression over `knowledge_articleversion` (the weighted tsvector of title, summary
and body). Versions are never changed once published, so the indexed expression is always right and nothing needs
re-indexing on publish; the article joins its published version. The query is `websearch_to_tsquery('english', q)`,
ranked with `ts_rank_cd` (normalised to 0..1) and boosted a little by readers' helpful votes and by the incidents the
article resolved: rank × (1 + 0.1 × ln(1 + helpful + uses)), so usefulness orders close matches but never lifts a
weak match over a strong one. Snippets come from `ts_headline` with private-use characters as markers, which are
removed from the text first; the snippet is escaped and only then are the markers turned into `<mark>`.
Typo tolerance: when the words match nothing, pg_trgm's word similarity of the query to the published titles and
summaries of the readable live articles (`<%`; a scan, run only when nothing matched) finds "password" for "pasword".
Without the extension the fallback finds nothing.

SQLite (the embedded default): an FTS5 table `knowledge_article_fts` (rowid = article id; title, summary, body)
kept by `index_article`, which holds only live articles. The web syntax is translated to FTS5's grammar with every
term quoted, so user input never reaches the grammar itself. Ranking is `bm25()` with column weights 10/4/1,
snippets come from `snippet()` with the same markers, escaped in the same way. Typo tolerance: when nothing
matches, difflib compares the query's words to the words of the published titles and summaries of the readable
live articles, bounded to the FALLBACK_LIMIT latest (a knowledge base of a few thousand articles).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from django.db import DatabaseError, connection
from django.db.models import Q
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .models import Article

# Marker characters for snippet highlights (Unicode private use): removed from the searched text, so only the
# database's highlighting can produce them.
START, STOP = '\ue000', '\ue001'
MARKERS = str.maketrans('', '', START + STOP)
FTS_TABLE = 'knowledge_article_fts'
# Query text beyond this is ignored: nobody types more, and it bounds the work of one search.
MAX_QUERY_LENGTH = 200
# Articles the SQLite typo fallback compares (the latest published); PostgreSQL uses trigram indexes instead.
FALLBACK_LIMIT = 5000
FALLBACK_CUTOFF = 0.75
SNIPPET_WORDS = 24
# Words too common to say what a text is about, left out of suggestions built from a short description.
_STOP_WORDS = (
    'a an and are as at be but by can cannot could do does for from has have how i if in into is it its me my no '
    'not of on or our please so that the their them then there this to up us was we what when where which who why '
    'will with you your get got cant dont doesnt isnt wont any all still again since after before'
)
STOP_WORDS = frozenset(_STOP_WORDS.split())
TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
WORD = re.compile(r'[^\W_]+')

# The weighted document of one published version. The GIN index (migration 0002) is on this exact expression.
PG_VECTOR = (
    "setweight(to_tsvector('english'::regconfig, coalesce(v.title, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(v.summary, '')), 'B') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(v.body, '')), 'C')"
)
BOOST = '(1 + 0.1 * ln(1 + a.helpful_count + a.use_count))'


@dataclass
class SearchHit:
    article: Article
    rank: float
    snippet: SafeString


@dataclass
class SearchResult:
    hits: list[SearchHit]
    total: int
    # True when the hits come from the typo-tolerant fallback ("did you mean"), not from the words themselves.
    fuzzy: bool = False


def clean_query(query: str) -> str:
    """The query as searched: NUL characters and the snippet markers removed, bounded in length."""
    return (query or '').replace('\x00', ' ').translate(MARKERS).strip()[:MAX_QUERY_LENGTH]


def mark_snippet(text: str) -> SafeString:
    """Escape `text` and only then turn the highlight markers into <mark> (user text never becomes HTML)."""
    escaped = escape(' '.join((text or '').split()))
    return mark_safe(escaped.replace(START, '<mark>').replace(STOP, '</mark>'))


@dataclass
class ParsedQuery:
    """Web syntax split into terms: each positive group is a list of alternatives (`a or b`), each term a list of
    words (a phrase has several); negatives are left out."""

    groups: list[list[list[str]]]
    negatives: list[list[str]]

    @property
    def words(self) -> list[str]:
        return [word for group in self.groups for term in group for word in term]

    @property
    def significant_words(self) -> list[str]:
        """The words worth comparing for typos: short and common words would be "similar" to half the titles."""
        return [word for word in self.words if len(word) > 2 and word not in STOP_WORDS]


def parse_query(query: str) -> ParsedQuery:
    groups: list[list[list[str]]] = []
    negatives: list[list[str]] = []
    pending_or = False
    for match in TOKEN.finditer(query):
        negative, phrase, bare = match.group(1), match.group(2), match.group(3)
        if bare is not None:
            if bare.lower() == 'or':
                pending_or = bool(groups)
                continue
            negative = '-' if bare.startswith('-') else ''
            text = bare[1:] if negative else bare
        else:
            text = phrase
        words = WORD.findall(text.lower())
        if not words:
            continue
        if negative:
            negatives.append(words)
            pending_or = False
        elif pending_or:
            groups[-1].append(words)
            pending_or = False
        else:
            groups.append([words])
    return ParsedQuery(groups=groups, negatives=negatives)


def fts5_query(parsed: ParsedQuery) -> str:
    """FTS5 MATCH text for a parsed query: every term a quoted string (user text never reaches the grammar)."""

    def quoted(words: list[str]) -> str:
        return '"' + ' '.join(words).replace('"', '""') + '"'

    if not parsed.groups:
        return ''
    parts = []
    for group in parsed.groups:
        alternatives = [quoted(term) for term in group]
        parts.append(alternatives[0] if len(alternatives) == 1 else '(' + ' OR '.join(alternatives) + ')')
    text = ' AND '.join(parts)
    for words in parsed.negatives:
        text = f'({text}) NOT {quoted(words)}'
    return text


# ------------------------------------------------------------------------------------------------ index
def index_article(article: Article) -> None:
    """Bring the search index in line with `article`: its published version while live, nothing otherwise.

    PostgreSQL indexes the published versions themselves (an expression index), so there is nothing to write.
    """
    if connection.vendor != 'sqlite':
        return
    with connection.cursor() as cursor:
        cursor.execute(f'DELETE FROM {FTS_TABLE} WHERE rowid = %s', [article.pk])
        version = article.published_version if article.is_live else None
        if version is None:
            return
        cursor.execute(
            f'INSERT INTO {FTS_TABLE} (rowid, title, summary, body) VALUES (%s, %s, %s, %s)',
            [article.pk, *(value.translate(MARKERS) for value in (version.title, version.summary, version.body))],
        )


def rebuild_index() -> int:
    """Index every live article again (after a bulk import or restore); returns how many are indexed."""
    if connection.vendor != 'sqlite':
        return Article.objects.live().count()
    with connection.cursor() as cursor:
        cursor.execute(f'DELETE FROM {FTS_TABLE}')
    count = 0
    for article in Article.objects.live().select_related('published_version').iterator():
        index_article(article)
        count += 1
    return count


# ------------------------------------------------------------------------------------------------ search
def readable_articles(user, *, article_type=None, service=None, audience=None):
    """The articles `user` may read, narrowed by the filters (type, service number, audience)."""
    queryset = Article.objects.readable_by(user)
    if article_type:
        queryset = queryset.filter(article_type=article_type)
    if audience:
        queryset = queryset.filter(audience=audience)
    if service:
        queryset = queryset.filter(services__number=service)
    return queryset


def search_articles(query, *, user, article_type=None, service=None, audience=None, limit=20, offset=0) -> SearchResult:
    """The articles `user` may read that match `query` (web syntax), best first, with highlighted snippets."""
    text = clean_query(query)
    if not text:
        return SearchResult(hits=[], total=0)
    allowed = readable_articles(user, article_type=article_type, service=service, audience=audience)
    return _engine().search(text, allowed, limit=max(0, int(limit)), offset=max(0, int(offset)))


def suggest_articles(text, *, user, service=None, ci=None, limit=5) -> list[SearchHit]:
    """Articles for a short text being typed (a ticket's short description): any of its significant words, with
    articles about the given service or configuration item (numbers or objects) first among close matches."""
    words = [w for w in WORD.findall(clean_query(text).lower()) if len(w) > 2 and w not in STOP_WORDS]
    if not words:
        return []
    words = list(dict.fromkeys(words))[:12]
    allowed = Article.objects.readable_by(user)
    # A wider pool than shown, so the service/CI boost can reorder it.
    result = _engine().search(' or '.join(words), allowed, limit=limit * 4, offset=0, count=False)
    hits = result.hits
    related = _related_ids([hit.article.pk for hit in hits], service=service, ci=ci)
    for hit in hits:
        if hit.article.pk in related:
            hit.rank *= 1.5
    hits.sort(key=lambda hit: -hit.rank)
    return hits[:limit]


def _related_ids(ids: list[int], *, service=None, ci=None) -> set[int]:
    """Which of the articles `ids` are about `service` or `ci` (one query)."""
    if not ids or (service is None and ci is None):
        return set()
    condition = Q()
    for value, field in ((service, 'services'), (ci, 'cis')):
        if value is None:
            continue
        key = 'number' if isinstance(value, str) else 'pk'
        condition |= Q(**{f'{field}__{key}': value if isinstance(value, str) else getattr(value, 'pk', value)})
    return set(Article.objects.filter(condition, pk__in=ids).values_list('pk', flat=True))


def _engine():
    return PostgresEngine() if connection.vendor == 'postgresql' else SqliteEngine()


def _subquery(queryset) -> tuple[str, tuple]:
    sql, params = queryset.values('pk').query.sql_with_params()
    return sql, tuple(params)


def _load(rows: list[tuple[int, float, str]]) -> list[SearchHit]:
    """Articles of the rows (id, rank, snippet) in one query, in the rows' order."""
    articles = Article.objects.select_related('published_version', 'owner').in_bulk([row[0] for row in rows])
    return [
        SearchHit(article=articles[pk], rank=float(rank), snippet=mark_snippet(snippet))
        for pk, rank, snippet in rows
        if pk in articles
    ]


class PostgresEngine:
    def search(self, text, allowed, *, limit, offset, count=True) -> SearchResult:
        allowed_sql, allowed_params = _subquery(allowed)
        # The rows first (ranked, limited), then headlines for those rows only: ts_headline reads the whole body.
        sql = (
            f'SELECT r.id, r.rank, ts_headline(%s::regconfig, translate(r.text, %s, %s), r.q, %s) FROM ('
            f"SELECT a.id, concat_ws(' — ', nullif(v.summary, ''), v.body) AS text, q.q, "
            f'ts_rank_cd({PG_VECTOR}, q.q, 32) * {BOOST} AS rank '
            f'FROM knowledge_article a JOIN knowledge_articleversion v ON v.id = a.published_version_id '
            f"CROSS JOIN websearch_to_tsquery('english', %s) AS q(q) "
            f'WHERE ({PG_VECTOR}) @@ q.q AND a.id IN ({allowed_sql}) '
            f'ORDER BY rank DESC, a.id DESC LIMIT %s OFFSET %s) r ORDER BY r.rank DESC, r.id DESC'
        )
        options = f'StartSel={START}, StopSel={STOP}, MaxWords={SNIPPET_WORDS}, MinWords=8, MaxFragments=2'
        params = ['english', START + STOP, '', options, text, *allowed_params, limit, offset]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
            total = len(rows) + offset
            if count and (len(rows) == limit or offset):
                cursor.execute(
                    'SELECT count(*) FROM knowledge_article a '
                    'JOIN knowledge_articleversion v ON v.id = a.published_version_id '
                    f"WHERE ({PG_VECTOR}) @@ websearch_to_tsquery('english', %s) AND a.id IN ({allowed_sql})",
                    [text, *allowed_params],
                )
                total = cursor.fetchone()[0]
        if total == 0 and offset == 0:
            return self.fuzzy(text, allowed, limit=limit)
        return SearchResult(hits=_load(rows), total=total)

    def fuzzy(self, text, allowed, *, limit) -> SearchResult:
        """Typo tolerance: pg_trgm's word similarity of the query's words to published titles and summaries."""
        words = ' '.join(parse_query(text).significant_words)
        if not words or not _pg_trgm_installed():
            return SearchResult(hits=[], total=0)
        allowed_sql, allowed_params = _subquery(allowed)
        excluded = _excluded_query(parse_query(text))
        sql = (
            'SELECT a.id, greatest(word_similarity(%s, v.title), word_similarity(%s, v.summary) * 0.8) AS rank, '
            'coalesce(nullif(v.summary, %s), v.title) '
            'FROM knowledge_article a JOIN knowledge_articleversion v ON v.id = a.published_version_id '
            f'WHERE (%s <%% v.title OR %s <%% v.summary) AND a.id IN ({allowed_sql}) '
            f"AND NOT ({PG_VECTOR}) @@ websearch_to_tsquery('english', %s) "
            'ORDER BY rank DESC, a.id DESC LIMIT %s'
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [words, words, '', words, words, *allowed_params, excluded, limit])
            rows = cursor.fetchall()
        return SearchResult(hits=_load(rows), total=len(rows), fuzzy=bool(rows))


def _excluded_query(parsed: ParsedQuery) -> str:
    """The query's exclusions as one web-syntax query that matches any of them ('' matches nothing)."""
    return ' or '.join('"' + ' '.join(words) + '"' for words in parsed.negatives)


def _pg_trgm_installed() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        return cursor.fetchone() is not None


class SqliteEngine:
    # bm25 column weights: title, summary, body.
    WEIGHTS = (10.0, 4.0, 1.0)

    def search(self, text, allowed, *, limit, offset, count=True) -> SearchResult:
        parsed = parse_query(text)
        match = fts5_query(parsed)
        if not match:
            return SearchResult(hits=[], total=0)
        allowed_sql, allowed_params = _subquery(allowed)
        weights = ', '.join(str(w) for w in self.WEIGHTS)
        # bm25 is lower for better matches; the rank given out is its negation (higher is better), then boosted.
        sql = (
            f'SELECT f.rowid, -bm25({FTS_TABLE}, {weights}) * (1 + 0.1 * ln(1 + a.helpful_count + a.use_count)), '
            f"snippet({FTS_TABLE}, -1, %s, %s, '…', {SNIPPET_WORDS // 2}) "
            f'FROM {FTS_TABLE} f JOIN knowledge_article a ON a.id = f.rowid '
            f'WHERE {FTS_TABLE} MATCH %s AND f.rowid IN ({allowed_sql}) '
            f'ORDER BY 2 DESC, f.rowid DESC LIMIT %s OFFSET %s'
        )
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, [START, STOP, match, *allowed_params, limit, offset])
                rows = cursor.fetchall()
                total = len(rows) + offset
                if count and (len(rows) == limit or offset):
                    cursor.execute(
                        f'SELECT count(*) FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s AND rowid IN ({allowed_sql})',
                        [match, *allowed_params],
                    )
                    total = cursor.fetchone()[0]
        except DatabaseError:
            # Every term is quoted, so this is not expected; a query the engine still refuses finds nothing.
            return SearchResult(hits=[], total=0)
        if total == 0 and offset == 0:
            return self.fuzzy(parsed, allowed, limit=limit)
        return SearchResult(hits=_load(rows), total=total)

    def fuzzy(self, parsed: ParsedQuery, allowed, *, limit) -> SearchResult:
        """Typo tolerance: difflib's ratio of each query word to the words of published titles and summaries, over
        the FALLBACK_LIMIT latest readable articles. An article's score is the mean over the query's words of their
        best ratio; it is a hit when every word is close (FALLBACK_CUTOFF) to one of its words."""
        words = parsed.significant_words
        if not words:
            return SearchResult(hits=[], total=0)
        if parsed.negatives:
            # The query's exclusions still hold: leave out the articles that have any of them.
            excluded = fts5_query(ParsedQuery(groups=[parsed.negatives], negatives=[]))
            with connection.cursor() as cursor:
                cursor.execute(f'SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s', [excluded])
                allowed = allowed.exclude(pk__in=[row[0] for row in cursor.fetchall()])
        rows = (
            allowed.exclude(published_version=None)
            .order_by('-published_at')
            .values_list('pk', 'published_version__title', 'published_version__summary')[:FALLBACK_LIMIT]
        )
        scored = []
        for pk, title, summary in rows:
            vocabulary = set(WORD.findall(f'{title} {summary}'.lower()))
            best = []
            for word in words:
                close = difflib.get_close_matches(word, vocabulary, n=1, cutoff=FALLBACK_CUTOFF)
                if not close:
                    break
                best.append(difflib.SequenceMatcher(None, word, close[0]).ratio())
            else:
                scored.append((pk, sum(best) / len(best), summary or title))
        scored.sort(key=lambda row: (-row[1], -row[0]))
        found = scored[:limit]
        return SearchResult(hits=_load(found), total=len(scored), fuzzy=bool(found))


def register() -> None:
    """Nothing to subscribe: the services call `index_article` on publish, retire and restore."""


__all__ = ['SearchHit', 'SearchResult', 'index_article', 'rebuild_index', 'search_articles', 'suggest_articles']
