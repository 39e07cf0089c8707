"""CABs over the API: `/api/v1/cabs/` (boards and their members), `/api/v1/cab-rules/` (the routing as data),
`/api/v1/cab-meetings/` (with the agenda and its tallies; `POST {id}/build-agenda/`), `/api/v1/cab-agenda-items/`
and `/api/v1/cab-votes/` (a vote is cast by `POST`, through `changes.cab.cast_vote`: segregation of duties, the
meeting rule and the policy are checked there)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from itsm.api.fields import UsernameField
from itsm.api.viewsets import ItsmModelViewSet

from .. import cab as cabs
from ..filters import AgendaItemFilterSet, CabFilterSet, CabMeetingFilterSet, CabRuleFilterSet, CabVoteFilterSet
from ..models import AgendaItem, Cab, CabMeeting, CabRule, CabVote, Change


class CabField(serializers.SlugRelatedField):
    """A board by name."""

    def __init__(self, **kwargs):
        if not kwargs.get('read_only'):
            kwargs.setdefault('queryset', Cab.objects.all())
        super().__init__(slug_field='name', **kwargs)


class ChangeNumberField(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        if not kwargs.get('read_only'):
            kwargs.setdefault('queryset', Change.objects.all())
        super().__init__(slug_field='number', **kwargs)


# ------------------------------------------------------------------------------------------------ serializers
class CabSerializer(serializers.ModelSerializer):
    members = UsernameField(many=True, required=False, help_text='Usernames of the members.')

    class Meta:
        model = Cab
        fields = ['id', 'name', 'kind', 'policy', 'required_approvals', 'members', 'active', 'created_at']
        read_only_fields = ['id', 'created_at']


class CabRuleSerializer(serializers.ModelSerializer):
    cab = CabField(required=False, allow_null=True, help_text='The board (by name); empty: the first of its kind.')

    class Meta:
        model = CabRule
        fields = ['id', 'position', 'name', 'change_type', 'outside_production', 'route', 'cab', 'active']
        read_only_fields = ['id']


class AgendaEntrySerializer(serializers.Serializer):
    """One change on a meeting's agenda with where its votes stand."""

    position = serializers.IntegerField()
    change = serializers.CharField(source='change.number')
    short_description = serializers.CharField(source='change.short_description')
    state = serializers.CharField(source='change.state')
    planned_start = serializers.DateTimeField(source='change.planned_start')
    risk_level = serializers.CharField(source='change.risk_level')
    authorized_at = serializers.DateTimeField(source='change.authorized_at')
    voters = serializers.IntegerField(source='tally.voters')
    approvals = serializers.IntegerField(source='tally.approvals')
    rejections = serializers.IntegerField(source='tally.rejections')
    abstentions = serializers.IntegerField(source='tally.abstentions')
    needed = serializers.IntegerField(source='tally.needed', help_text='Approvals the policy needs.')
    policy_met = serializers.BooleanField(source='tally.met')
    cannot_be_met = serializers.BooleanField(source='tally.impossible')


class CabMeetingSerializer(serializers.ModelSerializer):
    cab = CabField()
    ends_at = serializers.DateTimeField(required=False)
    window_start = serializers.DateTimeField(required=False, help_text='Default: the meeting start.')
    window_end = serializers.DateTimeField(required=False, help_text='Default: a week after the meeting start.')
    agenda = serializers.SerializerMethodField()

    class Meta:
        model = CabMeeting
        fields = [
            'id',
            'cab',
            'starts_at',
            'ends_at',
            'window_start',
            'window_end',
            'status',
            'location',
            'minutes',
            'agenda',
        ]
        read_only_fields = ['id']

    @extend_schema(responses=AgendaEntrySerializer(many=True))
    def get_agenda(self, meeting) -> list[dict]:
        return AgendaEntrySerializer(agenda_entries(meeting), many=True).data


