"""Ticket representations and the small input serializers of each action (those any record shares, such as
`AssignSerializer`, come from `itsm.api.serializers`). They validate; services decide."""

from django.db.models import Prefetch, prefetch_related_objects
from rest_framework import serializers

from cmdb.api.fields import CINumberField
from cmdb.models import ConfigurationItem
from itsm.api.field_templates import FieldsBuiltOnceMixin
from itsm.api.fields import GroupField, UsernameField

# The shared action inputs, named here too for TICKET_ACTIONS.
from itsm.choices import Impact, Priority, Urgency
from itsm.models import SupportGroup, User
from predictions.api.serializers import PredictionField
from sla.api.serializers import RecordClocksField

from ..choices import PendingReason, ResolutionCode, TicketChannel
from ..models import Category, PriorityMatrixEntry, ResponseTemplate, RoutingRule, Ticket
from ..routing import validate_rule
from .fields import CategoryField

# A plain list (`to_attr`): a prefetched related manager's queryset points back at its ticket, a reference cycle
# that would keep the whole page of tickets for the cyclic garbage collector.
CHILDREN = Prefetch(
    'children',
    queryset=Ticket.objects.only(
        'pk', 'number', 'parent_id', 'caller_id', 'opened_by_id', 'assignee_id', 'security_incident'
    ),
    to_attr='child_list',
)


class TicketListSerializer(serializers.ListSerializer):
    def to_representation(self, data):
        # The resolver is named only on imported tickets; fetch those of a whole page in one query, and the
        # children of the whole page in one more.
        tickets = list(data.all() if hasattr(data, 'all') else data)
        prefetch_related_objects([t for t in tickets if t.resolved_by_id], 'resolved_by')
        prefetch_related_objects(tickets, CHILDREN)
        prefetch_related_objects([t for t in tickets if t.is_open], 'prediction')
        return super().to_representation(tickets)


class TicketSerializer(FieldsBuiltOnceMixin, serializers.ModelSerializer):
    """A ticket as the API shows it. Writable fields are those a create or an edit may set."""

    caller = UsernameField(required=False)
    opened_by = serializers.SlugRelatedField(slug_field='username', read_only=True)
    group = GroupField(source='assignment_group', read_only=True)
    assignee = serializers.SlugRelatedField(slug_field='username', read_only=True)
    service = CINumberField(services_only=True, required=False, allow_null=True)
    ci = CINumberField(required=False, allow_null=True)
    category = CategoryField(required=False, allow_null=True)
    subcategory = CategoryField(subcategory=True, required=False, allow_null=True)
    parent = serializers.SlugRelatedField(slug_field='number', read_only=True)
    children = serializers.SerializerMethodField(help_text='Numbers of the child tickets linked to this one.')
    impact = serializers.ChoiceField(choices=Impact.choices, required=False)
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
    channel = serializers.ChoiceField(choices=TicketChannel.choices, required=False)
    priority_label = serializers.CharField(read_only=True)
    opened_at = serializers.DateTimeField(required=False)
    url = serializers.SerializerMethodField()
    sla = RecordClocksField(help_text='SLA and OLA clocks.')
    resolved_by = serializers.SlugRelatedField(slug_field='username', read_only=True)
    source_system = serializers.CharField(read_only=True, help_text='The system an imported ticket came from.')
    source_number = serializers.CharField(read_only=True, help_text="The ticket's number in that system.")
    source_data = serializers.JSONField(read_only=True, help_text='Source values Pitcrew has no field for.')
    prediction = PredictionField(help_text='Predicted resolution of an open ticket (predictions app).')

    class Meta:
        model = Ticket
        list_serializer_class = TicketListSerializer
        fields = [
            'number',
            'kind',
            'alternate_number',
            'state',
            'short_description',
            'description',
            'caller',
            'opened_by',
            'channel',
            'category',
            'subcategory',
            'symptom',
            'service',
            'ci',
            'impact',
            'urgency',
            'priority',
            'priority_label',
            'priority_override_reason',
            'group',
            'assignee',
            'pending_reason',
            'pending_note',
            'pending_until',
            'resolution_code',
            'resolution_notes',
            'reassignment_count',
            'reopen_count',
            'parent',
            'children',
            'eta',
            'attention',
            'attention_since',
            'opened_at',
            'assigned_at',
            'accepted_at',
            'completed_at',
            'closed_at',
            'created_at',
            'updated_at',
            'url',
            'sla',
            'location',
            'resolved_by',
            'problem_reference',
            'change_reference',
            'caused_by_change',
            'knowledge_used',
            'security_incident',
            'source_system',
            'source_number',
            'source_data',
            'prediction',
        ]
        # Fields the model does not let anyone edit (state, counters, milestones...) are read-only already.
        read_only_fields = ['kind']

    def get_url(self, ticket) -> str:
        request = self.context.get('request')
        path = ticket.get_absolute_url()
        return request.build_absolute_uri(path) if request else path

    def get_children(self, ticket) -> list[str]:
        prefetched = getattr(ticket, 'child_list', None)  # a page's, from CHILDREN; one ticket reads its own
        children = sorted(ticket.children.all() if prefetched is None else prefetched, key=lambda child: child.pk)
        request = self.context.get('request')
        user = getattr(request, 'user', None)
        if user is not None and user.is_authenticated and user.is_requester_only:
            # A requester sees only their own tickets, children included.
            children = [c for c in children if user.pk in (c.caller_id, c.opened_by_id)]
        elif user is not None:
            # A security incident among them only for those who may see it (no query for any other child).
            children = [c for c in children if c.is_visible_to(user)]
        return [child.number for child in children]


