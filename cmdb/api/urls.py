"""`/api/v1/cis/`, `/api/v1/ci-relationships/`, `/api/v1/services/` and `/api/v1/raci-assignments/`."""

from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register('cis', views.ConfigurationItemViewSet, basename='configurationitem')
router.register('ci-relationships', views.RelationshipViewSet, basename='relationship')
router.register('services', views.ServiceViewSet, basename='service')
router.register('raci-assignments', views.RaciAssignmentViewSet, basename='raciassignment')

urlpatterns = router.urls
