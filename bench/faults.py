"""`python -m bench faults`: restart PostgreSQL, then Redis, under the load of `bench.load`, and show that the app
recovers by itself: gunicorn, the Celery worker and beat keep running (same processes), errors happen only while
the server is away and shortly after, and then stop.

    python -m bench faults --outage 5 --settle 90

The bench runs its own PostgreSQL cluster (initdb into a temporary folder, port BENCH_FAULTS_PG_PORT, default 5440;
run as the `postgres` user when started as root) and its own redis-server (port BENCH_FAULTS_REDIS_PORT, default
6390, append-only file as in docker-compose.yml), so restarting them disturbs nobody else. After --warmup seconds
of load it stops PostgreSQL (`pg_ctl stop -m fast`, what a service restart does), waits --outage seconds, starts
it again, lets the load run --settle seconds, and does the same to Redis (SIGTERM, wait, start).

For each fault it prints the errors before, during the outage (from the stop until the server answers again) and
after it, the time from the server's return to the last failed request (recovery), the first healthy answer of
`/health/` (probed every 0.25 s), the notifications the worker delivered after the fault (its tasks run again),
and whether every process of the stack is still the one started at the beginning.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench.load import Client, Recorder, Sample, Stack, drive, error_summary, log, operations_table, table

PG_PORT = int(os.environ.get('BENCH_FAULTS_PG_PORT', '5440'))
REDIS_PORT = int(os.environ.get('BENCH_FAULTS_REDIS_PORT', '6390'))
DATABASE = 'pitcrew_faults'


def pg_bin() -> Path:
    """The newest PostgreSQL server programs installed (Debian keeps them under /usr/lib/postgresql/<version>)."""
    found = sorted(Path('/usr/lib/postgresql').glob('*/bin/pg_ctl'), key=lambda p: int(p.parent.parent.name))
    if found:
        return found[-1].parent
    pg_ctl = shutil.which('pg_ctl')
    if pg_ctl:
        return Path(pg_ctl).parent
    raise SystemExit('pg_ctl not found: install the PostgreSQL server (apt-get install postgresql)')


class Postgres:
    """A throw-away PostgreSQL cluster on a loopback port, owned by `postgres` when we are root."""

    def __init__(self, port: int):
        self.port = port
        self.bin = pg_bin()
        self.dir = Path(tempfile.mkdtemp(prefix='pitcrew-faults-pg-'))
        self.data = self.dir / 'data'
        self.root = os.geteuid() == 0
        if self.root:
            shutil.chown(self.dir, 'postgres', 'postgres')

    @property
    def url(self) -> str:
        return f'postgres://postgres@127.0.0.1:{self.port}/{DATABASE}'

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.root:
            command = ['runuser', '-u', 'postgres', '--', *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=self.dir)

    def init(self) -> None:
        self._run('initdb', '-D', str(self.data), '--auth=trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8')

    def start(self) -> None:
        options = f'-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c max_connections=100'
        self._run('pg_ctl', '-D', str(self.data), '-l', str(self.dir / 'server.log'), '-w', '-o', options, 'start')

    def stop(self, mode: str = 'fast') -> None:
        self._run('pg_ctl', '-D', str(self.data), '-m', mode, '-w', 'stop')

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop('immediate')
        shutil.rmtree(self.dir, ignore_errors=True)


class Redis:
    """A throw-away redis-server on a loopback port, persisting to an append-only file like docker-compose.yml's."""

    def __init__(self, port: int):
        self.port = port
        self.dir = Path(tempfile.mkdtemp(prefix='pitcrew-faults-redis-'))
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f'redis://127.0.0.1:{self.port}/0'

    def start(self) -> None:
        server = shutil.which('redis-server') or '/usr/bin/redis-server'
        self.proc = subprocess.Popen(
            [server, '--port', str(self.port), '--bind', '127.0.0.1', '--dir', str(self.dir), '--appendonly', 'yes']
            + ['--save', '', '--logfile', str(self.dir / 'redis.log')],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(('127.0.0.1', self.port), 0.5):
                return
            time.sleep(0.1)
        raise RuntimeError('redis-server did not start')

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@dataclass
class Fault:
    name: str
    since: float = 0.0  # the previous fault's end, or the start of the load
    stopped_at: float = 0.0  # seconds since the load started
    back_at: float = 0.0  # the server answers again
    until: float = 0.0  # the next fault, or the end of the load


class Prober(threading.Thread):
    """GET /health/ every 0.25 s: (seconds since the load started, status; 0 when nothing answered)."""

    def __init__(self, port: int, recorder: Recorder):
        super().__init__(name='health prober', daemon=True)
        self.client = Client(port)
        self.rec = recorder
        self.answers: list[tuple[float, int]] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            at = self.rec.now()
            try:
                status = self.client.get('/health/').status
            except OSError:
                status = 0
            self.answers.append((at, status))
            self.done.wait(0.25)


def report(fault: Fault, samples: list[Sample], prober: Prober, notifications: list[tuple[float, int]]) -> tuple:
    def ends(s: Sample) -> float:
        return s.at + s.ms / 1000

    mine = [s for s in samples if fault.since <= s.at < fault.until]
    before = [s for s in mine if ends(s) < fault.stopped_at]
    during = [s for s in mine if ends(s) >= fault.stopped_at and s.at <= fault.back_at]
    after = [s for s in mine if s.at > fault.back_at]
    failed_after = [s for s in after if s.error]
    last_error = max((ends(s) for s in failed_after), default=fault.back_at)
    recovered = [s for s in after if s.at > last_error]
    healthy = next((at for at, status in prober.answers if at >= fault.back_at and status == 200), None)
    count_then = next((n for at, n in notifications if at >= fault.back_at + 1), None)
    count_end = next((n for at, n in reversed(notifications) if at <= fault.until), None)
    delivered = (count_end - count_then) if count_then is not None and count_end is not None else 0
    return (
        fault.name,
        f'{fault.back_at - fault.stopped_at:.1f}',
        f'{sum(s.error for s in before)} of {len(before)}',
        f'{sum(s.error for s in during)} of {len(during)}',
        f'{len(failed_after)} of {len(after)}',
        f'{last_error - fault.back_at:.1f}',
        f'{healthy - fault.back_at:.1f}' if healthy is not None else 'never',
        str(len(recovered)),
        str(delivered),
    )


def faults(args) -> int:
    pg, redis = Postgres(PG_PORT), Redis(REDIS_PORT)
    stack = None
    try:
        pg.init()
        pg.start()
        redis.start()
        stack = Stack(pg.url, redis.url)
        log(f'own PostgreSQL on port {PG_PORT} ({pg.dir}), own Redis on port {REDIS_PORT} ({redis.dir})')
        stack.prepare()
        stack.start()
        pids = stack.processes()
        plan = [Fault('PostgreSQL restart'), Fault('Redis restart')]
        seconds = args.warmup + len(plan) * (args.outage + args.settle)
        prober: Prober | None = None

        def inject(recorder: Recorder) -> None:
            nonlocal prober
            prober = Prober(stack.port, recorder)
            prober.start()
            time.sleep(args.warmup)
            for i, fault in enumerate(plan):
                fault.since = plan[i - 1].until if i else 0.0
                fault.stopped_at = recorder.now()
                log(f'{fault.name}: stopping')
                if fault.name.startswith('PostgreSQL'):
                    pg.stop(args.pg_stop_mode)
                    time.sleep(args.outage)
                    pg.start()
                else:
                    redis.stop()
                    time.sleep(args.outage)
                    redis.start()
                fault.back_at = recorder.now()
                log(f'{fault.name}: back after {fault.back_at - fault.stopped_at:.1f} s')
                time.sleep(args.settle)
                fault.until = recorder.now()

        recorder, monitor = drive(
            stack, seconds=seconds, clients=args.clients, seed=args.seed, think=args.think, sample=1, during=inject
        )
        prober.done.set()
        prober.join()
        plan[-1].until = recorder.now()
        same = stack.processes() == pids and all(stack.alive().values())
    finally:
        if stack is not None:
            stack.stop()
        redis.destroy()
        pg.destroy()

    minutes = recorder.now() / 60
    print(
        f'Faults under load: {minutes:.1f} min, {args.clients} clients (think {args.think} s); outages of '
        f'{args.outage} s, PostgreSQL stopped with -m {args.pg_stop_mode}\n'
    )
    rows = [
        (
            'fault',
            'outage s',
            'errors before',
            'errors during',
            'errors after',
            'recovery s',
            '/health/ 200 after s',
            'requests after recovery (all ok)',
            'notifications after',
        )
    ]
    rows += [report(fault, recorder.samples, prober, monitor.notifications) for fault in plan]
    print(table(rows))
    print('\n' + operations_table(recorder.samples, minutes))
    if any(s.error for s in recorder.samples):
        print(f'\nerrors:\n{error_summary(recorder.samples, limit=20)}')
    print(f'\nsame gunicorn, worker and beat processes from start to end, all alive: {same}')
    late = [
        s
        for fault in plan
        for s in recorder.samples
        if s.error and s.at > fault.back_at + args.grace and s.at < fault.until
    ]
    if late:
        print(f'{len(late)} errors more than {args.grace} s after a server came back')
    return 0 if same and not late else 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog='python -m bench faults', description=__doc__.split('\n\n')[0])
    parser.add_argument('--clients', type=int, default=6)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--think', type=float, default=0.5, help='mean think time between operations (seconds)')
    parser.add_argument('--warmup', type=float, default=60, help='seconds of load before the first fault')
    parser.add_argument('--outage', type=float, default=5, help='seconds a server stays away')
    parser.add_argument('--settle', type=float, default=90, help='seconds of load after a server is back')
    parser.add_argument('--grace', type=float, default=15, help='errors later than this after a return fail the run')
    parser.add_argument('--pg-stop-mode', default='fast', choices=['smart', 'fast', 'immediate'])
    return faults(parser.parse_args(argv))


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
