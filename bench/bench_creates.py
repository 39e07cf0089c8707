"""API creates per second under concurrency, beside django-helpdesk on the same box.

Each system runs on gunicorn with 2 sync workers against its own fresh PostgreSQL database; 8 client threads
create tickets through its API as fast as the answers come (a new connection per request, as the load bench's
client), in rounds that alternate between the two systems so both see the same machine. The table gives each
system's creates per second (the median round), the latency of one create, and the errors (any answer but 201).

- Pitcrew: `POST /api/v1/incidents/` with an agent's token, on the demo data (`bench.load.Stack`, no Celery
  processes: side effects are queued in Redis after commit, as in production). The token throttle is raised for
  the run, since 8 clients on one token exceed the production default on purpose.
- django-helpdesk 2.6.1 (the peer): installed from the package registry into its own venv
  (`var/bench/helpdesk-venv`), a minimal project with its DRF API (`POST /api/tickets/`, token authentication, one
  queue, e-mail to the dummy backend), on database `<BENCH_DATABASE_URL>_helpdesk`.

Settings: BENCH_CREATES_SECONDS (length of a round, default 20), BENCH_CREATES_ROUNDS (per system, default 3),
BENCH_CREATES_REDIS_URL (default redis://127.0.0.1:6379/13). A peer that cannot be installed or started raises
`bench.Skipped` with the reason.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import Result, Skipped, scratch_database
from bench.load import AGENT, PASSWORD, REQUESTER, Stack, _die_with_parent, free_port, log

BASE_DIR = Path(__file__).resolve().parent.parent
HELPDESK_VERSION = '2.6.1'
HELPDESK_VENV = BASE_DIR / 'var' / 'bench' / 'helpdesk-venv'
CLIENTS = 8
WORKERS = 2
SECONDS = float(os.environ.get('BENCH_CREATES_SECONDS', '20'))
ROUNDS = int(os.environ.get('BENCH_CREATES_ROUNDS', '3'))
WARMUP_CREATES = 3  # per client, before the first round (imports, connections, caches)
REQUEST_TIMEOUT = 60


def _base_url() -> str:
    return os.environ.get('BENCH_DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/pitcrew_bench')


# ------------------------------------------------------------------------------------------------------- client


def post_json(port: int, path: str, data: dict, authorization: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=REQUEST_TIMEOUT)
    try:
        conn.request(
            'POST',
            path,
            body=json.dumps(data).encode(),
            headers={'Host': '127.0.0.1', 'Content-Type': 'application/json', 'Authorization': authorization},
        )
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@dataclass
class Target:
    """One system under test: where and how to create a ticket."""

    name: str
    port: int
    path: str
    authorization: str
    payload: dict

    def create(self, n: int) -> tuple[int, bytes]:
        data = {key: (value.format(n=n) if isinstance(value, str) else value) for key, value in self.payload.items()}
        return post_json(self.port, self.path, data, self.authorization)


@dataclass
class Round:
    created: int = 0
    errors: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.created / self.seconds if self.seconds else 0.0


def run_round(target: Target, seconds: float, *, first: int) -> Round:
    """`CLIENTS` threads create tickets for `seconds`; a request still running at the end is waited for and
    counted."""
    result, lock = Round(), threading.Lock()
    barrier = threading.Barrier(CLIENTS + 1)
    counter = iter(range(first, first + 10_000_000))

    def client():
        barrier.wait()
        while time.monotonic() < deadline:
            with lock:
                n = next(counter)
            started = time.perf_counter()
            try:
                status, body = target.create(n)
            except (OSError, http.client.HTTPException) as exc:
                status, body = 0, repr(exc).encode()
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                if status == 201:
                    result.created += 1
                    result.latencies_ms.append(elapsed)
                else:
                    result.errors.append(f'{status}: {body[:200]!r}')

    threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + seconds
    started = time.monotonic()
    barrier.wait()
    for thread in threads:
        thread.join()
    result.seconds = time.monotonic() - started
    return result


# ------------------------------------------------------------------------------------------------------ Pitcrew


class CreatesStack(Stack):
    def env(self, app: str = 'web') -> dict[str, str]:
        env = super().env(app)
        env['API_THROTTLE_TOKEN'] = env['API_THROTTLE_USER'] = '1000000/minute'
        return env


def start_pitcrew(database_url: str) -> tuple[CreatesStack, Target]:
    redis_url = os.environ.get('BENCH_CREATES_REDIS_URL', 'redis://127.0.0.1:6379/13')
    stack = CreatesStack(database_url=database_url, redis_url=redis_url, workers=WORKERS, beat=False, worker=False)
    stack.prepare()
    stack.start()
    status, body = post_json(stack.port, '/api/v1/auth/token/', {'username': AGENT, 'password': PASSWORD}, '')
    if status not in (200, 201):
        stack.stop()
        raise RuntimeError(f'Pitcrew token exchange answered {status}: {body[:200]!r}')
    target = Target(
        name='Pitcrew',
        port=stack.port,
        path='/api/v1/incidents/',
        authorization=f'Bearer {json.loads(body)["token"]}',
        payload={'short_description': 'Printer {n} is jammed', 'caller': REQUESTER, 'impact': 'low'},
    )
    return stack, target


# ----------------------------------------------------------------------------------------------- django-helpdesk

HELPDESK_SETTINGS = """
import os
from urllib.parse import urlparse

