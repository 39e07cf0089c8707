"""A real streaming replica: the test starts two PostgreSQL clusters of its own on loopback ports (a primary, and a
hot standby made from it with `pg_basebackup -R`), loads the test database into the primary, and serves the desk
with gunicorn configured with `DATABASE_URL` and `DATABASE_REPLICA_URL`.

It shows that API reads and dashboards are served by the replica (its statement log, its connections, and a
ticket it has not replayed yet being unknown to a reader), that writes go to the primary and reach the replica,
that reads inside a write and a client's reads right after its own write see that write, and that with the
replica stopped the same pages answer from the primary.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2
import pytest
import requests
from django.db import connection

from tests.servers import free_port, stop_process

# The test database (migrated) is what the primary starts from; the tests themselves use only the clusters.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path(os.environ.get('PG_BIN', '/usr/lib/postgresql/15/bin'))
DATABASE = 'pitcrew'
PASSWORD = 'Kestrel-harbour-4491'
# Run by `manage.py shell` on the primary: the people the test acts as, and their API keys (printed as JSON).
SETUP = (
    f'PASSWORD = {PASSWORD!r}\n'
    + """
import json
from itsm import services, tokens
from itsm.audit import Actor
from itsm.choices import Role, Tier

system = Actor.system()
people = {}
for name, role in [('replica-requester', Role.REQUESTER), ('replica-agent', Role.SERVICE_DESK_AGENT),
                   ('replica-reader', Role.SERVICE_DESK_AGENT), ('replica-manager', Role.MANAGER)]:
    people[name] = services.user_create(actor=system, username=name, email=f'{name}@example.com',
                                        password=PASSWORD, roles=(role,))
services.support_group_create(actor=system, name='Replica Desk', tier=Tier.L1, email='replica-desk@example.com',
                              members=[people['replica-agent'], people['replica-reader']])
keys = {name: tokens.token_create(user=user, actor=system, name='replica test')[1] for name, user in people.items()}
print(json.dumps(keys))
"""
)


def as_postgres(*command: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """A PostgreSQL server program, run as the `postgres` user when the test runs as root (initdb refuses root)."""
    argv = [str(PG_BIN / command[0]), *command[1:]]
    if os.geteuid() == 0:
        argv = ['runuser', '-u', 'postgres', '--', *argv]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f'{" ".join(argv)}\n{result.stdout}\n{result.stderr}'
    return result


class Cluster:
    def __init__(self, root: Path, name: str):
        self.data = root / name
        self.log = root / f'{name}.log'
        self.port = free_port()
        self.sockets = root

    def configure(self, **values: str) -> None:
        lines = ''.join(f"{key} = '{value}'\n" for key, value in values.items())
        with (self.data / 'postgresql.auto.conf').open('a') as conf:
            conf.write(lines)

    def start(self) -> None:
        as_postgres('pg_ctl', '-D', str(self.data), '-l', str(self.log), '-w', '-t', '60', 'start')

    def stop(self, mode: str = 'fast') -> None:
        as_postgres('pg_ctl', '-D', str(self.data), '-m', mode, '-w', 'stop')

    def running(self) -> bool:
        return (self.data / 'postmaster.pid').exists()

    def url(self) -> str:
        return f'postgres://postgres@127.0.0.1:{self.port}/{DATABASE}'

    def query(self, sql: str, *params, database: str = DATABASE):
        conn = psycopg2.connect(host='127.0.0.1', port=self.port, user='postgres', dbname=database)
        try:
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall() if cursor.description else None
        finally:
            conn.close()

    def log_text(self, start: int = 0) -> str:
        with self.log.open('rb') as handle:
            handle.seek(start)
            return handle.read().decode(errors='replace')

    def log_size(self) -> int:
        return self.log.stat().st_size


@pytest.fixture(scope='module')
def clusters(django_db_setup, django_db_blocker):
    root = Path(tempfile.mkdtemp(prefix='pitcrew-replica-'))
    if os.geteuid() == 0:
        shutil.chown(root, 'postgres', 'postgres')
    primary, replica = Cluster(root, 'primary'), Cluster(root, 'replica')
    try:
        # initdb's default pg_hba.conf lets local users connect and replicate over loopback.
        as_postgres('initdb', '-D', str(primary.data), '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync')
        primary.configure(
            port=str(primary.port),
            listen_addresses='127.0.0.1',
            unix_socket_directories=str(root),
            fsync='off',
            wal_level='replica',
            max_wal_senders='4',
            log_statement='all',
        )
        primary.start()
        load_test_database(primary)
        as_postgres(
            'pg_basebackup', '-h', '127.0.0.1', '-p', str(primary.port), '-U', 'postgres', '-D', str(replica.data),
            '-R', '-X', 'stream', '--checkpoint=fast',
        )  # fmt: skip
        replica.configure(port=str(replica.port), hot_standby='on', log_statement='all')
        replica.start()
        assert replica.query('SELECT pg_is_in_recovery()') == [(True,)]
        yield primary, replica
    finally:
        for cluster in (replica, primary):
            if cluster.running():
                cluster.stop('immediate')
        shutil.rmtree(root, ignore_errors=True)


def load_test_database(primary: Cluster) -> None:
    """The test database as migrated (schema and reference data) becomes the primary's `pitcrew` database."""
    db = connection.settings_dict
    dump = subprocess.run(
        [str(PG_BIN / 'pg_dump'), '-Fc', '-h', db['HOST'] or '127.0.0.1', '-p', str(db['PORT'] or 5432),
         '-U', db['USER'], db['NAME']],
        capture_output=True, timeout=300, check=True,
    ).stdout  # fmt: skip
    primary.query(f'CREATE DATABASE {DATABASE}', database='postgres')
    restore = subprocess.run(
        [str(PG_BIN / 'pg_restore'), '--no-owner', '-h', '127.0.0.1', '-p', str(primary.port), '-U', 'postgres',
         '-d', DATABASE],
        input=dump, capture_output=True, timeout=300,
    )  # fmt: skip
    assert restore.returncode == 0, restore.stderr.decode(errors='replace')


