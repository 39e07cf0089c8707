from django.contrib import admin

from .models import HypercareIncident, HypercarePeriod, HypercareRule, HypercareSummary


class HypercareIncidentInline(admin.TabularInline):
    model = HypercareIncident
    extra = 0
    raw_id_fields = ('ticket',)
    readonly_fields = ('tagged_at',)


@admin.register(HypercarePeriod)
class HypercarePeriodAdmin(admin.ModelAdmin):
    list_display = ('service', 'starts_at', 'ends_at', 'ended_at', 'change', 'started_by')
    list_filter = ('ended_at',)
    search_fields = ('service__name', 'service__number', 'reason')
    list_select_related = ('service', 'change', 'started_by')
    raw_id_fields = ('service',)
    readonly_fields = ('started_by', 'change', 'rule', 'began_at', 'ended_at', 'ended_by', 'end_reason')
    date_hierarchy = 'starts_at'
    inlines = [HypercareIncidentInline]


@admin.register(HypercareRule)
class HypercareRuleAdmin(admin.ModelAdmin):
    list_display = ('name', 'change_type', 'change_model', 'service', 'duration_days', 'active')
    list_filter = ('change_type', 'active')
    search_fields = ('name',)
    list_select_related = ('change_model', 'service')
    raw_id_fields = ('service',)


@admin.register(HypercareSummary)
class HypercareSummaryAdmin(admin.ModelAdmin):
    list_display = ('period', 'day', 'sent_at')
    list_select_related = ('period__service',)
    readonly_fields = ('period', 'day', 'sent_at', 'recipients')
