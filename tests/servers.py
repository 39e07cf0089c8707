"""Real servers the tests start themselves on loopback (Dovecot, Alertmanager, Celery): a free port, their
environment, and a clean stop."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on at this moment."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def stop_process(process: subprocess.Popen | None, *, timeout: float = 10) -> None:
    """Ask a server to stop, and kill it when it does not within `timeout` seconds."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def app_environment(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """The environment of a Pitcrew process (a Celery worker, beat) the test starts: this test's database
    (pytest-django's test database, not DATABASE_URL's), its Redis, a var folder of its own, and `overrides`."""
    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE='itsm.settings',
        DATABASE_URL=f'postgres://{db["USER"]}@{db["HOST"] or "127.0.0.1"}:{db["PORT"] or 5432}/{db["NAME"]}',
        REDIS_URL=settings.REDIS_URL,
        VAR_DIR=str(tmp_path / 'var'),
        LOG_LEVEL='INFO',
        **overrides,
    )
    if db.get('PASSWORD'):
        env['PGPASSWORD'] = db['PASSWORD']
    return env


def wait_for_live_server_requests(timeout: float = 5.0) -> None:
    """Let requests a browser or a server left in flight (live polling, htmx, webhooks) finish before the test
    database is flushed.

    The live server answers each connection on a thread of its own; one still reading the database when the flush
    starts makes SQLite refuse the flush ("database table is locked").
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any('process_request_thread' in thread.name for thread in threading.enumerate()):
            return
        time.sleep(0.02)
