from django.contrib import admin

from .models import DurationProfile, Prediction


@admin.register(DurationProfile)
class DurationProfileAdmin(admin.ModelAdmin):
    """Read only: profiles are rebuilt from completed tickets by the `predictions-profiles` job."""

    list_display = ('level', 'kind', 'priority', 'category', 'service', 'assignment_group', 'channel', 'samples', 'p50')
    list_filter = ('level', 'kind', 'priority')
    list_select_related = ('category', 'service', 'assignment_group')
    readonly_fields = [f.name for f in DurationProfile._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin):
    """Read only: each open ticket's prediction is written by the system as the ticket changes."""

    list_display = ('ticket', 'expected_at', 'low_at', 'high_at', 'level', 'samples', 'computed_at')
    list_filter = ('level',)
    search_fields = ('ticket__number',)
    list_select_related = ('ticket',)
    readonly_fields = [f.name for f in Prediction._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
