# ruff: noqa: F811 - the fixtures come from test_search
"""Knowledge search on PostgreSQL: the English configuration's stemming, the GIN expression index in use, headlines,
and pg_trgm's typo tolerance (with the extension and without it)."""

from __future__ import annotations

import pytest
from django.db import connection

from knowledge.choices import Audience
from knowledge.search import PG_VECTOR, search_articles

from .test_search import agent, corpus, numbers, publish, requester  # noqa: F401

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def ensure_pg_trgm():
    with connection.cursor() as cursor:
        cursor.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')


def test_english_stemming_finds_other_forms(corpus, agent):
    assert numbers(search_articles('passwords', user=agent)) == [corpus['password'].number]
    assert numbers(search_articles('disconnected', user=agent)) == [corpus['vpn_title'].number]


def test_headline_marks_the_stemmed_words(corpus, agent):
    hit = search_articles('forgotten passwords', user=agent).hits[0]
    assert '<mark>Forgotten</mark>' in hit.snippet or '<mark>forgotten</mark>' in hit.snippet
    assert '<mark>password</mark>' in hit.snippet or '<mark>passwords</mark>' in hit.snippet


def test_the_expression_index_serves_the_match(corpus):
    with connection.cursor() as cursor:
        cursor.execute('SET LOCAL enable_seqscan = off')
        cursor.execute(
            'EXPLAIN SELECT 1 FROM knowledge_articleversion v '
            f"WHERE ({PG_VECTOR}) @@ websearch_to_tsquery('english', %s)",
            ['vpn'],
        )
        plan = '\n'.join(row[0] for row in cursor.fetchall())
    assert 'knowledge_version_search' in plan, plan


def test_typo_finds_the_title_through_trigrams(corpus, agent, requester):
    ensure_pg_trgm()
    result = search_articles('pasword', user=agent)
    assert numbers(result) == [corpus['password'].number] and result.fuzzy
    assert numbers(search_articles('reset pasword', user=requester)) == [corpus['password'].number]
    # The fallback keeps to what the person may read.
    assert numbers(search_articles('certficate rotaton', user=agent)) == [corpus['secret'].number]
    assert numbers(search_articles('certficate rotaton', user=requester)) == []


def test_without_pg_trgm_a_typo_finds_nothing_and_fails_nothing(corpus, agent):
    with connection.cursor() as cursor:
        cursor.execute('DROP EXTENSION IF EXISTS pg_trgm')  # undone with the test's transaction
    result = search_articles('pasword', user=agent)
    assert result.total == 0 and result.hits == []


def test_web_syntax_on_stems(corpus, agent):
    assert set(numbers(search_articles('vpn -chargers', user=agent))) == {
        corpus['vpn_title'].number,
        corpus['secret'].number,
    }
    assert numbers(search_articles('"shared mailboxes"', user=agent)) == [corpus['mail'].number]
    assert numbers(search_articles('"shared mailbox" -outlook', user=agent)) == []


def test_agents_only_articles_stay_hidden_from_requesters(requester, agent):
    hidden = publish('Firewall change window', 'Firewall rules change on Sundays.', audience=Audience.AGENTS)
    assert numbers(search_articles('firewall', user=agent)) == [hidden.number]
    assert search_articles('firewall', user=requester).total == 0
    assert search_articles('firewall', user=requester, audience=Audience.AGENTS).total == 0
