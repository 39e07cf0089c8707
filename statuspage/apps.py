from django.apps import AppConfig

from itsm.choices import Role
from itsm.roles import STAFF_ROLES


class StatusPageConfig(AppConfig):
    name = 'statuspage'
    verbose_name = 'Status page'

    role_permissions = {
        STAFF_ROLES: ['view_subscriber'],
        Role.INCIDENT_MANAGER: ['view_subscriber', 'change_subscriber', 'delete_subscriber'],
    }

    def ready(self):
        from major_incidents.notifications import register_update_listener

        from .services import on_update_posted

        # Public updates reach the page's subscribers by e-mail.
        register_update_listener(on_update_posted)