_db = urlparse(os.environ['HELPDESK_DATABASE_URL'])
SECRET_KEY = 'helpdesk-bench-only-not-secret'
DEBUG = False
ALLOWED_HOSTS = ['127.0.0.1', 'localhost']
INSTALLED_APPS = [
    'django.contrib.admin', 'django.contrib.auth', 'django.contrib.contenttypes', 'django.contrib.sessions',
    'django.contrib.messages', 'django.contrib.staticfiles', 'django.contrib.sites', 'django.contrib.humanize',
    'rest_framework', 'rest_framework.authtoken', 'helpdesk',
]
SITE_ID = 1
MIDDLEWARE = [
    'django.middleware.security.SecurityMiddleware', 'django.contrib.sessions.middleware.SessionMiddleware',
    'django.middleware.common.CommonMiddleware', 'django.middleware.csrf.CsrfViewMiddleware',
    'django.contrib.auth.middleware.AuthenticationMiddleware', 'django.contrib.messages.middleware.MessageMiddleware',
]
ROOT_URLCONF = 'hdbench.urls'
TEMPLATES = [{
    'BACKEND': 'django.template.backends.django.DjangoTemplates', 'APP_DIRS': True,
    'OPTIONS': {'context_processors': [
        'django.template.context_processors.request', 'django.contrib.auth.context_processors.auth',
        'django.contrib.messages.context_processors.messages',
    ]},
}]
DATABASES = {'default': {
    'ENGINE': 'django.db.backends.postgresql', 'NAME': _db.path.lstrip('/'), 'USER': _db.username or 'postgres',
    'PASSWORD': _db.password or '', 'HOST': _db.hostname or '127.0.0.1', 'PORT': _db.port or 5432,
    'CONN_MAX_AGE': 60, 'CONN_HEALTH_CHECKS': True,
}}
REST_FRAMEWORK = {'DEFAULT_AUTHENTICATION_CLASSES': ['rest_framework.authentication.TokenAuthentication']}
EMAIL_BACKEND = 'django.core.mail.backends.dummy.EmailBackend'
STATIC_URL = '/static/'
MEDIA_ROOT = os.environ['HELPDESK_MEDIA_ROOT']
USE_TZ = True
DEFAULT_AUTO_FIELD = 'django.db.models.BigAutoField'
LOGIN_URL = '/login/'
HELPDESK_TEAMS_MODE_ENABLED = False  # teams need pinax-teams, which the minimal install leaves out
"""

HELPDESK_URLS = """
from django.urls import include, path

urlpatterns = [path('', include('helpdesk.urls'))]
"""

HELPDESK_WSGI = """
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'hdbench.settings')
application = get_wsgi_application()
"""

# An administrator (the API asks for staff), one queue and a token; prints the queue's id and the token.
HELPDESK_SETUP = """
from django.contrib.auth import get_user_model
from helpdesk.models import Queue
from rest_framework.authtoken.models import Token