def agenda_entries(meeting: CabMeeting) -> list[dict]:
    members = [m for m in meeting.cab.members.all() if m.is_active]
    entries = []
    for item in meeting.agenda.all():
        change = item.change
        entries.append(
            {
                'position': item.position,
                'change': change,
                'tally': cabs.tally(change, cab=meeting.cab, members=members, votes=list(change.votes.all())),
            }
        )
    return entries


class AgendaItemSerializer(serializers.ModelSerializer):
    change = ChangeNumberField(read_only=True)

    class Meta:
        model = AgendaItem
        fields = ['id', 'meeting', 'change', 'position']
        read_only_fields = fields


class CabVoteSerializer(serializers.ModelSerializer):
    change = ChangeNumberField(help_text='The change (number) awaiting authorisation.')
    cab = CabField(read_only=True)
    voter = serializers.SlugRelatedField(slug_field='username', read_only=True)
    meeting = serializers.PrimaryKeyRelatedField(
        queryset=CabMeeting.objects.all(),
        required=False,
        allow_null=True,
        help_text='The meeting it is cast in (required except for the emergency CAB).',
    )
    comment = serializers.CharField(required=False, allow_blank=True, help_text='Required to reject.')

    class Meta:
        model = CabVote
        fields = ['id', 'change', 'cab', 'meeting', 'voter', 'vote', 'comment', 'cast_at']
        read_only_fields = ['id', 'cab', 'voter', 'cast_at']


class VoteInputSerializer(serializers.Serializer):
    vote = serializers.ChoiceField(choices=CabVote._meta.get_field('vote').choices)
    comment = serializers.CharField(required=False, allow_blank=True, help_text='Required to reject.')
    meeting = serializers.PrimaryKeyRelatedField(
        queryset=CabMeeting.objects.all(), required=False, allow_null=True, help_text='The meeting it is cast in.'
    )


