from django.apps import AppConfig

from itsm.choices import Role
from itsm.navigation import NavItem
from itsm.roles import AGENT_ROLES


class MonitoringConfig(AppConfig):
    name = 'monitoring'
    verbose_name = 'Monitoring alerts'
    default_auto_field = 'django.db.models.BigAutoField'

    # Administrators (who hold every permission) manage sources and their tokens; the people who work incidents
    # read the alerts behind them. Sources authenticate with their own token, not a role.
    role_permissions = {
        (*AGENT_ROLES, Role.PROBLEM_MANAGER): ['view_alert'],
    }

    nav_items = [
        NavItem(
            'Monitoring alerts',
            'monitoring:alert_list',
            'monitoring.view_alert',
            icon='activity-heartbeat',
            section='Configuration',
            weight=450,
        ),
        NavItem(
            'Monitoring sources',
            'monitoring:alertsource_list',
            'monitoring.view_alertsource',
            icon='plug-connected',
            section='Configuration',
            weight=451,
        ),
    ]
