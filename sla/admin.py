"""Admin site for agreements and calendars (audited like the pages); clocks and their history are read-only."""

from django.contrib import admin
from django.db.models import Q

from itsm.admin import AuditedAdmin

from . import records
from .models import (
    BusinessCalendar,
    ClockEvent,
    ClockPause,
    OperationalLevelAgreement,
    ServiceLevelAgreement,
    SlaClock,
    UnderpinningContract,
)


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(AuditedAdmin):
    list_display = ['name', 'timezone', 'hours_text', 'holiday_country', 'holiday_subdivision', 'builtin']
    search_fields = ['name', 'description']
    readonly_fields = ['builtin']

    def has_delete_permission(self, request, obj=None):
        return not (obj is not None and obj.builtin) and super().has_delete_permission(request, obj)


@admin.register(ServiceLevelAgreement)
class ServiceLevelAgreementAdmin(AuditedAdmin):
    list_display = [
        'name',
        'ticket_kind',
        'priority',
        'service',
        'response_minutes',
        'resolution_minutes',
        'hypercare',
        'calendar',
        'active',
    ]
    list_filter = ['ticket_kind', 'priority', 'active', 'calendar']
    search_fields = ['name', 'description']
    raw_id_fields = ['service']


@admin.register(OperationalLevelAgreement)
class OperationalLevelAgreementAdmin(AuditedAdmin):
    list_display = ['name', 'support_group', 'priority', 'accept_minutes', 'resolve_minutes', 'calendar', 'active']
    list_filter = ['priority', 'active', 'calendar']
    search_fields = ['name', 'support_group__name']


@admin.register(UnderpinningContract)
class UnderpinningContractAdmin(AuditedAdmin):
    list_display = ['name', 'supplier', 'reference', 'service', 'response_minutes', 'resolution_minutes', 'valid_until']
    search_fields = ['name', 'supplier', 'reference']
    raw_id_fields = ['service']


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SlaClock)
class SlaClockAdmin(ReadOnlyAdmin):
    list_display = ['record_number', 'name', 'kind', 'state', 'started_at', 'due_at', 'next_check_at', 'stopped_at']
    list_filter = ['kind', 'state', 'content_type']
    search_fields = ['name']

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related('record')

    def get_search_results(self, request, queryset, search_term):
        """The clock's name, or its record's number (whatever kind of record it is)."""
        queryset, duplicates = super().get_search_results(request, queryset, search_term)
        if search_term.strip():
            by_number = self.model.objects.filter(records.record_q('number', 'icontains', search_term.strip()))
            queryset |= self.get_queryset(request).filter(Q(pk__in=by_number.values('pk')))
        return queryset, duplicates

    @admin.display(description='Record')
    def record_number(self, obj):
        return getattr(obj.record, 'number', '') or f'{obj.content_type.model} {obj.object_id}'


@admin.register(ClockEvent)
class ClockEventAdmin(ReadOnlyAdmin):
    list_display = ['clock', 'kind', 'percent', 'crossed_at', 'at', 'superseded', 'notified_at']
    list_filter = ['kind', 'superseded']
    list_select_related = ['clock']

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related('clock__record')


@admin.register(ClockPause)
class ClockPauseAdmin(ReadOnlyAdmin):
    list_display = ['clock', 'started_at', 'ended_at', 'ticket_state', 'reason']
    list_select_related = ['clock']

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related('clock__record')
