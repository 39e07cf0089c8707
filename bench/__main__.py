"""`python -m bench [name ...]`: run the benchmarks (all, or those whose module name contains a given name).

The runner points Django at a scratch PostgreSQL database (BENCH_DATABASE_URL, by default
postgres://postgres@127.0.0.1:5432/pitcrew_bench), creates it when missing and migrates it, then prints
one table: operation, rows, median ms, p95 ms, queries. The modules share one data set (`bench.dataset`); when
this run generated it, its build figures head the table. A module that cannot run here (`bench.Skipped`) is
listed under the table with the reason.
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
BACKTESTS = ('problem_candidates',)


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


def _table(results) -> str:
    header = ('operation', 'rows', 'median ms', 'p95 ms', 'queries')
    lines = [(r.operation, f'{r.rows:,}', f'{r.median_ms:.1f}', f'{r.p95_ms:.1f}', str(r.queries)) for r in results]
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]

    def fmt(row):
        return '  '.join(
            cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )

    return '\n'.join([fmt(header), '  '.join('-' * w for w in widths), *(fmt(row) for row in lines)])


def main(argv: list[str]) -> int:
    sys.path.insert(0, os.getcwd())
    url = _configure()
    from bench import Skipped, scratch_database

    scratch_database(url)

    import django
    from django.core.management import call_command

    django.setup()
    call_command('migrate', verbosity=0)
    from bench import dataset

    results, failed, skipped = [], [], []
    for name in _modules(argv):
        started = time.perf_counter()
        print(f'{name}: running…', file=sys.stderr, flush=True)
        try:
            results.extend(importlib.import_module(f'bench.{name}').run())
        except Skipped as reason:
            skipped.append(f'{name}: {reason}')
            print(f'{name}: skipped: {reason}', file=sys.stderr, flush=True)
            continue
        except Exception:  # one broken benchmark must not hide the others' figures
            traceback.print_exc()
            failed.append(name)
            continue
        print(f'{name}: done in {time.perf_counter() - started:.0f} s', file=sys.stderr, flush=True)
    print(_table([*dataset.built, *results]))
    for line in skipped:
        print(f'skipped {line}')
    if failed:
        print(f'failed: {", ".join(failed)}', file=sys.stderr)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
