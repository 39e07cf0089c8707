from django.contrib import admin

from .models import EscalationPolicy, OnCallOverride, OnCallSchedule, Page, RotationLayer


class RotationLayerInline(admin.TabularInline):
    model = RotationLayer
    extra = 0


@admin.register(OnCallSchedule)
class OnCallScheduleAdmin(admin.ModelAdmin):
    list_display = ('name', 'group', 'time_zone', 'updated_at')
    search_fields = ('name', 'group__name')
    list_select_related = ('group',)
    inlines = [RotationLayerInline]


@admin.register(RotationLayer)
class RotationLayerAdmin(admin.ModelAdmin):
    list_display = ('name', 'schedule', 'position', 'handoff', 'handoff_time', 'rotation_start')
    list_filter = ('handoff',)
    list_select_related = ('schedule',)


@admin.register(OnCallOverride)
class OnCallOverrideAdmin(admin.ModelAdmin):
    list_display = ('schedule', 'person', 'start', 'end', 'note')
    list_select_related = ('schedule', 'person')
    raw_id_fields = ('person',)
    date_hierarchy = 'start'


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    list_display = ('name', 'group', 'active')
    list_filter = ('active',)
    list_select_related = ('group',)


@admin.register(Page)
class PageAdmin(admin.ModelAdmin):
    list_display = ('record_number', 'level', 'recipient', 'state', 'sent_at', 'acknowledged_at')
    list_filter = ('state', 'target')
    search_fields = ('record_number', 'recipient__username')
    list_select_related = ('recipient',)
    readonly_fields = [f.name for f in Page._meta.concrete_fields]
    date_hierarchy = 'sent_at'
