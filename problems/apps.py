from django.apps import AppConfig

from itsm.choices import Role
from itsm.navigation import nav_section
from itsm.roles import AGENT_ROLES, STAFF_ROLES

ALL = ('problem', 'categorypriority', 'problemincident', 'knownerror', 'knownerroruse', 'problemcandidate')
# Staff who neither work incidents nor own problems (service owners, CAB, managers...) read everything.
READERS = tuple(r for r in STAFF_ROLES if r not in (*AGENT_ROLES, Role.PROBLEM_MANAGER, Role.ADMINISTRATOR))


def perms(actions: str, models: tuple[str, ...]) -> list[str]:
    return [f'{action}_{model}' for action in actions.split() for model in models]


class ProblemsConfig(AppConfig):
    name = 'problems'
    verbose_name = 'Problems and known errors'

    role_permissions = {
        # Requesters read known errors only: the queryset shows them the active public ones.
        Role.REQUESTER: perms('view', ('knownerror',)),
        # Agents and incident managers raise problems, link incidents and apply known errors; the actions' guards
        # keep the problem's own work to its owner, its group and problem managers.
        AGENT_ROLES: perms('view', ALL)
        + perms('add change', ('problem', 'problemincident', 'knownerroruse'))
        + perms('delete', ('problemincident',)),
        Role.PROBLEM_MANAGER: perms('view', ALL)
        + perms('add change delete', ('problem', 'problemincident', 'knownerror', 'knownerroruse'))
        + perms('add change', ('problemcandidate',)),
        # Incident managers also record and edit known errors (domain §7: workarounds documented).
        Role.INCIDENT_MANAGER: perms('add change', ('knownerror',)),
        READERS: perms('view', ALL),
        Role.INTEGRATION: perms('view', ALL) + perms('add change', ('problem',)),
    }

    nav_items = [
        *nav_section(
            'Problem management',
            'problems.view_problem',
            [
                ('Problems', 'problems:problem_list', 'bug', 20),
                ('New problem', 'problems:problem_add', 'plus', 21, 'problems.add_problem'),
                ('Needs problem review', 'problems:review_queue', 'alert-circle', 22, 'problems.view_problemincident'),
                (
                    'Problem candidates',
                    'problems:problemcandidate_list',
                    'radar',
                    23,
                    'problems.view_problemcandidate',
                ),
                ('Problem dashboard', 'problems:dashboard', 'chart-dots', 24),
                # Staff pages (requesters read public known errors in the portal), so the section's permission.
                ('Known errors', 'problems:knownerror_list', 'book-2', 25),
            ],
        ),
        *nav_section(
            'Configuration',
            '',
            [
                (
                    'Problem priorities',
                    'problems:categorypriority_list',
                    'adjustments',
                    804,
                    'problems.view_categorypriority',
                ),
            ],
        ),
    ]

    def ready(self):
        from cmdb.views import register_item_panel
        from incidents.models import Ticket
        from itsm import hooks, search
        from itsm.views.records import register_panel

        from . import incident_links, report_back
        from .models import Problem
        from .views.known_errors import ci_panel_context, problem_panel_context, ticket_panel_context

        register_panel(Ticket, 'incidents/ticket/_problem.html', incident_links.incident_panel)
        register_panel(Problem, 'problems/_incidents.html', incident_links.problem_panel)
        hooks.subscribe(hooks.TRANSITIONED, incident_links.on_ticket_transitioned, model=Ticket)
        hooks.subscribe(hooks.TRANSITIONED, report_back.on_problem_transitioned, model=Problem)
        # Known errors: offered on the incident page, listed on the problem page and on CI and service pages.
        register_panel(Ticket, 'problems/_known_errors_ticket.html', ticket_panel_context)
        register_panel(Problem, 'problems/_known_errors_problem.html', problem_panel_context)
        register_item_panel('problems/_known_errors_item.html', ci_panel_context)

        from itsm import notify

        from . import notifications

        notify.register_audience('problem_owner', notifications.owner)
        notify.register_audience('problem_managers', notifications.problem_managers)
        hooks.subscribe(hooks.CREATED, notifications.on_created, model=Problem)
        hooks.subscribe(hooks.TRANSITIONED, notifications.on_transitioned, model=Problem)

        search.register(
            Problem,
            fields=['short_description', 'description', 'symptoms', 'root_cause', 'vendor_reference'],
            number_prefix='PRB',
            select_related=('owner', 'assignment_group'),
            people=(),
        )

        from . import measures

        measures.register()
