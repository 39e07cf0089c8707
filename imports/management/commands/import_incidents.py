"""`manage.py import_incidents PATH --format NAME | --mapping FILE`: import tickets and their history from a CSV
export (plain or gzipped). See README.md, "Importing tickets"."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from imports import services
from imports.mapping import MappingError, load_mapping, shipped_mapping, shipped_names


def format_duration(seconds: float | None) -> str:
    """75 → '1:15', 3725 → '1:02:05', None → '--:--'."""
    if seconds is None:
        return '--:--'
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f'{hours}:{minutes:02d}:{secs:02d}' if hours else f'{minutes}:{secs:02d}'


class ProgressBar:
    """One line on stderr, redrawn in place with `\\r` at most five times a second: share of the file read,
    rows and tickets so far, tickets per second and the time left. Silent when stderr is not a terminal."""

    WIDTH = 24
    INTERVAL = 0.2

    def __init__(self, stream, label: str, *, enabled: bool):
        self.stream = stream
        self.label = label
        self.enabled = enabled
        self.last_draw = 0.0
        self.drawn_width = 0

    def __call__(self, result: services.ImportResult, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if done < total and now - self.last_draw < self.INTERVAL:
            return
        self.last_draw = now
        fraction = min(done / total, 1.0) if total else 1.0
        elapsed = now - result.started
        rate = result.tickets / elapsed if elapsed > 0 else 0.0
        eta = elapsed * (1 - fraction) / fraction if fraction > 0 else None
        filled = int(self.WIDTH * fraction)
        bar = '#' * filled + '-' * (self.WIDTH - filled)
        line = (
            f'{self.label} {fraction:6.1%} [{bar}] {result.rows:,} rows, {result.tickets:,} tickets, '
            f'{rate:,.0f} tickets/s, ETA {format_duration(eta)}'
        )
        self.stream.write('\r' + line.ljust(self.drawn_width), ending='')
        self.stream.flush()
        self.drawn_width = len(line)

    def finish(self) -> None:
        if self.enabled and self.drawn_width:
            self.stream.write('')  # end the progress line
            self.drawn_width = 0


class Command(BaseCommand):
    help = (
        'Import tickets, with their history, from a CSV export (plain or gzipped) as a mapping describes it. '
        'Running it again changes only what changed in the file, and resumes an import that stopped.'
    )

    def add_arguments(self, parser):
        parser.add_argument('path', help='The CSV file, plain or gzipped.')
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument(
            '--format',
            dest='format_name',
            metavar='NAME',
            help=f'A mapping shipped with Pitcrew: {", ".join(shipped_names())}.',
        )
        source.add_argument('--mapping', metavar='FILE', help='A mapping file (TOML) of your own.')
        parser.add_argument(
            '--batch-size',
            type=int,
            default=services.BATCH_SIZE,
            help=f'Tickets written per transaction (default {services.BATCH_SIZE}).',
        )
        parser.add_argument('--no-progress', action='store_true', help='No progress bar on stderr.')
        parser.add_argument(
            '--no-rollup',
            action='store_true',
            help="Leave the reports' daily rollups to their periodic refresh instead of recomputing the days now.",
        )
        parser.add_argument(
            '--max-errors', type=int, default=100, help='How many bad rows and failed tickets to list (default 100).'
        )

    def handle(self, *args, path, format_name, mapping, batch_size, no_progress, no_rollup, max_errors, **options):
        if batch_size < 1:
            raise CommandError('--batch-size must be at least 1.')
        try:
            chosen = shipped_mapping(format_name) if format_name else load_mapping(mapping)
        except MappingError as error:
            raise CommandError(str(error)) from None
        bar = ProgressBar(self.stderr, f'Importing {chosen.name}', enabled=not no_progress and self.stderr.isatty())
        try:
            result = services.import_file(path, chosen, batch_size=batch_size, progress=bar, rollup=not no_rollup)
        except (MappingError, FileNotFoundError) as error:
            raise CommandError(str(error)) from None
        except KeyboardInterrupt:
            bar.finish()
            raise CommandError(
                'Interrupted. Every batch written so far is kept: run the same command to resume.'
            ) from None
        except DatabaseError as error:
            bar.finish()
            raise CommandError(
                f'The database failed ({error}). Every batch written before is kept: run the same command to resume.'
            ) from error
        bar.finish()
        self.report(result, chosen.label, max_errors)
        if result.failed:
            raise CommandError(
                f'{result.failed:,} ticket(s) not imported (listed above). Fix their rows and run the import again; '
                'the tickets already imported stay as they are.'
            )

    def report_list(self, title: str, items, count: int, max_errors: int) -> None:
        """The first `max_errors` of `count` problems (bad rows, tickets that failed), under their title."""
        if not count:
            return
        self.stdout.write(f'  {title}:')
        for item in items[:max_errors]:
            self.stdout.write(f'    {item}')
        if count > max_errors:
            self.stdout.write(f'    … and {count - max_errors:,} more')

    def report(self, result: services.ImportResult, label: str, max_errors: int) -> None:
        out = self.stdout
        rows_rate = result.rows / result.elapsed if result.elapsed else 0.0
        out.write(f'{label} import of {result.path} (mapping {result.mapping})')
        out.write(
            f'  {result.rows:,} rows, {result.tickets:,} tickets in {format_duration(result.elapsed)} '
            f'({result.elapsed:.1f} s; {result.rate:,.0f} tickets/s, {rows_rate:,.0f} rows/s)'
        )
        out.write(
            f'  created {result.created:,} · updated {result.updated:,} · unchanged {result.unchanged:,} · '
            f'failed {result.failed:,}'
        )
        if not result.changed and not result.failed:
            out.write(f'  Nothing changed: all {result.unchanged:,} tickets are as the file has them.')
        if result.closed_without_resolution:
            out.write(
                f'  {result.closed_without_resolution:,} closed without resolution (the source recorded no '
                'resolution time): they count in no MTTR.'
            )
        self.report_list(
            f'{result.bad_row_count:,} bad row(s) skipped', result.bad_rows, result.bad_row_count, max_errors
        )
        self.report_list(f'{result.failed:,} ticket(s) not imported', result.failures, result.failed, max_errors)
        if result.rollup_days:
            out.write(
                f'  Reports: daily rollups of {result.rollup_days:,} day(s) recomputed '
                f'({result.rollup_seconds:.1f} s of the total).'
            )
