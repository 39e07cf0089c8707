"""Problem candidates on PostgreSQL: two scans at once on real parallel connections, and pg_trgm's similarity
giving the same pairs as the Python fallback."""

from __future__ import annotations

import itertools
import random

import pytest
from django.db import connection

from problems import candidates
from problems.candidates import scan_candidates, similar_pairs, trigrams
from problems.models import ProblemCandidate
from tests.concurrency import run_in_parallel
from tests.factories import make_ticket

from .factories import make_recurrence

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_scans_at_once_propose_each_cluster_once():
    clusters = [make_recurrence(4) for _ in range(5)]
    texts = [
        'Badge reader at gate 3 refuses cards',
        'badge reader at gate 3 refuses card',
        'Badge reader gate 3 refuses cards',
    ]
    similar = [make_ticket(short_description=text) for text in texts]

    results = run_in_parallel([scan_candidates, scan_candidates, scan_candidates])
    assert [r[0] for r in results] == ['ok', 'ok', 'ok'], results
    assert ProblemCandidate.objects.count() == 6
    created = sorted(pk for r in results for pk in r[1].created)
    assert created == sorted(ProblemCandidate.objects.values_list('pk', flat=True)), 'each created exactly once'
    for incidents in [*clusters, similar]:
        candidate = ProblemCandidate.objects.get(incidents=incidents[0])
        assert set(candidate.incidents.values_list('pk', flat=True)) == {t.pk for t in incidents}
        assert candidate.size == len(incidents)


def test_pg_trgm_and_the_python_fallback_agree():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
        available = cursor.fetchone() is not None
    if not available:
        assert not candidates.pg_trgm_installed()
        return
    installed_before = candidates.pg_trgm_installed()  # the knowledge search migration installs it
    with connection.cursor() as cursor:
        cursor.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    try:
        assert candidates.pg_trgm_installed()
        rng = random.Random(11)
        words = ['Mail', 'server', 'VPN', 'drops', 'Outlook', 'crash', 'calendar', 'printer', 'jam', 'log-in', 'SAP']
        texts = sorted({' '.join(rng.sample(words, rng.randint(1, 4))) for _ in range(150)})
        for threshold in (0.3, 0.6):
            in_database = set(candidates._similar_text_pairs(texts, threshold))
            in_python = set(similar_pairs([trigrams(t) for t in texts], threshold))
            assert in_database == in_python
            brute = {
                (i, j)
                for i, j in itertools.combinations(range(len(texts)), 2)
                if candidates.similarity(trigrams(texts[i]), trigrams(texts[j])) >= threshold
            }
            assert in_python == brute
    finally:
        if not installed_before:
            with connection.cursor() as cursor:
                cursor.execute('DROP EXTENSION IF EXISTS pg_trgm')
