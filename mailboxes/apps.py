from django.apps import AppConfig


class MailboxesConfig(AppConfig):
    name = 'mailboxes'
    verbose_name = 'Inbound e-mail'
    default_auto_field = 'django.db.models.BigAutoField'
