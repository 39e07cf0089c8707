from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register('mailboxes', views.MailboxViewSet, basename='mailbox')
router.register('inbound-messages', views.InboundMessageViewSet, basename='inboundmessage')

urlpatterns = router.urls