user = get_user_model().objects.create_superuser('bench', 'bench@example.com', 'bench-only')
queue = Queue.objects.create(title='Service Desk', slug='desk', email_address='desk@example.com')
print(queue.id, Token.objects.create(user=user).key)
"""


def helpdesk_venv() -> Path:
    """The peer's venv, made on first use with pip from the package registry."""
    python = HELPDESK_VENV / 'bin' / 'python'
    check = [str(python), '-c', f'import helpdesk, gunicorn, psycopg; assert "{HELPDESK_VERSION}"']
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        installed = subprocess.run(
            [str(python), '-m', 'pip', 'show', 'django-helpdesk'], capture_output=True, text=True
        ).stdout
        if f'Version: {HELPDESK_VERSION}' in installed:
            return python
    log(f'installing django-helpdesk {HELPDESK_VERSION} into {HELPDESK_VENV}')
    HELPDESK_VENV.parent.mkdir(parents=True, exist_ok=True)
    steps = [
        [sys.executable, '-m', 'venv', str(HELPDESK_VENV)],
        [
            str(python),
            '-m',
            'pip',
            'install',
            '-q',
            f'django-helpdesk=={HELPDESK_VERSION}',
            'gunicorn',
            'psycopg[binary]',
        ],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode != 0:
            raise Skipped(
                f'django-helpdesk could not be installed ({" ".join(step[:4])}): {done.stderr.strip()[-300:]}'
            )
    return python


@dataclass
class Helpdesk:
    python: Path
    database_url: str
    project: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix='helpdesk-bench-')))
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(('DJANGO_', 'DATABASE_', 'VIRTUAL_ENV'))}
        env.update(
            DJANGO_SETTINGS_MODULE='hdbench.settings',
            HELPDESK_DATABASE_URL=self.database_url,
            HELPDESK_MEDIA_ROOT=str(self.project / 'media'),
            PYTHONPATH=str(self.project),
            PYTHONUNBUFFERED='1',
        )
        return env

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [str(self.python), '-m', 'django', *args], cwd=self.project, env=self.env(), capture_output=True, text=True
        )
        if done.returncode != 0:
            raise Skipped(f'django-helpdesk: `django-admin {args[0]}` failed: {done.stderr.strip()[-400:]}')
        return done.stdout

    def prepare(self) -> tuple[int, str]:
        package = self.project / 'hdbench'
        package.mkdir(parents=True, exist_ok=True)
        (package / '__init__.py').write_text('')
        (package / 'settings.py').write_text(HELPDESK_SETTINGS)
        (package / 'urls.py').write_text(HELPDESK_URLS)
        (package / 'wsgi.py').write_text(HELPDESK_WSGI)
        scratch_database(self.database_url, fresh=True)
        started = time.monotonic()
        self.manage('migrate', '--noinput')
        log(f'django-helpdesk migrated in {time.monotonic() - started:.0f} s')
        queue_id, token = self.manage('shell', '-c', HELPDESK_SETUP).split()[-2:]
        return int(queue_id), token

    def start(self) -> None:
        gunicorn = HELPDESK_VENV / 'bin' / 'gunicorn'
        command = [str(gunicorn), 'hdbench.wsgi', '--bind', f'127.0.0.1:{self.port}', '--workers', str(WORKERS)]
        output = open(self.project / 'web.log', 'ab')  # noqa: SIM115 (the child keeps it)
        self.proc = subprocess.Popen(
            command, cwd=self.project, env=self.env(), stdout=output, stderr=output, preexec_fn=_die_with_parent
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise Skipped(
                    f'django-helpdesk gunicorn exited with {self.proc.returncode}: see {self.project}/web.log'
                )
            with contextlib.suppress(OSError, http.client.HTTPException):
                conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=5)
                conn.request('GET', '/api/', headers={'Host': '127.0.0.1'})
                if conn.getresponse().status < 500:
                    return
            time.sleep(0.5)
        raise Skipped('django-helpdesk did not answer in 120 s')

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()


def start_helpdesk(database_url: str) -> tuple[Helpdesk, Target]:
    peer = Helpdesk(python=helpdesk_venv(), database_url=database_url)
    queue_id, token = peer.prepare()
    peer.start()
    target = Target(
        name=f'django-helpdesk {HELPDESK_VERSION}',
        port=peer.port,
        path='/api/tickets/',
        authorization=f'Token {token}',
        payload={
            'queue': queue_id,
            'title': 'Printer {n} is jammed',
            'description': 'The printer on floor {n} is jammed.',
            'submitter_email': 'requester@example.com',
            'priority': 3,
        },
    )
    return peer, target


# -------------------------------------------------------------------------------------------------------- run


def _result(target: Target, rounds: list[Round]) -> Result:
    rates = [r.rate for r in rounds]
    latencies = sorted(ms for r in rounds for ms in r.latencies_ms)
    errors = sum(len(r.errors) for r in rounds)
    rate = statistics.median(rates)
    return Result(
        operation=(
            f'API create, {CLIENTS} clients, {WORKERS} gunicorn workers: {target.name} {rate:.0f}/s '
            f'(rounds {", ".join(f"{r:.0f}" for r in rates)}), {errors} errors'
        ),
        rows=sum(r.created for r in rounds),
        median_ms=statistics.median(latencies) if latencies else 0.0,
        p95_ms=latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))] if latencies else 0.0,
        queries=0,  # over HTTP: the query count of one create is asserted by tests/incidents/test_create_queries.py
    )


def run() -> list[Result]:
    base = _base_url()
    peer, peer_target = start_helpdesk(f'{base}_helpdesk')
    try:
        stack, target = start_pitcrew(f'{base}_creates')
        try:
            rounds: dict[str, list[Round]] = {target.name: [], peer_target.name: []}
            for system in (target, peer_target):
                for n in range(WARMUP_CREATES * CLIENTS):
                    status, body = system.create(n)
                    if status != 201:
                        raise RuntimeError(f'{system.name}: warm-up create answered {status}: {body[:300]!r}')
            for index in range(ROUNDS):
                for system in (target, peer_target) if index % 2 == 0 else (peer_target, target):
                    done = run_round(system, SECONDS, first=(index + 1) * 1_000_000)
                    rounds[system.name].append(done)
                    log(f'{system.name}: {done.rate:.0f} creates/s, {len(done.errors)} errors')
                    if done.errors:
                        log(f'{system.name}: first error: {done.errors[0]}')
        finally:
            stack.stop()
    finally:
        peer.stop()
    ours, theirs = (statistics.median(r.rate for r in rounds[name]) for name in (target.name, peer_target.name))
    results = [_result(target, rounds[target.name]), _result(peer_target, rounds[peer_target.name])]
    ratio = Result(
        operation=f'API creates/s, Pitcrew ÷ django-helpdesk: {ours / theirs:.2f}× (target ≥ 2×)',
        rows=0,
        median_ms=0.0,
        p95_ms=0.0,
        queries=0,
    )
    return [*results, ratio]
