from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register('incidents', views.IncidentViewSet, basename='incident')
router.register('cases', views.CaseViewSet, basename='case')
router.register('categories', views.CategoryViewSet, basename='category')
router.register('priority-matrix', views.PriorityMatrixViewSet, basename='prioritymatrixentry')
router.register('response-templates', views.ResponseTemplateViewSet, basename='responsetemplate')
router.register('routing-rules', views.RoutingRuleViewSet, basename='routingrule')

urlpatterns = router.urls
