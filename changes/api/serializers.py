"""Change representations and the input serializers of the change and task actions. They validate; services decide."""

from __future__ import annotations

from rest_framework import serializers

from cmdb.api.fields import CINumberField
from incidents.models import Ticket
from itsm.api.fields import GroupField, UsernameField
from problems.models import Problem

from ..choices import ChangeOutcome, ChangeType
from ..models import Change, ChangeModel, ChangeModelTask, ChangeTask


class RecordNumberField(serializers.SlugRelatedField):
    """A record by its reference number."""

    def __init__(self, **kwargs):
        kwargs.setdefault('slug_field', 'number')
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        return super().to_internal_value(str(data).strip().upper())


class VisibleIncidentNumberField(RecordNumberField):
    """An incident by its number, among those the requesting person may see (`visible_to`): a security incident is
    "not found" to others, as a number that does not exist."""

    def get_queryset(self):
        request = self.context.get('request')
        return Ticket.objects.visible_to(request.user) if request is not None else Ticket.objects.all()


class ChangeModelField(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        kwargs.setdefault('slug_field', 'name')
        kwargs.setdefault('queryset', ChangeModel.objects.all())
        super().__init__(**kwargs)


class TaskSummarySerializer(serializers.ModelSerializer):
    group = serializers.SlugRelatedField(source='assignment_group', slug_field='name', read_only=True)
    assignee = serializers.SlugRelatedField(slug_field='username', read_only=True)

    class Meta:
        model = ChangeTask
        fields = ['number', 'position', 'short_description', 'state', 'group', 'assignee']


class ChangeSerializer(serializers.ModelSerializer):
    """A change as the API shows it. Writable fields are those a create or an edit may set; the state, the risk,
    the CAB route, the tests, the outcome and the reasons change only through the actions."""

    change_model = ChangeModelField(required=False, allow_null=True, help_text='Standard changes: the model (name).')
    requester = UsernameField(required=False, allow_null=True)
    owner = UsernameField(required=False, allow_null=True)
    group = GroupField(source='assignment_group', required=False, allow_null=True)
    assignee = serializers.SlugRelatedField(slug_field='username', read_only=True)
    opened_by = serializers.SlugRelatedField(slug_field='username', read_only=True)
    cis = CINumberField(many=True, required=False, help_text='Configuration item numbers.')
    services = CINumberField(services_only=True, many=True, required=False, help_text='Service CI numbers.')
    problems = RecordNumberField(
        many=True, required=False, queryset=Problem.objects.all(), help_text='Problem numbers.'
    )
    incidents = VisibleIncidentNumberField(
        many=True, required=False, queryset=Ticket.objects.all(), help_text='Incident numbers.'
    )
    cab = serializers.SlugRelatedField(slug_field='name', read_only=True)
    tasks = TaskSummarySerializer(many=True, read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Change
        fields = [
            'number',
            'state',
            'change_type',
            'change_model',
            'short_description',
            'description',
            'requester',
            'owner',
            'group',
            'assignee',
            'opened_by',
            'cis',
            'services',
            'environment',
            'planned_start',
            'planned_end',
            'actual_start',
            'actual_end',
            'justification',
            'implementation_plan',
            'backout_plan',
            'test_plan',
            'test_results',
            'tests_passed',
            'test_gate_bypass_reason',
            'questionnaire_level',
            'risk_level',
            'risk_reasons',
            'risk_assessed_at',
            'cab_route',
            'cab',
            'authorized_at',
            'freeze_override_reason',
            'outcome',
            'review_notes',
            'cancel_reason',
            'rejection_reason',
            'problems',
            'incidents',
            'tasks',
            'opened_at',
            'closed_at',
            'created_at',
            'updated_at',
            'url',
        ]
        read_only_fields = [
            'number',
            'state',
            'environment',
            'actual_start',
            'actual_end',
            'test_results',
            'tests_passed',
            'test_gate_bypass_reason',
            'questionnaire_level',
            'risk_level',
            'risk_reasons',
            'risk_assessed_at',
            'cab_route',
            'authorized_at',
            'freeze_override_reason',
            'outcome',
            'review_notes',
            'cancel_reason',
            'rejection_reason',
            'opened_at',
            'closed_at',
            'created_at',
            'updated_at',
        ]

    def get_url(self, change) -> str:
        request = self.context.get('request')
        path = change.get_absolute_url()
        return request.build_absolute_uri(path) if request else path


class ChangeCreateSerializer(ChangeSerializer):
    change_type = serializers.ChoiceField(choices=ChangeType.choices, default=ChangeType.NORMAL)


class ChangeUpdateSerializer(ChangeSerializer):
    """PATCH: the description, people, CIs and services, window, plans and links (the type and model in draft)."""

    assignee = UsernameField(required=False, allow_null=True)
    review_notes = serializers.CharField(required=False, allow_blank=True)


# --------------------------------------------------------------------------------------------------- actions
class ScheduleSerializer(serializers.Serializer):
    planned_start = serializers.DateTimeField(required=False, allow_null=True, default=None)
    planned_end = serializers.DateTimeField(required=False, allow_null=True, default=None)
    freeze_override_reason = serializers.CharField(
        required=False, allow_blank=True, default='', max_length=300, help_text='Why the change may enter a freeze.'
    )


class TestsSerializer(serializers.Serializer):
    test_results = serializers.CharField(help_text='What was tested and what came out.')
    tests_passed = serializers.BooleanField(help_text='Whether the tests passed.')


class CloseSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=ChangeOutcome.choices)
    review_notes = serializers.CharField(
        required=False, allow_blank=True, default='', help_text='Required for failed and emergency changes.'
    )


class TaskInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default='')
    group = GroupField(source='assignment_group', required=False, allow_null=True, default=None)
    assignee = UsernameField(required=False, allow_null=True, default=None)
    position = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=0)


