"""Dashboards, the tickets behind a figure, CSV exports, scheduled reports and the report archive, under
/reports/. Names follow `reports:<page>` and `reports:<model>_<action>`."""

from django.urls import path

from .views import dashboards, drilldown, reports

app_name = 'reports'
urlpatterns = [
    # Dashboards
    path('', dashboards.OverviewView.as_view(), name='overview'),
    path('teams/', dashboards.TeamListView.as_view(), name='team_list'),
    path('teams/<int:group_id>/', dashboards.TeamDashboardView.as_view(), name='team'),
    path('me/', dashboards.AgentDashboardView.as_view(), name='my_kpis'),
    path('agents/<int:user_id>/', dashboards.AgentDashboardView.as_view(), name='agent'),
    path('export/<str:table>.csv', dashboards.ExportView.as_view(), name='export'),
    path('definitions/', dashboards.DefinitionsView.as_view(), name='definitions'),
    # What lies behind a figure
    path('tickets/', drilldown.DrillDownView.as_view(), name='tickets'),
    # Scheduled reports
    path('schedules/', reports.ReportScheduleListView.as_view(), name='reportschedule_list'),
    path('schedules/add/', reports.ReportScheduleCreateView.as_view(), name='reportschedule_add'),
    path('schedules/<int:pk>/', reports.ReportScheduleDetailView.as_view(), name='reportschedule_detail'),
    path('schedules/<int:pk>/edit/', reports.ReportScheduleEditView.as_view(), name='reportschedule_edit'),
    path('schedules/<int:pk>/delete/', reports.ReportScheduleDeleteView.as_view(), name='reportschedule_delete'),
    # Kept reports
    path('archive/', reports.ReportListView.as_view(), name='report_list'),
    path('archive/add/', reports.ReportCreateView.as_view(), name='report_add'),
    path('archive/<int:pk>/', reports.ReportDetailView.as_view(), name='report_detail'),
    path('archive/<int:pk>/edit/', reports.ReportEditView.as_view(), name='report_edit'),
    path('archive/<int:pk>/delete/', reports.ReportDeleteView.as_view(), name='report_delete'),
    path('archive/<int:pk>/csv/', reports.ReportCsvView.as_view(), name='report_csv'),
]
