from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register('monitoring-sources', views.AlertSourceViewSet, basename='alertsource')
router.register('monitoring-alerts', views.AlertViewSet, basename='alert')

urlpatterns = [
    path('integrations/alertmanager/', views.AlertmanagerWebhookView.as_view(), name='alertmanager-webhook'),
    path('events/', views.EventsView.as_view(), name='events'),
    *router.urls,
]
