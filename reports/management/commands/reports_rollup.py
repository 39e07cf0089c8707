"""`manage.py reports_rollup`: bring the KPI rollups up to date now, or rebuild them (all days or a range)."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from reports import services


class Command(BaseCommand):
    help = 'Re-roll the days whose tickets changed (as the periodic task does), or rebuild the rollups.'

    def add_arguments(self, parser):
        parser.add_argument('--rebuild', action='store_true', help='Recompute every day (or --from/--to).')
        parser.add_argument('--from', dest='start', help='First day to rebuild, YYYY-MM-DD.')
        parser.add_argument('--to', dest='end', help='Last day to rebuild, YYYY-MM-DD.')

    def handle(self, *args, rebuild=False, start=None, end=None, **options):
        try:
            start = dt.date.fromisoformat(start) if start else None
            end = dt.date.fromisoformat(end) if end else None
        except ValueError as error:
            raise CommandError(f'Give days as YYYY-MM-DD: {error}') from None
        if (start or end) and not rebuild:
            raise CommandError('--from and --to go with --rebuild.')
        result = services.rollup_rebuild(start=start, end=end) if rebuild else services.rollup_refresh()
        self.stdout.write(str(result))
