"""The data set every benchmark runs on: built once by `generate_data` (synthetic), kept between runs.

By default 1,000,000 tickets over a year and an estate of 100,000 CIs; BENCH_INCIDENTS and BENCH_CIS pick
another size for a quick run (BENCH_INCIDENTS=50000 BENCH_CIS=10000 make bench). When the database holds a data
set of another size, seed or generator version, it is replaced. The figures of a build (generation and load,
VACUUM ANALYZE, rollups) head the table of the run that built it.

Benchmarks that add tickets (API creates, the SLA sweep's backlog) take them away again with `remove_added`,
so the data set stays as generated.
"""

from __future__ import annotations

import os

from django.db.models import Max

from bench import Result
from synthetic.dataset import Manifest, current, generate, remove_tickets

INCIDENTS = int(os.environ.get('BENCH_INCIDENTS', '1000000'))
CIS = int(os.environ.get('BENCH_CIS', '100000'))
SEED = 2026
DAYS = 365

built: list[Result] = []
_manifest: Manifest | None = None


def ensure() -> Manifest:
    """The benchmark data set, generated when missing or of another size."""
    global _manifest
    if _manifest is not None:
        return _manifest
    found = current()
    if found is not None and found.matches(incidents=INCIDENTS, cis=CIS, seed=SEED, days=DAYS):
        _manifest = found
    else:
        _manifest = generate(incidents=INCIDENTS, cis=CIS, seed=SEED, days=DAYS, reset=True)
        built.extend(_build_results(_manifest))
    remove_added(_manifest)  # what an interrupted run may have left
    return _manifest


def _build_results(manifest: Manifest) -> list[Result]:
    seconds = manifest.seconds
    counts = manifest.counts
    rows = sum(counts.get(k, 0) for k in ('cis', 'relationships', 'tickets', 'clocks', 'pauses', 'events', 'timeline'))

    def line(label: str, rows: int, key: str) -> Result:
        ms = seconds.get(key, 0.0) * 1000
        return Result(label, rows, ms, ms, 0)

    results = [
        line(
            f'generate_data: {manifest.incidents:,} tickets, {manifest.cis:,} CIs (all rows, COPY, indexes)',
            rows,
            'load',
        ),
        line('  of which building the secondary indexes', 0, 'indexes'),
        line('VACUUM ANALYZE of the loaded tables', 0, 'vacuum'),
        line('rollup_rebuild: every day from scratch', manifest.days + 1, 'rollups'),
        line('generate_data in all', manifest.incidents, 'total'),
    ]
    return [r for r in results if r.median_ms]


def remove_added(manifest: Manifest) -> None:
    """Delete the tickets added after the data set was generated (and their clocks and history)."""
    from incidents.models import Ticket

    last = Ticket.objects.aggregate(last=Max('pk'))['last'] or 0
    if last > manifest.last_ticket:
        remove_tickets(range(manifest.last_ticket + 1, last + 1))
