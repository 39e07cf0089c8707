"""Admin for change management. Writes go through the services where they keep a timeline."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from itsm.admin import AuditedAdmin
from itsm.audit import Actor

from . import cab as cabs
from . import calendar, links
from .models import (
    AgendaItem,
    Cab,
    CabMeeting,
    CabRule,
    CabVote,
    CalendarToken,
    Change,
    ChangeModel,
    ChangeModelTask,
    ChangeTask,
    FreezeWindow,
    IncidentCause,
    RiskAnswer,
    RiskAssessment,
    RiskBand,
    RiskQuestion,
    RiskRule,
)


# ------------------------------------------------------------------------------------------ the calendar
@admin.register(FreezeWindow)
class FreezeWindowAdmin(admin.ModelAdmin):
    list_display = ['name', 'starts_at', 'ends_at', 'active']
    list_filter = ['active']
    search_fields = ['name', 'reason']
    filter_horizontal = ['services']
    date_hierarchy = 'starts_at'

    def save_model(self, request, obj, form, change):
        """Through the service (audited, services included); `save_related` then has nothing left to save."""
        fields = {name: form.cleaned_data[name] for name in calendar.FREEZE_FIELDS}
        actor = Actor.from_request(request)
        if change:
            saved = calendar.freeze_window_update(window=FreezeWindow.objects.get(pk=obj.pk), actor=actor, **fields)
        else:
            saved = calendar.freeze_window_create(actor=actor, **fields)
        obj.pk = saved.pk
        obj._state = saved._state

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request, obj):
        calendar.freeze_window_delete(window=obj, actor=Actor.from_request(request))


@admin.register(CalendarToken)
class CalendarTokenAdmin(admin.ModelAdmin):
    """Tokens are secrets: the admin shows whose they are and when they were made, and can revoke them."""

    list_display = ['user', 'created_at']
    search_fields = ['user__username', 'user__email']
    fields = ['user', 'created_at']
    readonly_fields = ['user', 'created_at']

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# ------------------------------------------------------------------------------------------ CABs
class CabAdminForm(forms.ModelForm):
    class Meta:
        model = Cab
        fields = list(cabs.CAB_FIELDS)

    def clean(self):
        data = super().clean()
        board = Cab(policy=data.get('policy'), required_approvals=data.get('required_approvals'))
        try:
            cabs.validate_cab(board, list(data.get('members') or ()))
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        return data


@admin.register(Cab)
class CabAdmin(admin.ModelAdmin):
    """Boards are saved through `changes.cab` (the policy checked against the members, the history kept)."""

    form = CabAdminForm
    list_display = ['name', 'kind', 'policy', 'required_approvals', 'active']
    list_filter = ['kind', 'policy', 'active']
    search_fields = ['name']
    filter_horizontal = ['members']

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in cabs.CAB_FIELDS if name in form.cleaned_data}
        actor = Actor.from_request(request)
        if change:
            saved = cabs.cab_update(cab=Cab.objects.get(pk=obj.pk), actor=actor, **fields)
        else:
            saved = cabs.cab_create(actor=actor, **fields)
        obj.pk = saved.pk

    def save_related(self, request, form, formsets, change):
        """The service set the members with the rest."""

    def delete_model(self, request, obj):
        cabs.cab_delete(cab=obj, actor=Actor.from_request(request))


@admin.register(CabRule)
class CabRuleAdmin(admin.ModelAdmin):
    list_display = ['position', 'name', 'change_type', 'outside_production', 'route', 'cab', 'active']
    list_filter = ['route', 'change_type', 'active']
    list_select_related = ['cab']
    search_fields = ['name']

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in cabs.RULE_FIELDS if name in form.cleaned_data}
        actor = Actor.from_request(request)
        if change:
            saved = cabs.cab_rule_update(rule=CabRule.objects.get(pk=obj.pk), actor=actor, **fields)
        else:
            saved = cabs.cab_rule_create(actor=actor, **fields)
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        cabs.cab_rule_delete(rule=obj, actor=Actor.from_request(request))


class AgendaInline(admin.TabularInline):
    """The agenda is built from the meeting's page ("Build agenda"); read here."""

    model = AgendaItem
    fields = ['position', 'change']
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CabMeeting)
class CabMeetingAdmin(admin.ModelAdmin):
    list_display = ['__str__', 'cab', 'starts_at', 'status', 'window_start', 'window_end']
    list_filter = ['status', 'cab']
    list_select_related = ['cab']
    date_hierarchy = 'starts_at'
    inlines = [AgendaInline]

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in cabs.MEETING_FIELDS if name in form.cleaned_data}
        actor = Actor.from_request(request)
        if change:
            saved = cabs.meeting_update(meeting=CabMeeting.objects.get(pk=obj.pk), actor=actor, **fields)
        else:
            saved = cabs.meeting_create(actor=actor, **fields)
        obj.pk = saved.pk

    def save_formset(self, request, form, formset, change):
        """The agenda inline is read-only."""

    def delete_model(self, request, obj):
        cabs.meeting_delete(meeting=obj, actor=Actor.from_request(request))


