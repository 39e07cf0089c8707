"""`manage.py import_articles DIR [--publish] [--as USERNAME]`: import a folder of Markdown articles (docs as code).
See README.md, "Knowledge base"."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from itsm.audit import Actor
from itsm.choices import Channel
from itsm.models import User
from knowledge.importer import import_folder


def plain(text: str) -> str:
    """No colour: the progress bar is not an error, whatever stderr's style says."""
    return text


class ProgressBar:
    """One line on stderr redrawn with `\\r`: files done of all and the file at hand. Silent when not a terminal."""

    WIDTH = 24

    def __init__(self, stream, *, enabled: bool):
        self.stream = stream
        self.enabled = enabled
        self.drawn_width = 0

    def __call__(self, done: int, total: int, path: str) -> None:
        if not self.enabled:
            return
        filled = int(self.WIDTH * done / total) if total else self.WIDTH
        line = f'[{"#" * filled}{"-" * (self.WIDTH - filled)}] {done}/{total} {path}'
        self.stream.write('\r' + line.ljust(self.drawn_width), style_func=plain, ending='')
        self.stream.flush()
        self.drawn_width = len(line)

    def finish(self) -> None:
        if self.enabled and self.drawn_width:
            self.stream.write('', style_func=plain)  # end the progress line
            self.drawn_width = 0


class Command(BaseCommand):
    help = (
        'Import a folder of Markdown files with front matter as knowledge articles. Running it again skips '
        'unchanged files and updates the articles of changed ones. Exit status 1 when a file failed, 2 when the '
        'folder does not exist.'
    )

    def add_arguments(self, parser):
        parser.add_argument('folder', metavar='DIR', help='The folder; every *.md file under it is read.')
        parser.add_argument(
            '--publish',
            action='store_true',
            help='Publish new and changed articles (approve them) instead of leaving them as drafts.',
        )
        parser.add_argument(
            '--as',
            dest='username',
            metavar='USERNAME',
            help='The person the timeline names (publishing needs a knowledge manager); a system job by default.',
        )
        parser.add_argument('--no-progress', action='store_true', help='No progress bar on stderr.')

    def handle(self, *args, folder, publish, username, no_progress, **options):
        actor = Actor.system()
        if username:
            user = User.objects.filter(username=username, is_active=True).first()
            if user is None:
                raise CommandError(f'No active person with the username "{username}".')
            actor = Actor(user=user, channel=Channel.SYSTEM)
        bar = ProgressBar(self.stderr, enabled=not no_progress and self.stderr.isatty())
        try:
            report = import_folder(folder, actor=actor, publish=publish, progress=bar)
        except FileNotFoundError as error:
            raise CommandError(str(error), returncode=2) from None
        finally:
            bar.finish()
        self.stdout.write(report.summary())
        for path, warning in report.warnings:
            self.stdout.write(f'  {path}: {warning}')
        for failure in report.failures:
            self.stderr.write(f'  {failure.path}: {failure.reason}')  # stderr's style marks them as errors
        if report.failed:
            # CommandError would print a traceback-like "CommandError:" line; the failures are listed already.
            sys.exit(1)
