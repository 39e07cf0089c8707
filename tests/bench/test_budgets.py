"""The query budgets the benchmark smoke checks, and the small scale it sets on the modules."""

from __future__ import annotations

import sys
import types

import pytest

from bench import Result
from bench.__main__ import _run_module, _smoke_modules
from bench.budgets import QUERIES, SMOKE, budget, over_budget


def test_an_operation_gets_the_budget_of_the_longest_start_of_its_label():
    assert budget('queue page "all open" (69 open of 3,000)') == QUERIES['queue page "all open"']
    live = 'GET /api/v#/metrics/mttr/, # days, live path'
    assert budget('GET /api/v1/metrics/mttr/, 365 days, live path') == QUERIES[live]
    assert budget('sla_sweep: 100 due of 2,000 running clocks') == QUERIES['sla_sweep: # due of']
    assert budget('an operation nobody budgeted') is None


def test_rows_over_their_budget_or_without_one_are_reported():
    within = Result('ticket detail page (random tickets)', 1, 1.0, 2.0, QUERIES['ticket detail page'])
    over = Result('ticket detail page (random tickets)', 1, 1.0, 2.0, QUERIES['ticket detail page'] + 1)
    unknown = Result('a new benchmark', 1, 1.0, 2.0, 1)
    assert over_budget([within]) == []
    problems = over_budget([within, over, unknown])
    assert len(problems) == 2
    assert f'budget {QUERIES["ticket detail page"]}' in problems[0]
    assert 'no budget in bench/budgets.py' in problems[1]


def test_the_smoke_leaves_out_the_slow_and_the_query_free_modules():
    names = ['bench_cmdb_impact', 'bench_creates', 'bench_import', 'bench_storage', 'eta_backtest']
    assert _smoke_modules(names) == ['bench_cmdb_impact']


def test_the_smoke_sets_the_small_scale_on_the_module_and_refuses_a_name_it_lacks(monkeypatch):
    module = types.ModuleType('bench.bench_example')
    module.SAMPLES = 60
    module.run = lambda: [Result('example', 1, 1.0, 1.0, module.SAMPLES)]
    monkeypatch.setitem(sys.modules, 'bench.bench_example', module)
    monkeypatch.setitem(SMOKE, 'bench_example', {'SAMPLES': 5})
    results, report = _run_module('bench_example', smoke=True)
    assert [r.queries for r in results] == [5] and report is None
    monkeypatch.setitem(SMOKE, 'bench_example', {'SAMPLE_SIZE': 5})
    with pytest.raises(AttributeError, match='bench_example.SAMPLE_SIZE'):
        _run_module('bench_example', smoke=True)


def test_every_module_the_smoke_scales_down_has_the_names_it_sets():
    import importlib

    for name, constants in SMOKE.items():
        module = importlib.import_module(f'bench.{name}')
        assert all(hasattr(module, constant) for constant in constants), name
