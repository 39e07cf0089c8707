"""`python -m bench load`: a mixed load on the production stack (gunicorn, a Celery worker and beat, PostgreSQL and
Redis), with per-operation latencies, errors, the memory of every process and the PostgreSQL connections held.

    python -m bench load --minutes 10 --clients 6 --seed 1
    python -m bench connections            # connections held by gunicorn: workers x threads, CONN_MAX_AGE 0 vs 60

The run makes its database afresh (BENCH_LOAD_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/pitcrew_bench_load), migrates it and loads the demo data, then starts gunicorn
(2 sync workers, DEBUG off, CONN_MAX_AGE 60 and health checks as in production), a Celery worker (concurrency 2)
and Celery beat (database scheduler) against it and Redis (BENCH_LOAD_REDIS_URL, default redis://127.0.0.1:6379/14).
Each process names itself to PostgreSQL (`application_name`), so the connections are counted per process kind.

Clients are threads, each with its own session or token, and a role taken in turn:
- agent pages: signs in on the sign-in page, then browses the queue, the ticket list and ticket pages;
- agent API: exchanges a password for a token, then creates a ticket for the requester and works it through
  assign, accept, a comment and complete, and lists the API's tickets;
- requester: signs in, then opens the portal, one of their tickets, and comments on it.
Each client waits a random think time (0 to twice --think seconds) between operations.

An error is any answer that is neither 2xx nor 3xx (nor a 4xx the operation may expect) and any failed request.
The memory (RSS) of the gunicorn master and workers, the Celery worker and its pool and beat is sampled every
--sample seconds, with the connections of the database by application; the report gives start, end, max and the
slope of a least-squares line over the samples after the first minute (MiB per 10 minutes).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import http.client
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlparse

BASE_DIR = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/pitcrew_bench_load'
DEFAULT_REDIS = 'redis://127.0.0.1:6379/14'
PASSWORD = 'pitcrew-demo'
AGENT, REQUESTER, GROUP = 'agent', 'requester', 'Service Desk'
WEB_WORKERS = 2
CELERY_CONCURRENCY = 2
REQUEST_TIMEOUT = 30
STOP_TIMEOUT = 15
APPS = ('web', 'worker', 'beat')


def log(message: str) -> None:
    print(f'[bench] {time.strftime("%H:%M:%S")} {message}', file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------- processes


def _die_with_parent() -> None:
    """In the child before exec: its own process group, and SIGTERM when the bench goes away."""
    os.setsid()
    if sys.platform.startswith('linux'):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def with_app_name(url: str, name: str) -> str:
    """The database URL with `application_name`, so pg_stat_activity tells the web from the worker and beat."""
    return f'{url}{"&" if "?" in url else "?"}application_name=pitcrew-{name}'


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f'/proc/{entry}/stat').read_text()
        except OSError:
            continue
        if int(stat.rsplit(')', 1)[1].split()[1]) == pid:
            found.append(int(entry))
    return sorted(found)


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f'/proc/{pid}/status').read_text().splitlines():
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


@dataclass
class Stack:
    """The app's processes (gunicorn, Celery worker, beat) against one database and one Redis."""

    database_url: str
    redis_url: str
    workers: int = WEB_WORKERS
    threads: int = 1
    conn_max_age: int | None = None  # None: the production default
    beat: bool = True
    worker: bool = True
    # The checkout whose code the stack runs: this one, or BENCH_APP_DIR (e.g. `git archive` of a commit).
    app_dir: Path = field(default_factory=lambda: Path(os.environ.get('BENCH_APP_DIR', BASE_DIR)))
    run_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix='pitcrew-bench-')))
    port: int = field(default_factory=free_port)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def env(self, app: str = 'web') -> dict[str, str]:
        env = dict(os.environ)
        for name in ('DEBUG', 'DB_CONN_MAX_AGE', 'CELERY_TASK_ALWAYS_EAGER'):
            env.pop(name, None)
        env.update(
            DATABASE_URL=with_app_name(self.database_url, app),
            REDIS_URL=self.redis_url,
            DEBUG='false',
            SECRET_KEY='load-bench-only-not-secret-0123456789abcdefghijklmnopqrstuvwxyz',
            HTTPS='false',
            ALLOWED_HOSTS='127.0.0.1,localhost',
            STATIC_MANIFEST='false',  # static files from the finders: no collectstatic for a throw-away run
            LOG_LEVEL='WARNING',
            EMAIL_BACKEND='django.core.mail.backends.dummy.EmailBackend',
            VAR_DIR=str(self.run_dir / 'var'),
            SITE_URL=f'http://127.0.0.1:{self.port}',
            DJANGO_SETTINGS_MODULE='itsm.settings',
            PYTHONUNBUFFERED='1',
        )
        if self.conn_max_age is not None:
            env['DB_CONN_MAX_AGE'] = str(self.conn_max_age)
        return env

    def manage(self, *args: str) -> None:
        started = time.monotonic()
        subprocess.run(
            [sys.executable, str(self.app_dir / 'manage.py'), *args],
            cwd=self.app_dir,
            env=self.env('setup'),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        log(f'manage.py {" ".join(args)}: {time.monotonic() - started:.0f} s')

    def prepare(self) -> None:
        """A fresh database with the schema and the demo data."""
        from bench import scratch_database

        scratch_database(self.database_url, fresh=True)
        self.manage('migrate', '--noinput')
        self.manage('load_demo_data')

    def start(self) -> None:
        gunicorn = [
            str(VENV_BIN / 'gunicorn'),
            'itsm.wsgi',
            '--bind',
            f'127.0.0.1:{self.port}',
            '--workers',
            str(self.workers),
            '--timeout',
            '60',
        ]
        if self.threads > 1:
            gunicorn += ['--threads', str(self.threads)]
        commands = {'web': gunicorn}
        if self.worker:
            commands['worker'] = [
                str(VENV_BIN / 'celery'),
                '-A',
                'itsm',
                'worker',
                '--loglevel=warning',
                f'--concurrency={CELERY_CONCURRENCY}',
                '--hostname',
                f'bench-{self.port}@%h',
            ]
        if self.beat:
            commands['beat'] = [
                str(VENV_BIN / 'celery'),
                '-A',
                'itsm',
                'beat',
                '--loglevel=warning',
                '--scheduler=django_celery_beat.schedulers:DatabaseScheduler',
                f'--schedule={self.run_dir / "celerybeat-schedule"}',
            ]
        for app, command in commands.items():
            output = open(self.run_dir / f'{app}.log', 'ab')  # noqa: SIM115 (the child keeps it)
            self.procs[app] = subprocess.Popen(
                command, cwd=self.app_dir, env=self.env(app), stdout=output, stderr=output, preexec_fn=_die_with_parent
            )
        self.wait_healthy()
        log(f'stack up on 127.0.0.1:{self.port} ({", ".join(self.procs)}); logs in {self.run_dir}')

    def wait_healthy(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for app, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f'{app} exited with {proc.returncode}: see {self.run_dir / (app + ".log")}')
            with contextlib.suppress(OSError, http.client.HTTPException):
                if Client(self.port).get('/health/').status == 200:
                    return
            time.sleep(0.5)
        raise RuntimeError(f'the web server did not answer /health/ in {timeout:.0f} s')

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def alive(self) -> dict[str, bool]:
        return {app: proc.poll() is None for app, proc in self.procs.items()}

    def processes(self) -> dict[str, int]:
        """Name -> pid of every process of the stack: gunicorn master and workers, Celery worker and pool, beat."""
        found = {}
        if 'web' in self.procs:
            found['gunicorn master'] = self.procs['web'].pid
            for i, pid in enumerate(children(self.procs['web'].pid), 1):
                found[f'gunicorn worker {i}'] = pid
        if 'worker' in self.procs:
            found['celery worker'] = self.procs['worker'].pid
            for i, pid in enumerate(children(self.procs['worker'].pid), 1):
                found[f'celery pool {i}'] = pid
        if 'beat' in self.procs:
            found['celery beat'] = self.procs['beat'].pid
        return found


# ------------------------------------------------------------------------------------------------------- client


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


class Client:
    """One person's HTTP client: its own cookies (session, CSRF) or API token, a new connection per request (the
    sync gunicorn workers close each one)."""

    def __init__(self, port: int, token: str = ''):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.token = token

    def request(self, method: str, path: str, *, body: bytes | None = None, content_type: str = '') -> Answer:
        headers = {'Host': '127.0.0.1'}
        if self.cookies:
            headers['Cookie'] = '; '.join(f'{k}={v}' for k, v in self.cookies.items())
        if self.token:
            headers['Authorization'] = f'Bearer {self.token}'
        if content_type:
            headers['Content-Type'] = content_type
        if method == 'POST' and 'csrftoken' in self.cookies:
            headers['X-CSRFToken'] = self.cookies['csrftoken']
        conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=REQUEST_TIMEOUT)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            for value in response.headers.get_all('Set-Cookie') or []:
                cookie = SimpleCookie()
                cookie.load(value)
                for name, morsel in cookie.items():
                    self.cookies[name] = morsel.value
            return Answer(response.status, dict(response.headers.items()), data)
        finally:
            conn.close()

    def get(self, path: str) -> Answer:
        return self.request('GET', path)

    def post_form(self, path: str, data: dict) -> Answer:
        data = {**data, 'csrfmiddlewaretoken': self.cookies.get('csrftoken', '')}
        form = 'application/x-www-form-urlencoded'
        return self.request('POST', path, body=urlencode(data).encode(), content_type=form)

    def post_json(self, path: str, data: dict) -> Answer:
        return self.request('POST', path, body=json.dumps(data).encode(), content_type='application/json')


