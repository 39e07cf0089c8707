"""Backup and restore end to end (`scripts/backup.py`, `make backup` / `make restore`): tickets with attachments and
their timelines are backed up with pg_dump and a tar of the media folder, damaged, and restored with pg_restore."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from incidents import services
from incidents.models import Ticket
from itsm.audit import Actor
from itsm.models import Attachment, TimelineEntry
from tests.factories import make_ticket

SCRIPT = Path(__file__).resolve().parents[2] / 'scripts' / 'backup.py'
PNG = b'\x89PNG\r\n\x1a\n' + bytes(range(256)) * 40  # not text: bytes must come back exactly


def run_script(*args: str) -> subprocess.CompletedProcess:
    """The command as an operator runs it, against the test database and media folder."""
    db = connection.settings_dict
    url = f'postgres://{db["USER"]}@{db["HOST"] or "127.0.0.1"}:{db["PORT"] or 5432}/{db["NAME"]}'
    env = {
        **os.environ,
        'DATABASE_URL': url,
        'MEDIA_ROOT': str(settings.MEDIA_ROOT),
        'SECRET_KEY': 'backup-test-only',
        'DEBUG': 'false',
    }
    if db['PASSWORD']:
        env['PGPASSWORD'] = db['PASSWORD']
    connection.close()  # pg_restore drops and recreates the tables: hold no connection meanwhile
    return subprocess.run([sys.executable, str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=120)


def snapshot(ticket: Ticket) -> dict:
    return {
        'fields': Ticket.objects.filter(pk=ticket.pk).values('number', 'short_description', 'state', 'priority').get(),
        'timeline': list(TimelineEntry.objects.for_object(ticket).order_by('pk').values_list('pk', 'kind', 'message')),
        'files': {
            a.filename: Path(a.file.path).read_bytes()
            for a in Attachment.objects.filter(object_id=ticket.pk).order_by('pk')
        },
    }


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_records_attachments_and_timeline(tmp_path):
    ticket = make_ticket(state='accepted', short_description='Storage array degraded')
    desk = Actor(user=ticket.assignee, channel='ui')
    services.ticket_comment(ticket=ticket, actor=desk, body='Replaced the failed disk; rebuilding.')
    services.ticket_attach(ticket=ticket, actor=desk, upload=SimpleUploadedFile('array.png', PNG, 'image/png'))
    services.ticket_attach(
        ticket=ticket, actor=desk, upload=SimpleUploadedFile('notes.txt', b'rebuild 40 %', 'text/plain')
    )
    other = make_ticket(short_description='Printer jammed')
    before, other_before = snapshot(ticket), snapshot(other)
    assert set(before['files']) == {'array.png', 'notes.txt'} and len(before['timeline']) >= 4

    made = run_script('backup', '--to', str(tmp_path / 'backups'))
    assert made.returncode == 0, made.stderr
    (backup,) = (tmp_path / 'backups').iterdir()
    manifest = json.loads((backup / 'manifest.json').read_text())
    assert manifest['media_files'] == 2 and manifest['files']['database.dump']['bytes'] > 0

    # Damage: edits, a deleted record, a lost and an overwritten file, a ticket and a comment made after the backup.
    Ticket.objects.filter(pk=ticket.pk).update(short_description='overwritten', state='closed')
    services.ticket_comment(ticket=ticket, actor=desk, body='Made after the backup.')
    png = Attachment.objects.get(filename='array.png')
    Path(png.file.path).unlink()
    png.delete()
    Path(Attachment.objects.get(filename='notes.txt').file.path).write_bytes(b'garbage')
    other_pk = other.pk
    other.delete()
    later = make_ticket(short_description='Opened after the backup')
    (Path(settings.MEDIA_ROOT) / 'stray.bin').write_bytes(b'not in the backup')

    refused = run_script('restore', str(backup))  # no terminal and no --yes: nothing happens
    assert refused.returncode == 2 and '--yes' in refused.stderr
    assert Ticket.objects.get(pk=ticket.pk).short_description == 'overwritten'

    restored = run_script('restore', str(backup), '--yes')
    assert restored.returncode == 0, restored.stderr
    assert snapshot(ticket) == before
    assert snapshot(Ticket.objects.get(pk=other_pk)) == other_before
    assert not Ticket.objects.filter(pk=later.pk).exists()
    assert not (Path(settings.MEDIA_ROOT) / 'stray.bin').exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_damaged_backup_is_refused_before_anything_changes(tmp_path):
    ticket = make_ticket(short_description='Kept as it is')
    made = run_script('backup', '--to', str(tmp_path))
    assert made.returncode == 0, made.stderr
    (backup,) = tmp_path.iterdir()
    Ticket.objects.filter(pk=ticket.pk).update(short_description='changed after the backup')
    with (backup / 'database.dump').open('ab') as dump:
        dump.write(b'corrupt')

    result = run_script('restore', str(backup), '--yes')
    assert result.returncode == 2 and 'checksum' in result.stderr
    assert Ticket.objects.get(pk=ticket.pk).short_description == 'changed after the backup'
