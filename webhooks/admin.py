from django.contrib import admin
from django.db import models

from .models import WebhookAttempt, WebhookDelivery, WebhookSubscription


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ('name', 'owner', 'url', 'active', 'consecutive_failures', 'disabled_at')
    list_filter = ('active', 'allow_private_destination', 'security_incidents')
    search_fields = ('name', 'url', 'owner__username')
    list_select_related = ('owner',)
    raw_id_fields = ('owner',)
    readonly_fields = ('consecutive_failures', 'disabled_at', 'disabled_reason', 'created_at', 'updated_at')
    exclude = ('secret',)
    formfield_overrides = {models.URLField: {'assume_scheme': 'https'}}


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    readonly_fields = ('number', 'at', 'response_code', 'duration_ms', 'response_excerpt', 'error', 'succeeded')


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ('event_type', 'event_id', 'subscription', 'status', 'attempts', 'last_response_code', 'created_at')
    list_filter = ('status', 'event_type')
    search_fields = ('event_id', 'subscription__name')
    list_select_related = ('subscription',)
    raw_id_fields = ('subscription', 'redelivery_of')
    readonly_fields = ('event_id', 'payload', 'body', 'created_at', 'delivered_at')
    inlines = [WebhookAttemptInline]
    date_hierarchy = 'created_at'
