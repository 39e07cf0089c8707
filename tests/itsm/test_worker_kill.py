"""Real Celery workers are SIGKILLed in the middle of SLA sweeps and notification deliveries, several times, and
restarted: no warning, breach or e-mail is lost, each is recorded once, and no e-mail is received twice beyond the
one documented window (the mail server accepted it, the worker died before its transaction committed), where the
copy carries the same Message-ID.

Two solo-pool workers read a queue of this test's own on Redis against this test's PostgreSQL database and send
through a local SMTP sink (aiosmtpd on 127.0.0.1). The test plays beat: it sends the SLA sweep and the outbox sweep
every second. Killed workers keep their unacknowledged message in Redis until the visibility timeout (an hour), so
everything recovered here is recovered from the database by the sweeps, not by the broker.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
import redis
from aiosmtpd.controller import Controller
from django.conf import settings
from django.utils import timezone

from incidents import services as tickets
from itsm import notify
from itsm.audit import Actor
from itsm.celery import app
from itsm.choices import Role, TimelineKind
from itsm.models import TimelineEntry
from itsm.outbox import OutboxMessage, OutboxStatus
from itsm.tasks import notification_outbox_sweep_task
from sla.choices import ClockKind, EventKind
from sla.models import ClockEvent, SlaClock
from sla.tasks import sla_sweep_task
from tests.factories import make_group_with_agent, make_user
from tests.servers import app_environment, free_port
from tests.sla.factories import make_sla

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
TICKETS_BEFORE, TICKETS_DURING = 16, 8
KILLS = 5
SETTLE_SECONDS = 45


class Sink:
    """An SMTP server that keeps what it accepted: (Message-ID, recipients, subject). It answers each DATA after a
    short pause, so kills land inside SMTP conversations too."""

    def __init__(self):
        self.received: list[tuple[str, tuple[str, ...], str]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.03)
        parsed = email.message_from_bytes(envelope.content)
        with self.lock:
            self.received.append((parsed['Message-ID'], tuple(sorted(envelope.rcpt_tos)), parsed['Subject']))
        return '250 2.0.0 Accepted'

    def ids(self) -> Counter:
        with self.lock:
            return Counter(message_id for message_id, _, _ in self.received)


class Worker:
    def __init__(self, name: str, *, queue: str, env: dict[str, str], log: Path):
        self.log = log
        self.output = log.open('a')
        self.process = subprocess.Popen(
            [
                *(sys.executable, '-m', 'celery', '-A', 'itsm', 'worker'),
                '--pool=solo',
                '--loglevel=info',
                f'--queues={queue}',
                f'--hostname={name}-{uuid.uuid4().hex[:6]}@%h',
                '--without-gossip',
                '--without-mingle',
                '--without-heartbeat',
            ],
            cwd=ROOT,
            env=env,
            stdout=self.output,
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.output.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.output.close()


def environment(tmp_path: Path, *, queue: str, smtp_port: int) -> dict[str, str]:
    return app_environment(
        tmp_path,
        CELERY_TASK_ALWAYS_EAGER='false',
        CELERY_TASK_DEFAULT_QUEUE=queue,
        EMAIL_BACKEND='django.core.mail.backends.smtp.EmailBackend',
        EMAIL_HOST='127.0.0.1',
        EMAIL_PORT=str(smtp_port),
        EMAIL_TIMEOUT='10',
        # Short graces, so what a killed worker left undone is taken up again within this test's time.
        NOTIFY_OUTBOX_GRACE_SECONDS='2',
        NOTIFY_RETRY_SECONDS='1',
        SLA_NOTIFY_GRACE_SECONDS='3',
    )


def open_overdue_tickets(count: int, *, group, caller, start: int) -> list:
    """Tickets opened in the past and assigned, not accepted: every response clock is past its breach; every other
    ticket's resolution clock is past its 75 % warning as well."""
    made = []
    for n in range(start, start + count):
        hours = 6.5 if n % 2 else 2
        ticket = tickets.ticket_create(
            actor=Actor.system(),
            caller=caller,
            short_description=f'Printer {n} jammed',
            opened_at=timezone.now() - dt.timedelta(hours=hours),
        )
        made.append(tickets.ticket_assign(ticket=ticket, actor=Actor.system(), group=group))
    return made


