"""Admin for reference data; tickets are read-only here (their changes go through the services)."""

from django.contrib import admin

from .models import Category, PriorityMatrixEntry, ResponseTemplate, Ticket


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = [
        'number',
        'kind',
        'short_description',
        'state',
        'priority',
        'assignment_group',
        'assignee',
        'opened_at',
    ]
    list_filter = ['kind', 'state', 'priority', 'channel', 'source_system', 'assignment_group']
    search_fields = ['number', 'alternate_number', 'source_number', 'short_description']
    list_select_related = ['assignment_group', 'assignee']
    date_hierarchy = 'opened_at'

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ['name', 'parent', 'active']
    list_filter = ['active', 'parent']
    search_fields = ['name']


@admin.register(PriorityMatrixEntry)
class PriorityMatrixEntryAdmin(admin.ModelAdmin):
    list_display = ['impact', 'urgency', 'priority']
    list_editable = ['priority']
    list_filter = ['impact', 'urgency']

    def save_model(self, request, obj, form, change):
        from itsm.audit import Actor

        from .services import priority_matrix_set

        priority_matrix_set(actor=Actor.from_request(request), cells=[(obj.impact, obj.urgency, obj.priority)])


@admin.register(ResponseTemplate)
class ResponseTemplateAdmin(admin.ModelAdmin):
    list_display = ['name', 'kind', 'active']
    list_filter = ['kind', 'active']
