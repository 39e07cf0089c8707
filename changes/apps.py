from importlib import import_module
from importlib.util import find_spec

from django.apps import AppConfig

from itsm.choices import Role
from itsm.navigation import nav_section
from itsm.roles import STAFF_ROLES

CHANGES = ('change', 'changetask')
CATALOGUE = ('changemodel', 'changemodeltask')
ALL = (
    *CHANGES,
    *CATALOGUE,
    'riskquestion',
    'riskanswer',
    'riskband',
    'riskrule',
    'riskassessment',
    'cab',
    'cabrule',
    'cabmeeting',
    'agendaitem',
    'cabvote',
    'freezewindow',
    'incidentcause',
    'calendartoken',
)
# Who drafts and submits changes and works their tasks (the actions' guards keep the process to change managers).
DRAFTERS = (
    Role.SERVICE_DESK_AGENT,
    Role.L2_ENGINEER,
    Role.L3_ENGINEER,
    Role.INCIDENT_MANAGER,
    Role.PROBLEM_MANAGER,
)
# Staff who neither draft changes nor run the process read them (service owners, managers, CAB members...).
READERS = tuple(r for r in STAFF_ROLES if r not in (*DRAFTERS, Role.CHANGE_MANAGER, Role.ADMINISTRATOR))
# The parts of the app that subscribe to hooks or register checks: each module's `register()` is called once.
PARTS = ('risk', 'cab', 'calendar', 'notifications', 'links', 'measures', 'cmdb_control')


def perms(actions: str, models: tuple[str, ...]) -> list[str]:
    return [f'{action}_{model}' for action in actions.split() for model in models]


class ChangesConfig(AppConfig):
    name = 'changes'
    verbose_name = 'Changes'

    role_permissions = {
        # Requesters never see changes (the querysets show them none either).
        DRAFTERS: perms('view', ALL)
        + perms('add change', (*CHANGES, 'riskassessment', 'incidentcause'))
        + perms('delete', ('riskassessment',)),
        Role.CHANGE_MANAGER: perms('view add change delete', ALL),
        Role.CAB_MEMBER: perms('add change', ('cabvote',)),
        READERS: perms('view', ALL),
        Role.INTEGRATION: perms('view', ALL) + perms('add change', CHANGES),
    }

    nav_items = [
        *nav_section(
            'Change management',
            'changes.view_change',
            [
                ('Changes', 'changes:change_list', 'arrows-exchange-2', 30),
                ('New change', 'changes:change_add', 'plus', 31, 'changes.add_change'),
                ('Change tasks', 'changes:changetask_list', 'list-check', 32, 'changes.view_changetask'),
                ('Standard changes', 'changes:changemodel_list', 'template', 33, 'changes.view_changemodel'),
                ('Change calendar', 'changes:calendar', 'calendar-event', 34),
                ('Freeze windows', 'changes:freezewindow_list', 'snowflake', 35, 'changes.view_freezewindow'),
                ('CAB meetings', 'changes:cabmeeting_list', 'users-group', 36, 'changes.view_cabmeeting'),
                ('CABs', 'changes:cab_list', 'building-community', 37, 'changes.view_cab'),
                ('CAB rules', 'changes:cabrule_list', 'route', 38, 'changes.view_cabrule'),
                ('Risk questionnaire', 'changes:riskquestion_list', 'list-details', 39, 'changes.view_riskquestion'),
                ('Risk bands', 'changes:riskband_list', 'gauge', 40, 'changes.view_riskband'),
                ('Risk rules', 'changes:riskrule_list', 'trending-up', 41, 'changes.view_riskrule'),
                ('Change dashboard', 'changes:dashboard', 'chart-dots', 42),
                (
                    'Incidents caused by changes',
                    'changes:incidentcause_list',
                    'alert-triangle',
                    43,
                    'changes.view_incidentcause',
                ),
            ],
        ),
    ]

    def ready(self):
        from itsm import search

        from .models import Change, ChangeTask

        search.register(
            Change,
            fields=['short_description', 'description', 'justification', 'implementation_plan'],
            number_prefix='CHG',
            select_related=('owner', 'assignment_group'),
            people=('requester', 'owner'),
        )
        search.register(
            ChangeTask,
            fields=['short_description', 'description'],
            number_prefix='CTASK',
            select_related=('change', 'assignment_group'),
            people=(),
        )
        for part in PARTS:
            if find_spec(f'{self.name}.{part}') is None:
                continue
            register = getattr(import_module(f'{self.name}.{part}'), 'register', None)
            if callable(register):
                register()
