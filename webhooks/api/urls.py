from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register('webhooks', views.WebhookSubscriptionViewSet, basename='webhooksubscription')
router.register('webhook-deliveries', views.WebhookDeliveryViewSet, basename='webhookdelivery')

urlpatterns = router.urls
