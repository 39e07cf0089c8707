from django.apps import AppConfig

from itsm.choices import Role
from itsm.navigation import NavItem
from itsm.roles import STAFF_ROLES

AGREEMENTS = ('businesscalendar', 'servicelevelagreement', 'operationallevelagreement', 'underpinningcontract')
CLOCKS = ('slaclock', 'clockevent', 'clockpause')
SERVICE_AGREEMENTS = ('servicelevelagreement', 'underpinningcontract')


class SlaConfig(AppConfig):
    name = 'sla'
    verbose_name = 'Service levels'

    # Everyone who works tickets sees agreements and clocks; incident managers keep the agreements (administrators
    # hold every permission). Service owners keep the SLAs and contracts of their own services only (the rule:
    # `models.keeps_agreements_of`); calendars and OLAs hold for every service. Clocks are written only by services.
    role_permissions = {
        (*STAFF_ROLES, Role.INTEGRATION): [f'view_{model}' for model in AGREEMENTS + CLOCKS],
        Role.INCIDENT_MANAGER: [f'{action}_{model}' for model in AGREEMENTS for action in ('add', 'change', 'delete')],
        Role.SERVICE_OWNER: [
            f'{action}_{model}' for model in SERVICE_AGREEMENTS for action in ('add', 'change', 'delete')
        ],
    }

    nav_items = [
        NavItem(
            'SLA monitor',
            'sla:slaclock_list',
            'sla.view_slaclock',
            icon='clock-exclamation',
            section='Service desk',
            weight=20,
        ),
        NavItem(
            'SLAs',
            'sla:servicelevelagreement_list',
            'sla.view_servicelevelagreement',
            icon='certificate',
            section='Service levels',
            weight=700,
        ),
        NavItem(
            'OLAs',
            'sla:operationallevelagreement_list',
            'sla.view_operationallevelagreement',
            icon='arrows-exchange',
            section='Service levels',
            weight=700,
        ),
        NavItem(
            'Underpinning contracts',
            'sla:underpinningcontract_list',
            'sla.view_underpinningcontract',
            icon='file-certificate',
            section='Service levels',
            weight=700,
        ),
        NavItem(
            'Business calendars',
            'sla:businesscalendar_list',
            'sla.view_businesscalendar',
            icon='calendar-time',
            section='Service levels',
            weight=700,
        ),
        NavItem(
            'SLA events',
            'sla:clockevent_list',
            'sla.view_clockevent',
            icon='alarm',
            section='Service levels',
            weight=701,
        ),
    ]

    def ready(self):
        from itsm import hooks
        from itsm.records import ProcessRecord

        from . import services

        # Clocks follow every process record: started when it opens, brought in line after every change.
        hooks.subscribe(hooks.CREATED, services.on_record_created, model=ProcessRecord)
        hooks.subscribe(hooks.CHANGED, services.on_record_changed, model=ProcessRecord)
        hooks.subscribe(hooks.TRANSITIONED, services.on_record_changed, model=ProcessRecord)

        from itsm import notify

        from .forecast import FORECAST_EVENT

        # The queue forecast's "likely to breach" notice, on any kind of record.
        notify.register_event_template(FORECAST_EVENT, 'sla/email/forecast.txt')
