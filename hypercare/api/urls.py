from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register('hypercare-periods', views.HypercarePeriodViewSet, basename='hypercareperiod')
router.register('hypercare-rules', views.HypercareRuleViewSet, basename='hypercarerule')

urlpatterns = router.urls
