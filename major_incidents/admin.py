"""Admin for major incidents. The records and everything that happens to them are read-only here: they change
through `major_incidents.services` and `major_incidents.review`, which keep the timeline, tell people and run the
guards. Update templates are data an administrator edits; their saves go through the audited record services."""

from django.contrib import admin

from itsm import services as records
from itsm.audit import Actor

from .models import (
    ActionItem,
    CadenceReminder,
    MajorIncident,
    MajorIncidentCandidate,
    MajorIncidentChild,
    MajorIncidentUpdate,
    PostIncidentReview,
    Recipient,
    UpdateTemplate,
    Validation,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewed here, written by the services only."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(MajorIncident)
class MajorIncidentAdmin(ReadOnlyAdmin):
    list_display = [
        'number',
        'short_description',
        'state',
        'priority',
        'severity',
        'mode',
        'incident_manager',
        'declared_at',
        'restored_at',
    ]
    list_filter = ['state', 'priority', 'severity', 'mode', 'service_impact']
    search_fields = ['number', 'short_description', 'public_title', 'handoff_reference']
    list_select_related = ['incident_manager']
    raw_id_fields = [
        'source_incident',
        'incident_manager',
        'tech_lead',
        'communications_lead',
        'service_owner',
        'business_owner',
        'assignment_group',
        'assignee',
        'opened_by',
    ]
    date_hierarchy = 'declared_at'


@admin.register(MajorIncidentChild)
class MajorIncidentChildAdmin(ReadOnlyAdmin):
    list_display = ['incident', 'major_incident', 'linked_by', 'linked_at']
    search_fields = ['incident__number', 'major_incident__number']
    list_select_related = ['incident', 'major_incident', 'linked_by']
    raw_id_fields = ['incident', 'major_incident', 'linked_by']
    date_hierarchy = 'linked_at'


@admin.register(Recipient)
class RecipientAdmin(ReadOnlyAdmin):
    list_display = ['email', 'name', 'source', 'major_incident', 'added_at']
    list_filter = ['source']
    search_fields = ['email', 'name', 'major_incident__number']
    list_select_related = ['major_incident']
    raw_id_fields = ['major_incident', 'person']


@admin.register(UpdateTemplate)
class UpdateTemplateAdmin(admin.ModelAdmin):
    list_display = ['name', 'audience', 'status', 'active', 'updated_at']
    list_filter = ['audience', 'status', 'active']
    search_fields = ['name', 'subject', 'body']

    def save_model(self, request, obj, form, change):
        actor = Actor.from_request(request)
        if change:
            stored = UpdateTemplate.objects.get(pk=obj.pk)
            fields = {name: form.cleaned_data[name] for name in form.changed_data}
            records.record_update(obj=stored, fields=fields, actor=actor)
        else:
            created = records.record_create(model=UpdateTemplate, fields=dict(form.cleaned_data), actor=actor)
            obj.pk = created.pk

    def delete_model(self, request, obj):
        records.record_delete(obj=obj, actor=Actor.from_request(request))


@admin.register(MajorIncidentUpdate)
class MajorIncidentUpdateAdmin(ReadOnlyAdmin):
    list_display = ['major_incident', 'audience', 'status', 'subject', 'posted_by', 'posted_at', 'on_time']
    list_filter = ['audience', 'status', 'on_time']
    search_fields = ['major_incident__number', 'subject', 'body']
    list_select_related = ['major_incident', 'posted_by']
    raw_id_fields = ['major_incident', 'template', 'posted_by']
    date_hierarchy = 'posted_at'


@admin.register(CadenceReminder)
class CadenceReminderAdmin(ReadOnlyAdmin):
    list_display = ['major_incident', 'due_at', 'sent_at', 'sent_to']
    search_fields = ['major_incident__number']
    list_select_related = ['major_incident', 'sent_to']
    raw_id_fields = ['major_incident', 'sent_to']


@admin.register(Validation)
class ValidationAdmin(ReadOnlyAdmin):
    list_display = ['major_incident', 'role', 'validated_by', 'validated_at']
    list_filter = ['role']
    search_fields = ['major_incident__number', 'validated_by__username']
    list_select_related = ['major_incident', 'validated_by']
    raw_id_fields = ['major_incident', 'validated_by']


class ActionItemInline(admin.TabularInline):
    model = ActionItem
    fields = ['description', 'owner', 'due_date', 'done_at']
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PostIncidentReview)
class PostIncidentReviewAdmin(ReadOnlyAdmin):
    list_display = ['major_incident', 'author', 'process_rating', 'problem', 'completed_at', 'created_at']
    list_filter = ['process_rating']
    search_fields = ['major_incident__number', 'summary', 'root_cause']
    list_select_related = ['major_incident', 'author', 'problem']
    raw_id_fields = ['major_incident', 'problem', 'author']
    inlines = [ActionItemInline]


@admin.register(ActionItem)
class ActionItemAdmin(ReadOnlyAdmin):
    list_display = ['description', 'owner', 'due_date', 'done_at', 'major_incident']
    list_filter = ['due_date']
    search_fields = ['description', 'owner__username', 'review__major_incident__number']
    list_select_related = ['owner', 'review__major_incident']
    raw_id_fields = ['review', 'owner', 'done_by']

    @admin.display(description='Major incident', ordering='review__major_incident__number')
    def major_incident(self, item):
        return item.review.major_incident.number


@admin.register(MajorIncidentCandidate)
class MajorIncidentCandidateAdmin(ReadOnlyAdmin):
    list_display = ['__str__', 'reason', 'status', 'service', 'ci', 'incident_count', 'detected_at', 'major_incident']
    list_filter = ['reason', 'status']
    search_fields = ['incident__number', 'scope', 'major_incident__number']
    list_select_related = ['incident', 'service', 'ci', 'major_incident']
    raw_id_fields = ['incident', 'service', 'ci', 'major_incident', 'decided_by']
    date_hierarchy = 'detected_at'