def unfinished() -> tuple[int, int]:
    """Outbox rows not sent yet, and announcements not e-mailed yet."""
    pending = OutboxMessage.objects.exclude(status=OutboxStatus.SENT).count()
    unnotified = ClockEvent.objects.filter(superseded=False, notified_at__isnull=True).count()
    return pending, unnotified


def clear_queue(queue: str) -> None:
    """Drop this test's queue and the messages its killed workers held (they would come back in an hour)."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(queue)
    for tag, raw in client.hgetall('unacked').items():
        if queue.encode() in raw:
            client.hdel('unacked', tag)
            client.zrem('unacked_index', tag)


def test_killing_workers_loses_nothing_and_sends_nothing_twice(tmp_path, monkeypatch):
    queue = f'pitcrew-kill-test-{uuid.uuid4().hex}'
    # This process sends to the broker (the suite runs tasks eagerly), on the test's own queue.
    monkeypatch.setitem(app.conf, 'task_always_eager', False)
    monkeypatch.setitem(app.conf, 'task_default_queue', queue)
    make_sla(priority=3, response=60, resolution=480)  # warnings at 75 and 90 %
    group, _ = make_group_with_agent(name='Service Desk')
    group.email = 'desk@example.com'
    group.manager = make_user(Role.INCIDENT_MANAGER, username='grace', email='grace@example.com')
    group.save()
    caller = make_user(Role.REQUESTER, username='robin', email='robin@example.com')

    sink = Sink()
    smtp = Controller(sink, hostname='127.0.0.1', port=free_port())
    smtp.start()
    env = environment(tmp_path, queue=queue, smtp_port=smtp.port)
    phases = {'start': time.monotonic()}
    made = open_overdue_tickets(TICKETS_BEFORE, group=group, caller=caller, start=0)  # a backlog before they start
    phases['backlog made'] = time.monotonic()

    beat_running = threading.Event()
    beat_running.set()

    broker = redis.Redis.from_url(settings.REDIS_URL)

    def beat():
        while beat_running.is_set():
            if broker.llen(queue) < 6:  # while the workers keep up: a backlog of sweeps only delays the recovery
                sla_sweep_task.apply_async(queue=queue)
                notification_outbox_sweep_task.apply_async(queue=queue)
            time.sleep(1)

    beat_thread = threading.Thread(target=beat, daemon=True)
    workers = [Worker(f'w{i}', queue=queue, env=env, log=tmp_path / f'worker{i}.log') for i in range(2)]
    kills_mid_work = 0
    rng = random.Random(20261206)
    try:
        beat_thread.start()
        deadline = time.monotonic() + 60
        while not sink.ids() and time.monotonic() < deadline:
            time.sleep(0.2)  # until the first e-mail: the workers are up and busy
        assert sink.ids(), f'no e-mail within a minute:\n{(tmp_path / "worker0.log").read_text()}'
        phases['first e-mail'] = time.monotonic()
        for kill in range(KILLS):
            time.sleep(rng.uniform(0.8, 1.6))
            if kill >= 1:
                # More work before each later kill: on a fast machine the backlog alone drains within two kills.
                start = TICKETS_BEFORE + (kill - 1) * TICKETS_DURING
                made += open_overdue_tickets(TICKETS_DURING, group=group, caller=caller, start=start)
            # The sweeps turn overdue tickets into e-mails to send within a second or two: kill while some are left.
            wait_until = time.monotonic() + 10
            while not any(unfinished()) and time.monotonic() < wait_until:
                time.sleep(0.05)
            if any(unfinished()):
                kills_mid_work += 1
            victim = kill % 2
            workers[victim].kill()
            workers[victim] = Worker(f'w{victim}', queue=queue, env=env, log=tmp_path / f'worker{victim}.log')
        phases['kills done'] = time.monotonic()
        deadline = time.monotonic() + SETTLE_SECONDS
        while any(unfinished()) and time.monotonic() < deadline:
            time.sleep(0.5)
        phases['all delivered'] = time.monotonic()
        time.sleep(2)  # anything still in flight lands
    finally:
        beat_running.clear()
        beat_thread.join(timeout=5)
        for worker in workers:
            worker.stop()
        smtp.stop()
        clear_queue(queue)
    timings = ', '.join(f'{name} +{at - phases["start"]:.1f} s' for name, at in phases.items() if name != 'start')
    logs = '\n'.join(path.read_text()[-4000:] for path in sorted(tmp_path.glob('worker*.log')))

    assert unfinished() == (0, 0), f'left undone (rows, announcements): {unfinished()}\n{logs}'
    assert kills_mid_work >= KILLS - 1, f'only {kills_mid_work} of {KILLS} kills came while work was left'

    # Every expected breach and warning recorded once, on its clock and on the ticket's timeline.
    responses = SlaClock.objects.filter(ticket__in=made, kind=ClockKind.RESPONSE)
    resolutions = SlaClock.objects.filter(ticket__in=made, kind=ClockKind.RESOLUTION)
    announced = ClockEvent.objects.filter(superseded=False)
    assert announced.filter(clock__in=responses, kind=EventKind.BREACH).count() == len(made)
    warned = announced.filter(clock__in=resolutions, kind=EventKind.WARNING)
    assert warned.count() == len(made) // 2 and set(warned.values_list('percent', flat=True)) == {75}
    assert announced.count() == len(made) + len(made) // 2
    entries = TimelineEntry.objects.filter(kind__in=[TimelineKind.SLA_BREACH, TimelineKind.SLA_WARNING])
    per_clock = Counter(entries.values_list('data__clock', 'kind'))
    assert len(per_clock) == announced.count() and set(per_clock.values()) == {1}, per_clock

    # Every notification handed over once and sent: the SLA e-mails under their announcement's key.
    rows = list(OutboxMessage.objects.all())
    assert {row.status for row in rows} == {OutboxStatus.SENT}
    sla_rows = [row for row in rows if row.key.startswith('sla-event-')]
    assert sorted(row.key for row in sla_rows) == sorted(
        f'sla-event-{pk}' for pk in announced.values_list('pk', flat=True)
    )
    by_event = Counter(row.event for row in rows)
    assert by_event['received'] == by_event['assigned'] == len(made), by_event
    notices = TimelineEntry.objects.filter(kind=TimelineKind.NOTIFICATION)
    assert notices.count() == len(rows), 'one timeline entry per notification'

    # Every expected e-mail received; none unexpected; duplicates only within the window, with the same Message-ID.
    expected = {notify.message_id(row.key, row.emailed): row for row in rows if row.emailed}
    assert len(expected) == len(rows)  # each notification here goes to addresses, in one time zone
    received = sink.ids()
    missing = set(expected) - set(received)
    assert not missing, f'{len(missing)} e-mails never arrived, e.g. {sorted(missing)[:3]}\n{logs}'
    assert set(received) <= set(expected), set(received) - set(expected)
    duplicates = {message_id: n for message_id, n in received.items() if n > 1}
    raw_copies = sum(received.values()) - len(received)
    # Each kill interrupts at most one SMTP conversation of the killed worker.
    assert raw_copies <= KILLS, duplicates
    for message_id, recipients, _subject in sink.received:
        assert list(recipients) == sorted(expected[message_id].emailed)
    print(
        f'\n{len(made)} tickets, {announced.count()} SLA announcements, {len(rows)} notifications, '
        f'{sum(received.values())} e-mails received ({len(received)} distinct Message-IDs, {raw_copies} raw '
        f'duplicate(s) within the documented window: {duplicates}), {KILLS} SIGKILLs ({kills_mid_work} mid-work), '
        f'phases: {timings}'
    )
