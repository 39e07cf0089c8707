"""`/api/v1/`: the core endpoints, then each app's (explicit includes, so every route can be grepped)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from . import views
from .outbox import OutboxMessageViewSet
from .tokens import ApiTokenViewSet

router = DefaultRouter()
router.register('users', views.UserViewSet, basename='user')
router.register('groups', views.SupportGroupViewSet, basename='supportgroup')
router.register('tokens', ApiTokenViewSet, basename='apitoken')
router.register('notification-outbox', OutboxMessageViewSet, basename='outboxmessage')

app_name = 'api'
urlpatterns = [
    path('auth/token/', views.TokenView.as_view(), name='token'),
    path('schema/', SpectacularAPIView.as_view(), name='schema'),
    path('docs/', SpectacularSwaggerView.as_view(url_name='api:schema'), name='docs'),
    path('', include(router.urls)),
    path('', include('cmdb.api.urls')),
    path('', include('incidents.api.urls')),
    path('', include('problems.api.urls')),
    path('', include('changes.api.urls')),
    path('', include('major_incidents.api.urls')),
    path('', include('knowledge.api.urls')),
    path('', include('statuspage.api')),
    path('', include('sla.api.urls')),
    path('', include('reports.api.urls')),
    path('', include('inbox.api.urls')),
    path('', include('mailboxes.api.urls')),
    path('', include('monitoring.api.urls')),
    path('', include('webhooks.api.urls')),
    path('', include('oncall.api.urls')),
    path('', include('hypercare.api.urls')),
    path('', include('predictions.api.urls')),
]