@admin.register(CabVote)
class CabVoteAdmin(admin.ModelAdmin):
    """Votes are cast by members on the meeting page, the change page or the API (`changes.cab.cast_vote`)."""

    list_display = ['change', 'cab', 'voter', 'vote', 'meeting', 'cast_at']
    list_filter = ['vote', 'cab']
    list_select_related = ['change', 'cab', 'voter', 'meeting__cab']
    search_fields = ['change__number', 'voter__username', 'comment']

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(IncidentCause)
class IncidentCauseAdmin(admin.ModelAdmin):
    """Causes are read here; they are recorded and removed through `changes.links` (pages and API), which write
    both records' histories."""

    list_display = ['incident', 'change', 'recorded_by', 'recorded_at']
    search_fields = ['incident__number', 'change__number']
    list_select_related = ['incident', 'change', 'recorded_by']
    date_hierarchy = 'recorded_at'

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        links.remove_cause(cause=obj, actor=Actor.from_request(request))

    def delete_queryset(self, request, queryset):
        for cause in queryset.select_related('incident', 'change'):
            links.remove_cause(cause=cause, actor=Actor.from_request(request))


# ------------------------------------------------------------------------------------------ risk
class RiskAnswerInline(admin.TabularInline):
    model = RiskAnswer
    extra = 1
    fields = ['position', 'label', 'score']


@admin.register(RiskQuestion)
class RiskQuestionAdmin(AuditedAdmin):
    list_display = ['text', 'position', 'active']
    list_filter = ['active']
    search_fields = ['text', 'help_text']
    inlines = [RiskAnswerInline]


@admin.register(RiskAnswer)
class RiskAnswerAdmin(AuditedAdmin):
    list_display = ['label', 'question', 'score', 'position']
    list_select_related = ['question']
    search_fields = ['label', 'question__text']


@admin.register(RiskBand)
class RiskBandAdmin(AuditedAdmin):
    list_display = ['min_score', 'level']
    list_filter = ['level']


@admin.register(RiskRule)
class RiskRuleAdmin(AuditedAdmin):
    list_display = ['name', 'signal', 'threshold', 'raise_to', 'active']
    list_filter = ['signal', 'raise_to', 'active']
    search_fields = ['name']


@admin.register(RiskAssessment)
class RiskAssessmentAdmin(admin.ModelAdmin):
    """Read-only: a change's answers are given on its page or through the API (its level follows them)."""

    list_display = ['change', 'question', 'answer']
    list_select_related = ['change', 'question', 'answer']
    search_fields = ['change__number']

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# ------------------------------------------------------------------------------ changes, tasks, the catalogue


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records whose every change goes through the services (the lifecycle, the timeline, the clocks)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Change)
class ChangeAdmin(ReadOnlyAdmin):
    list_display = ['number', 'short_description', 'change_type', 'state', 'risk_level', 'owner', 'planned_start']
    list_filter = ['state', 'change_type', 'risk_level', 'environment', 'outcome']
    search_fields = ['number', 'short_description', 'description']
    list_select_related = ['owner']
    date_hierarchy = 'opened_at'


@admin.register(ChangeTask)
class ChangeTaskAdmin(ReadOnlyAdmin):
    list_display = ['number', 'change', 'position', 'short_description', 'state', 'assignment_group', 'assignee']
    list_filter = ['state', 'assignment_group']
    search_fields = ['number', 'short_description', 'change__number']
    list_select_related = ['change', 'assignment_group', 'assignee']


class ChangeModelTaskInline(admin.TabularInline):
    model = ChangeModelTask
    extra = 0
    fields = ['position', 'title', 'description', 'assignment_group']


@admin.register(ChangeModel)
class ChangeModelAdmin(AuditedAdmin):
    list_display = ['name', 'risk_level', 'assignment_group', 'active']
    list_filter = ['active', 'risk_level']
    search_fields = ['name', 'description']
    inlines = [ChangeModelTaskInline]


@admin.register(ChangeModelTask)
class ChangeModelTaskAdmin(AuditedAdmin):
    list_display = ['title', 'change_model', 'position', 'assignment_group']
    list_filter = ['change_model']
    search_fields = ['title', 'change_model__name']
    list_select_related = ['change_model', 'assignment_group']
