"""`make run`: Pitcrew on one machine with embedded defaults, no server to install.

Migrates, loads the demo data (idempotent), then runs the web server, a Celery worker and Celery beat as child
processes. Ctrl-C or SIGTERM stops all three; if one of them dies, the others are stopped and this exits non-zero.

Without DATABASE_URL and REDIS_URL the settings use SQLite and a filesystem broker under var/. HOST and PORT
choose where the web server listens (default 127.0.0.1:8000).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
STOP_TIMEOUT = 15  # seconds a child gets to exit after SIGTERM before it is killed
POLL_INTERVAL = 0.3


class Stop(Exception):
    """Raised by the signal handlers to leave the supervision loop."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def log(message: str) -> None:
    print(f'[run] {message}', flush=True)


def manage(*args: str) -> None:
    command = [sys.executable, str(BASE_DIR / 'manage.py'), *args]
    log(' '.join(['manage.py', *args]))
    code = subprocess.run(command, cwd=BASE_DIR).returncode
    if code:
        raise SystemExit(f'[run] manage.py {" ".join(args)} failed with exit code {code}')


def demo_logins() -> list[tuple[str, str, str]]:
    """The demo accounts as defined next to the demo data; there is no fallback list to drift out of date."""
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()
    try:
        from itsm.demo import DEMO_LOGINS
    except ImportError as exc:
        raise SystemExit(f'[run] cannot read the demo accounts: itsm.demo.DEMO_LOGINS is missing ({exc})') from exc
    return list(DEMO_LOGINS)


def _die_with_parent() -> None:
    """In the child before exec: new session (terminal Ctrl-C reaches only us) and SIGTERM if we vanish."""
    os.setsid()
    if sys.platform.startswith('linux'):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def start(name: str, command: list[str]) -> subprocess.Popen:
    log(f'starting {name}: {" ".join(command)}')
    return subprocess.Popen(command, cwd=BASE_DIR, preexec_fn=_die_with_parent)


def stop_all(children: dict[str, subprocess.Popen]) -> None:
    """SIGTERM to every child's process group, then SIGKILL to whatever is still there after the timeout."""
    for name, proc in children.items():
        if proc.poll() is None:
            log(f'stopping {name} (pid {proc.pid})')
            _signal_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for name, proc in children.items():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log(f'{name} did not stop within {STOP_TIMEOUT}s: killing it')
            _signal_group(proc, signal.SIGKILL)
            proc.wait()
        # Anything the child started and left behind in its group goes too.
        _signal_group(proc, signal.SIGKILL)


def _signal_group(proc: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signum)


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def banner(url: str, logins: list[tuple[str, str, str]]) -> None:
    width = max((len(username) for username, _, _ in logins), default=8)
    lines = ['', f'Pitcrew is running at {url}', '', 'Demo accounts:']
    lines += [f'  {username:<{width}}  password: {password:<12} {role}' for username, password, role in logins]
    lines += ['', f'API documentation: {url}api/v1/docs/  Health: {url}health/', 'Press Ctrl-C to stop.', '']
    print('\n'.join(lines), flush=True)


def main() -> int:
    os.chdir(BASE_DIR)
    os.environ.setdefault('DEBUG', 'true')
    os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'itsm.settings')
    host = os.environ.get('HOST', '127.0.0.1')
    port = int(os.environ.get('PORT', '8000'))
    var_dir = Path(os.environ.get('VAR_DIR', BASE_DIR / 'var'))
    var_dir.mkdir(parents=True, exist_ok=True)

    logins = demo_logins()
    manage('migrate', '--noinput')
    manage('load_demo_data')

    celery = [sys.executable, '-m', 'celery', '-A', 'itsm']
    commands = {
        'web': [sys.executable, str(BASE_DIR / 'manage.py'), 'runserver', f'{host}:{port}', '--noreload'],
        # One task at a time: SQLite has a single writer, and the solo pool needs no child processes.
        'worker': [*celery, 'worker', '--loglevel=info', '--pool=solo', '--hostname=pitcrew@%h'],
        'beat': [
            *celery,
            'beat',
            '--loglevel=info',
            f'--pidfile={var_dir / "celerybeat.pid"}',
            f'--schedule={var_dir / "celerybeat-schedule"}',
        ],
    }

    def on_signal(signum, frame):
        raise Stop(signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    children: dict[str, subprocess.Popen] = {}
    url = f'http://{"[" + host + "]" if ":" in host else host}:{port}/'
    announced = False
    try:
        for name, command in commands.items():
            children[name] = start(name, command)
        while True:
            for name, proc in children.items():
                code = proc.poll()
                if code is not None:
                    log(f'{name} exited with code {code}: stopping the others')
                    return code if code > 0 else 128 - code if code < 0 else 1
            if not announced and port_open(host if host not in ('0.0.0.0', '::') else '127.0.0.1', port):
                banner(url, logins)
                announced = True
            time.sleep(POLL_INTERVAL)
    except Stop as stop:
        log(f'{stop} received: stopping')
        return 0
    finally:
        # A second Ctrl-C must not interrupt the shutdown and leave children behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_all(children)
        log('all processes stopped')


if __name__ == '__main__':
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # Ctrl-C during migrate or the demo data, before any child runs
        sys.exit(130)
