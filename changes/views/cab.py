"""CAB pages: boards (members and approval policy), the CAB rules that route changes, meetings with their agendas
(built from the changes awaiting authorisation in the meeting's window), the votes members cast there (or, for the
emergency CAB, on the change page), and the registers of agenda items and votes. Change managers define boards,
rules and meetings; staff read them; members of a change's board vote."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.views import View

from itsm.choices import Role
from itsm.errors import ApplicationError
from itsm.models import User
from itsm.views.generic import (
    Column,
    ObjectCreateView,
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    ObjectViewMixin,
    StaffOnlyMixin,
    add_service_errors,
    error_text,
)

from .. import cab as cabs
from ..choices import STATE_COLOURS, CabKind, MeetingStatus, Vote
from ..filters import AgendaItemFilterSet, CabFilterSet, CabMeetingFilterSet, CabRuleFilterSet, CabVoteFilterSet
from ..models import AgendaItem, Cab, CabMeeting, CabRule, CabVote, Change

VOTE_COLOURS = {Vote.APPROVE: 'green', Vote.REJECT: 'red', Vote.ABSTAIN: 'secondary'}
MEETING_COLOURS = {MeetingStatus.PLANNED: 'blue', MeetingStatus.HELD: 'green', MeetingStatus.CANCELLED: 'secondary'}


def cab_candidates():
    """Who may sit on a board: active staff (requesters and API clients do not)."""
    return (
        User.objects.filter(is_active=True)
        .exclude(groups__name__in=[Role.REQUESTER, Role.INTEGRATION])
        .filter(groups__isnull=False)
        .distinct()
        .order_by('last_name', 'first_name', 'username')
    )


# ------------------------------------------------------------------------------------------------ forms
class CabForm(forms.ModelForm):
    members = forms.ModelMultipleChoiceField(queryset=User.objects.none(), required=False)

    class Meta:
        model = Cab
        fields = ['name', 'kind', 'policy', 'required_approvals', 'members', 'active']

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['members'].queryset = cab_candidates()
        self.fields['members'].help_text = "The change's requester and owner never vote on it, even as members."


class EnvironmentSelect(forms.NullBooleanSelect):
    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = [
            ('unknown', 'Any environment'),
            ('true', 'All its CIs outside production'),
            ('false', 'At least one CI in production'),
        ]


class CabRuleForm(forms.ModelForm):
    outside_production = forms.NullBooleanField(required=False, widget=EnvironmentSelect, label='Environment')

    class Meta:
        model = CabRule
        fields = ['position', 'name', 'change_type', 'outside_production', 'route', 'cab', 'active']
        help_texts = {'position': 'Rules are tried from the lowest position; the first that matches decides.'}


class CabMeetingForm(forms.ModelForm):
    class Meta:
        model = CabMeeting
        fields = ['cab', 'starts_at', 'ends_at', 'window_start', 'window_end', 'location', 'status', 'minutes']
        labels = {'cab': 'CAB'}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['cab'].queryset = Cab.objects.filter(active=True, kind=CabKind.REGULAR)
        if self.instance.pk is None:
            self.fields.pop('status')
            self.fields.pop('minutes')
            for name in ('ends_at', 'window_start', 'window_end'):
                self.fields[name].required = False
            self.fields['ends_at'].help_text = 'An hour after the start when left empty.'
            self.fields['window_end'].help_text = 'Left empty: the changes planned in the week from the meeting.'


class VoteForm(forms.Form):
    vote = forms.ChoiceField(choices=Vote.choices, widget=forms.RadioSelect)
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={'rows': 2}), help_text='Required to reject.')

    def clean(self):
        data = super().clean()
        if data.get('vote') == Vote.REJECT and not (data.get('comment') or '').strip():
            self.add_error('comment', 'Say why you reject the change.')
        return data


# ------------------------------------------------------------------------------------------------ boards
CAB_QUERYSET = Cab.objects.prefetch_related('members')


class CabListView(StaffOnlyMixin, ObjectListView):
    queryset = CAB_QUERYSET
    filterset_class = CabFilterSet
    columns = [
        Column('name', linkify=True),
        'kind',
        'policy',
        Column('members', 'Members', order_by=None, template='changes/_cab_members_cell.html'),
        'active',
    ]
    title = 'CABs'


class CabDetailView(StaffOnlyMixin, ObjectDetailView):
    queryset = CAB_QUERYSET
    template_name = 'changes/cab_detail.html'
    fields = ['name', 'kind', 'policy', 'required_approvals', 'active']

    def get_extra_context(self, obj) -> dict[str, Any]:
        return {
            'members': sorted(obj.members.all(), key=lambda u: (u.last_name, u.first_name, u.username)),
            'rules': list(obj.rules.all()),
            'meetings': list(obj.meetings.all()[:10]),
            'awaiting': Change.objects.filter(cab=obj, state='authorization').count(),
        }


class CabCreateView(StaffOnlyMixin, ObjectCreateView):
    model = Cab
    form_class = CabForm
    service = cabs.cab_create


class CabEditView(StaffOnlyMixin, ObjectEditView):
    queryset = CAB_QUERYSET
    form_class = CabForm
    service = cabs.cab_update
    service_object_kwarg = 'cab'


class CabDeleteView(StaffOnlyMixin, ObjectDeleteView):
    model = Cab
    service = cabs.cab_delete
    service_object_kwarg = 'cab'
    action_description = 'A board with changes, meetings, votes or rules is kept: deactivate it instead.'


# ------------------------------------------------------------------------------------------------ rules
RULE_QUERYSET = CabRule.objects.select_related('cab')


class CabRuleListView(StaffOnlyMixin, ObjectListView):
    queryset = RULE_QUERYSET
    filterset_class = CabRuleFilterSet
    columns = ['position', Column('name', linkify=True), 'change_type', 'outside_production', 'route', 'cab', 'active']
    title = 'CAB rules'


class CabRuleDetailView(StaffOnlyMixin, ObjectDetailView):
    queryset = RULE_QUERYSET
    fields = ['position', 'name', 'change_type', 'outside_production', 'route', 'cab', 'active']


class CabRuleCreateView(StaffOnlyMixin, ObjectCreateView):
    model = CabRule
    form_class = CabRuleForm
    service = cabs.cab_rule_create


class CabRuleEditView(StaffOnlyMixin, ObjectEditView):
    queryset = RULE_QUERYSET
    form_class = CabRuleForm
    service = cabs.cab_rule_update
    service_object_kwarg = 'rule'


class CabRuleDeleteView(StaffOnlyMixin, ObjectDeleteView):
    model = CabRule
    service = cabs.cab_rule_delete
    service_object_kwarg = 'rule'


# ------------------------------------------------------------------------------------------------ meetings
MEETING_QUERYSET = CabMeeting.objects.select_related('cab')


def agenda_rows(meeting: CabMeeting, user) -> list[dict[str, Any]]:
    """Each agenda item with its change, its tally against the board's policy, its votes, the person's own vote and
    whether they may vote: a fixed number of queries whatever the agenda's length."""
    members = [m for m in meeting.cab.members.all() if m.is_active]
    member_ids = {m.pk for m in members}
    items = list(
        meeting.agenda.select_related('change', 'change__owner', 'change__requester').prefetch_related(
            'change__votes__voter'
        )
    )
    rows = []
    for index, item in enumerate(items, start=1):
        change = item.change
        votes = list(change.votes.all())
        if change.cab_id == meeting.cab_id:
            change.cab = meeting.cab  # the agenda is the meeting's board's: no query for it
            refusal = cabs.may_vote(change, user, member_ids=member_ids)
        else:
            refusal = f'{change.number} is now routed to another board.'
        rows.append(
            {
                'item': item,
                'index': index,
                'change': change,
                'tally': cabs.tally(change, cab=meeting.cab, members=members, votes=votes),
                'votes': votes,
                'mine': next((v for v in votes if v.voter_id == user.pk), None),
                'may_vote': refusal is None and meeting.status != MeetingStatus.CANCELLED,
                'refusal': refusal,
                'state_colour': STATE_COLOURS.get(change.state, 'secondary'),
            }
        )
    return rows