# --------------------------------------------------------------------------------------------------- recording


@dataclass
class Sample:
    at: float  # seconds since the load started
    operation: str
    ms: float
    status: int  # 0: the request failed (refused, reset, timed out)
    error: bool
    detail: str = ''


class Recorder:
    def __init__(self):
        self.started = time.monotonic()
        self.samples: list[Sample] = []
        self.lock = threading.Lock()

    def now(self) -> float:
        return time.monotonic() - self.started

    def call(self, operation: str, fn, *, expect: tuple[int, ...] = ()) -> Answer | None:
        at = self.now()
        t0 = time.perf_counter()
        try:
            answer = fn()
        except (OSError, http.client.HTTPException) as exc:
            ms = (time.perf_counter() - t0) * 1000
            self._add(Sample(at, operation, ms, 0, True, f'{type(exc).__name__}: {exc}'))
            return None
        ms = (time.perf_counter() - t0) * 1000
        error = answer.status >= 400 and answer.status not in expect
        self._add(Sample(at, operation, ms, answer.status, error, answer.body[:200].decode(errors='replace')))
        return answer

    def _add(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def _latency_row(name: str, ss: list, minutes: float) -> tuple[str, ...]:
    """One line of the latency table: counts, errors, expected 4xx and percentiles of the successful requests."""
    ok = [s.ms for s in ss if not s.error]
    return (
        name,
        str(len(ss)),
        f'{len(ss) / minutes:.0f}',
        str(sum(s.error for s in ss)),
        str(sum(1 for s in ss if 400 <= s.status < 500 and not s.error)),
        f'{percentile(ok, 0.50):.0f}',
        f'{percentile(ok, 0.95):.0f}',
        f'{percentile(ok, 0.99):.0f}',
        f'{max(ok, default=0):.0f}',
    )


def operations_table(samples: list[Sample], minutes: float) -> str:
    by_op: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        by_op[s.operation].append(s)
    rows = [('operation', 'count', 'per min', 'errors', '4xx exp.', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms')]
    for op in sorted(by_op):
        rows.append(_latency_row(op, by_op[op], minutes))
    rows.append(_latency_row('all', samples, minutes))
    return table(rows)


def table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]

    def fmt(row):
        return '  '.join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))

    return '\n'.join([fmt(rows[0]), '  '.join('-' * w for w in widths), *(fmt(r) for r in rows[1:])])


