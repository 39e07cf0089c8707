from django.apps import AppConfig

from itsm.choices import Role
from itsm.navigation import NavItem

MODELS = ('configurationitem', 'relationship', 'service', 'raciassignment')
VIEWERS = (
    Role.SERVICE_DESK_AGENT,
    Role.L2_ENGINEER,
    Role.L3_ENGINEER,
    Role.INCIDENT_MANAGER,
    Role.PROBLEM_MANAGER,
    Role.CHANGE_MANAGER,
    Role.CAB_MEMBER,
    Role.SERVICE_OWNER,
    Role.BUSINESS_OWNER,
    Role.KNOWLEDGE_MANAGER,
    Role.MANAGER,
    Role.INTEGRATION,
)


class CmdbConfig(AppConfig):
    name = 'cmdb'
    verbose_name = 'Configuration management'

    nav_items = [
        NavItem(
            'Configuration items',
            'cmdb:configurationitem_list',
            'cmdb.view_configurationitem',
            icon='server-2',
            section='Configuration',
            weight=400,
        ),
        NavItem(
            'Services',
            'cmdb:service_list',
            'cmdb.view_service',
            icon='building-store',
            section='Configuration',
            weight=400,
        ),
        NavItem(
            'Relationships',
            'cmdb:relationship_list',
            'cmdb.view_relationship',
            icon='topology-star-3',
            section='Configuration',
            weight=400,
        ),
        NavItem(
            'Import',
            'cmdb:import',
            'cmdb.add_configurationitem',
            icon='file-import',
            section='Configuration',
            weight=400,
        ),
    ]

    # Everyone who works tickets reads the CMDB; the change manager (and administrators, who hold every
    # permission) write it, as the CAB answers for its integrity; service owners keep their services and RACI
    # current (the service layer limits them to the services they own).
    role_permissions = {
        VIEWERS: [f'view_{model}' for model in MODELS],
        Role.CHANGE_MANAGER: [f'{action}_{model}' for model in MODELS for action in ('add', 'change', 'delete')],
        Role.SERVICE_OWNER: ['change_service', 'add_raciassignment', 'change_raciassignment', 'delete_raciassignment'],
    }

    def ready(self):
        from itsm import search

        from .models import ConfigurationItem

        search.register(
            ConfigurationItem,
            fields=['name', 'description', 'location', 'vendor', 'version'],
            number_prefix='CI',
            select_related=('support_group',),
        )
