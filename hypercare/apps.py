from django.apps import AppConfig

from itsm.choices import Role
from itsm.navigation import NavItem

PERIOD = ('view_hypercareperiod', 'add_hypercareperiod', 'change_hypercareperiod')


class HypercareConfig(AppConfig):
    name = 'hypercare'
    verbose_name = 'Hypercare'
    default_auto_field = 'django.db.models.BigAutoField'

    # Change managers and service owners start, extend and end periods (service owners for their own services,
    # which the services check); managers and incident managers watch them; administrators hold everything.
    role_permissions = {
        Role.CHANGE_MANAGER: [
            *PERIOD,
            'view_hypercarerule',
            'add_hypercarerule',
            'change_hypercarerule',
            'delete_hypercarerule',
        ],
        Role.SERVICE_OWNER: [*PERIOD, 'view_hypercarerule'],
        (Role.MANAGER, Role.INCIDENT_MANAGER): ['view_hypercareperiod', 'view_hypercarerule'],
    }

    nav_items = [
        NavItem(
            'Hypercare',
            'hypercare:hypercareperiod_list',
            'hypercare.view_hypercareperiod',
            'heart-rate-monitor',
            'Change management',
            45,
        ),
        NavItem(
            'Hypercare rules',
            'hypercare:hypercarerule_list',
            'hypercare.view_hypercarerule',
            'heart-cog',
            'Change management',
            46,
        ),
    ]

    def ready(self):
        from changes.models import Change
        from cmdb.views import register_item_panel
        from incidents.models import Ticket
        from itsm import hooks
        from itsm.views.records import register_panel
        from sla.selectors import register_hypercare_check

        from . import selectors, services, views

        register_hypercare_check(selectors.service_in_hypercare)
        hooks.subscribe(hooks.CREATED, services.on_ticket_created, model=Ticket)
        hooks.subscribe(hooks.CHANGED, services.on_ticket_changed, model=Ticket)
        hooks.subscribe(hooks.TRANSITIONED, services.on_change_transitioned, model=Change)
        register_panel(Ticket, 'hypercare/_incident_panel.html', views.incident_panel)
        register_item_panel('hypercare/_item_panel.html', views.item_panel)
