"""Major incidents as the API shows them, and the input of their actions. Serializers validate and shape data;
`major_incidents.services` and `major_incidents.review` decide."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from cmdb.api.fields import CINumberField
from cmdb.models import ConfigurationItem
from incidents.models import Ticket
from itsm.api.fields import UsernameField
from itsm.choices import TicketKind

from ..choices import ACTIVE, UpdateAudience, UpdateStatus
from ..models import (
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
from ..review import is_overdue

ROLE_FIELDS = ('incident_manager', 'tech_lead', 'communications_lead', 'service_owner', 'business_owner')


class IncidentNumberField(serializers.SlugRelatedField):
    """An incident by its number (INC0001234), in any case, among those the requesting person may see
    (`visible_to`): a security incident is "not found" to others, as a number that does not exist."""

    def __init__(self, **kwargs):
        if not kwargs.get('read_only'):
            kwargs.setdefault('queryset', Ticket.objects.filter(kind=TicketKind.INCIDENT))
        super().__init__(slug_field='number', **kwargs)

    def get_queryset(self):
        queryset = super().get_queryset()
        request = self.context.get('request')
        return queryset.visible_to(request.user) if request is not None else queryset

    def to_internal_value(self, data):
        return super().to_internal_value(str(data).strip().upper())


class MajorNumberField(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        if not kwargs.get('read_only'):
            kwargs.setdefault('queryset', MajorIncident.objects.all())
        super().__init__(slug_field='number', **kwargs)

    def to_internal_value(self, data):
        return super().to_internal_value(str(data).strip().upper())


class MajorItemRefSerializer(serializers.ModelSerializer):
    """A service or configuration item, by number and name."""

    class Meta:
        model = ConfigurationItem
        fields = ['number', 'name']
        read_only_fields = fields


@extend_schema_field(
    {
        'type': 'object',
        'properties': {name: {'type': 'string'} for name in ('page', 'updates', 'children', 'recipients', 'review')},
    }
)
class MajorLinksField(serializers.Field):
    """Where to read more about a major incident: its page and its nested API collections."""

    def __init__(self, **kwargs):
        kwargs['source'] = '*'
        kwargs['read_only'] = True
        super().__init__(**kwargs)

    def to_representation(self, major):
        request = self.context.get('request')
        base = f'/api/v1/major-incidents/{major.number}/'
        links = {
            'page': major.get_absolute_url(),
            'updates': f'{base}updates/',
            'children': f'{base}children/',
            'recipients': f'{base}recipients/',
            'review': f'{base}review/',
        }
        if request is not None:
            links = {key: request.build_absolute_uri(path) for key, path in links.items()}
        return links


class MajorIncidentSerializer(serializers.ModelSerializer):
    """A major incident. On create (a declaration) the descriptive fields, the services and CIs, the source
    incident or candidate and the incident manager may be given; the team and the stages change through the
    actions."""

    state_label = serializers.CharField(source='get_state_display', read_only=True)
    priority_label = serializers.CharField(source='get_priority_display', read_only=True)
    title = serializers.CharField(read_only=True, help_text='The public title, else the short description.')
    services = CINumberField(services_only=True, many=True, required=False, help_text='Service CI numbers.')
    cis = CINumberField(many=True, required=False, help_text='Configuration item numbers.')
    service_details = MajorItemRefSerializer(source='services', many=True, read_only=True)
    ci_details = MajorItemRefSerializer(source='cis', many=True, read_only=True)
    source_incident = IncidentNumberField(required=False, allow_null=True, help_text='The incident it came from.')
    candidate = serializers.PrimaryKeyRelatedField(
        queryset=MajorIncidentCandidate.objects.all(),
        required=False,
        allow_null=True,
        write_only=True,
        help_text='The candidate it is declared from (id).',
    )
    incident_manager = UsernameField(required=False, allow_null=True, help_text='An incident manager (username).')
    tech_lead = serializers.SlugRelatedField(slug_field='username', read_only=True)
    communications_lead = serializers.SlugRelatedField(slug_field='username', read_only=True)
    service_owner = serializers.SlugRelatedField(slug_field='username', read_only=True)
    business_owner = serializers.SlugRelatedField(slug_field='username', read_only=True)
    support_staff = serializers.SlugRelatedField(slug_field='username', many=True, read_only=True)
    opened_by = serializers.SlugRelatedField(slug_field='username', read_only=True)
    outage_started_at = serializers.DateTimeField(required=False)
    opened_at = serializers.DateTimeField(required=False)
    overdue = serializers.SerializerMethodField(help_text='An update is due and has not been posted.')
    children_count = serializers.SerializerMethodField(help_text='Incidents linked as children.')
    links = MajorLinksField()

    class Meta:
        model = MajorIncident
        fields = [
            'number',
            'state',
            'state_label',
            'priority',
            'priority_label',
            'severity',
            'mode',
            'service_impact',
            'title',
            'public_title',
            'short_description',
            'description',
            'services',
            'service_details',
            'cis',
            'ci_details',
            'source_incident',
            'candidate',
            *ROLE_FIELDS,
            'support_staff',
            'opened_by',
            'outage_started_at',
            'opened_at',
            'declared_at',
            'restored_at',
            'closed_at',
            'resolution',
            'cancel_reason',
            'update_interval_minutes',
            'last_update_at',
            'next_update_due',
            'overdue',
            'children_count',
            'handoff_owner',
            'handoff_reference',
            'handoff_estimate',
            'handed_off_at',
            'links',
        ]
        read_only_fields = [
            'number',
            'state',
            'mode',
            'declared_at',
            'restored_at',
            'closed_at',
            'resolution',
            'cancel_reason',
            'update_interval_minutes',
            'last_update_at',
            'next_update_due',
            'handoff_owner',
            'handoff_reference',
            'handoff_estimate',
            'handed_off_at',
        ]

    def get_overdue(self, major) -> bool:
        flagged = getattr(major, 'update_overdue', None)  # the list selector's annotation
        if flagged is not None:
            return flagged
        due = major.next_update_due
        return bool(due and major.state in ACTIVE and due < timezone.now())

    def get_children_count(self, major) -> int:
        counted = getattr(major, 'child_count', None)  # the list selector's annotation
        return counted if counted is not None else major.child_links.count()


class MajorIncidentUpdateFieldsSerializer(MajorIncidentSerializer):
    """PATCH: descriptive fields, priority, severity, impact, services and CIs (the team through `set-team`; the
    source of a declaration stays as declared)."""

    source_incident = IncidentNumberField(read_only=True)
    incident_manager = serializers.SlugRelatedField(slug_field='username', read_only=True)
    outage_started_at = serializers.DateTimeField(required=False)
    opened_at = serializers.DateTimeField(read_only=True)
    update_interval_minutes = serializers.IntegerField(
        required=False, min_value=1, help_text='Minutes between updates (at least 5; longer only for long outages).'
    )

    class Meta(MajorIncidentSerializer.Meta):
        fields = [name for name in MajorIncidentSerializer.Meta.fields if name != 'candidate']


# --------------------------------------------------------------------------------------------------- actions
@extend_schema_serializer(component_name='MajorIncidentTeam')
class TeamSerializer(serializers.Serializer):
    """The response team, by username. Roles left out are not changed."""

    incident_manager = UsernameField(required=False, allow_null=True)
    tech_lead = UsernameField(required=False, allow_null=True)
    communications_lead = UsernameField(required=False, allow_null=True)
    service_owner = UsernameField(required=False, allow_null=True)
    business_owner = UsernameField(required=False, allow_null=True)
    support_staff = UsernameField(many=True, required=False)
    note = serializers.CharField(required=False, allow_blank=True, default='')


@extend_schema_serializer(component_name='MajorIncidentResolve')
class ResolveSerializer(serializers.Serializer):
    resolution = serializers.CharField(help_text='What restored the service (the child incidents are told).')
    note = serializers.CharField(required=False, allow_blank=True, default='')


@extend_schema_serializer(component_name='MajorIncidentUpdatePost')
class UpdatePostSerializer(serializers.Serializer):
    audience = serializers.ChoiceField(choices=UpdateAudience.choices)
    body = serializers.CharField(required=False, allow_blank=True, default='', help_text='Left empty: the template.')
    status = serializers.ChoiceField(choices=UpdateStatus.choices, required=False, allow_blank=True, default='')
    subject = serializers.CharField(required=False, allow_blank=True, default='', max_length=200)
    template = serializers.PrimaryKeyRelatedField(
        queryset=UpdateTemplate.objects.filter(active=True),
        required=False,
        allow_null=True,
        help_text='The template the text came from (id).',
    )

    def validate(self, data):
        if not data.get('body', '').strip() and data.get('template') is None:
            raise serializers.ValidationError({'body': 'Write the update, or choose a template.'})
        return data


@extend_schema_serializer(component_name='MajorIncidentLinkChildren')
class LinkChildrenSerializer(serializers.Serializer):
    incidents = IncidentNumberField(many=True, allow_empty=False, help_text='Incident numbers.')


@extend_schema_serializer(component_name='MajorIncidentHandOff')
class HandOffSerializer(serializers.Serializer):
    handoff_owner = serializers.CharField(max_length=120, help_text='The team that now owns the fix.')
    handoff_reference = serializers.CharField(
        max_length=120, required=False, allow_blank=True, default='', help_text="Their system of record's issue."
    )
    handoff_estimate = serializers.DateTimeField(required=False, allow_null=True, default=None)
    note = serializers.CharField(required=False, allow_blank=True, default='')


# ------------------------------------------------------------------------------------------ nested records
class MajorChildSerializer(serializers.ModelSerializer):
    major_incident = MajorNumberField(read_only=True)
    incident = IncidentNumberField(read_only=True)
    short_description = serializers.CharField(source='incident.short_description', read_only=True)
    incident_state = serializers.CharField(source='incident.state', read_only=True)
    caller = serializers.SlugRelatedField(source='incident.caller', slug_field='username', read_only=True)
    linked_by = serializers.SlugRelatedField(slug_field='username', read_only=True)

    class Meta:
        model = MajorIncidentChild
        fields = [
            'id',
            'major_incident',
            'incident',
            'short_description',
            'incident_state',
            'caller',
            'linked_by',
            'linked_at',
        ]
        read_only_fields = fields


class MajorChildLinkSerializer(serializers.Serializer):
    """Link one incident (flat collection) to a major incident."""

    major_incident = MajorNumberField()
    incident = IncidentNumberField()


class MajorUpdateSerializer(serializers.ModelSerializer):
    major_incident = MajorNumberField(read_only=True)
    posted_by = serializers.SlugRelatedField(slug_field='username', read_only=True)

    class Meta:
        model = MajorIncidentUpdate
        fields = [
            'id',
            'major_incident',
            'audience',
            'status',
            'subject',
            'body',
            'template',
            'posted_by',
            'posted_at',
            'due_at',
            'on_time',
            'recipient_count',
        ]
        read_only_fields = fields


class MajorRecipientSerializer(serializers.ModelSerializer):
    major_incident = MajorNumberField(read_only=True)
    person = UsernameField(required=False, allow_null=True)

    class Meta:
        model = Recipient
        fields = ['id', 'major_incident', 'email', 'name', 'person', 'source', 'added_at']
        read_only_fields = ['id', 'major_incident', 'source', 'added_at']
        extra_kwargs = {'email': {'required': False, 'allow_blank': True, 'help_text': "Left out: the person's."}}
        validators = []  # one per address: the service answers 409 naming it


class MajorRecipientAddSerializer(MajorRecipientSerializer):
    """Add someone to a major incident's recipient list (flat collection: name the major incident)."""

    major_incident = MajorNumberField()

    class Meta(MajorRecipientSerializer.Meta):
        read_only_fields = ['id', 'source', 'added_at']


