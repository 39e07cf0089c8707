from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register('notifications', views.NotificationViewSet, basename='notification')
router.register('notification-preferences', views.EmailPreferenceViewSet, basename='emailpreference')

urlpatterns = router.urls