# ------------------------------------------------------------------------------------------------ viewsets
class CabViewSet(ItsmModelViewSet):
    """Boards: members and approval policy. Change managers define them; staff read them."""

    queryset = Cab.objects.prefetch_related('members').order_by('kind', 'name')
    serializer_class = CabSerializer
    filterset_class = CabFilterSet

    def perform_create(self, serializer):
        serializer.instance = cabs.cab_create(actor=self.actor(), **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = cabs.cab_update(cab=serializer.instance, actor=self.actor(), **serializer.validated_data)

    def perform_destroy(self, instance):
        cabs.cab_delete(cab=instance, actor=self.actor())


class CabRuleViewSet(ItsmModelViewSet):
    """The CAB rules, tried by position: the first active one matching a change decides its route."""

    queryset = CabRule.objects.select_related('cab').order_by('position', 'pk')
    serializer_class = CabRuleSerializer
    filterset_class = CabRuleFilterSet

    def perform_create(self, serializer):
        serializer.instance = cabs.cab_rule_create(actor=self.actor(), **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = cabs.cab_rule_update(
            rule=serializer.instance, actor=self.actor(), **serializer.validated_data
        )

    def perform_destroy(self, instance):
        cabs.cab_rule_delete(rule=instance, actor=self.actor())


class CabMeetingViewSet(ItsmModelViewSet):
    """Meetings of a board with their agenda (each change with its votes against the policy)."""

    queryset = (
        CabMeeting.objects.select_related('cab')
        .prefetch_related('cab__members', 'agenda__change__votes')
        .order_by('-starts_at', 'pk')
    )
    serializer_class = CabMeetingSerializer
    filterset_class = CabMeetingFilterSet

    def perform_create(self, serializer):
        serializer.instance = self.reload(cabs.meeting_create(actor=self.actor(), **serializer.validated_data))

    def perform_update(self, serializer):
        meeting = cabs.meeting_update(meeting=serializer.instance, actor=self.actor(), **serializer.validated_data)
        serializer.instance = self.reload(meeting)

    def perform_destroy(self, instance):
        cabs.meeting_delete(meeting=instance, actor=self.actor())

    def reload(self, meeting):
        return self.get_queryset().get(pk=meeting.pk)

    @extend_schema(request=None, responses=CabMeetingSerializer)
    @action(detail=True, methods=['post'], url_path='build-agenda', permission_action='change')
    def build_agenda(self, request, pk=None):
        """Set the agenda to the changes awaiting the board's authorisation planned in the meeting's window (those
        already voted on here stay)."""
        meeting = self.get_object()
        cabs.build_agenda(meeting=meeting, actor=self.actor())
        return Response(self.get_serializer(self.reload(meeting)).data)


class AgendaItemViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Agenda items: built by the meeting's build-agenda action; a change manager may take one off (not once it
    was voted on in that meeting)."""

    queryset = AgendaItem.objects.select_related('meeting', 'change').order_by('meeting', 'position', 'pk')
    serializer_class = AgendaItemSerializer
    filterset_class = AgendaItemFilterSet

    def perform_destroy(self, instance):
        from itsm.audit import Actor

        cabs.agenda_item_delete(item=instance, actor=Actor.from_request(self.request))


class CabVoteViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Votes. `POST` casts one (a member of the change's board, not its requester or owner; in a meeting whose
    agenda has the change, except for the emergency CAB); voting again replaces the member's vote. Votes are not
    edited or deleted."""

    queryset = CabVote.objects.select_related('change', 'cab', 'voter', 'meeting').order_by('change', 'cast_at', 'pk')
    serializer_class = CabVoteSerializer
    filterset_class = CabVoteFilterSet

    def create(self, request, *args, **kwargs):
        from itsm.audit import Actor

        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        vote = cabs.cast_vote(
            change=data['change'],
            actor=Actor.from_request(request),
            vote=data['vote'],
            comment=data.get('comment', ''),
            meeting=data.get('meeting'),
        )
        vote = self.get_queryset().get(pk=vote.pk)
        return Response(self.get_serializer(vote).data, status=status.HTTP_201_CREATED)


class ChangeVoteViewSet(viewsets.GenericViewSet):
    """`POST /changes/{number}/vote/`: a member's vote on the change (the same rules as `POST /cab-votes/`)."""

    queryset = Change.objects.select_related('cab')
    serializer_class = CabVoteSerializer
    permission_action: str | None = None  # set per action
    lookup_field = 'number'
    lookup_value_regex = '[A-Z]+[0-9]+'

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    @extend_schema(request=VoteInputSerializer, responses={201: CabVoteSerializer})
    @action(detail=True, methods=['post'], permission_action='view')
    def vote(self, request, number=None):
        """Approve, reject (with the reason) or abstain; in a meeting whose agenda has the change, except for the
        emergency CAB. Voting again replaces your vote."""
        from itsm.audit import Actor
        from itsm.errors import NotAllowed
        from itsm.permissions import user_can

        change = self.get_object()
        if not user_can(request.user, CabVote, 'add'):
            raise NotAllowed('Only CAB members vote.')
        serializer = VoteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        vote = cabs.cast_vote(
            change=change,
            actor=Actor.from_request(request),
            vote=data['vote'],
            comment=data.get('comment', ''),
            meeting=data.get('meeting'),
        )
        vote = CabVote.objects.select_related('change', 'cab', 'voter', 'meeting').get(pk=vote.pk)
        return Response(CabVoteSerializer(vote).data, status=status.HTTP_201_CREATED)


def register(router) -> None:
    router.register('cabs', CabViewSet, basename='cab')
    router.register('cab-rules', CabRuleViewSet, basename='cabrule')
    router.register('cab-meetings', CabMeetingViewSet, basename='cabmeeting')
    router.register('cab-agenda-items', AgendaItemViewSet, basename='agendaitem')
    router.register('cab-votes', CabVoteViewSet, basename='cabvote')
    router.register('changes', ChangeVoteViewSet, basename='change-cab')
