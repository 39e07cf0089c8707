"""Pages of problem management: problems (addressed by number, `PRB0001001`), their category priorities, known
errors and problem candidates. Each action of `PROBLEM_ACTIONS` has its own name (`problems:problem_assess`, ...),
built by `itsm.views.records.record_routes`."""

from django.urls import path

from .views import dashboard
from .views.candidates import candidate_urls
from .views.incidents import incident_link_urls

app_name = 'problems'
urlpatterns = []
urlpatterns += incident_link_urls
urlpatterns += candidate_urls
urlpatterns += [
    path('dashboard/', dashboard.ProblemDashboardView.as_view(), name='dashboard'),
    path('dashboard/problems/', dashboard.ProblemDrillDownView.as_view(), name='dashboard_drilldown'),
]
