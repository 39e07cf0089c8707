from django.apps import AppConfig

from itsm.choices import Role
from itsm.navigation import nav_section
from itsm.roles import AGENT_ROLES, STAFF_ROLES

TICKETS = ('ticket', 'incident', 'case')
# Staff who do not work tickets (managers, owners, CAB...) read them; administrators hold every permission anyway.
READERS = tuple(r for r in STAFF_ROLES if r not in (*AGENT_ROLES, Role.ADMINISTRATOR))
REFERENCE = ('category', 'prioritymatrixentry', 'responsetemplate', 'routingrule')


def perms(actions: str, models: tuple[str, ...]) -> list[str]:
    return [f'{action}_{model}' for action in actions.split() for model in models]


class IncidentsConfig(AppConfig):
    name = 'incidents'
    verbose_name = 'Incidents and cases'

    role_permissions = {
        # Requesters see and open only their own tickets (querysets apply `visible_to`).
        Role.REQUESTER: perms('view add', TICKETS),
        AGENT_ROLES: perms('view add change', TICKETS) + perms('view', REFERENCE),
        Role.INCIDENT_MANAGER: perms('add change delete', ('category', 'responsetemplate')),
        READERS: perms('view', TICKETS) + perms('view', REFERENCE),
        Role.INTEGRATION: perms('view add change', TICKETS) + perms('view', REFERENCE),
    }

    nav_items = [
        *nav_section(
            'Service desk',
            'incidents.change_ticket',
            [
                ('Queues', 'incidents:queue', 'inbox', 10),
                ('Incidents', 'incidents:incident_list', 'alert-triangle', 11),
                ('Cases', 'incidents:case_list', 'briefcase', 12),
                ('New ticket', 'incidents:ticket_add', 'plus', 13),
            ],
        ),
        *nav_section('Self-service', '', [('My requests', 'incidents:portal', 'lifebuoy', 5)]),
        *nav_section(
            'Configuration',
            '',
            [
                ('Categories', 'incidents:category_list', 'tags', 800, 'incidents.view_category'),
                (
                    'Priority matrix',
                    'incidents:prioritymatrixentry_list',
                    'grid-dots',
                    801,
                    'incidents.view_prioritymatrixentry',
                ),
                (
                    'Response templates',
                    'incidents:responsetemplate_list',
                    'message-dots',
                    802,
                    'incidents.view_responsetemplate',
                ),
                ('Routing rules', 'incidents:routingrule_list', 'route', 803, 'incidents.view_routingrule'),
            ],
        ),
    ]

    def ready(self):
        from itsm import hooks, notify, search

        from . import notifications
        from .models import Ticket

        notify.register_audience('service_owner', notifications.service_owner)
        hooks.subscribe(hooks.CREATED, notifications.on_created, model=Ticket)
        hooks.subscribe(hooks.TRANSITIONED, notifications.on_transitioned, model=Ticket)
        hooks.subscribe(hooks.COMMENTED, notifications.on_commented, model=Ticket)

        search.register(
            Ticket,
            fields=['short_description', 'description', 'alternate_number', 'source_number'],
            number_prefix='INC',
            select_related=('caller', 'assignment_group'),
        )
