from django.apps import AppConfig

from itsm.choices import Role
from itsm.navigation import NavItem
from itsm.roles import AGENT_ROLES, STAFF_ROLES

# Who reads the desk's KPIs: managers (domain §14), incident managers, and reporting tools through the API.
KPI_READERS = (Role.MANAGER, Role.INCIDENT_MANAGER, Role.INTEGRATION)


class ReportsConfig(AppConfig):
    name = 'reports'
    verbose_name = 'Reports and dashboards'

    # Managers keep the scheduled reports; incident managers and service owners may read them. Group leads see
    # their team's dashboard and agents their own KPIs (both checked per group or person by the pages).
    role_permissions = {
        KPI_READERS: ['view_dailyrollup'],
        STAFF_ROLES: ['view_team_dashboard'],
        AGENT_ROLES: ['view_own_kpis'],
        Role.MANAGER: [f'{a}_{m}' for m in ('reportschedule', 'report') for a in ('view', 'add', 'change', 'delete')],
        (Role.INCIDENT_MANAGER, Role.SERVICE_OWNER): ['view_reportschedule', 'view_report'],
    }

    nav_items = [
        NavItem(
            'SLA/KPI overview',
            'reports:overview',
            'reports.view_dailyrollup',
            icon='chart-line',
            section='Reports',
            weight=600,
        ),
        NavItem(
            'Team dashboards',
            'reports:team_list',
            'reports.view_team_dashboard',
            icon='users-group',
            section='Reports',
            weight=601,
        ),
        NavItem(
            'My KPIs', 'reports:my_kpis', 'reports.view_own_kpis', icon='target-arrow', section='Reports', weight=602
        ),
        NavItem(
            'Scheduled reports',
            'reports:reportschedule_list',
            'reports.view_reportschedule',
            icon='calendar-event',
            section='Reports',
            weight=603,
        ),
        NavItem(
            'Report archive',
            'reports:report_list',
            'reports.view_report',
            icon='file-analytics',
            section='Reports',
            weight=604,
        ),
    ]