# ------------------------------------------------------------------------------------------------------ tasks
class ChangeTaskSerializer(serializers.ModelSerializer):
    change = RecordNumberField(queryset=Change.objects.all(), help_text='The change (number).')
    short_description = serializers.CharField(max_length=200)
    group = GroupField(source='assignment_group', required=False, allow_null=True)
    assignee = UsernameField(required=False, allow_null=True)
    opened_by = serializers.SlugRelatedField(slug_field='username', read_only=True)
    position = serializers.IntegerField(required=False, allow_null=True, min_value=0)

    class Meta:
        model = ChangeTask
        fields = [
            'number',
            'change',
            'position',
            'state',
            'short_description',
            'description',
            'group',
            'assignee',
            'opened_by',
            'opened_at',
            'started_at',
            'done_at',
            'closed_at',
        ]
        read_only_fields = ['number', 'state', 'opened_at', 'started_at', 'done_at', 'closed_at']


class ChangeTaskUpdateSerializer(ChangeTaskSerializer):
    change = serializers.SlugRelatedField(slug_field='number', read_only=True)
    short_description = serializers.CharField(max_length=200, required=False)


# -------------------------------------------------------------------------------------------------- catalogue
class ChangeModelTaskSerializer(serializers.ModelSerializer):
    change_model = ChangeModelField()
    group = GroupField(source='assignment_group', required=False, allow_null=True)

    class Meta:
        model = ChangeModelTask
        fields = ['id', 'change_model', 'position', 'title', 'description', 'group']
        read_only_fields = ['id']


class NestedModelTaskSerializer(ChangeModelTaskSerializer):
    class Meta(ChangeModelTaskSerializer.Meta):
        fields = ['id', 'position', 'title', 'description', 'group']


class ChangeModelSerializer(serializers.ModelSerializer):
    group = GroupField(source='assignment_group', required=False, allow_null=True)
    tasks = NestedModelTaskSerializer(many=True, read_only=True)

    class Meta:
        model = ChangeModel
        fields = [
            'id',
            'name',
            'description',
            'risk_level',
            'group',
            'implementation_plan',
            'backout_plan',
            'test_plan',
            'active',
            'tasks',
            'created_at',
            'updated_at',
        ]
        read_only_fields = ['id', 'created_at', 'updated_at']
