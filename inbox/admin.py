from django.contrib import admin

from .models import EmailPreference, Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ('number', 'label', 'recipient', 'topic', 'created_at', 'read_at')
    list_filter = ('topic', ('read_at', admin.EmptyFieldListFilter))
    search_fields = ('number', 'label', 'recipient__username', 'recipient__email')
    list_select_related = ('recipient',)
    raw_id_fields = ('recipient', 'actor')
    readonly_fields = ('content_type', 'object_id', 'number', 'event', 'topic', 'label', 'text', 'actor', 'created_at')
    date_hierarchy = 'created_at'


@admin.register(EmailPreference)
class EmailPreferenceAdmin(admin.ModelAdmin):
    list_display = ('user', 'assignments', 'replies', 'reopenings', 'mentions', 'sla', 'updates')
    list_select_related = ('user',)
    search_fields = ('user__username', 'user__email')
    raw_id_fields = ('user',)
