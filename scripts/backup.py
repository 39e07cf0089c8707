"""`make backup` / `make restore BACKUP=…`: back up and restore Pitcrew's PostgreSQL database and media folder.

    python scripts/backup.py backup [--to DIR]            # DIR defaults to BACKUP_DIR or var/backups
    python scripts/backup.py restore PATH [--yes]

A backup is a folder `pitcrew-<UTC time>` holding `database.dump` (`pg_dump -Fc`: the whole database, custom
format), `media.tar.gz` (everything under MEDIA_ROOT: attachments and other uploads) and `manifest.json` (when,
what, sizes and SHA-256 of both files). It is written under a temporary name and renamed when complete, so a
folder with a manifest is a whole backup.

Restore checks the manifest's checksums before touching anything, then runs `pg_restore --clean --if-exists
--no-owner --no-privileges --single-transaction` into the database of DATABASE_URL (all of it or nothing), and
replaces MEDIA_ROOT with the backup's files (unpacked beside it first, then swapped in). Stop the web server, the
worker and beat first, and restore into the same Pitcrew version (then `manage.py migrate` for a newer one).

The database and media folder are those of the settings (DATABASE_URL, MEDIA_ROOT); the PostgreSQL client programs
(`pg_dump`, `pg_restore`) must be at least the server's version.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DUMP, MEDIA, MANIFEST = 'database.dump', 'media.tar.gz', 'manifest.json'


class BackupError(Exception):
    """What went wrong, said to the person running the command."""


def settings():
    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'itsm.settings')
    # Like manage.py: a checkout without DEBUG and SECRET_KEY is a developer's (the key is not used here).
    if not os.environ.get('DEBUG') and not os.environ.get('SECRET_KEY'):
        os.environ['DEBUG'] = 'true'
    from django.conf import settings as django_settings

    return django_settings


def pg_env(database: dict) -> dict[str, str]:
    """libpq's environment for the database settings: no password on a command line."""
    if not database['ENGINE'].endswith('postgresql'):
        raise BackupError(
            'Backups need PostgreSQL (DATABASE_URL=postgres://…). With the embedded SQLite database, stop the app and '
            "copy var/pitcrew.sqlite3 (or use sqlite3's .backup) and var/media."
        )
    env = dict(os.environ)
    values = {
        'PGHOST': database.get('HOST'),
        'PGPORT': database.get('PORT'),
        'PGUSER': database.get('USER'),
        'PGPASSWORD': database.get('PASSWORD'),
        'PGDATABASE': database.get('NAME'),
        'PGSSLMODE': database.get('OPTIONS', {}).get('sslmode'),
    }
    env.update({key: str(value) for key, value in values.items() if value})
    return env


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open('rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def _run(command: list[str], env: dict[str, str]) -> None:
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise BackupError(f'{command[0]} is missing: install the PostgreSQL client (postgresql-client)') from exc
    if result.returncode:
        raise BackupError(f'{command[0]} failed with exit code {result.returncode}:\n{result.stderr.strip()}')


def backup(database: dict, media_root: Path, target: Path, *, now: dt.datetime | None = None) -> Path:
    """Write a backup folder under `target` and return its path."""
    env = pg_env(database)
    now = now or dt.datetime.now(dt.UTC)
    name = f'pitcrew-{now:%Y%m%d-%H%M%S}'
    final = target / name
    if final.exists():
        raise BackupError(f'{final} exists already')
    partial = target / f'.{name}.partial'
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        _run(['pg_dump', '--format=custom', '--file', str(partial / DUMP)], env)
        files = 0
        with tarfile.open(partial / MEDIA, 'w:gz') as tar:
            if media_root.is_dir():
                for path in sorted(media_root.rglob('*')):
                    tar.add(path, arcname=str(path.relative_to(media_root)), recursive=False)
                    files += path.is_file()
        manifest = {
            'created_at': now.isoformat(),
            'database': database.get('NAME'),
            'media_root': str(media_root),
            'media_files': files,
            'files': {f: {'bytes': (partial / f).stat().st_size, 'sha256': sha256(partial / f)} for f in (DUMP, MEDIA)},
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2) + '\n')
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return final


