"""A real `celery worker` process runs the tasks this process sends, over the configured broker.

Embedded run: the filesystem broker under the same VAR_DIR as the test settings. PostgreSQL/Redis run: REDIS_URL.
Each test worker consumes its own queue, so parallel test processes and leftovers from earlier runs do not mix.
"""

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from celery.result import EagerResult, allow_join_result
from django.conf import settings

from itsm.celery import app
from itsm.tasks import ping

ROOT = Path(__file__).resolve().parents[2]
STOP_TIMEOUT = 30


def worker_environment() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault('DJANGO_SETTINGS_MODULE', 'itsm.settings')
    if not settings.REDIS_URL:
        env['VAR_DIR'] = str(settings.BROKER_DIR.parent)
    return env


class Worker:
    def __init__(self, queue: str, log: Path):
        self.queue = queue
        self.log = log
        self.output = log.open('w')
        self.process = subprocess.Popen(
            [
                *(sys.executable, '-m', 'celery', '-A', 'itsm', 'worker'),
                '--pool=solo',
                '--loglevel=info',
                f'--queues={queue}',
                f'--hostname={queue}@%h',
                '--without-gossip',
                '--without-mingle',
                '--without-heartbeat',
            ],
            cwd=ROOT,
            env=worker_environment(),
            stdout=self.output,
            stderr=subprocess.STDOUT,
        )

    def text(self) -> str:
        return self.log.read_text()

    def stop(self) -> int:
        """Warm shutdown (SIGTERM), as the process manager does; killed only if it hangs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                pytest.fail(f'the worker did not stop within {STOP_TIMEOUT}s of SIGTERM:\n{self.text()}')
        self.output.close()
        return self.process.returncode


@pytest.fixture
def worker(tmp_path, monkeypatch):
    # The suite runs tasks eagerly; here they must go through the broker.
    monkeypatch.setitem(app.conf, 'task_always_eager', False)
    started = Worker(f'pitcrew-test-{uuid.uuid4().hex}', tmp_path / 'worker.log')
    # Celery's "inside a task" flag is process-wide, not per thread: eager tasks that earlier tests ran on parallel
    # threads can leave it set, and then `result.get()` refuses to block. This test is a client, not a task.
    with allow_join_result():
        yield started
    started.stop()


def test_ping_round_trip(worker):
    result = ping.apply_async(queue=worker.queue)
    assert not isinstance(result, EagerResult)
    try:
        answer = result.get(timeout=60)
    except Exception as exc:
        pytest.fail(f'no answer from the worker ({exc!r}); its log:\n{worker.text()}')
    assert answer == 'pong'
    assert result.successful()
    result.forget()

    assert worker.stop() == 0, worker.text()
    log = worker.text()
    assert f'Task itsm.tasks.ping[{result.id}] succeeded' in log, log
    assert 'Warm shutdown' in log, log


def test_tasks_wait_for_a_worker(worker):
    """A task sent while its worker is busy starting is delivered, not lost: the broker keeps it."""
    results = [ping.apply_async(queue=worker.queue) for _ in range(3)]
    assert [result.get(timeout=60) for result in results] == ['pong'] * 3
    for result in results:
        result.forget()
