"""Problem representations and the input serializers of the problem actions. They validate; services decide."""

from __future__ import annotations

from rest_framework import serializers

from cmdb.api.fields import CINumberField
from incidents.api.fields import CategoryField
from itsm.api.fields import GroupField, UsernameField

from ..choices import AnalysisMethod, RootCauseCategory
from ..models import CategoryPriority, Problem


class ProblemSerializer(serializers.ModelSerializer):
    """A problem as the API shows it. Writable fields are those a create or an edit may set; the analysis, the
    resolution and the state change only through the actions."""

    owner = UsernameField(required=False, allow_null=True, help_text='A problem manager (username).')
    group = GroupField(source='assignment_group', required=False, allow_null=True)
    assignee = serializers.SlugRelatedField(slug_field='username', read_only=True)
    vendor = serializers.CharField(read_only=True)
    vendor_reference = serializers.CharField(read_only=True)
    opened_by = serializers.SlugRelatedField(slug_field='username', read_only=True)
    category = CategoryField(required=False, allow_null=True)
    subcategory = CategoryField(subcategory=True, required=False, allow_null=True)
    services = CINumberField(services_only=True, many=True, required=False, help_text='Service CI numbers.')
    cis = CINumberField(many=True, required=False, help_text='Configuration item numbers.')
    priority_label = serializers.SerializerMethodField()
    incident_count = serializers.IntegerField(read_only=True, help_text='Incidents linked to the problem.')
    symptoms = serializers.CharField(required=False, allow_blank=True)
    workaround = serializers.CharField(required=False, allow_blank=True)
    root_cause = serializers.CharField(read_only=True)
    root_cause_category = serializers.CharField(read_only=True)
    contributing_factors = serializers.CharField(read_only=True)
    analysis_method = serializers.CharField(read_only=True)
    resolution = serializers.CharField(read_only=True)
    change_reference = serializers.CharField(read_only=True)
    opened_at = serializers.DateTimeField(required=False)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Problem
        fields = [
            'number',
            'state',
            'short_description',
            'description',
            'owner',
            'group',
            'assignee',
            'opened_by',
            'category',
            'subcategory',
            'impact',
            'urgency',
            'priority',
            'priority_label',
            'services',
            'cis',
            'incident_count',
            'vendor',
            'vendor_reference',
            'awaiting_vendor_since',
            'symptoms',
            'root_cause',
            'root_cause_category',
            'contributing_factors',
            'analysis_method',
            'root_cause_found_at',
            'workaround',
            'resolution',
            'resolved_at',
            'change_reference',
            'cancel_reason',
            'opened_at',
            'closed_at',
            'created_at',
            'updated_at',
            'url',
        ]

    def get_priority_label(self, problem) -> str:
        return problem.get_priority_display()

    def get_url(self, problem) -> str:
        request = self.context.get('request')
        path = problem.get_absolute_url()
        return request.build_absolute_uri(path) if request else path


class ProblemUpdateSerializer(ProblemSerializer):
    """PATCH: descriptive fields, the assignee and supplier details (not `opened_at`, `symptoms` or `workaround`:
    the analysis action records those)."""

    assignee = UsernameField(required=False, allow_null=True)
    vendor = serializers.CharField(required=False, allow_blank=True, max_length=120)
    vendor_reference = serializers.CharField(required=False, allow_blank=True, max_length=120)
    opened_at = serializers.DateTimeField(read_only=True)
    symptoms = serializers.CharField(read_only=True)
    workaround = serializers.CharField(read_only=True)


# --------------------------------------------------------------------------------------------------- actions
class AssessSerializer(serializers.Serializer):
    owner = UsernameField(help_text='The problem manager who owns the problem.')
    group = GroupField(required=False, allow_null=True, help_text='The group that analyses it.')
    note = serializers.CharField(required=False, allow_blank=True, default='')


class AnalysisSerializer(serializers.Serializer):
    """What the analysis found; fields left out keep their value."""

    symptoms = serializers.CharField(required=False, allow_blank=True)
    root_cause = serializers.CharField(required=False, allow_blank=True)
    root_cause_category = serializers.ChoiceField(choices=RootCauseCategory.choices, required=False, allow_blank=True)
    contributing_factors = serializers.CharField(required=False, allow_blank=True)
    analysis_method = serializers.ChoiceField(choices=AnalysisMethod.choices, required=False, allow_blank=True)
    workaround = serializers.CharField(required=False, allow_blank=True)


class ResolveSerializer(serializers.Serializer):
    resolution = serializers.CharField(help_text='The permanent fix, and how it was verified.')
    change_reference = serializers.CharField(
        required=False, allow_blank=True, default='', max_length=40, help_text='The change that deployed the fix.'
    )


class VendorWaitSerializer(serializers.Serializer):
    vendor = serializers.CharField(required=False, allow_blank=True, default='', max_length=120)
    vendor_reference = serializers.CharField(required=False, allow_blank=True, default='', max_length=120)
    note = serializers.CharField(required=False, allow_blank=True, default='')


# -------------------------------------------------------------------------------------- category priorities
class CategoryPrioritySerializer(serializers.ModelSerializer):
    category = CategoryField(help_text='A top-level category, by name or id.')
    priority = serializers.SerializerMethodField(help_text='What the priority matrix gives for impact × urgency.')

    class Meta:
        model = CategoryPriority
        fields = ['id', 'category', 'impact', 'urgency', 'priority']
        read_only_fields = ['id']
        validators = []  # one row per category: the service answers 409 naming the category

    def get_priority(self, row) -> int:
        from incidents.priority import compute_priority

        return compute_priority(row.impact, row.urgency)
