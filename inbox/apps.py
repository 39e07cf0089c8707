from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = 'inbox'
    verbose_name = 'Inbox'
    default_auto_field = 'django.db.models.BigAutoField'

    def ready(self):
        from itsm import hooks, notify
        from itsm.records import ProcessRecord

        from . import services
        from .choices import MENTION_EVENT

        # Every message the notification kit sends also lands in the inbox of each person it reaches, and the
        # e-mail channel leaves out the people who turned that topic off.
        notify.register_channel(services.deliver)
        notify.register_email_filter(services.email_opt_outs)
        notify.register_event_template(MENTION_EVENT, 'inbox/email/mention.txt')
        hooks.subscribe(hooks.COMMENTED, services.notify_mentions, model=ProcessRecord)
        hooks.subscribe(hooks.NOTED, services.notify_mentions, model=ProcessRecord)