class CabMeetingListView(StaffOnlyMixin, ObjectListView):
    queryset = MEETING_QUERYSET
    filterset_class = CabMeetingFilterSet
    columns = [
        Column('__str__', 'Meeting', order_by='starts_at', linkify=True),
        Column('cab', 'CAB', order_by='cab__name'),
        'starts_at',
        Column('status', colors=MEETING_COLOURS),
        'window_start',
        'window_end',
        'location',
    ]
    title = 'CAB meetings'


class CabMeetingDetailView(StaffOnlyMixin, ObjectDetailView):
    queryset = MEETING_QUERYSET
    template_name = 'changes/cabmeeting_detail.html'
    fields = ['cab', 'starts_at', 'ends_at', 'window_start', 'window_end', 'status', 'location']

    def get_extra_context(self, obj) -> dict[str, Any]:
        return {
            'rows': agenda_rows(obj, self.request.user),
            'may_build': self.request.user.has_perm('changes.change_cabmeeting'),
            'may_reject': cabs.is_change_manager(self.request.user),
            'vote_form': VoteForm(),
        }


class CabMeetingCreateView(StaffOnlyMixin, ObjectCreateView):
    model = CabMeeting
    form_class = CabMeetingForm
    service = cabs.meeting_create
    success_message = 'Meeting planned; its agenda lists the changes awaiting the board in its window.'

    def service_fields(self, form) -> dict[str, Any]:
        return {k: v for k, v in form.cleaned_data.items() if v not in (None, '')}


