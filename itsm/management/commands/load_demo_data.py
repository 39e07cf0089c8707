"""Load the demo data of every app, in dependency order. Safe to run again: nothing is duplicated."""

from importlib import import_module

from django.core.management.base import BaseCommand

from itsm.roles import PROJECT_APPS


class Command(BaseCommand):
    help = 'Load demo people, groups, services, CIs and tickets (idempotent).'

    def handle(self, *args, **options):
        for app in PROJECT_APPS:
            try:
                module = import_module(f'{app}.demo')
            except ModuleNotFoundError as exc:
                if exc.name != f'{app}.demo':
                    raise
                continue
            module.load(log=lambda message: self.stdout.write(message))
        self.stdout.write(self.style.SUCCESS('Demo data loaded.'))
