from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register('oncall-schedules', views.OnCallScheduleViewSet, basename='oncallschedule')
router.register('oncall-layers', views.RotationLayerViewSet, basename='rotationlayer')
router.register('oncall-overrides', views.OnCallOverrideViewSet, basename='oncalloverride')
router.register('escalation-policies', views.EscalationPolicyViewSet, basename='escalationpolicy')
router.register('oncall-pages', views.PageViewSet, basename='oncallpage')

urlpatterns = [
    path('oncall/now/', views.OnCallNowView.as_view(), name='oncall-now'),
    *router.urls,
]