class MajorValidationSerializer(serializers.ModelSerializer):
    major_incident = MajorNumberField(read_only=True)
    validated_by = serializers.SlugRelatedField(slug_field='username', read_only=True)

    class Meta:
        model = Validation
        fields = ['id', 'major_incident', 'role', 'validated_by', 'validated_at', 'note']
        read_only_fields = fields


class CadenceReminderSerializer(serializers.ModelSerializer):
    major_incident = MajorNumberField(read_only=True)
    sent_to = serializers.SlugRelatedField(slug_field='username', read_only=True)

    class Meta:
        model = CadenceReminder
        fields = ['id', 'major_incident', 'due_at', 'sent_at', 'sent_to']
        read_only_fields = fields


class UpdateTemplateSerializer(serializers.ModelSerializer):
    class Meta:
        model = UpdateTemplate
        fields = ['id', 'name', 'audience', 'status', 'subject', 'body', 'active', 'created_at', 'updated_at']
        read_only_fields = ['id', 'created_at', 'updated_at']


class MajorCandidateSerializer(serializers.ModelSerializer):
    incident = IncidentNumberField(read_only=True)
    incidents = IncidentNumberField(many=True, read_only=True)
    service = serializers.SlugRelatedField(slug_field='number', read_only=True)
    ci = serializers.SlugRelatedField(slug_field='number', read_only=True)
    major_incident = MajorNumberField(read_only=True)
    decided_by = serializers.SlugRelatedField(slug_field='username', read_only=True)

    class Meta:
        model = MajorIncidentCandidate
        fields = [
            'id',
            'reason',
            'status',
            'incident',
            'incidents',
            'service',
            'ci',
            'incident_count',
            'detected_at',
            'major_incident',
            'decided_by',
            'decided_at',
            'dismiss_reason',
        ]
        read_only_fields = fields


class MajorCandidateDismissSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


# ---------------------------------------------------------------------------------------------- the review
class ActionItemSerializer(serializers.ModelSerializer):
    major_incident = serializers.CharField(source='review.major_incident.number', read_only=True)
    review = serializers.PrimaryKeyRelatedField(queryset=PostIncidentReview.objects.all(), help_text='Review id.')
    owner = UsernameField()
    done_by = serializers.SlugRelatedField(slug_field='username', read_only=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = ActionItem
        fields = [
            'id',
            'review',
            'major_incident',
            'description',
            'owner',
            'due_date',
            'notes',
            'done_at',
            'done_by',
            'overdue',
            'created_at',
            'updated_at',
        ]
        read_only_fields = ['id', 'done_at', 'done_by', 'created_at', 'updated_at']

    def get_overdue(self, item) -> bool:
        return is_overdue(item)  # due by the desk's calendar, as the reminders and the pages count it


class ActionItemUpdateSerializer(ActionItemSerializer):
    review = serializers.PrimaryKeyRelatedField(read_only=True)


class ActionItemDoneSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default='')


class PostIncidentReviewSerializer(serializers.ModelSerializer):
    major_incident = MajorNumberField(read_only=True)
    problem = serializers.SlugRelatedField(slug_field='number', read_only=True)
    author = serializers.SlugRelatedField(slug_field='username', read_only=True)
    action_items = ActionItemSerializer(many=True, read_only=True)

    class Meta:
        model = PostIncidentReview
        fields = [
            'id',
            'major_incident',
            'outage_started_at',
            'outage_ended_at',
            'summary',
            'root_cause',
            'what_went_well',
            'what_went_badly',
            'process_rating',
            'process_notes',
            'problem',
            'author',
            'completed_at',
            'action_items',
            'created_at',
            'updated_at',
        ]
        read_only_fields = ['id', 'major_incident', 'problem', 'author', 'completed_at', 'created_at', 'updated_at']
        extra_kwargs = {'outage_started_at': {'required': False}}
