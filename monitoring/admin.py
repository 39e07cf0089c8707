from django.contrib import admin

from .models import Alert, AlertSource


@admin.register(AlertSource)
class AlertSourceAdmin(admin.ModelAdmin):
    list_display = ('name', 'kind', 'token_prefix', 'support_group', 'service', 'flap_window_minutes', 'active')
    list_filter = ('kind', 'active', 'dedup_by')
    search_fields = ('name', 'token_prefix')
    list_select_related = ('support_group', 'service')
    raw_id_fields = ('integration_user', 'service')
    # Tokens are made and rotated on the source's page (shown once there), never typed in here.
    readonly_fields = ('token_prefix', 'created_at', 'updated_at')

    def has_add_permission(self, request):
        return False


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ('dedup_key', 'source', 'status', 'severity', 'incident', 'event_count', 'last_received_at')
    list_filter = ('status', 'source')
    search_fields = ('dedup_key', 'summary', 'incident__number')
    list_select_related = ('source', 'incident')
    readonly_fields = [f.name for f in Alert._meta.fields]
    date_hierarchy = 'last_received_at'

    def has_add_permission(self, request):
        return False
