"""The benchmark runner and modules: the table, the shared data set (built once, then reused), the import
benchmark's refusal when it cannot run, and every module end to end on a tiny data set (PostgreSQL)."""

from __future__ import annotations

import pytest

import bench
from bench import Result, Skipped, dataset
from bench.__main__ import _table


@pytest.fixture
def tiny(monkeypatch):
    """A data set small enough for a test, and a fresh start for `bench.dataset`."""
    monkeypatch.setattr(dataset, 'INCIDENTS', 300)
    monkeypatch.setattr(dataset, 'CIS', 150)
    monkeypatch.setattr(dataset, 'DAYS', 10)
    monkeypatch.setattr(dataset, '_manifest', None)
    monkeypatch.setattr(dataset, 'built', [])


def test_table_lines_up_the_figures():
    table = _table([Result('queue page', 1234, 12.345, 20.0, 15), Result('a much longer operation', 1, 0.5, 0.7, 1)])
    header, rule, first, second = table.splitlines()
    assert header.split() == ['operation', 'rows', 'median', 'ms', 'p95', 'ms', 'queries']
    assert first.startswith('queue page ') and first.rstrip().endswith('15')
    assert '1,234' in first and '12.3' in first and '20.0' in first
    assert len(first) == len(second) == len(header) == len(rule)


def test_measure_counts_rows_and_queries(db):
    from itsm.models import User

    result = bench.measure('count users', [lambda: User.objects.count() + 1] * 5, warmup=1)
    assert result.rows == 1 and result.queries == 1 and result.p95_ms >= result.median_ms >= 0


@pytest.mark.django_db
def test_the_data_set_is_built_once_and_then_reused(tiny, monkeypatch):
    from incidents.models import Ticket

    manifest = dataset.ensure()
    assert manifest.incidents == 300 and Ticket.objects.count() == 300
    assert [r.operation for r in dataset.built][0].startswith('generate_data: 300 tickets, 150 CIs')

    built = list(dataset.built)
    monkeypatch.setattr(dataset, '_manifest', None)
    assert dataset.ensure() == manifest  # found again, not generated again
    assert dataset.built == built

    Ticket.objects.create(
        short_description='Added by a benchmark',
        caller_id=Ticket.objects.first().caller_id,
        opened_at=Ticket.objects.first().opened_at,
    )
    dataset.remove_added(manifest)
    assert Ticket.objects.count() == 300


def test_the_import_benchmark_says_what_it_needs(monkeypatch, tmp_path):
    from bench import bench_import

    monkeypatch.setattr(bench_import, 'get_commands', lambda: {})
    with pytest.raises(Skipped, match='import_incidents'):
        bench_import.run()
    monkeypatch.setattr(bench_import, 'get_commands', lambda: {'import_incidents': 'imports'})
    monkeypatch.setenv('BENCH_IMPORT_FILE', str(tmp_path / 'missing.csv.gz'))
    with pytest.raises(Skipped, match='missing'):
        bench_import.run()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_every_benchmark_runs_on_a_tiny_data_set(tiny, monkeypatch, settings):
    from bench import bench_cmdb_impact, bench_incidents, bench_reports, bench_sla_sweep

    settings.CELERY_TASK_ALWAYS_EAGER = True  # the modules set these: the fixture puts them back afterwards
    settings.EMAIL_BACKEND = 'django.core.mail.backends.locmem.EmailBackend'
    monkeypatch.setattr(bench_incidents, 'SAMPLES', 4)
    monkeypatch.setattr(bench_incidents, 'CREATES', 5)
    monkeypatch.setattr(bench_cmdb_impact, 'SAMPLE', 10)
    monkeypatch.setattr(bench_sla_sweep, 'SIZES', (1_000,))
    monkeypatch.setattr(bench_sla_sweep, 'DUE', 100)
    monkeypatch.setattr(bench_sla_sweep, 'WARMUP', 1)
    monkeypatch.setattr(bench_sla_sweep, 'TIMED', 2)
    results = [
        *bench_cmdb_impact.run(),
        *bench_incidents.run(),
        *bench_reports.run(),
        *bench_sla_sweep.run(),
    ]
    names = [r.operation for r in results]
    assert any('core routers' in n for n in names)
    assert any(n.startswith('queue page "all open"') for n in names)
    assert any(n.startswith('API create') for n in names)
    assert any(n.startswith('overview page, 365 days') for n in names)
    sweep = next(r for r in results if r.operation.startswith('sla_sweep: 100 due of 1,000'))
    assert sweep.rows == 100
    from incidents.models import Ticket

    assert Ticket.objects.count() == 300  # what the benchmarks added is gone again


@pytest.mark.django_db
def test_the_problem_candidate_backtest_runs_on_the_test_excerpt():
    from bench import problem_candidates
    from tests.imports.helpers import SERVICENOW_EXCERPT

    figures, context = problem_candidates.backtest(path=str(SERVICENOW_EXCERPT), min_size=2)
    assert context['incidents'] > 0 and context['scans'] > 0
    assert [f.method.split(':')[0] for f in figures] == ['scan', 'scan', 'baseline', 'reference']
    for f in figures:
        assert 0 <= f.with_problem <= f.candidate_incidents and 0 <= f.recalled <= f.problems
        assert 0.0 <= f.precision <= 1.0 and 0.0 <= f.recall <= 1.0
    assert figures[0].candidates > 0, 'the excerpt holds recurrences of one classification'
    assert 'precision' in problem_candidates.table(figures).splitlines()[0]


