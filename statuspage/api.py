"""`/api/v1/status-subscribers/`: incident managers read and remove status-page subscribers (they subscribe and
confirm themselves on the public page; nobody else may sign an address up)."""

from django.urls import include, path
from rest_framework import mixins, serializers, viewsets
from rest_framework.routers import SimpleRouter

from itsm import services
from itsm.audit import Actor

from . import selectors
from .models import Subscriber


class SubscriberSerializer(serializers.ModelSerializer):
    services = serializers.SlugRelatedField(many=True, read_only=True, slug_field='number')
    standing = serializers.CharField(read_only=True)

    class Meta:
        model = Subscriber
        fields = [
            'id',
            'email',
            'services',
            'standing',
            'created_at',
            'confirmation_sent_at',
            'confirmed_at',
            'unsubscribed_at',
        ]
        read_only_fields = fields


class SubscriberViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    queryset = selectors.subscriber_list().prefetch_related('services')
    serializer_class = SubscriberSerializer
    filterset_fields = ['email']

    def perform_destroy(self, instance):
        services.record_delete(obj=instance, actor=Actor.from_request(self.request))


router = SimpleRouter()
router.register('status-subscribers', SubscriberViewSet, basename='subscriber')

urlpatterns = [path('', include(router.urls))]
