"""Admin for problem management. Problems are read-only here (their changes go through the services, which keep
the timeline); category priorities are saved through their service so open problems follow."""

from django.contrib import admin

from itsm.audit import Actor

from . import known_errors, services
from .models import CategoryPriority, KnownError, KnownErrorUse, Problem, ProblemCandidate, ProblemIncident


@admin.register(Problem)
class ProblemAdmin(admin.ModelAdmin):
    list_display = ['number', 'short_description', 'state', 'priority', 'owner', 'assignment_group', 'opened_at']
    list_filter = ['state', 'priority', 'root_cause_category', 'assignment_group']
    search_fields = ['number', 'short_description', 'root_cause', 'vendor_reference']
    list_select_related = ['owner', 'assignment_group']
    date_hierarchy = 'opened_at'

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CategoryPriority)
class CategoryPriorityAdmin(admin.ModelAdmin):
    list_display = ['category', 'impact', 'urgency']
    list_filter = ['impact', 'urgency']
    search_fields = ['category__name']
    list_select_related = ['category']

    def save_model(self, request, obj, form, change):
        actor = Actor.from_request(request)
        if change:
            fields = {name: form.cleaned_data[name] for name in form.changed_data}
            stored = CategoryPriority.objects.get(pk=obj.pk)
            services.category_priority_update(row=stored, actor=actor, **fields)
        else:
            created = services.category_priority_create(
                actor=actor, category=obj.category, impact=obj.impact, urgency=obj.urgency
            )
            obj.pk = created.pk

    def delete_model(self, request, obj):
        services.category_priority_delete(row=obj, actor=Actor.from_request(request))


@admin.register(ProblemIncident)
class ProblemIncidentAdmin(admin.ModelAdmin):
    """Links are read here; they are made and removed through `problems.incident_links` (pages and API)."""

    list_display = ['incident', 'problem', 'linked_by', 'linked_at']
    search_fields = ['incident__number', 'problem__number']
    list_select_related = ['incident', 'problem', 'linked_by']
    date_hierarchy = 'linked_at'

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ProblemCandidate)
class ProblemCandidateAdmin(admin.ModelAdmin):
    """Candidates are read here: the recurrence scan writes them, problem managers accept or dismiss them on their
    pages or through the API (`problems.candidates`)."""

    list_display = ['title', 'basis', 'status', 'size', 'first_seen', 'last_seen', 'problem']
    list_filter = ['status', 'basis']
    search_fields = ['title', 'symptom', 'key', 'problem__number']
    list_select_related = ['problem']
    date_hierarchy = 'last_seen'
    raw_id_fields = ['incidents']

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(KnownError)
class KnownErrorAdmin(admin.ModelAdmin):
    """Known errors are saved through `problems.known_errors` (who may, the history); they are retired, not deleted,
    so their uses keep them."""

    list_display = ['number', 'title', 'active', 'public', 'problem', 'created_at']
    list_filter = ['active', 'public']
    search_fields = ['number', 'title', 'symptoms', 'workaround', 'problem__number']
    list_select_related = ['problem']
    raw_id_fields = ['problem', 'cis', 'services']
    readonly_fields = ['number', 'created_by', 'created_at', 'updated_at']
    fields = [
        'number',
        'title',
        'symptoms',
        'workaround',
        'root_cause',
        'public',
        'active',
        'problem',
        'cis',
        'services',
        'created_by',
        'created_at',
        'updated_at',
    ]

    def save_model(self, request, obj, form, change):
        actor = Actor.from_request(request)
        if change:
            fields = {name: form.cleaned_data[name] for name in form.changed_data}
            stored = KnownError.objects.get(pk=obj.pk)
            saved = known_errors.known_error_update(known_error=stored, actor=actor, **fields)
        else:
            fields = {name: form.cleaned_data[name] for name in known_errors.EDITABLE_FIELDS if name != 'active'}
            saved = known_errors.known_error_create(actor=actor, **fields)
            if not form.cleaned_data.get('active', True):
                saved = known_errors.known_error_retire(known_error=saved, actor=actor)
        obj.pk, obj.number = saved.pk, saved.number

    def save_related(self, request, form, formsets, change):
        """The service set the CIs and services with the rest."""

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(KnownErrorUse)
class KnownErrorUseAdmin(admin.ModelAdmin):
    """Uses are read here; they are made by applying a known error to an incident (`problems.known_errors`)."""

    list_display = ['known_error', 'incident', 'applied_by', 'applied_at']
    search_fields = ['known_error__number', 'incident__number']
    list_select_related = ['known_error', 'incident', 'applied_by']
    date_hierarchy = 'applied_at'

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
