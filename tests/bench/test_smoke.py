"""The benchmarks at a small scale (`python -m bench --smoke`) in a database of their own: every operation runs and
none makes more queries than its budget in `bench/budgets.py`, so a query-count regression fails CI."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from bench import scratch_database

pytestmark = pytest.mark.postgres

REPOSITORY = Path(__file__).resolve().parent.parent.parent


def _smoke_url() -> str:
    database = settings.DATABASES['default']
    name = database['NAME'].removeprefix('test_')
    worker = os.environ.get('PYTEST_XDIST_WORKER', '')
    user = database.get('USER') or 'postgres'
    password = f':{database["PASSWORD"]}' if database.get('PASSWORD') else ''
    host, port = database.get('HOST') or '127.0.0.1', database.get('PORT') or 5432
    return f'postgres://{user}{password}@{host}:{port}/{name}_smoke{worker}'


def _drop(url: str) -> None:
    import psycopg2
    from psycopg2 import sql

    conn = psycopg2.connect(url.rsplit('/', 1)[0] + '/postgres')
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            name = url.rsplit('/', 1)[1]
            cursor.execute(sql.SQL('DROP DATABASE IF EXISTS {} WITH (FORCE)').format(sql.Identifier(name)))
    finally:
        conn.close()


def test_the_benchmarks_stay_within_their_query_budgets():
    url = scratch_database(_smoke_url(), fresh=True)
    environment = {k: v for k, v in os.environ.items() if k not in ('DJANGO_SETTINGS_MODULE', 'DATABASE_URL')}
    environment.update(BENCH_DATABASE_URL=url, BENCH_PREVIOUS='')
    started = time.monotonic()
    try:
        run = subprocess.run(
            [sys.executable, '-m', 'bench', '--smoke'],
            cwd=REPOSITORY,
            env=environment,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        _drop(url)
    seconds = time.monotonic() - started
    output = f'{run.stdout}\n{run.stderr[-6000:]}'
    assert run.returncode == 0, output
    assert 'over budget' not in run.stderr, output
    table = run.stdout.split('\n\n')[0]
    for operation in ('generate_data: 3,000 tickets', 'ci_impact depth', 'queue page', 'overview page', 'sla_sweep'):
        assert operation in table, output
    print(f'smoke run: {seconds:.0f} s')
