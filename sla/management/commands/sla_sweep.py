"""Run one SLA sweep now: announce the warnings and breaches that have fallen due (each exactly once)."""

from django.core.management.base import BaseCommand

from sla.services import sla_sweep


class Command(BaseCommand):
    help = 'Announce due SLA warnings and breaches now (what Celery beat runs every minute).'

    def add_arguments(self, parser):
        parser.add_argument('--batch-size', type=int, default=500, help='Clocks per transaction (default 500).')

    def handle(self, *args, **options):
        result = sla_sweep(batch_size=options['batch_size'])
        self.stdout.write(self.style.SUCCESS(f'SLA sweep: {result}.'))
