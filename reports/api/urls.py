"""`/api/v1/metrics/` (every measure), `/api/v1/metrics/{measure}/`, `/api/v1/report-schedules/` and
`/api/v1/reports/`."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register('report-schedules', views.ReportScheduleViewSet, basename='reportschedule')
router.register('reports', views.ReportViewSet, basename='report')

urlpatterns = [
    path('metrics/', views.MetricListView.as_view(), name='metric-list'),
    path('metrics/<str:measure>/', views.MetricView.as_view(), name='metric-detail'),
    *router.urls,
]
