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