# ------------------------------------------------------------------------------------------------------ people


SIGNED_OUT = object()  # what a client's step returns when the server no longer knows its session or token


def outcome(answer: Answer | None):
    """True when the step may go on; False after a failure; SIGNED_OUT when the session or token is gone."""
    if answer is None:
        return False
    if answer.status in (401, 403) or (answer.status == 302 and '/login/' in answer.headers.get('Location', '')):
        return SIGNED_OUT
    return answer.status < 400


class Workload:
    """The clients' shared state: the tickets the requester has, for the pages and the portal."""

    def __init__(self, port: int, recorder: Recorder, seed: int, think: float):
        self.port = port
        self.rec = recorder
        self.seed = seed
        self.think = think
        self.tickets: list[str] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def remember(self, number: str) -> None:
        with self.lock:
            self.tickets.append(number)
            del self.tickets[:-200]  # the recent ones: what people look at

    def pick(self, rng: random.Random) -> str | None:
        with self.lock:
            return rng.choice(self.tickets) if self.tickets else None

    def pause(self, rng: random.Random) -> None:
        self.stop.wait(rng.uniform(0, 2 * self.think))

    def sign_in(self, username: str) -> Client | None:
        client = Client(self.port)
        if self.rec.call('sign-in page', lambda: client.get('/login/')) is None:
            return None
        answer = self.rec.call(
            'sign in (POST)', lambda: client.post_form('/login/', {'username': username, 'password': PASSWORD})
        )
        if answer is None or answer.status != 302:
            return None
        return client

    def token(self, username: str) -> Client | None:
        anon = Client(self.port)
        answer = self.rec.call(
            'API token exchange',
            lambda: anon.post_json('/api/v1/auth/token/', {'username': username, 'password': PASSWORD}),
        )
        if answer is None or answer.status >= 300:
            return None
        return Client(self.port, token=answer.json()['token'])

    def run(self, role: str, index: int) -> None:
        rng = random.Random(f'{self.seed}-{role}-{index}')
        work = {'agent pages': self.agent_pages, 'agent API': self.agent_api, 'requester': self.requester}[role]
        client = None
        while not self.stop.is_set():
            if client is None:  # first, or the session or token is gone: sign in again, as a person would
                username = REQUESTER if role == 'requester' else AGENT
                client = self.token(username) if role == 'agent API' else self.sign_in(username)
                if client is None:
                    self.stop.wait(1)
                    continue
            try:
                signed_out = work(client, rng) is SIGNED_OUT
            except Exception as exc:  # a bug in the client must not pass silently as fewer requests
                self.rec._add(Sample(self.rec.now(), f'{role} client', 0, 0, True, repr(exc)))
                signed_out = False
                self.stop.wait(1)
            if signed_out:
                client = None

    def agent_pages(self, client: Client, rng: random.Random) -> bool:
        choice = rng.random()
        if choice < 0.35:
            answer = self.rec.call('queue page', lambda: client.get(rng.choice(['/queues/', '/queues/?q=mine'])))
        elif choice < 0.6:
            answer = self.rec.call('ticket list page', lambda: client.get('/tickets/'))
        else:
            number = self.pick(rng)
            if number is None:
                return True
            answer = self.rec.call('ticket page', lambda: client.get(f'/tickets/{number}/'))
        self.pause(rng)
        return outcome(answer)

    def agent_api(self, client: Client, rng: random.Random) -> bool:
        """One ticket from opening to completion, with a look at the list on the way."""
        created = self.rec.call(
            'API create',
            lambda: client.post_json(
                '/api/v1/incidents/',
                {
                    'short_description': f'Load test {rng.randrange(10**6)}: cannot print',
                    'description': 'Opened by the load bench.',
                    'caller': REQUESTER,
                    'impact': rng.choice(['low', 'medium']),
                    'urgency': rng.choice(['normal', 'urgent']),
                },
            ),
        )
        if outcome(created) is not True:
            self.pause(rng)
            return outcome(created)
        number = created.json()['number']
        self.remember(number)
        base = f'/api/v1/incidents/{number}'
        steps = [
            ('API assign', f'{base}/assign/', {'group': GROUP, 'assignee': AGENT}),
            ('API accept', f'{base}/accept/', {}),
            ('API comment', f'{base}/comments/', {'body': 'Looking into it.', 'internal': rng.random() < 0.5}),
            ('API list', '/api/v1/incidents/?state=accepted', None),
            (
                'API complete',
                f'{base}/complete/',
                {'resolution_code': 'solved_remotely', 'resolution_notes': 'Driver reinstalled.'},
            ),
        ]
        for operation, path, data in steps:
            self.pause(rng)
            if self.stop.is_set():
                return True
            if data is None:
                answer = self.rec.call(operation, lambda path=path: client.get(path))
            else:
                answer = self.rec.call(operation, lambda path=path, data=data: client.post_json(path, data))
            if outcome(answer) is not True:
                self.pause(rng)
                return outcome(answer)
        self.pause(rng)
        return True

    def requester(self, client: Client, rng: random.Random) -> bool:
        answer = self.rec.call('portal home', lambda: client.get('/portal/'))
        if outcome(answer) is not True:
            self.pause(rng)
            return outcome(answer)
        number = self.pick(rng)
        self.pause(rng)
        if number is None:
            return True
        answer = self.rec.call('portal ticket', lambda: client.get(f'/portal/{number}/'))
        if outcome(answer) is not True:
            self.pause(rng)
            return outcome(answer)
        self.pause(rng)
        if rng.random() < 0.4:
            answer = self.rec.call(
                'portal comment (POST)',
                lambda: client.post_form(f'/portal/{number}/comment/', {'body': 'Any news? It still fails.'}),
            )
            if outcome(answer) is not True:
                self.pause(rng)
                return outcome(answer)
            self.pause(rng)
        return True


