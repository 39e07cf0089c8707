"""Pages of problem management: problems (addressed by number, `PRB0001001`), their category priorities, known
errors and problem candidates. Each action of `PROBLEM_ACTIONS` has its own name (`problems:problem_assess`, ...),
built by `itsm.views.records.record_routes`."""

from django.urls import path

from itsm.views.records import record_routes

from .views import dashboard, problems, reference
from .views.candidates import candidate_urls
from .views.incidents import incident_link_urls
from .views.known_errors import known_error_urls


def problem_routes() -> list:
    """The problem page, its edit page, one page per action, comments and files, at `/problems/<number>/...`
    (`record_routes` puts them under a prefix of their own: here the app's own prefix is enough)."""
    routes = record_routes(
        problems.PROBLEM_PAGE,
        'prb',
        'problem',
        detail_view=problems.ProblemDetailView,
        edit_view=problems.ProblemEditView,
    )
    return [path(str(r.pattern).removeprefix('prb/'), r.callback, r.default_args, name=r.name) for r in routes]


app_name = 'problems'
urlpatterns = [
    path('', problems.ProblemListView.as_view(), name='problem_list'),
    path('new/', problems.ProblemCreateView.as_view(), name='problem_add'),
    *problem_routes(),
    # Problem priorities of categories
    path('priorities/', reference.CategoryPriorityListView.as_view(), name='categorypriority_list'),
    path('priorities/add/', reference.CategoryPriorityCreateView.as_view(), name='categorypriority_add'),
    path('priorities/<int:pk>/', reference.CategoryPriorityDetailView.as_view(), name='categorypriority_detail'),
    path('priorities/<int:pk>/edit/', reference.CategoryPriorityEditView.as_view(), name='categorypriority_edit'),
    path('priorities/<int:pk>/delete/', reference.CategoryPriorityDeleteView.as_view(), name='categorypriority_delete'),
]
urlpatterns += known_error_urls
urlpatterns += candidate_urls
urlpatterns += incident_link_urls
urlpatterns += [
    path('dashboard/', dashboard.ProblemDashboardView.as_view(), name='dashboard'),
    path('dashboard/problems/', dashboard.ProblemDrillDownView.as_view(), name='dashboard_drilldown'),
]
