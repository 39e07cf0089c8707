from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register('duration-profiles', views.DurationProfileViewSet, basename='durationprofile')

urlpatterns = router.urls
