"""`/api/v1/slas/`, `/olas/`, `/calendars/`, `/underpinning-contracts/`, `/sla-clocks/`, `/sla-events/`,
`/sla-pauses/`."""

from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register('slas', views.ServiceLevelAgreementViewSet, basename='servicelevelagreement')
router.register('olas', views.OperationalLevelAgreementViewSet, basename='operationallevelagreement')
router.register('calendars', views.BusinessCalendarViewSet, basename='businesscalendar')
router.register('underpinning-contracts', views.UnderpinningContractViewSet, basename='underpinningcontract')
router.register('sla-clocks', views.SlaClockViewSet, basename='slaclock')
router.register('sla-events', views.ClockEventViewSet, basename='clockevent')
router.register('sla-pauses', views.ClockPauseViewSet, basename='clockpause')

urlpatterns = router.urls