def test_the_backtest_measures_recall_and_precision_as_documented():
    from bench.problem_candidates import evaluate

    references = {1: 'P1', 2: 'P1', 3: 'P1', 4: 'P2', 5: 'P2', 6: 'P2', 7: 'P2', 8: 'P3'}
    groups = [{1, 2, 9}, {4, 5, 10, 11}, {8, 12}]
    figures = evaluate('x', groups, references, 0.0)
    # P1: 2 of 3 in one candidate (a majority); P2: 2 of 4 (not more than half); P3 has too few incidents to count.
    assert (figures.problems, figures.recalled) == (2, 1)
    assert (figures.candidate_incidents, figures.with_problem) == (9, 5)


FIGURES = """
Some text, then the load table, which is not a figures table:

| operation | count | errors | p50 ms |
|---|---:|---:|---:|
| queue page | 400 | 0 | 345 |

| operation | rows | median ms | p95 ms | queries |
|---|---:|---:|---:|---:|
| generate_data: 1,000,000 tickets, 100,000 CIs (all rows, COPY, indexes) | 13,890,730 | 439,600 | 439,600 | 0 |
| … of which building the secondary indexes | | 97,800 | 97,800 | 0 |
| queue page "all open" (6,941 open of 1,000,000) | 1 | 250.6 | 472.3 | 16 |
| API create: 17 incidents/s, one client | 1 | 57.3 | 74.1 | 30 |
| sla_sweep: 1,000 due of 20,000 running clocks | 1,000 | 748.9 | 1,031.3 | 18 |
| sla_sweep: 1,000 due of 50,000 running clocks | 1,000 | 619.0 | 778.2 | 18 |
| sla_sweep: 1,000 due of 200,000 running clocks | 1,000 | 802.1 | 958.4 | 18 |

| operation | rows | median ms | p95 ms | queries |
|---|---:|---:|---:|---:|
| queue page "all open" (694 open of 100,000) | 1 | 25.0 | 47.0 | 12 |
"""


def test_the_figures_tables_of_the_readme_are_read():
    from bench.previous import Figure, parse_tables, read

    large, small = parse_tables(FIGURES)
    assert len(large) == 7 and len(small) == 1
    assert large[0] == Figure(
        'generate_data: 1,000,000 tickets, 100,000 CIs (all rows, COPY, indexes)', 439_600.0, 439_600.0, 0
    )
    assert large[1].median_ms == 97_800.0 and large[1].queries == 0
    assert small[0] == Figure('queue page "all open" (694 open of 100,000)', 25.0, 47.0, 12)
    assert read() != [], 'bench/README.md holds the figures of the last full run'


def test_rows_match_by_label_then_by_label_with_numbers_replaced():
    from bench.previous import label_key, match, parse_tables

    assert label_key('sla_sweep: 1,000 due of 20,000 running clocks') == 'sla_sweep: # due of # running clocks'
    assert label_key('API create: 17.5 incidents/s') == 'API create: # incidents/s'
    tables = parse_tables(FIGURES)
    operations = [
        'queue page "all open" (7,002 open of 1,000,000)',
        'API create: 21 incidents/s, one client',
        'sla_sweep: 1,000 due of 20,000 running clocks',
        'sla_sweep: 1,000 due of 50,000 running clocks',
        'sla_sweep: 1,000 due of 200,000 running clocks',
        'a benchmark added since',
    ]
    matched = match(operations, tables)
    assert [m and m.median_ms for m in matched] == [250.6, 57.3, 748.9, 619.0, 802.1, None]
    # Rows whose numbers all differ pair up in order; the table with most exact labels is the one compared with.
    sweeps = match([f'sla_sweep: 100 due of {n} running clocks' for n in ('2,000', '5,000')], tables)
    assert [m.median_ms for m in sweeps] == [748.9, 619.0]
    assert match(['queue page "all open" (694 open of 100,000)'], tables)[0].median_ms == 25.0
    assert match(['anything'], []) == [None]


def test_the_table_shows_the_earlier_figures_and_the_change():
    from bench.previous import change, parse_tables

    assert (change(112, 100), change(97, 100), change(100.2, 100), change(5, None)) == ('+12 %', '−3 %', '±0 %', 'new')
    results = [
        Result('queue page "all open" (7,002 open of 1,000,000)', 1, 125.3, 200.0, 15),
        Result('a benchmark added since', 3, 1.0, 2.0, 1),
    ]
    header, _rule, queue, added = _table(results, parse_tables(FIGURES)).splitlines()
    assert header.split()[-7:] == ['before', 'median', 'before', 'p95', 'before', 'queries', 'change']
    assert queue.split()[-5:] == ['250.6', '472.3', '16', '−50', '%']
    assert added.split()[-4:] == ['—', '—', '—', 'new']


def test_no_default_names_a_path_of_one_machine():
    """Defaults are relative to the repository (the event log beside it, in ../shared/data), so the bench, the
    Makefile and the scripts run from any checkout."""
    import re
    from pathlib import Path

    from bench.bench_import import DEFAULT_FILE

    repository = Path(__file__).resolve().parent.parent
    assert Path(DEFAULT_FILE) == repository.parent / 'shared/data/uci-incident-event-log/incident_event_log.csv.gz'
    machine_path = re.compile(r"""(?<![\w.])/(?:work|home|root|Users|srv|mnt)/|['"]/tmp/""")
    files = [*sorted((repository / 'bench').glob('*.py')), repository / 'Makefile', *(repository / 'scripts').iterdir()]
    found = [
        f'{path.relative_to(repository)}:{number}'
        for path in files
        if path.is_file()
        for number, line in enumerate(path.read_text(encoding='utf-8').splitlines(), 1)
        if machine_path.search(line)
    ]
    assert found == []