class CabMeetingEditView(StaffOnlyMixin, ObjectEditView):
    queryset = MEETING_QUERYSET
    form_class = CabMeetingForm
    service = cabs.meeting_update
    service_object_kwarg = 'meeting'


class CabMeetingDeleteView(StaffOnlyMixin, ObjectDeleteView):
    model = CabMeeting
    service = cabs.meeting_delete
    service_object_kwarg = 'meeting'
    action_description = 'A meeting where votes were cast is kept: cancel it instead.'


class BuildAgendaView(StaffOnlyMixin, ObjectViewMixin, View):
    """POST: refresh the agenda from the changes awaiting the board in the window."""

    model = CabMeeting
    permission_action = 'change'

    def post(self, request, pk):
        meeting = self.get_object()
        try:
            items = cabs.build_agenda(meeting=meeting, actor=self.actor())
        except (ValidationError, ApplicationError) as error:
            messages.error(request, error_text(error))
        else:
            messages.success(request, f'Agenda built: {len(items)} change{"" if len(items) == 1 else "s"}.')
        return HttpResponseRedirect(meeting.get_absolute_url())


# ------------------------------------------------------------------------------------------------ votes
class VoteView(StaffOnlyMixin, ObjectViewMixin, View):
    """A member's vote on a change: in a meeting (`meeting` in the URL) or, for the emergency CAB, from the change
    page. htmx gets the row or the panel back; a plain POST goes back to the page."""

    model = CabVote
    permission_action = 'add'

    def get_change(self, number: str) -> Change:
        return get_object_or_404(Change.objects.visible_to(self.request.user).select_related('cab'), number=number)

    def target(self, change, meeting):
        return meeting.get_absolute_url() if meeting else change.get_absolute_url()

    def get(self, request, number, pk=None):
        change = self.get_change(number)
        meeting = get_object_or_404(CabMeeting, pk=pk) if pk else None
        return self.answer(change, meeting, VoteForm())

    def post(self, request, number, pk=None):
        change = self.get_change(number)
        meeting = get_object_or_404(CabMeeting.objects.select_related('cab'), pk=pk) if pk else None
        refusal = cabs.may_vote(change, request.user)
        if refusal:
            if request.htmx:
                return self.answer(change, meeting, VoteForm(request.POST), status=403, refusal=refusal)
            raise PermissionDenied(refusal)
        form = VoteForm(request.POST)
        if form.is_valid():
            try:
                cabs.cast_vote(
                    change=change,
                    actor=self.actor(),
                    vote=form.cleaned_data['vote'],
                    comment=form.cleaned_data['comment'],
                    meeting=meeting,
                )
            except (ValidationError, ApplicationError) as error:
                add_service_errors(form, error)
            else:
                if not request.htmx:
                    messages.success(request, f'Your vote on {change.number} is recorded.')
                    return HttpResponseRedirect(self.target(change, meeting))
                change.refresh_from_db()
                return self.answer(change, meeting, VoteForm(), saved=True)
        if not request.htmx:
            return self.render(
                {'change': change, 'meeting': meeting, 'form': form}, template_name='changes/cab_vote_form.html'
            )
        return self.answer(change, meeting, form, status=200)

    def answer(self, change, meeting, form, *, status=200, refusal=None, saved=False):
        if meeting is not None:
            rows = [r for r in agenda_rows(meeting, self.request.user) if r['change'].pk == change.pk]
            if not rows:
                raise PermissionDenied(f'{change.number} is not on the agenda of this meeting.')
            context = {'row': rows[0], 'object': meeting, 'vote_form': form, 'saved': saved, 'refusal': refusal}
            return self.render(context, template_name='changes/_cab_agenda_row.html', status=status)
        panel = votes_panel(self.request, change) or {}
        panel.update({'record': change, 'vote_form': form, 'saved': saved, 'refusal': refusal})
        return self.render({'panel': panel}, template_name='changes/_votes_panel.html', status=status)


