"""Admin site for the CMDB: low-level maintenance, audited like every other write."""

from django.contrib import admin

from itsm.admin import AuditedAdmin

from .models import ConfigurationItem, RaciAssignment, Relationship, Service


class OutgoingInline(admin.TabularInline):
    model = Relationship
    fk_name = 'source'
    extra = 0
    raw_id_fields = ['target']
    verbose_name = 'depends on'
    verbose_name_plural = 'depends on'


@admin.register(ConfigurationItem)
class ConfigurationItemAdmin(AuditedAdmin):
    list_display = ['number', 'name', 'ci_class', 'status', 'environment', 'support_group', 'owner', 'updated_at']
    list_filter = ['ci_class', 'status', 'environment', 'support_group']
    search_fields = ['number', 'name', 'description', 'location', 'vendor']
    readonly_fields = ['number', 'created_at', 'updated_at']
    raw_id_fields = ['owner']
    inlines = [OutgoingInline]


@admin.register(Relationship)
class RelationshipAdmin(AuditedAdmin):
    list_display = ['__str__', 'source', 'type', 'target', 'created_at']
    list_filter = ['type']
    search_fields = ['source__number', 'source__name', 'target__number', 'target__name']
    raw_id_fields = ['source', 'target']
    list_select_related = ['source', 'target']


class RaciInline(admin.TabularInline):
    model = RaciAssignment
    extra = 0
    raw_id_fields = ['person']


@admin.register(Service)
class ServiceAdmin(AuditedAdmin):
    list_display = ['__str__', 'kind', 'status', 'criticality', 'business_owner', 'public']
    list_filter = ['kind', 'status', 'criticality', 'public']
    search_fields = ['ci__number', 'ci__name', 'public_name']
    raw_id_fields = ['ci', 'business_owner']
    list_select_related = ['ci', 'business_owner']
    inlines = [RaciInline]


@admin.register(RaciAssignment)
class RaciAssignmentAdmin(AuditedAdmin):
    list_display = ['__str__', 'activity', 'role', 'person', 'support_group']
    list_filter = ['activity', 'role']
    raw_id_fields = ['service', 'person']
    list_select_related = ['service__ci', 'person', 'support_group']