# What the portal shows a requester of their own ticket, and so all the API shows them: no staff usernames, no
# priority override reason, no OLA clocks, no desk bookkeeping (imports, references, counters).
REQUESTER_FIELDS = [
    'number',
    'kind',
    'state',
    'short_description',
    'description',
    'caller',
    'channel',
    'category',
    'subcategory',
    'symptom',
    'service',
    'ci',
    'impact',
    'urgency',
    'priority',
    'priority_label',
    'group',
    'pending_reason',
    'pending_note',
    'pending_until',
    'resolution_code',
    'resolution_notes',
    'reopen_count',
    'parent',
    'children',
    'eta',
    'opened_at',
    'completed_at',
    'closed_at',
    'url',
    'sla',
    'prediction',
]
SLA_KINDS = ('response', 'resolution')


# What a list of tickets shows of each reference (`TicketViewSet`, `selectors.attach_references`): the people by
# username, the group and categories by name, CIs and the parent by number. A field showing more of one needs it here.
REFERENCE_COLUMNS = {
    User: ('username',),
    SupportGroup: ('name',),
    Category: ('name',),
    ConfigurationItem: ('number',),
    Ticket: ('number',),
}


class RequesterTicketSerializer(TicketSerializer):
    """A ticket as its requester reads it: the portal's fields, the SLA's clocks only, the portal's address. Input
    is the staff serializer's, so the service refuses desk fields by name (`services.requester_refusals`)."""

    sla = RecordClocksField(kinds=SLA_KINDS, help_text='The SLA clocks (response and resolution).')

    class Meta(TicketSerializer.Meta):
        fields = REQUESTER_FIELDS

    def get_url(self, ticket) -> str:
        request = self.context.get('request')
        path = ticket.notification_path(requester=True)
        return request.build_absolute_uri(path) if request else path


class TicketUpdateSerializer(TicketSerializer):
    """PATCH: descriptive fields, plus `priority` with `priority_reason` to override the matrix."""

    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    priority_reason = serializers.CharField(required=False, allow_blank=True, write_only=True)

    class Meta(TicketSerializer.Meta):
        fields = [*TicketSerializer.Meta.fields, 'priority_reason']

    def validate(self, attrs):
        if 'priority' in attrs and not (attrs.get('priority_reason') or '').strip():
            raise serializers.ValidationError({'priority_reason': 'A reason is required to override the priority.'})
        return attrs


class PendSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=PendingReason.choices)
    note = serializers.CharField(required=False, allow_blank=True, default='')
    until = serializers.DateTimeField(required=False, allow_null=True)


class EscalateSerializer(serializers.Serializer):
    group = GroupField(required=False, allow_null=True, help_text='Target group; the next tier when omitted.')
    reason = serializers.CharField()
    hierarchical = serializers.BooleanField(
        required=False, default=False, help_text='Notify the group manager instead of moving the ticket.'
    )


class CompleteSerializer(serializers.Serializer):
    resolution_code = serializers.ChoiceField(choices=ResolutionCode.choices)
    resolution_notes = serializers.CharField()


class PrioritySerializer(serializers.Serializer):
    priority = serializers.ChoiceField(choices=Priority.choices, help_text='The priority the matrix would not give.')
    reason = serializers.CharField(help_text='Why; the history keeps it.')


class SecuritySerializer(serializers.Serializer):
    security_incident = serializers.BooleanField(
        help_text='true marks the ticket as a security incident; false takes the marking off.'
    )
    reason = serializers.CharField(help_text='Why; the history keeps it.')


class ConvertSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=[('incident', 'Incident'), ('case', 'Case')])


class ParentSerializer(serializers.Serializer):
    parent = serializers.SlugRelatedField(
        slug_field='number', queryset=Ticket.objects.all(), allow_null=True, help_text='Parent ticket number.'
    )


class CategorySerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(
        slug_field='name', queryset=Category.objects.filter(parent__isnull=True), required=False, allow_null=True
    )

    class Meta:
        model = Category
        fields = ['id', 'name', 'parent', 'kinds', 'active']
        read_only_fields = ['id']
        validators = []  # the (parent, name) constraint is checked by the model, which names the clash


class PriorityMatrixEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = PriorityMatrixEntry
        fields = ['id', 'impact', 'urgency', 'priority']
        read_only_fields = ['id']


class ResponseTemplateSerializer(serializers.ModelSerializer):
    class Meta:
        model = ResponseTemplate
        fields = ['id', 'name', 'kind', 'text', 'active']
        read_only_fields = ['id']


class RoutingRuleSerializer(serializers.ModelSerializer):
    """A routing rule: conditions (blank matches anything) and the group tickets that match go to."""

    service = CINumberField(services_only=True, required=False, allow_null=True)
    ci = CINumberField(required=False, allow_null=True)
    category = serializers.PrimaryKeyRelatedField(queryset=Category.objects.all(), required=False, allow_null=True)
    assignment_group = GroupField()

    class Meta:
        model = RoutingRule
        fields = [
            'id',
            'position',
            'name',
            'active',
            'service',
            'ci',
            'category',
            'channel',
            'kind',
            'assignment_group',
        ]
        read_only_fields = ['id']

    def validate(self, attrs):
        rule = RoutingRule(**{**self._current(), **attrs})
        validate_rule(rule)  # Django's ValidationError becomes a 400 naming the field (itsm.api.errors)
        return attrs

    def _current(self) -> dict:
        if self.instance is None:
            return {}
        return {f.name: getattr(self.instance, f.name) for f in RoutingRule._meta.concrete_fields if f.name != 'id'}
