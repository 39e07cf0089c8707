"""Admin for reference data; tickets are read-only here (their changes go through the services)."""

from django import forms
from django.contrib import admin

from .models import Category, PriorityMatrixEntry, ResponseTemplate, RoutingRule, Ticket


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


class RoutingRuleAdminForm(forms.ModelForm):
    class Meta:
        model = RoutingRule
        fields = ['position', 'name', 'active', 'service', 'ci', 'category', 'channel', 'kind', 'assignment_group']

    def clean(self):
        from .routing import validate_rule

        cleaned = super().clean()
        values = {name: cleaned.get(name) for name in RoutingRuleAdmin.fields if name in cleaned}
        try:
            validate_rule(RoutingRule(**values))
        except forms.ValidationError as error:
            for name, messages in error.message_dict.items():
                self.add_error(name if name in self.fields else None, messages)
        return cleaned


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    """Rules in the order they are tried; positions are edited in the list."""

    list_display = ['position', 'name', 'active', 'service', 'ci', 'category', 'channel', 'kind', 'assignment_group']
    list_display_links = ['name']
    list_editable = ['position', 'active']
    list_filter = ['active', 'channel', 'kind', 'assignment_group']
    list_select_related = ['service', 'ci', 'category', 'assignment_group']
    search_fields = ['name']
    ordering = ['position', 'pk']
    autocomplete_fields = ['service', 'ci']
    form = RoutingRuleAdminForm

    fields = ['position', 'name', 'active', 'service', 'ci', 'category', 'channel', 'kind', 'assignment_group']

    def save_model(self, request, obj, form, change):
        # Through the routing services, so the rule is checked the same way and its history recorded.
        from itsm.audit import Actor

        from .routing import rule_create, rule_update

        values = {name: getattr(obj, name) for name in self.fields}
        actor = Actor.from_request(request)
        saved = rule_update(actor=actor, obj=obj, **values) if change else rule_create(actor=actor, **values)
        obj.pk = saved.pk
