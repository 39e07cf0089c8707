"""`manage.py generate_data --incidents N --cis M`: a realistic synthetic desk and CMDB estate (see synthetic)."""

from django.core.management.base import BaseCommand, CommandError

from synthetic.dataset import DatasetError, generate


class Command(BaseCommand):
    help = (
        'Generate a synthetic service desk: support groups with agents, callers, categories, a layered CMDB estate '
        'of --cis CIs (about three relationships each) and --incidents tickets with their histories and SLA '
        'clocks over --days days, then VACUUM ANALYZE (PostgreSQL) and rebuild the report rollups. Runs again '
        'with the same options do nothing; --reset replaces a synthetic data set already there.'
    )

    def add_arguments(self, parser):
        parser.add_argument('--incidents', type=int, default=10_000, help='tickets (incidents and cases) to generate')
        parser.add_argument('--cis', type=int, default=1_000, help='configuration items in the estate (100 or more)')
        parser.add_argument('--seed', type=int, default=1, help='random seed: the same seed gives the same data')
        parser.add_argument('--days', type=int, default=365, help='the period the tickets were opened in, up to now')
        parser.add_argument('--reset', action='store_true', help='remove the synthetic data set there first')
        parser.add_argument('--no-progress', action='store_true', help='no progress bars on stderr')
        parser.add_argument('--no-rollups', action='store_true', help='leave the report rollups as they are')

    def handle(self, *args, **options):
        if options['incidents'] < 0 or options['days'] < 1:
            raise CommandError('--incidents must be 0 or more and --days 1 or more.')
        try:
            manifest = generate(
                incidents=options['incidents'],
                cis=options['cis'],
                seed=options['seed'],
                days=options['days'],
                reset=options['reset'],
                progress=not options['no_progress'],
                rollups=not options['no_rollups'],
                log=lambda message: self.stderr.write(message),
            )
        except (DatasetError, ValueError) as error:
            raise CommandError(str(error)) from error
        seconds = manifest.seconds.get('total')
        took = f' in {seconds:.0f} s' if seconds is not None else ''
        self.stdout.write(self.style.SUCCESS(f'Synthetic data set ready{took}: {manifest.describe()}.'))