ROLES = ('agent pages', 'agent API', 'requester')


def start_clients(workload: Workload, clients: int) -> list[threading.Thread]:
    threads = []
    for i in range(clients):
        role = ROLES[i % len(ROLES)]
        thread = threading.Thread(target=workload.run, args=(role, i), name=f'{role} {i}', daemon=True)
        thread.start()
        threads.append(thread)
    return threads


# ------------------------------------------------------------------------------------------------------ monitor


def pg_connect(url: str):
    import psycopg2

    parts = urlparse(url)
    conn = psycopg2.connect(
        dbname=parts.path.lstrip('/'),
        user=parts.username or 'postgres',
        password=parts.password or None,
        host=parts.hostname or '127.0.0.1',
        port=parts.port or 5432,
        application_name='pitcrew-bench-monitor',
        connect_timeout=3,
    )
    conn.autocommit = True
    return conn


CONNECTIONS_SQL = """
    SELECT coalesce(nullif(replace(application_name, 'pitcrew-', ''), ''), 'other'), state, count(*)
    FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
    GROUP BY 1, 2
"""


class Monitor:
    """Every `interval` seconds: RSS of each process of the stack, and the database's connections by application."""

    def __init__(self, stack: Stack, recorder: Recorder, interval: float):
        self.stack = stack
        self.rec = recorder
        self.interval = interval
        self.rss: dict[str, list[tuple[float, float]]] = defaultdict(list)
        self.connections: list[tuple[float, dict[str, int], dict[str, int]]] = []  # (at, by app, by state)
        self.notifications: list[tuple[float, int]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.loop, name='monitor', daemon=True)
        self.conn = None

    def start(self) -> None:
        self.thread.start()

    def finish(self) -> None:
        self.stop.set()
        self.thread.join()
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.close()

    def loop(self) -> None:
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(self.interval)

    def sample(self) -> None:
        at = self.rec.now()
        for name, pid in self.stack.processes().items():
            value = rss_mib(pid)
            if value is not None:
                self.rss[f'{name} ({pid})'].append((at, value))
        try:
            if self.conn is None:
                self.conn = pg_connect(self.stack.database_url)
            with self.conn.cursor() as cur:
                cur.execute(CONNECTIONS_SQL)
                by_app, by_state = defaultdict(int), defaultdict(int)
                for app, state, n in cur.fetchall():
                    by_app[app] += n
                    by_state[state or 'none'] += n
                cur.execute('SELECT count(*) FROM inbox_notification')
                self.notifications.append((at, cur.fetchone()[0]))
            self.connections.append((at, dict(by_app), dict(by_state)))
        except Exception:  # the database may be down (the fault bench): try again next time
            if self.conn is not None:
                with contextlib.suppress(Exception):
                    self.conn.close()
            self.conn = None

    def rss_table(self, skip: float = 60.0) -> str:
        rows = [('process', 'start MiB', 'end MiB', 'max MiB', 'slope MiB/10 min', '2nd half', 'samples')]
        for name, points in self.rss.items():
            values = [v for _, v in points]
            later = [(t, v) for t, v in points if t >= skip] or points
            half = [(t, v) for t, v in points if t >= points[-1][0] / 2] or points
            rows.append(
                (
                    name,
                    f'{values[0]:.1f}',
                    f'{values[-1]:.1f}',
                    f'{max(values):.1f}',
                    f'{slope(later) * 600:+.2f}',
                    f'{slope(half) * 600:+.2f}',
                    str(len(values)),
                )
            )
        return table(rows)

    def connections_table(self) -> str:
        apps = sorted({app for _, by_app, _ in self.connections for app in by_app})
        rows = [('application', 'min', 'median', 'max')]
        for app in [*apps, 'all']:
            counts = [sum(by.values()) if app == 'all' else by.get(app, 0) for _, by, _ in self.connections]
            if counts:
                rows.append((app, str(min(counts)), f'{statistics.median(counts):.0f}', str(max(counts))))
        states = sorted({s for _, _, by_state in self.connections for s in by_state})
        for state in states:
            counts = [by.get(state, 0) for _, _, by in self.connections]
            rows.append((f'  state {state}', str(min(counts)), f'{statistics.median(counts):.0f}', str(max(counts))))
        return table(rows)


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope (value per second)."""
    if len(points) < 2:
        return 0.0
    mean_t = statistics.fmean(t for t, _ in points)
    mean_v = statistics.fmean(v for _, v in points)
    den = sum((t - mean_t) ** 2 for t, _ in points)
    return sum((t - mean_t) * (v - mean_v) for t, v in points) / den if den else 0.0


# -------------------------------------------------------------------------------------------------------- runs


def error_summary(samples: list[Sample], limit: int = 10) -> str:
    counts: dict[tuple[str, int, str], int] = defaultdict(int)
    for s in samples:
        if s.error:
            counts[(s.operation, s.status, re.sub(r'\s+', ' ', s.detail)[:120])] += 1
    lines = [f'  {n} x {op}: {status or "no answer"} {detail}' for (op, status, detail), n in counts.items()]
    return '\n'.join(sorted(lines, key=lambda line: -int(line.split(' x ')[0]))[:limit])


def drive(stack: Stack, *, seconds: float, clients: int, seed: int, think: float, sample: float, during=None):
    """Run the clients against `stack` for `seconds` (with `during(recorder)` in this thread, e.g. faults)."""
    recorder = Recorder()
    workload = Workload(stack.port, recorder, seed, think)
    monitor = Monitor(stack, recorder, sample)
    monitor.start()
    threads = start_clients(workload, clients)
    try:
        if during is not None:
            during(recorder)
        remaining = seconds - recorder.now()
        while remaining > 0:
            time.sleep(min(remaining, 30))
            remaining = seconds - recorder.now()
            done = len(recorder.samples)
            errors = sum(s.error for s in recorder.samples)
            log(f'{recorder.now() / 60:.1f} min: {done} requests, {errors} errors')
    finally:
        workload.stop.set()
        for thread in threads:
            thread.join(REQUEST_TIMEOUT + 5)
        monitor.sample()
        monitor.finish()
    return recorder, monitor


def load(args) -> int:
    stack = Stack(
        os.environ.get('BENCH_LOAD_DATABASE_URL', DEFAULT_URL), os.environ.get('BENCH_LOAD_REDIS_URL', DEFAULT_REDIS)
    )
    log(f'database {stack.database_url}, Redis {stack.redis_url}')
    if not args.reuse:
        stack.prepare()
    stack.start()
    try:
        recorder, monitor = drive(
            stack, seconds=args.minutes * 60, clients=args.clients, seed=args.seed, think=args.think, sample=args.sample
        )
        alive = stack.alive()
    finally:
        stack.stop()
    minutes = recorder.now() / 60
    errors = sum(s.error for s in recorder.samples)
    print(
        f'Load: {minutes:.1f} min, {args.clients} clients (think {args.think} s), seed {args.seed}; '
        f'gunicorn {stack.workers} workers, Celery worker concurrency {CELERY_CONCURRENCY}, beat\n'
    )
    print(operations_table(recorder.samples, minutes))
    if errors:
        print(f'\nerrors:\n{error_summary(recorder.samples)}')
    print(f'\nMemory (RSS) per process, sampled every {args.sample} s; slopes after the first minute and over')
    print('the second half:\n')
    print(monitor.rss_table())
    print('\nPostgreSQL connections of the database, per sample:\n')
    print(monitor.connections_table())
    if monitor.notifications:
        first, last = monitor.notifications[0][1], monitor.notifications[-1][1]
        print(f'\nnotifications delivered by the worker during the run: {last - first}')
    print(f'\nprocesses alive at the end: {alive}')
    return 1 if errors or not all(alive.values()) else 0


# ------------------------------------------------------------------------------------------------- connections


def connections(args) -> int:
    """Connections held by gunicorn: W workers x T threads at CONN_MAX_AGE 0 and 60, during and after a burst."""
    url = os.environ.get('BENCH_LOAD_DATABASE_URL', DEFAULT_URL)
    redis = os.environ.get('BENCH_LOAD_REDIS_URL', DEFAULT_REDIS)
    Stack(url, redis).prepare()
    rows = [('gunicorn', 'CONN_MAX_AGE', 'clients', 'requests', 'max during', 'held after 5 s', 'p95 ms')]
    for workers, threads in ((2, 1), (2, 4), (4, 4)):
        for max_age in (0, 60):
            stack = Stack(url, redis, workers=workers, threads=threads, conn_max_age=max_age, beat=False, worker=False)
            stack.start()
            try:
                clients = workers * threads * 2
                recorder, monitor = drive(
                    stack, seconds=args.seconds, clients=clients, seed=args.seed, think=0.05, sample=0.5
                )
                time.sleep(5)
                conn = pg_connect(url)
                with conn.cursor() as cur:
                    cur.execute(CONNECTIONS_SQL)
                    after = sum(n for app, _, n in cur.fetchall() if app == 'web')
                conn.close()
            finally:
                stack.stop()
            during = max((by.get('web', 0) for _, by, _ in monitor.connections), default=0)
            ok = [s.ms for s in recorder.samples if not s.error]
            errors = sum(s.error for s in recorder.samples)
            kind = f'{workers} workers x {threads} thread{"s" if threads > 1 else ""}'
            rows.append(
                (
                    kind,
                    str(max_age),
                    str(clients),
                    f'{len(recorder.samples)}' + (f' ({errors} errors)' if errors else ''),
                    str(during),
                    str(after),
                    f'{percentile(ok, 0.95):.0f}',
                )
            )
            log(' '.join(rows[-1]))
    print(table(rows))
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog='python -m bench load', description=__doc__.split('\n\n')[0])
    parser.add_argument('--minutes', type=float, default=10)
    parser.add_argument('--clients', type=int, default=6)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--think', type=float, default=0.5, help='mean think time between operations (seconds)')
    parser.add_argument('--sample', type=float, default=5, help='seconds between memory and connection samples')
    parser.add_argument('--reuse', action='store_true', help="keep the last run's database instead of a fresh one")
    return load(parser.parse_args(argv))


def main_connections(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog='python -m bench connections')
    parser.add_argument('--seconds', type=float, default=20, help='length of the burst per configuration')
    parser.add_argument('--seed', type=int, default=1)
    return connections(parser.parse_args(argv))


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
