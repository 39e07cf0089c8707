"""The ServiceNow event log in a scratch PostgreSQL database of its own, imported once and reused by backtests.

    from bench.eventlog import eventlog_database
    url = eventlog_database()        # Django is set up on that database, migrated, the log imported (once)

BENCH_EVENTLOG_DATABASE_URL names the database (default: the benchmark database's URL with `_eventlog` appended);
BENCH_IMPORT_FILE the log (default: ../shared/data/uci-incident-event-log/incident_event_log.csv.gz).
"""

from __future__ import annotations

import io
import os
import sys
import time
from pathlib import Path

from bench import Skipped

__all__ = ['eventlog_database', 'imported']

FORMAT = 'servicenow-event-log'
# Filled by eventlog_database: incidents in the database and the seconds this run spent importing them.
imported: dict[str, float] = {}


def _url() -> str:
    from bench.__main__ import DEFAULT_URL

    base = os.environ.get('BENCH_DATABASE_URL', DEFAULT_URL)
    return os.environ.get('BENCH_EVENTLOG_DATABASE_URL', base.rstrip('/') + '_eventlog')


def eventlog_database() -> str:
    """Point this process's Django at the event-log scratch database (created when missing), migrate it, import the
    log unless it is there already; returns the database URL. Raises `bench.Skipped` when the log is missing."""
    from bench.bench_import import DEFAULT_FILE

    path = os.environ.get('BENCH_IMPORT_FILE', DEFAULT_FILE)
    if not Path(path).exists():
        raise Skipped(f'the event log {path} is missing (BENCH_IMPORT_FILE names another)')
    sys.path.insert(0, os.getcwd())
    from bench import scratch_database
    from bench.__main__ import _configure

    _configure()
    url = scratch_database(_url())
    os.environ['DATABASE_URL'] = url
    import django
    from django.core.management import call_command

    django.setup()
    call_command('migrate', verbosity=0)
    from incidents.models import Ticket

    tickets = Ticket.objects.filter(source_system='servicenow')
    started, seconds = time.perf_counter(), 0.0
    if not tickets.exists():
        options = {'format_name': FORMAT, 'no_progress': True, 'no_rollup': True, 'stdout': io.StringIO()}
        call_command('import_incidents', path, **options)
        seconds = time.perf_counter() - started
    imported.update(incidents=tickets.count(), seconds=seconds)
    return url


if __name__ == '__main__':
    print(eventlog_database(), imported)
