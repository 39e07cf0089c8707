"""`manage.py poll_mailboxes [name ...]`: read the mailboxes' new mail now, as the beat schedule does."""

from django.core.management.base import BaseCommand, CommandError

from mailboxes.models import Mailbox
from mailboxes.services import mailbox_poll


class Command(BaseCommand):
    help = 'Poll active mailboxes (or the named ones) for new mail and process it.'

    def add_arguments(self, parser):
        parser.add_argument('names', nargs='*', help='Mailbox names; all active mailboxes when none.')

    def handle(self, *args, names, **options):
        mailboxes = Mailbox.objects.filter(name__in=names) if names else Mailbox.objects.filter(active=True)
        missing = set(names) - {m.name for m in mailboxes}
        if missing:
            raise CommandError(f'No mailbox named {", ".join(sorted(missing))}.')
        failed = False
        for mailbox in mailboxes.order_by('pk'):
            result = mailbox_poll(mailbox)
            outcomes = ', '.join(f'{n} {k}' for k, n in sorted(result.outcomes.items())) or 'nothing new'
            self.stdout.write(f'{mailbox.name}: {result.seen} read, {outcomes}, {result.skipped} already processed')
            if result.error:
                failed = True
                self.stderr.write(f'{mailbox.name}: {result.error}')
        if failed:
            raise CommandError('Some mailboxes could not be polled.')
