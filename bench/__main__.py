"""`python -m bench [name ...]`: run the benchmarks (all, or those whose module name contains a given name).

The runner points Django at a scratch PostgreSQL database (BENCH_DATABASE_URL, by default
postgres://postgres@127.0.0.1:5432/pitcrew_bench), creates it when missing and migrates it, then prints
one table: operation, rows, median ms, p95 ms, queries. The modules share one data set (`bench.dataset`); when
this run generated it, its build figures head the table. A module that cannot run here (`bench.Skipped`) is
listed under the table with the reason.

`python -m bench --smoke` runs them at a small scale (`bench/budgets.py`: a few thousand incidents, fewer samples)
and fails when an operation makes more queries than its budget there; CI runs it (`tests/bench/test_smoke.py`).
The table shows each row beside the figures of the earlier run it matches in `bench/README.md` (BENCH_PREVIOUS
names another file; `bench/previous.py`), with the change of the median.

`python -m bench load|connections|faults [options]` runs the production stack (gunicorn, Celery, PostgreSQL and
Redis) under load instead: `bench/load.py` and `bench/faults.py`.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
import time
import traceback

DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/pitcrew_bench'
# Backtests on real data, run like the benchmarks (`python -m bench problem`) or alone (`python -m bench.<name>`).
BACKTESTS = ('problem_candidates', 'eta_backtest')


def _configure() -> str:
    url = os.environ.get('BENCH_DATABASE_URL', DEFAULT_URL)
    # The benchmark database replaces DATABASE_URL for this process only: the data it builds is throw-away.
    os.environ['DATABASE_URL'] = url
    os.environ.setdefault('SECRET_KEY', 'benchmark-only-not-secret')
    os.environ.setdefault('DEBUG', 'false')
    os.environ.setdefault('HTTPS', 'false')
    # Pages are timed through Django's test client: its host, and static files from the finders (no collectstatic).
    os.environ.setdefault('ALLOWED_HOSTS', 'testserver,127.0.0.1,localhost')
    os.environ.setdefault('STATIC_MANIFEST', 'false')
    os.environ.setdefault('LOG_LEVEL', 'WARNING')
    os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'itsm.settings')
    return url


def _modules(filters: list[str]) -> list[str]:
    import bench

    names = sorted(
        m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith('bench_') or m.name in BACKTESTS
    )
    return [n for n in names if not filters or any(f in n for f in filters)]


def _ms(value: float | None) -> str:
    return '—' if value is None else f'{value:,.1f}'


def _table(results, previous=None) -> str:
    """The results as a text table; with `previous` (`bench.previous.read()`), beside the figures of the earlier
    run each row matches, and the change of the median (`new` when no row matches)."""
    header = ('operation', 'rows', 'median ms', 'p95 ms', 'queries')
    lines = [(r.operation, f'{r.rows:,}', f'{r.median_ms:.1f}', f'{r.p95_ms:.1f}', str(r.queries)) for r in results]
    if previous is not None:
        from bench.previous import change, match

        header += ('before median', 'before p95', 'before queries', 'change')
        lines = [
            (
                *line,
                _ms(before and before.median_ms),
                _ms(before and before.p95_ms),
                '—' if before is None or before.queries is None else str(before.queries),
                change(result.median_ms, before and before.median_ms),
            )
            for line, result, before in zip(
                lines, results, match([r.operation for r in results], previous), strict=True
            )
        ]
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]

    def fmt(row):
        return '  '.join(
            cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )

    return '\n'.join([fmt(header), '  '.join('-' * w for w in widths), *(fmt(row) for row in lines)])


# Runs of the whole stack (gunicorn, Celery, PostgreSQL, Redis) with options of their own: `python -m bench load`.
STACK_RUNS = {'load': 'bench.load:main', 'connections': 'bench.load:main_connections', 'faults': 'bench.faults:main'}


def _smoke_modules(names: list[str]) -> list[str]:
    from bench.budgets import SMOKE_SKIPPED

    return [n for n in names if n.startswith('bench_') and n not in SMOKE_SKIPPED]


def _scale_down(name: str, module) -> None:
    """Set the smoke's values (`bench.budgets.SMOKE`) on a module; a name it lacks fails instead of running at full
    scale."""
    from bench.budgets import SMOKE

    for constant, value in SMOKE.get(name, {}).items():
        if not hasattr(module, constant):
            raise AttributeError(f'bench/budgets.py sets {name}.{constant} for the smoke: the module lacks it')
        setattr(module, constant, value)


def _run_module(name: str, smoke: bool):
    """The module's results, or its report (a text printed under the table) when it has `report()` instead."""
    module = importlib.import_module(f'bench.{name}')
    if smoke:
        _scale_down(name, module)
    if hasattr(module, 'report'):
        return [], module.report()
    return module.run(), None


def main(argv: list[str]) -> int:
    sys.path.insert(0, os.getcwd())
    if argv and argv[0] in STACK_RUNS:
        module, function = STACK_RUNS[argv[0]].split(':')
        return getattr(importlib.import_module(module), function)(argv[1:])
    smoke = '--smoke' in argv
    argv = [a for a in argv if a != '--smoke']
    if smoke:
        from bench.budgets import SMOKE_ENVIRONMENT

        for variable, value in SMOKE_ENVIRONMENT.items():
            os.environ.setdefault(variable, value)
    url = _configure()
    from bench import Skipped, scratch_database

    scratch_database(url)

    import django
    from django.core.management import call_command

    django.setup()
    call_command('migrate', verbosity=0)
    from bench import dataset, previous

    if smoke:
        _scale_down('dataset', dataset)
    names = _modules(argv)
    results, reports, failed, skipped = [], [], [], []
    for name in _smoke_modules(names) if smoke else names:
        started = time.perf_counter()
        print(f'{name}: running…', file=sys.stderr, flush=True)
        try:
            module_results, report = _run_module(name, smoke)
        except Skipped as reason:
            skipped.append(f'{name}: {reason}')
            print(f'{name}: skipped: {reason}', file=sys.stderr, flush=True)
            continue
        except Exception:  # one broken benchmark must not hide the others' figures
            traceback.print_exc()
            failed.append(name)
            continue
        results.extend(module_results)
        if report:
            reports.append(report)
        print(f'{name}: done in {time.perf_counter() - started:.0f} s', file=sys.stderr, flush=True)
    # BENCH_PREVIOUS names the Markdown file with the earlier figures (default bench/README.md); empty: none.
    earlier = os.environ.get('BENCH_PREVIOUS', str(previous.README))
    print(_table([*dataset.built, *results], previous.read(earlier) if earlier else None))
    for report in reports:
        print(f'\n{report}')
    for line in skipped:
        print(f'skipped {line}')
    if smoke:
        from bench.budgets import over_budget

        for problem in over_budget(results):
            print(f'over budget: {problem}', file=sys.stderr)
            failed.append(problem)
    if failed:
        print(f'failed: {", ".join(failed)}', file=sys.stderr)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
