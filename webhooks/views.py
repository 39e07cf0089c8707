"""Pages of outbound webhooks: my subscriptions, their delivery log, a delivery's attempts, and the one-click
actions (rotate the secret, send a test ping, enable again, redeliver). Owners see their own subscriptions,
administrators all; every page checks the model permission first."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.views import View

from itsm.audit import Actor
from itsm.errors import ApplicationError
from itsm.permissions import ModelPermissionMixin
from itsm.views.generic import (
    Column,
    ObjectActionView,
    ObjectCreateView,
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    error_text,
)
from itsm.views.once import keep_for_next_page, take_once

from . import selectors, services
from .filters import WebhookSubscriptionFilterSet
from .forms import WebhookSubscriptionForm
from .models import WebhookDelivery, WebhookSubscription

LOG_PAGE_SIZE = 25


def remember_secret(request, subscription: WebhookSubscription) -> None:
    """The secret is shown once, on the subscription's next page."""
    keep_for_next_page(request, f'webhook:{subscription.pk}', subscription.secret)


class SubscriptionMixin:
    model = WebhookSubscription
    queryset = WebhookSubscription.objects.select_related('owner')
    verbose_name, verbose_name_plural = 'webhook', 'webhooks'


class WebhookSubscriptionListView(SubscriptionMixin, ObjectListView):
    filterset_class = WebhookSubscriptionFilterSet
    title = 'Webhooks'
    columns = [
        Column('name', linkify=True),
        'url',
        Column('events', 'Events', order_by=None),
        'active',
        Column('owner', order_by='owner__username'),
        Column('consecutive_failures', 'Failures in a row'),
    ]


class WebhookSubscriptionDetailView(SubscriptionMixin, ObjectDetailView):
    template_name = 'webhooks/subscription_detail.html'
    fields = [
        'url',
        'events',
        'record_kinds',
        'active',
        'allow_private_destination',
        'security_incidents',
        'owner',
        'consecutive_failures',
        'disabled_at',
        'disabled_reason',
    ]

    def get_extra_context(self, obj):
        deliveries = selectors.deliveries_for(self.request.user).filter(subscription=obj).order_by('-created_at', '-id')
        page = Paginator(deliveries, LOG_PAGE_SIZE).get_page(self.request.GET.get('page'))
        secret = take_once(self.request, f'webhook:{obj.pk}')
        return {'page_obj': page, 'deliveries': page.object_list, 'new_secret': secret}


class WebhookSubscriptionFormMixin(SubscriptionMixin):
    form_class = WebhookSubscriptionForm

    def get_form_kwargs(self):
        return {'user': self.request.user}


class WebhookSubscriptionCreateView(WebhookSubscriptionFormMixin, ObjectCreateView):
    def save(self, form):
        subscription = services.subscription_create(actor=self.actor(), **form.service_fields())
        remember_secret(self.request, subscription)
        return subscription


class WebhookSubscriptionEditView(WebhookSubscriptionFormMixin, ObjectEditView):
    service = services.subscription_update
    service_object_kwarg = 'subscription'


class WebhookSubscriptionDeleteView(SubscriptionMixin, ObjectDeleteView):
    service = services.subscription_delete
    service_object_kwarg = 'subscription'


class RotateSecretView(SubscriptionMixin, ObjectActionView):
    service = services.subscription_rotate_secret
    service_object_kwarg = 'subscription'
    action_label = 'Rotate the secret of'
    action_description = 'A new signing secret is shown once; the old one stops signing at once.'
    button_class = 'btn-warning'

    def perform(self, obj):
        subscription = super().perform(obj)
        remember_secret(self.request, subscription)
        return subscription


class PingView(SubscriptionMixin, ObjectActionView):
    service = services.subscription_ping
    service_object_kwarg = 'subscription'
    action_label = 'Send a test ping to'
    action_description = 'A "ping" event is sent now; its delivery appears in the log.'
    success_message = 'Test ping queued: see the delivery log.'


class EnableView(SubscriptionMixin, ObjectActionView):
    service = services.subscription_enable
    service_object_kwarg = 'subscription'
    action_label = 'Enable'
    action_description = 'Deliveries start again with the next event; its failure count starts over.'
    success_message = 'Webhook enabled.'


def visible_delivery(user, pk: int) -> WebhookDelivery:
    """A delivery of a subscription `user` may see, or 404."""
    delivery = selectors.deliveries_for(user).defer(None).filter(pk=pk).first()
    if delivery is None:
        raise Http404('No such delivery.')
    return delivery


class DeliveryDetailView(ModelPermissionMixin, View):
    """One delivery: its payload, its attempts (response excerpts shown escaped) and the redeliver button."""

    model = WebhookDelivery
    template_name = 'webhooks/delivery_detail.html'

    def get(self, request, pk):
        delivery = visible_delivery(request.user, pk)
        context = {
            'delivery': delivery,
            'subscription': delivery.subscription,
            'attempts': selectors.attempts_of(delivery),
        }
        return render(request, self.template_name, context)


class RedeliverView(ModelPermissionMixin, View):
    model = WebhookDelivery
    http_method_names = ['post']

    def post(self, request, pk):
        delivery = visible_delivery(request.user, pk)
        try:
            again = services.delivery_redeliver(delivery=delivery, actor=Actor.from_request(request))
        except ApplicationError as error:
            messages.error(request, error_text(error))
            return HttpResponseRedirect(delivery.subscription.get_absolute_url())
        messages.success(request, 'Redelivery queued.')
        return HttpResponseRedirect(f'{again.subscription.get_absolute_url()}#deliveries')
