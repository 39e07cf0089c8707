"""Importing a real ServiceNow incident event log: wall time and peak memory of
`manage.py import_incidents PATH --format servicenow-event-log` (the `imports` app).

The log is UCI's anonymised event log of a ServiceNow instance (141,712 events of 24,918 incidents, see the
README next to the file), BENCH_IMPORT_FILE picks another. The command runs in a subprocess against a scratch
database of its own (BENCH_IMPORT_DATABASE_URL, by default the benchmark database's name with `_import`), made
afresh and migrated before each run, so every run imports into the same empty desk. Rows are the incidents in
that database afterwards; the peak resident memory of the subprocess is in the operation's label.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from django.core.management import get_commands

from bench import Result, Skipped, scratch_database

COMMAND = 'import_incidents'
FORMAT = 'servicenow-event-log'
# The public data sets sit beside the repository (../shared/data); BENCH_IMPORT_FILE points elsewhere.
DEFAULT_FILE = str(
    Path(__file__).resolve().parent.parent.parent
    / 'shared'
    / 'data'
    / 'uci-incident-event-log'
    / 'incident_event_log.csv.gz'
)


def _url() -> str:
    default = os.environ['DATABASE_URL'].rstrip('/') + '_import'
    return os.environ.get('BENCH_IMPORT_DATABASE_URL', default)


def _manage(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Run `manage.py args` in a subprocess: (seconds, peak RSS in KiB of that process, output)."""
    manage = Path(__file__).resolve().parent.parent / 'manage.py'
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, str(manage), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output = process.stdout.read()
    process.stdout.close()
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f'manage.py {" ".join(args)} exited with {process.returncode}:\n{output[-2000:]}')
    return seconds, usage.ru_maxrss, output


def _count_incidents(url: str) -> int:
    import psycopg2

    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM incidents_ticket WHERE kind = 'incident'")
            return cursor.fetchone()[0]
    finally:
        conn.close()


def run() -> list[Result]:
    if COMMAND not in get_commands():
        raise Skipped(
            f'needs `manage.py {COMMAND} PATH --format {FORMAT}` (the imports app), which this checkout does not '
            'have yet'
        )
    path = os.environ.get('BENCH_IMPORT_FILE', DEFAULT_FILE)
    if not Path(path).exists():
        raise Skipped(f'the event log {path} is missing (BENCH_IMPORT_FILE names another)')
    url = scratch_database(_url(), fresh=True)
    env = {**os.environ, 'DATABASE_URL': url}
    _manage(['migrate', '--verbosity', '0'], env)
    seconds, peak_kib, _output = _manage([COMMAND, path, '--format', FORMAT], env)
    incidents = _count_incidents(url)
    ms = seconds * 1000
    label = f'import_incidents {FORMAT}: {Path(path).name}, peak RSS {peak_kib / 1024:,.0f} MiB'
    return [Result(label, incidents, ms, ms, 0)]
