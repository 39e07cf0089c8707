"""Query budgets of the benchmarks, and the small scale the CI smoke runs them at (`python -m bench --smoke`).

`QUERIES` maps the start of an operation's label, with its numbers replaced by `#` (`bench.previous.label_key`), to
the most queries one call of it may make; the longest matching start applies. A row without a budget fails the
smoke too, so a new benchmark comes with its budget. Raise a budget only with the reason in the commit.

`SMOKE` holds what the smoke changes to keep the run short: the data set's size (environment) and module constants
(set on the module before its `run()`; a name the module no longer has fails loudly instead of running at full size).
Modules in `SMOKE_SKIPPED` are left out of the smoke, with the reason.
"""

from __future__ import annotations

from bench.previous import label_key

QUERIES: dict[str, int] = {
    'ci_impact depth # downstream': 1,
    'ci_impact depth # upstream': 1,
    'ci_impact_count depth #': 1,
    'ci_impact_page depth #': 1,
    # One query more when a row may be taken (the person's groups are read for Take): it depends on the day's data.
    'queue page "all open"': 17,
    'queue page "my work"': 16,
    # The page's reads of the person and their access, the tickets nobody in their groups owns, with clocks (one
    # query of their calendars) and groups; three fewer when nothing waits.
    'waiting in my groups': 9,
    'queue page of one group': 18,
    # 12 reads; one write more on the first look by the person working a ticket marked for their attention (the
    # mark is cleared: itsm.services.record_seen).
    'ticket detail page': 13,
    # The SLA history, the impact walk, the caller's and child tickets, and six apps' panels (12 of the 26).
    'ticket related records and panels': 27,
    # One query of the page's clocks' calendars (`sla.selectors.clock_prefetch(many=True)`): cheaper than a
    # calendar built and decoded per clock through a join.
    'ticket list /tickets/': 13,
    # The API lists at their most: 13 reads, and one more for the predictions when the page holds open tickets
    # (`TicketListSerializer`). Whether the first page holds any depends on the hour the smoke's data was generated.
    # The filtered list reads 4 when no assigned P2 ticket exists; the cursor list counts no total (one less).
    'API list /api/v#/incidents/': 14,
    'API list filtered': 14,
    'API list by cursor': 13,
    'draw the #-row': 0,
    # After one create that warms the process (the desk's rules): the create itself (11 queries when routed) and,
    # run eagerly here, its after-commit tasks (the notifications delivered, the prediction refreshed).
    'API create': 32,
    'overview page, # days by week': 54,
    'overview page, last # days by day': 53,
    'overview page, # days, P# only': 54,
    # Three more than the other overview rows: the services or agents are ranked from counters alone first, so
    # only the busiest 25 have their rollup rows read with histograms.
    'overview page, # days broken down by': 57,
    'team dashboard, # days by week': 48,
    'GET /api/v#/metrics/mttr/, # days by week': 13,
    'GET /api/v#/metrics/mttr/, # days by month': 13,
    'GET /api/v#/metrics/mttr/, # days, group': 14,
    'GET /api/v#/metrics/mttr/, # days, P# only': 13,
    'GET /api/v#/metrics/sla_compliance/': 8,
    'GET /api/v#/metrics/backlog/': 6,
    'GET /api/v#/metrics/mttr/, # days, live path': 4,
    'rollup_refresh': 51,
    'sla_sweep: # due of': 10,
    'sla_sweep: nothing due': 4,
}

SMOKE_ENVIRONMENT = {'BENCH_INCIDENTS': '3000', 'BENCH_CIS': '1000'}
SMOKE: dict[str, dict[str, object]] = {
    'dataset': {'DAYS': 60},  # the rollups of fewer days build in seconds
    'bench_cmdb_impact': {'SAMPLE': 20, 'HEAVY': 3},
    'bench_incidents': {'SAMPLES': 5, 'CREATES': 10},
    'bench_sla_sweep': {'SIZES': (2_000,), 'DUE': 100, 'WARMUP': 1, 'TIMED': 2},
}
SMOKE_SKIPPED = {
    'bench_import': 'imports the 24,918 incidents of the real event log into a database of its own (2 minutes)',
    'bench_storage': 'a report of sizes, no queries to guard',
    'bench_creates': 'gunicorn and django-helpdesk over HTTP for minutes; the API create row guards the queries',
}


def budget(operation: str) -> int | None:
    """The query budget of an operation's label, or None when it has none."""
    key = label_key(operation)
    starts = [start for start in QUERIES if key.startswith(start)]
    return QUERIES[max(starts, key=len)] if starts else None


def over_budget(results) -> list[str]:
    """What breaks the budgets: each result (`bench.Result`) with more queries than its budget, or with none."""
    problems = []
    for result in results:
        allowed = budget(result.operation)
        if allowed is None:
            problems.append(f'{result.operation}: {result.queries} queries and no budget in bench/budgets.py')
        elif result.queries > allowed:
            problems.append(f'{result.operation}: {result.queries} queries, budget {allowed}')
    return problems
