"""`/api/v1/` routes of change management: changes and their actions, implementation tasks, the standard-change
catalogue, and the calendar, freeze windows, risk and CAB routes of the other parts of the app."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import cab, calendar, links, risk
from .views import ChangeModelTaskViewSet, ChangeModelViewSet, ChangeTaskViewSet, ChangeViewSet

router = SimpleRouter()
risk.register(router)  # `changes/{number}/risk/...` before the change routes
router.register('changes', ChangeViewSet, basename='change')
router.register('change-tasks', ChangeTaskViewSet, basename='changetask')
router.register('change-models', ChangeModelViewSet, basename='changemodel')
router.register('change-model-tasks', ChangeModelTaskViewSet, basename='changemodeltask')
cab.register(router)
links.register(router)

urlpatterns = [
    path('', include(calendar.urlpatterns)),  # `changes/calendar/` is not a change number
    path('', include(router.urls)),
]
