"""Admin site for low-level maintenance. Changes made here are recorded on the records' timelines too."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse

from . import audit, services, tokens
from .audit import Actor
from .models import ApiToken, Attachment, IdempotencyKey, NumberSequence, SupportGroup, TimelineEntry, User
from .numbering import numbers_handed_out, uses_sequences
from .outbox import OutboxMessage, OutboxStatus


class AuditedAdmin(admin.ModelAdmin):
    """Writes the same timeline entries as the services, so edits in the admin site are not invisible."""

    def save_model(self, request, obj, form, change):
        if change:
            stored = type(obj)._default_manager.get(pk=obj.pk)
            request._audit_before = audit.snapshot(stored)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        actor = Actor.from_request(request)
        if change:
            audit.record_changes(form.instance, request._audit_before, actor=actor, message='Changed in the admin site')
        else:
            audit.record_created(form.instance, actor=actor, message='Created in the admin site', public=False)

    def delete_model(self, request, obj):
        services.record_delete(obj=obj, actor=Actor.from_request(request))

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            services.record_delete(obj=obj, actor=Actor.from_request(request))


@admin.register(User)
class UserAdmin(AuditedAdmin, DjangoUserAdmin):
    list_display = ['username', 'email', 'first_name', 'last_name', 'department', 'vip', 'is_active', 'is_staff']
    list_filter = ['is_active', 'vip', 'is_staff', 'is_superuser', 'groups']
    search_fields = ['username', 'first_name', 'last_name', 'email', 'department', 'external_id']
    fieldsets = (
        *DjangoUserAdmin.fieldsets[:2],
        ('Service desk', {'fields': ('phone', 'department', 'location', 'vip', 'time_zone', 'external_id')}),
        *DjangoUserAdmin.fieldsets[2:],
    )
    add_fieldsets = (
        (None, {'classes': ('wide',), 'fields': ('username', 'email', 'usable_password', 'password1', 'password2')}),
    )

    def has_delete_permission(self, request, obj=None):
        # People stay in every history they appear in: they are deactivated (clear "Active"), never deleted.
        return False


@admin.register(SupportGroup)
class SupportGroupAdmin(AuditedAdmin):
    list_display = ['name', 'tier', 'manager', 'escalation_group', 'email', 'active', 'security']
    list_filter = ['tier', 'active', 'security']
    search_fields = ['name', 'description', 'email']
    autocomplete_fields = ['manager', 'escalation_group']
    filter_horizontal = ['members']
    list_select_related = ['manager', 'escalation_group']


class ReadOnlyAdmin(admin.ModelAdmin):
    """Visible for inspection; only the application writes these rows."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(NumberSequence)
class NumberSequenceAdmin(ReadOnlyAdmin):
    """The last reference number per prefix, read where numbers really come from (`itsm.numbering`): on
    PostgreSQL the table rows stop moving once the prefix has its sequence, so the list is not the table's."""

    list_display = ['prefix', 'last']
    ordering = ['prefix']

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            'opts': self.model._meta,
            'title': 'Reference numbers',
            'numbers': numbers_handed_out(),
            'from_sequences': uses_sequences(),
        }
        return TemplateResponse(request, 'admin/itsm/numbersequence/numbers.html', context)


@admin.register(TimelineEntry)
class TimelineEntryAdmin(ReadOnlyAdmin):
    list_display = ['at', 'content_type', 'object_id', 'kind', 'actor', 'channel', 'public', 'message']
    list_filter = ['kind', 'channel', 'public', 'content_type']
    search_fields = ['message']
    list_select_related = ['actor', 'content_type']
    date_hierarchy = 'at'
    # Newest recorded first, by the primary key: the history has no index on its time alone (it costs more room than
    # a list of every record's entries is worth).
    ordering = ['-id']


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ['filename', 'content_type', 'object_id', 'size', 'uploaded_by', 'created_at']
    list_select_related = ['content_type', 'uploaded_by']
    search_fields = ['filename']
    readonly_fields = ['content_type', 'object_id']

    def has_add_permission(self, request):
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Anyone's tokens, to see and revoke (the key itself is never stored; owners create tokens themselves)."""

    list_display = ['prefix', 'name', 'user', 'read_only', 'apps', 'expires_at', 'last_used_at', 'revoked_at']
    list_filter = ['read_only', ('revoked_at', admin.EmptyFieldListFilter), 'expires_at']
    list_select_related = ['user']
    search_fields = ['prefix', 'name', 'user__username', 'user__last_name']
    readonly_fields = ['user', 'prefix', 'read_only', 'apps', 'expires_at', 'created_at', 'last_used_at', 'revoked_at']
    fields = ['name', *readonly_fields]
    actions = ['revoke']
    ordering = ['-created_at']

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # revoked, not deleted: the list keeps what existed

    @admin.action(description='Revoke the selected tokens', permissions=['change'])
    def revoke(self, request, queryset):
        actor = Actor.from_request(request)
        for token in queryset:
            tokens.token_revoke(token=token, actor=actor)
        self.message_user(request, f'{queryset.count()} token(s) revoked.')


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdmin):
    list_display = ['key', 'user', 'status', 'created_at']
    list_select_related = ['user']
    search_fields = ['key', 'user__username']
    exclude = ['body']
    ordering = ['-created_at']


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    """Notifications on their way out: what is pending, what was given up and why (only the application writes
    them; *Deliver again* puts failed rows back in the queue)."""

    list_display = ['created_at', 'event', 'content_type', 'object_id', 'status', 'attempts', 'sent_at', 'last_error']
    list_filter = ['status', 'event']
    list_select_related = ['content_type']
    search_fields = ['key', 'event', 'last_error']
    date_hierarchy = 'created_at'
    ordering = ['-created_at', '-id']
    actions = ['deliver_again']

    def has_change_permission(self, request, obj=None):
        # Read-only pages; the action below needs the right to change.
        return obj is None and super(ReadOnlyAdmin, self).has_change_permission(request, obj)

    @admin.action(description='Deliver again (failed rows)', permissions=['change'])
    def deliver_again(self, request, queryset):
        from django.utils import timezone

        count = queryset.filter(status=OutboxStatus.FAILED).update(
            status=OutboxStatus.PENDING, attempts=0, failed_at=None, next_attempt_at=timezone.now()
        )
        self.message_user(request, f'{count} notification(s) queued again; the next sweep delivers them.')
