"""Pages of change management: changes (addressed by number, `CHG0001001`) with one page per action of
`CHANGE_ACTIONS` (`changes:change_submit`, ...), implementation tasks (`CTASK0001001`), the standard-change
catalogue, and the calendar, freezes, CABs and risk pages of the other parts of the app."""

from django.urls import path

from itsm.views.records import record_routes

from .views import catalogue, changes, tasks
from .views.cab import cab_urls
from .views.calendar import calendar_urls
from .views.dashboard import dashboard_urls
from .views.freezes import freeze_urls
from .views.links import link_urls
from .views.risk import risk_urls


def _routes(page, prefix: str, name: str, **views) -> list:
    """`record_routes` under the app's own prefix (`/changes/<number>/`) or a sub-path (`/changes/tasks/...`)."""
    routes = record_routes(page, 'rec', name, **views)
    return [path(prefix + str(r.pattern).removeprefix('rec/'), r.callback, r.default_args, name=r.name) for r in routes]


app_name = 'changes'
urlpatterns = [
    *calendar_urls,  # before the change routes: `calendar/` is not a change number
    path('', changes.ChangeListView.as_view(), name='change_list'),
    path('new/', changes.ChangeCreateView.as_view(), name='change_add'),
    # Implementation tasks
    path('tasks/', tasks.ChangeTaskListView.as_view(), name='changetask_list'),
    path('tasks/add/', tasks.ChangeTaskCreateView.as_view(), name='changetask_add'),
    *_routes(
        tasks.TASK_PAGE,
        'tasks/',
        'changetask',
        detail_view=tasks.ChangeTaskDetailView,
        edit_view=tasks.ChangeTaskEditView,
    ),
    # The standard-change catalogue
    path('models/', catalogue.ChangeModelListView.as_view(), name='changemodel_list'),
    path('models/add/', catalogue.ChangeModelCreateView.as_view(), name='changemodel_add'),
    path('models/<int:pk>/', catalogue.ChangeModelDetailView.as_view(), name='changemodel_detail'),
    path('models/<int:pk>/edit/', catalogue.ChangeModelEditView.as_view(), name='changemodel_edit'),
    path('models/<int:pk>/delete/', catalogue.ChangeModelDeleteView.as_view(), name='changemodel_delete'),
    path('model-tasks/', catalogue.ChangeModelTaskListView.as_view(), name='changemodeltask_list'),
    path('model-tasks/add/', catalogue.ChangeModelTaskCreateView.as_view(), name='changemodeltask_add'),
    path('model-tasks/<int:pk>/', catalogue.ChangeModelTaskDetailView.as_view(), name='changemodeltask_detail'),
    path('model-tasks/<int:pk>/edit/', catalogue.ChangeModelTaskEditView.as_view(), name='changemodeltask_edit'),
    path('model-tasks/<int:pk>/delete/', catalogue.ChangeModelTaskDeleteView.as_view(), name='changemodeltask_delete'),
    *freeze_urls,
    *cab_urls,
    *risk_urls,
    *link_urls,
    *dashboard_urls,
    *_routes(changes.CHANGE_PAGE, '', 'change', detail_view=changes.ChangeDetailView, edit_view=changes.ChangeEditView),
]