def votes_panel(request, change: Change) -> dict[str, Any] | None:
    """The change page's CAB panel: the route, the votes, what the policy needs; the vote form for members of an
    emergency CAB (regular boards vote in their meetings)."""
    if not change.cab_route and not change.cab_id:
        return None
    votes = list(change.votes.select_related('voter', 'meeting'))
    context: dict[str, Any] = {'record': change, 'votes': votes, 'vote_form': VoteForm()}
    if change.cab_id:
        members = [m for m in change.cab.members.all() if m.is_active]
        context['tally'] = cabs.tally(change, members=members, votes=votes)
        refusal = cabs.may_vote(change, request.user, member_ids={m.pk for m in members})
        context['may_vote'] = refusal is None and change.cab.kind == CabKind.EMERGENCY
        context['meetings'] = list(change.cab_meetings.select_related('cab').order_by('starts_at'))
        context['vote_url'] = reverse('changes:cab_vote', args=[change.number])
    return context


# ------------------------------------------------------------------------------------------------ registers
class AgendaItemListView(StaffOnlyMixin, ObjectListView):
    queryset = AgendaItem.objects.select_related('meeting__cab', 'change')
    filterset_class = AgendaItemFilterSet
    columns = [
        Column('__str__', 'Item', order_by=None, linkify=True),
        Column('meeting', order_by='meeting__starts_at'),
        Column('change', order_by='change__number'),
        'position',
    ]
    title = 'CAB agenda items'


class AgendaItemDetailView(StaffOnlyMixin, ObjectDetailView):
    queryset = AgendaItem.objects.select_related('meeting__cab', 'change')
    fields = ['meeting', 'change', 'position']


class CabVoteListView(StaffOnlyMixin, ObjectListView):
    queryset = CabVote.objects.select_related('change', 'cab', 'voter', 'meeting__cab')
    filterset_class = CabVoteFilterSet
    columns = [
        Column('__str__', 'Vote', order_by=None, linkify=True),
        Column('change', order_by='change__number'),
        Column('cab', 'CAB', order_by='cab__name'),
        Column('voter', order_by='voter__username'),
        Column('vote', colors=VOTE_COLOURS),
        'cast_at',
    ]
    title = 'CAB votes'


class CabVoteDetailView(StaffOnlyMixin, ObjectDetailView):
    queryset = CabVote.objects.select_related('change', 'cab', 'voter', 'meeting__cab')
    fields = ['change', 'cab', 'meeting', 'voter', 'vote', 'comment', 'cast_at']


cab_urls = [
    path('cabs/', CabListView.as_view(), name='cab_list'),
    path('cabs/add/', CabCreateView.as_view(), name='cab_add'),
    path('cabs/<int:pk>/', CabDetailView.as_view(), name='cab_detail'),
    path('cabs/<int:pk>/edit/', CabEditView.as_view(), name='cab_edit'),
    path('cabs/<int:pk>/delete/', CabDeleteView.as_view(), name='cab_delete'),
    path('cab-rules/', CabRuleListView.as_view(), name='cabrule_list'),
    path('cab-rules/add/', CabRuleCreateView.as_view(), name='cabrule_add'),
    path('cab-rules/<int:pk>/', CabRuleDetailView.as_view(), name='cabrule_detail'),
    path('cab-rules/<int:pk>/edit/', CabRuleEditView.as_view(), name='cabrule_edit'),
    path('cab-rules/<int:pk>/delete/', CabRuleDeleteView.as_view(), name='cabrule_delete'),
    path('cab-meetings/', CabMeetingListView.as_view(), name='cabmeeting_list'),
    path('cab-meetings/add/', CabMeetingCreateView.as_view(), name='cabmeeting_add'),
    path('cab-meetings/<int:pk>/', CabMeetingDetailView.as_view(), name='cabmeeting_detail'),
    path('cab-meetings/<int:pk>/edit/', CabMeetingEditView.as_view(), name='cabmeeting_edit'),
    path('cab-meetings/<int:pk>/delete/', CabMeetingDeleteView.as_view(), name='cabmeeting_delete'),
    path('cab-meetings/<int:pk>/build-agenda/', BuildAgendaView.as_view(), name='cabmeeting_build_agenda'),
    path('cab-meetings/<int:pk>/vote/<str:number>/', VoteView.as_view(), name='cabmeeting_vote'),
    path('cab-agenda/', AgendaItemListView.as_view(), name='agendaitem_list'),
    path('cab-agenda/<int:pk>/', AgendaItemDetailView.as_view(), name='agendaitem_detail'),
    path('cab-votes/', CabVoteListView.as_view(), name='cabvote_list'),
    path('cab-votes/<int:pk>/', CabVoteDetailView.as_view(), name='cabvote_detail'),
    path('cab-vote/<str:number>/', VoteView.as_view(), name='cab_vote'),
]