def verify(source: Path) -> dict:
    """The backup's manifest, once every file matches its checksum."""
    try:
        manifest = json.loads((source / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f'{source} is not a complete backup: {MANIFEST} is missing or unreadable') from exc
    for name, expected in manifest['files'].items():
        path = source / name
        if not path.is_file() or sha256(path) != expected['sha256']:
            raise BackupError(f'{path} is missing or does not match its checksum in {MANIFEST}')
    return manifest


def restore(database: dict, media_root: Path, source: Path) -> dict:
    """Replace the database's contents and the media folder with the backup's; returns its manifest."""
    env = pg_env(database)
    manifest = verify(source)
    stamp = dt.datetime.now(dt.UTC).strftime('%Y%m%d-%H%M%S')
    media_root.parent.mkdir(parents=True, exist_ok=True)
    incoming = media_root.with_name(f'.{media_root.name}.restoring-{stamp}')
    shutil.rmtree(incoming, ignore_errors=True)
    try:
        with tarfile.open(source / MEDIA, 'r:gz') as tar:
            tar.extractall(incoming, filter='data')  # refuses absolute paths, links out and devices
        _run(
            [
                'pg_restore',
                '--clean',
                '--if-exists',
                '--no-owner',
                '--no-privileges',
                '--single-transaction',
                '--exit-on-error',
                '--dbname',
                env['PGDATABASE'],
                str(source / DUMP),
            ],
            env,
        )
    except BaseException:
        shutil.rmtree(incoming, ignore_errors=True)
        raise
    previous = media_root.with_name(f'.{media_root.name}.before-restore-{stamp}')
    if media_root.exists():
        media_root.rename(previous)
    incoming.rename(media_root)
    shutil.rmtree(previous, ignore_errors=True)
    return manifest


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog='scripts/backup.py', description=__doc__.split('\n\n')[0])
    commands = parser.add_subparsers(dest='command', required=True)
    make = commands.add_parser('backup', help='back up the database and the media folder')
    make.add_argument('--to', type=Path, default=None, help='folder for the backup (BACKUP_DIR, else var/backups)')
    back = commands.add_parser('restore', help='replace the database and the media folder with a backup')
    back.add_argument('path', type=Path, help='the backup folder (pitcrew-…)')
    back.add_argument('--yes', action='store_true', help='do not ask before replacing the data')
    args = parser.parse_args(argv)

    config = settings()
    database, media_root = config.DATABASES['default'], Path(config.MEDIA_ROOT)
    try:
        if args.command == 'backup':
            target = args.to or Path(os.environ.get('BACKUP_DIR') or BASE_DIR / 'var' / 'backups')
            path = backup(database, media_root, target)
            manifest = json.loads((path / MANIFEST).read_text())
            sizes = ', '.join(f'{name} {info["bytes"]:,} bytes' for name, info in manifest['files'].items())
            print(
                f'Backed up database {database["NAME"]} and {manifest["media_files"]} media files to {path} ({sizes})'
            )
            return 0
        if not args.yes:
            if not sys.stdin.isatty():
                raise BackupError('restore replaces the database and the media folder: add --yes to confirm')
            answer = input(f'Replace database {database["NAME"]} and {media_root} with {args.path}? [y/N] ')
            if answer.strip().lower() not in ('y', 'yes'):
                print('Nothing restored.')
                return 1
        manifest = restore(database, media_root, args.path)
        print(
            f'Restored database {database["NAME"]} and {manifest["media_files"]} media files from {args.path} '
            f'(made {manifest["created_at"]}). Start the app again; run manage.py migrate if its version is newer.'
        )
        return 0
    except BackupError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
