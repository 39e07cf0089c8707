"""A real `celery beat` schedules the sweep and a real `celery worker` runs it, over Redis, against this test's
PostgreSQL database: an overdue ticket's breach is recorded and e-mailed exactly once however many sweeps run.

Beat reads its schedule from django-celery-beat's tables; the test adds a one-second entry on a queue of its own,
so parallel runs and other workers on the same Redis never take its tasks. The worker runs tasks it queues
itself (the notice) in-process, so nothing is left on a shared queue.
"""

import datetime as dt
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from incidents import services as tickets
from itsm.audit import Actor
from itsm.choices import Role, TimelineKind
from itsm.models import TimelineEntry
from sla.choices import ClockKind, ClockState
from sla.models import ClockEvent, SlaClock
from tests.factories import make_group_with_agent, make_user
from tests.servers import app_environment
from tests.sla.factories import make_sla

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
STOP_TIMEOUT = 30


def environment(tmp_path: Path) -> dict[str, str]:
    return app_environment(tmp_path, EMAIL_BACKEND='django.core.mail.backends.filebased.EmailBackend')


class Process:
    def __init__(self, args: list[str], *, env: dict[str, str], log: Path):
        self.log = log
        self.output = log.open('w')
        self.process = subprocess.Popen(
            [sys.executable, '-m', 'celery', '-A', 'itsm', *args],
            cwd=ROOT,
            env=env,
            stdout=self.output,
            stderr=subprocess.STDOUT,
        )

    def text(self) -> str:
        return self.log.read_text()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.output.close()


@pytest.fixture
def overdue_ticket(db):
    """Opened two hours ago (a backfill), assigned, not accepted: its one-hour response target is long gone."""
    make_sla(priority=3, response=60, resolution=480)
    group, agent = make_group_with_agent(name='Service Desk')
    group.email = 'desk@example.com'
    group.manager = make_user(Role.INCIDENT_MANAGER, email='grace@example.com')
    group.save()
    caller = make_user(Role.REQUESTER)
    ticket = tickets.ticket_create(
        actor=Actor.system(),
        caller=caller,
        short_description='VPN drops',
        opened_at=timezone.now() - dt.timedelta(hours=2),
    )
    return tickets.ticket_assign(ticket=ticket, actor=Actor(user=agent), group=group)


def test_beat_and_a_worker_record_a_breach_exactly_once(overdue_ticket, tmp_path):
    queue = f'pitcrew-sla-test-{uuid.uuid4().hex}'
    every_second = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(
        name=f'SLA sweep ({queue})', task='sla.tasks.sla_sweep_task', interval=every_second, queue=queue
    )
    env = environment(tmp_path)
    worker = Process(
        [
            'worker',
            '--pool=solo',
            '--loglevel=info',
            f'--queues={queue}',
            f'--hostname={queue}@%h',
            '--without-gossip',
            '--without-mingle',
            '--without-heartbeat',
        ],
        env={**env, 'CELERY_TASK_ALWAYS_EAGER': 'true'},
        log=tmp_path / 'worker.log',
    )
    beat = Process(
        [
            'beat',
            '--loglevel=info',
            '--scheduler=django_celery_beat.schedulers:DatabaseScheduler',
            f'--pidfile={tmp_path / "beat.pid"}',
        ],
        env=env,
        log=tmp_path / 'beat.log',
    )
    response = SlaClock.objects.get(ticket=overdue_ticket, kind=ClockKind.RESPONSE)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not ClockEvent.objects.filter(clock=response, percent=100).exists():
            time.sleep(0.5)
        assert ClockEvent.objects.filter(clock=response, percent=100).exists(), (
            f'no breach recorded.\nbeat:\n{beat.text()}\nworker:\n{worker.text()}'
        )
        sweeps_before = worker.text().count('sla.tasks.sla_sweep_task')
        deadline = time.monotonic() + 30  # let beat run several more sweeps over the same clock
        while time.monotonic() < deadline and worker.text().count('sla.tasks.sla_sweep_task') < sweeps_before + 6:
            time.sleep(0.5)
    finally:
        beat.stop()
        worker.stop()
    log = worker.text()
    assert log.count('succeeded') >= 3, log
    assert 'sla.tasks.sla_sweep_task' in log and 'Traceback' not in log, log
    response.refresh_from_db()
    assert response.state == ClockState.BREACHED
    assert ClockEvent.objects.filter(clock=response, superseded=False).count() == 1
    breaches = TimelineEntry.objects.for_object(overdue_ticket).filter(kind=TimelineKind.SLA_BREACH)
    assert breaches.filter(data__clock=response.pk).count() == 1
    assert breaches.get(data__clock=response.pk).channel == 'system'
    event = ClockEvent.objects.get(clock=response, percent=100)
    assert event.notified_at is not None
    assert sorted(event.recipients) == ['desk@example.com', 'grace@example.com']
    sent = [p.read_text() for p in (tmp_path / 'var' / 'mail').glob('*.log')]
    breach_mails = [text for text in sent if f'{overdue_ticket.number} (P3) missed its response target' in text]
    assert len(breach_mails) == 1 and breach_mails[0].count('missed its response target') == 1, sent
