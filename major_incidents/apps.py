from importlib import import_module
from importlib.util import find_spec

from django.apps import AppConfig

from itsm.choices import Role
from itsm.navigation import nav_section
from itsm.roles import AGENT_ROLES, STAFF_ROLES

RECORDS = ('majorincident', 'majorincidentchild', 'recipient', 'majorincidentupdate', 'validation')
REVIEWS = ('postincidentreview', 'actionitem')
ALL = (*RECORDS, *REVIEWS, 'updatetemplate', 'cadencereminder', 'majorincidentcandidate')
# Staff outside the response (service and business owners, managers, CAB...) read everything; the actions' guards
# let the record's own owners validate and its leads post updates.
READERS = tuple(r for r in STAFF_ROLES if r not in (*AGENT_ROLES, Role.ADMINISTRATOR))
# The parts of the app that subscribe to hooks or register checks: each module's `register()` is called once.
PARTS = ('candidates', 'cadence', 'notifications', 'links', 'measures', 'review')


def perms(actions: str, models: tuple[str, ...]) -> list[str]:
    return [f'{action}_{model}' for action in actions.split() for model in models]


class MajorIncidentsConfig(AppConfig):
    name = 'major_incidents'
    verbose_name = 'Major incidents'

    role_permissions = {
        # Agents link incidents as children and see the response; incident managers run it. Engineers and agents may
        # change a major incident so a tech lead or communications lead among them can act: the guards decide who.
        AGENT_ROLES: perms('view', ALL)
        + perms('add change', ('majorincidentchild',))
        + perms('change', ('majorincident',)),
        Role.INCIDENT_MANAGER: perms('view add change delete', ALL),
        READERS: perms('view', ALL),
        # Owners validate, write reviews and work their action items (guards narrow it to their records).
        (Role.SERVICE_OWNER, Role.BUSINESS_OWNER, Role.PROBLEM_MANAGER): perms('add change', REVIEWS),
        Role.INTEGRATION: perms('view', ALL)
        + perms('add change', ('majorincident', 'majorincidentupdate', 'majorincidentchild')),
    }

    nav_items = [
        *nav_section(
            'Major incidents',
            'major_incidents.view_majorincident',
            [
                ('Major incidents', 'major_incidents:majorincident_list', 'urgent', 10),
                (
                    'Candidates',
                    'major_incidents:candidate_list',
                    'radar-2',
                    12,
                    'major_incidents.view_majorincidentcandidate',
                ),
                (
                    'Action items',
                    'major_incidents:actionitem_list',
                    'list-check',
                    13,
                    'major_incidents.view_actionitem',
                ),
                (
                    'Update templates',
                    'major_incidents:updatetemplate_list',
                    'template',
                    14,
                    'major_incidents.view_updatetemplate',
                ),
                ('Major-incident dashboard', 'major_incidents:dashboard', 'chart-dots', 15),
                ('Status page', 'statuspage:index', 'broadcast', 16),
                ('Status subscribers', 'statuspage:subscriber_list', 'mail-forward', 17, 'statuspage.view_subscriber'),
            ],
        ),
    ]

    def ready(self):
        from itsm import search

        from .models import MajorIncident

        search.register(
            MajorIncident,
            fields=['short_description', 'description', 'public_title', 'resolution'],
            number_prefix='MIR',
            select_related=('incident_manager', 'assignment_group'),
            people=('incident_manager',),
        )
        for part in PARTS:
            if find_spec(f'{self.name}.{part}') is None:
                continue
            register = getattr(import_module(f'{self.name}.{part}'), 'register', None)
            if callable(register):
                register()
