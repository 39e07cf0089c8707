from django.apps import AppConfig

from itsm.choices import Role
from itsm.navigation import NavItem
from itsm.roles import AGENT_ROLES

CONFIG = ('oncallschedule', 'rotationlayer', 'oncalloverride', 'escalationpolicy')
ALL = ('view', 'add', 'change', 'delete')


class OncallConfig(AppConfig):
    name = 'oncall'
    verbose_name = 'On-call'
    default_auto_field = 'django.db.models.BigAutoField'

    # Incident managers and managers (group managers: the service keeps them to their own groups) manage
    # schedules, layers, overrides and policies; the people who work incidents read them, add overrides for
    # themselves (a swap) and acknowledge their pages. Requesters see nothing.
    role_permissions = {
        (Role.INCIDENT_MANAGER, Role.MANAGER): [f'{a}_{m}' for a in ALL for m in CONFIG] + ['view_page', 'change_page'],
        (*AGENT_ROLES, Role.PROBLEM_MANAGER, Role.CHANGE_MANAGER, Role.SERVICE_OWNER): [f'view_{m}' for m in CONFIG]
        + ['add_oncalloverride', 'change_oncalloverride', 'delete_oncalloverride', 'view_page', 'change_page'],
    }

    nav_items = [
        NavItem('On call now', 'oncall:now', 'oncall.view_oncallschedule', 'phone-call', 'Service desk', 60),
        NavItem(
            'On-call schedules',
            'oncall:oncallschedule_list',
            'oncall.view_oncallschedule',
            'calendar-user',
            'Service desk',
            61,
        ),
        NavItem('Pages', 'oncall:page_list', 'oncall.view_page', 'bell-ringing', 'Service desk', 62),
        NavItem(
            'Escalation policies',
            'oncall:escalationpolicy_list',
            'oncall.view_escalationpolicy',
            'stairs-up',
            'Configuration',
            460,
        ),
    ]

    def ready(self):
        from itsm import hooks
        from itsm.records import ProcessRecord

        from . import services

        for event in (hooks.CREATED, hooks.CHANGED, hooks.TRANSITIONED):
            hooks.subscribe(event, services.consider, model=ProcessRecord)
