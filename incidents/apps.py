from django.apps import AppConfig

from itsm.choices import Role
from itsm.navigation import NavItem
from itsm.roles import AGENT_ROLES

TICKETS = ('ticket', 'incident', 'case')
READERS = (
    Role.MANAGER,
    Role.SERVICE_OWNER,
    Role.BUSINESS_OWNER,
    Role.PROBLEM_MANAGER,
    Role.CHANGE_MANAGER,
    Role.KNOWLEDGE_MANAGER,
    Role.CAB_MEMBER,
)
REFERENCE = ('category', 'prioritymatrixentry', 'responsetemplate')


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
        NavItem(
            'Queues', 'incidents:queue', 'incidents.change_ticket', icon='inbox', section='Service desk', weight=10
        ),
        NavItem(
            'Incidents',
            'incidents:incident_list',
            'incidents.change_ticket',
            icon='alert-triangle',
            section='Service desk',
            weight=11,
        ),
        NavItem(
            'Cases',
            'incidents:case_list',
            'incidents.change_ticket',
            icon='briefcase',
            section='Service desk',
            weight=12,
        ),
        NavItem(
            'New ticket',
            'incidents:ticket_add',
            'incidents.change_ticket',
            icon='plus',
            section='Service desk',
            weight=13,
        ),
        NavItem('My requests', 'incidents:portal', '', icon='lifebuoy', section='Self-service', weight=5),
        NavItem(
            'Categories',
            'incidents:category_list',
            'incidents.view_category',
            icon='tags',
            section='Configuration',
            weight=800,
        ),
        NavItem(
            'Priority matrix',
            'incidents:prioritymatrixentry_list',
            'incidents.view_prioritymatrixentry',
            icon='grid-dots',
            section='Configuration',
            weight=801,
        ),
        NavItem(
            'Response templates',
            'incidents:responsetemplate_list',
            'incidents.view_responsetemplate',
            icon='message-dots',
            section='Configuration',
            weight=802,
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