@pytest.fixture(scope='module')
def desk(clusters, tmp_path_factory):
    """gunicorn with one worker on the two clusters, and the API keys of the people the test acts as."""
    primary, replica = clusters
    var = tmp_path_factory.mktemp('replica-desk')
    env = {
        **os.environ,
        'DJANGO_SETTINGS_MODULE': 'itsm.settings',
        'DATABASE_URL': primary.url(),
        'DATABASE_REPLICA_URL': replica.url(),
        'SECRET_KEY': 'replica-test-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz',
        'DEBUG': 'false',
        'HTTPS': 'false',
        'STATIC_MANIFEST': 'false',
        'ALLOWED_HOSTS': '127.0.0.1',
        'VAR_DIR': str(var),
        'CELERY_TASK_ALWAYS_EAGER': 'true',
        'EMAIL_BACKEND': 'django.core.mail.backends.locmem.EmailBackend',
        'DB_CONN_MAX_AGE': '600',
        # The test pauses the replica's replay on purpose: its lag must not send reads back to the primary.
        'REPLICA_MAX_LAG_SECONDS': '3600',
        'REPLICA_RETRY_SECONDS': '1',
        'REPLICA_PIN_SECONDS': '30',
        'LOG_LEVEL': 'INFO',
    }
    env.pop('REDIS_URL', None)  # one web process: its own cache holds the sign-in counts and pins
    setup = subprocess.run(
        [sys.executable, 'manage.py', 'shell', '-c', SETUP], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=180,
    )  # fmt: skip
    assert setup.returncode == 0, setup.stderr
    keys = json.loads(setup.stdout.strip().splitlines()[-1])
    port = free_port()
    log = (var / 'gunicorn.log').open('w')
    server = subprocess.Popen(
        [sys.executable, '-m', 'gunicorn', 'itsm.wsgi', '--bind', f'127.0.0.1:{port}', '--workers', '1',
         '--timeout', '120'],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f'http://127.0.0.1:{port}'
    try:
        # The first request loads the whole application: on a busy machine that takes a while.
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(f'{base}/health/', timeout=60).status_code in (200, 503):
                    break
            except requests.RequestException:
                pass
            assert server.poll() is None and time.monotonic() < deadline, (var / 'gunicorn.log').read_text()
            time.sleep(0.3)
        yield Desk(base, keys, var / 'gunicorn.log')
    finally:
        stop_process(server)
        log.close()


class Desk:
    def __init__(self, base: str, keys: dict[str, str], log: Path):
        self.base, self.keys, self.log = base, keys, log

    def api(self, person: str, method: str, path: str, body: dict | None = None) -> requests.Response:
        headers = {'Authorization': f'Bearer {self.keys[person]}'}
        return requests.request(method, f'{self.base}/api/v1/{path}', json=body, headers=headers, timeout=60)

    def signed_in(self, person: str) -> requests.Session:
        browser = requests.Session()
        browser.get(f'{self.base}/login/', timeout=30)
        form = {'username': person, 'password': PASSWORD, 'csrfmiddlewaretoken': browser.cookies['csrftoken']}
        response = browser.post(f'{self.base}/login/', data=form, timeout=30, allow_redirects=False)
        assert response.status_code == 302, response.text[:500]
        return browser


def statements_since(cluster: Cluster, offset: int) -> str:
    time.sleep(0.3)  # the server writes its log asynchronously
    return cluster.log_text(offset)


def replay_caught_up(primary: Cluster, replica: Cluster, timeout: float = 20) -> None:
    target = primary.query('SELECT pg_current_wal_lsn()::text')[0][0]
    deadline = time.monotonic() + timeout
    while replica.query('SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn', target)[0][0] is not True:
        assert time.monotonic() < deadline, 'the replica did not replay the primary in time'
        time.sleep(0.1)


def test_api_reads_and_dashboards_are_served_by_the_replica(clusters, desk):
    primary, replica = clusters
    offset = replica.log_size()
    listing = desk.api('replica-reader', 'GET', 'incidents/')
    assert listing.status_code == 200, listing.text[:500]
    assert 'FROM "incidents_ticket"' in statements_since(replica, offset)
    # The web process keeps a connection to the replica (the psql session of this query is the other one).
    connected = replica.query(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend' "
        'AND pid <> pg_backend_pid()',
        DATABASE,
    )
    assert connected[0][0] >= 1

    browser = desk.signed_in('replica-manager')
    offset = replica.log_size()
    page = browser.get(f'{desk.base}/reports/', timeout=60)
    assert page.status_code == 200, page.text[:500]
    assert 'SELECT' in statements_since(replica, offset)
    # The sign-in itself and the session are the primary's: nothing else of the page is read there.
    assert 'django_session' not in statements_since(replica, offset)


def test_writes_go_to_the_primary_and_reads_inside_them_see_them(clusters, desk):
    primary, replica = clusters
    replay_caught_up(primary, replica)
    replica.query('SELECT pg_wal_replay_pause()')
    try:
        created = desk.api('replica-requester', 'POST', 'incidents/', {'short_description': 'Replica lag probe'})
        assert created.status_code == 201, created.text[:500]
        number = created.json()['number']
        assert primary.query('SELECT count(*) FROM incidents_ticket WHERE number = %s', number) == [(1,)]
        assert replica.query('SELECT count(*) FROM incidents_ticket WHERE number = %s', number) == [(0,)]

        # A write's own reads (the ticket looked up by number, then answered) are the primary's.
        assigned = desk.api('replica-agent', 'POST', f'incidents/{number}/assign/', {'group': 'Replica Desk'})
        assert assigned.status_code == 200, assigned.text[:500]
        assert assigned.json()['group'] == 'Replica Desk'
        # Right after its own write a client reads from the primary (pinned), so it sees what it did.
        mine = desk.api('replica-requester', 'GET', f'incidents/{number}/')
        assert mine.status_code == 200, mine.text[:500]
        # Another client reads from the replica, which has not replayed the ticket yet: that read tolerates lag.
        assert desk.api('replica-reader', 'GET', f'incidents/{number}/').status_code == 404
    finally:
        replica.query('SELECT pg_wal_replay_resume()')
    replay_caught_up(primary, replica)
    seen = desk.api('replica-reader', 'GET', f'incidents/{number}/')
    assert seen.status_code == 200, seen.text[:500]
    assert seen.json()['group'] == 'Replica Desk'


def test_pages_answer_from_the_primary_while_the_replica_is_down(clusters, desk):
    primary, replica = clusters
    created = desk.api('replica-requester', 'POST', 'incidents/', {'short_description': 'Written while replica down'})
    assert created.status_code == 201, created.text[:500]
    number = created.json()['number']
    browser = desk.signed_in('replica-manager')
    replica.stop('immediate')
    try:
        for _ in range(3):
            offset = primary.log_size()
            listing = desk.api('replica-reader', 'GET', 'incidents/')
            assert listing.status_code == 200, listing.text[:500]
            assert 'FROM "incidents_ticket"' in statements_since(primary, offset)
            assert desk.api('replica-reader', 'GET', f'incidents/{number}/').status_code == 200
            page = browser.get(f'{desk.base}/reports/', timeout=60)
            assert page.status_code == 200, page.text[:500]
        assert 'read replica not used' in desk.log.read_text()
    finally:
        replica.start()
    # Back in use once it answers again (REPLICA_RETRY_SECONDS is 1 here).
    time.sleep(1.5)
    deadline = time.monotonic() + 20
    while True:
        offset = replica.log_size()
        assert desk.api('replica-reader', 'GET', 'incidents/').status_code == 200
        if 'FROM "incidents_ticket"' in statements_since(replica, offset):
            break
        assert time.monotonic() < deadline, 'reads did not return to the replica after it came back'
        time.sleep(0.5)
