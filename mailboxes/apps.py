from django.apps import AppConfig

from itsm.choices import Role


class MailboxesConfig(AppConfig):
    name = 'mailboxes'
    verbose_name = 'Inbound e-mail'
    default_auto_field = 'django.db.models.BigAutoField'

    # Mailboxes (server, login, password) are the administrators' alone; the desk's leads read the message log
    # to see why a mail opened nothing.
    role_permissions = {
        (Role.SERVICE_DESK_AGENT, Role.INCIDENT_MANAGER): ['view_inboundmessage'],
    }
