from django.contrib import admin

from itsm.admin import AuditedAdmin

from .models import Subscriber


@admin.register(Subscriber)
class SubscriberAdmin(AuditedAdmin):
    list_display = ['email', 'created_at', 'confirmed_at', 'unsubscribed_at']
    list_filter = [('confirmed_at', admin.EmptyFieldListFilter), ('unsubscribed_at', admin.EmptyFieldListFilter)]
    search_fields = ['email']
    filter_horizontal = ['services']
    readonly_fields = ['created_at', 'confirmation_sent_at', 'confirmed_at', 'unsubscribed_at']
