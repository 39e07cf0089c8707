"""CAB pages and API: the generic CRUD tests of boards, rules, meetings, agenda items and votes; the meeting page
(agenda with risk, votes and what the policy needs; members vote there with htmx; query counts); the emergency CAB's
vote on the change page; who may do what."""

from __future__ import annotations

import datetime as dt

from django.urls import NoReverseMatch, reverse

from changes import cab as cabs
from changes.choices import ApprovalPolicy, CabKind, ChangeType
from changes.models import AgendaItem, Cab, CabMeeting, CabRule, CabVote, Change
from itsm.audit import Actor
from itsm.choices import Role
from tests.base import APITestCases, ItsmTestCase, ViewTestCases
from tests.changes.factories import (
    CabFactory,
    CabMeetingFactory,
    CabRuleFactory,
    awaiting_authorisation,
    make_agenda_item,
    make_vote,
    window,
)
from tests.factories import make_user

HX = {'HX-Request': 'true'}
MANAGER = (Role.CHANGE_MANAGER,)


def iso(moment: dt.datetime) -> str:
    return moment.isoformat()


# ------------------------------------------------------------------------------------------------ boards
class CabAPITests(APITestCases.ModelAPITestCase):
    model = Cab
    basename = 'cab'
    write_roles = MANAGER
    read_only_roles = (Role.CAB_MEMBER,)
    update_data = {'name': 'Weekly CAB', 'policy': 'any'}

    def make_object(self, **kwargs):
        return CabFactory(**kwargs)

    def create_data(self):
        members = [make_user(Role.CAB_MEMBER) for _ in range(3)]
        return {
            'name': 'Network CAB',
            'kind': 'regular',
            'policy': 'n_of_m',
            'required_approvals': 2,
            'members': [m.username for m in members],
        }

    def filter_cases(self):
        member = make_user(Role.CAB_MEMBER)
        ecab = CabFactory(kind=CabKind.EMERGENCY, members=[member], policy='any')
        return [({'kind': 'emergency'}, [ecab]), ({'member': member.username}, [ecab])]

    def test_n_of_m_beyond_the_members_is_a_clear_400(self):
        data = {**self.create_data(), 'required_approvals': 4}
        response = self.api_client(self.writer()).post(self.list_url(), data, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('4 approvals cannot be reached with 3 members', str(response.data))

    def test_a_board_in_use_is_kept(self):
        cab = CabFactory(members=1)
        CabRuleFactory(route='cab', cab=cab)
        response = self.api_client(self.writer()).delete(self.detail_url(cab))
        self.assertHttpStatus(response, 409)
        self.assertTrue(Cab.objects.filter(pk=cab.pk).exists())


class CabViewTests(ViewTestCases.ModelViewTestCase):
    model = Cab
    write_roles = MANAGER
    read_only_roles = (Role.CAB_MEMBER,)

    def make_object(self, **kwargs):
        return CabFactory(**kwargs)

    def form_data(self):
        members = [make_user(Role.CAB_MEMBER) for _ in range(2)]
        return {'name': 'Data centre CAB', 'kind': 'regular', 'policy': 'all', 'members': [m.pk for m in members]}

    def test_required_approvals_beyond_the_members_is_shown_on_the_form(self):
        self.login(*MANAGER)
        data = {**self.form_data(), 'policy': 'n_of_m', 'required_approvals': 5}
        response = self.client.post(self.url('add'), data)
        self.assertHttpStatus(response, 200)
        self.assertContains(response, '5 approvals cannot be reached with 2 members')
        self.assertFalse(Cab.objects.filter(name='Data centre CAB').exists())

    def test_the_board_page_lists_members_and_rules_escaped(self):
        member = make_user(Role.CAB_MEMBER, first_name='<b>Ann</b>')
        cab = CabFactory(members=[member])
        CabRuleFactory(route='cab', cab=cab, name='Network → CAB')
        self.login(Role.L2_ENGINEER)
        response = self.client.get(cab.get_absolute_url())
        self.assertContains(response, '&lt;b&gt;Ann&lt;/b&gt;')
        self.assertContains(response, 'Network → CAB')


# ------------------------------------------------------------------------------------------------ rules
class CabRuleAPITests(APITestCases.ModelAPITestCase):
    model = CabRule
    basename = 'cabrule'
    write_roles = MANAGER
    read_only_roles = (Role.CAB_MEMBER,)
    update_data = {'name': 'Tests skip', 'position': 7}

    def make_object(self, **kwargs):
        return CabRuleFactory(**kwargs)

    def create_data(self):
        return {'position': 5, 'name': 'Outside production skips', 'outside_production': True, 'route': 'skip'}

    def filter_cases(self):
        cab = CabFactory()
        to_cab = CabRuleFactory(route='cab', cab=cab)
        return [({'route': 'cab'}, [to_cab]), ({'cab': cab.name}, [to_cab])]

    def test_a_skip_naming_a_board_is_refused(self):
        data = {**self.create_data(), 'cab': CabFactory().name}
        response = self.api_client(self.writer()).post(self.list_url(), data, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('names no board', str(response.data))


class CabRuleViewTests(ViewTestCases.ModelViewTestCase):
    model = CabRule
    write_roles = MANAGER
    read_only_roles = (Role.CAB_MEMBER,)

    def make_object(self, **kwargs):
        return CabRuleFactory(**kwargs)

    def form_data(self):
        return {
            'position': 15,
            'name': 'Emergencies to the ECAB',
            'change_type': 'emergency',
            'outside_production': 'false',
            'route': 'emergency_cab',
            'cab': CabFactory(kind=CabKind.EMERGENCY).pk,
            'active': 'on',
        }

    def invalid_form_data(self):
        return {'name': ''}


# ------------------------------------------------------------------------------------------------ meetings
class CabMeetingAPITests(APITestCases.ModelAPITestCase):
    model = CabMeeting
    basename = 'cabmeeting'
    write_roles = MANAGER
    read_only_roles = (Role.CAB_MEMBER,)
    update_data = {'location': 'Room 4.12', 'minutes': 'Two changes authorised.'}

    def make_object(self, **kwargs):
        return CabMeetingFactory(**kwargs)

    def create_data(self):
        start = window(days=3)[0]
        return {
            'cab': CabFactory(members=2).name,
            'starts_at': iso(start),
            'ends_at': iso(start + dt.timedelta(hours=1)),
            'window_start': iso(start),
            'window_end': iso(start + dt.timedelta(days=7)),
            'location': 'Room 1',
        }

    def filter_cases(self):
        cab = CabFactory(name='Storage CAB')
        meeting = CabMeetingFactory(cab=cab)
        cancelled = CabMeetingFactory(status='cancelled')
        on_it = make_agenda_item()
        return [
            ({'cab': 'Storage CAB'}, [meeting]),
            ({'status': 'cancelled'}, [cancelled]),
            ({'change': on_it.change.number}, [on_it.meeting]),
        ]

    def test_the_agenda_is_built_and_shows_the_tallies(self):
        cab = CabFactory(members=3, policy=ApprovalPolicy.MAJORITY)
        meeting = CabMeetingFactory(cab=cab)
        change = awaiting_authorisation(cab, start=meeting.window_start + dt.timedelta(hours=3))
        client = self.api_client(self.writer())
        response = client.post(reverse('api:cabmeeting-build-agenda', args=[meeting.pk]))
        self.assertHttpStatus(response, 200)
        [entry] = response.data['agenda']
        self.assertEqual((entry['change'], entry['voters'], entry['needed']), (change.number, 3, 2))
        self.assertFalse(entry['policy_met'])
        refused = self.api_client(make_user(Role.CAB_MEMBER)).post(
            reverse('api:cabmeeting-build-agenda', args=[meeting.pk])
        )
        self.assertHttpStatus(refused, 403)

    def test_an_agenda_window_ending_before_it_starts_is_a_400(self):
        data = self.create_data()
        data['window_end'] = data['window_start']
        response = self.api_client(self.writer()).post(self.list_url(), data, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('window_end', response.data.get('fields', response.data))


class CabMeetingViewTests(ViewTestCases.ModelViewTestCase):
    model = CabMeeting
    write_roles = MANAGER
    read_only_roles = (Role.CAB_MEMBER,)

    def make_object(self, **kwargs):
        return CabMeetingFactory(**kwargs)

    def form_data(self):
        start = window(days=3)[0]
        return {
            'cab': CabFactory(members=2).pk,
            'starts_at': start.isoformat(),
            'location': 'Room 2',
        }

    def edit_data(self, obj):
        return {
            'cab': obj.cab.pk,
            'starts_at': obj.starts_at.isoformat(),
            'ends_at': obj.ends_at.isoformat(),
            'window_start': obj.window_start.isoformat(),
            'window_end': obj.window_end.isoformat(),
            'location': 'Room 9',
            'status': 'held',
            'minutes': 'All approved.',
        }

    def invalid_form_data(self):
        return {'starts_at': ''}


class MeetingPageTests(ItsmTestCase):
    def setUp(self):
        self.members = [make_user(Role.CAB_MEMBER) for _ in range(3)]
        self.cab = CabFactory(members=self.members, policy=ApprovalPolicy.MAJORITY)
        self.meeting = CabMeetingFactory(cab=self.cab)

    def add_changes(self, n):
        for i in range(n):
            awaiting_authorisation(
                self.cab, start=self.meeting.window_start + dt.timedelta(hours=i + 1), requester=self.members[0]
            )
        cabs.build_agenda(meeting=self.meeting, actor=Actor.system())

    def test_query_count_does_not_grow_with_the_agenda(self):
        self.client.force_login(self.members[1])
        url = self.meeting.get_absolute_url()
        self.add_changes(2)
        for item in self.meeting.agenda.all():
            make_vote(item=item, voter=self.members[2])
        self.client.get(url)
        few = self.count_queries(lambda: self.assertHttpStatus(self.client.get(url), 200))
        self.add_changes(6)
        for item in self.meeting.agenda.all()[2:]:
            make_vote('reject', item=item, voter=self.members[2], comment='No backout plan.')
        many = self.count_queries(lambda: self.assertHttpStatus(self.client.get(url), 200))
        self.assertEqual(few, many, f'meeting page queries grew from {few} to {many} with the agenda')

    def test_the_agenda_shows_risk_votes_and_what_the_policy_needs(self):
        self.add_changes(1)
        item = self.meeting.agenda.get()
        Change.objects.filter(pk=item.change_id).update(risk_level='high')
        make_vote('reject', item=item, voter=self.members[2], comment='<script>alert(1)</script>')
        self.client.force_login(self.members[1])
        response = self.client.get(self.meeting.get_absolute_url())
        self.assertContains(response, item.change.number)
        self.assertContains(response, 'High')
        self.assertContains(response, '0 of 2 approved')  # the requester is not counted
        self.assertContains(response, '2 of 2 (a majority) approve')
        self.assertContains(response, '&lt;script&gt;')
        self.assertNotContains(response, '<script>alert(1)')
        self.assertContains(response, 'data-testid="vote-form"')

    def test_a_member_votes_with_htmx_and_the_row_comes_back(self):
        self.add_changes(1)
        change = self.meeting.agenda.get().change
        self.client.force_login(self.members[1])
        url = reverse('changes:cabmeeting_vote', args=[self.meeting.pk, change.number])
        response = self.client.post(url, {'vote': 'reject', 'comment': ''}, headers=HX)
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'Say why you reject the change.')
        self.assertFalse(CabVote.objects.exists())
        response = self.client.post(url, {'vote': 'approve', 'comment': 'Fine.'}, headers=HX)
        self.assertContains(response, f'id="agenda-{change.number}"')
        self.assertContains(response, 'You voted <strong>approve</strong>')
        self.assertEqual(CabVote.objects.get().meeting, self.meeting)

    def test_segregation_of_duties_is_told_on_the_page(self):
        self.add_changes(1)
        change = self.meeting.agenda.get().change
        self.client.force_login(self.members[0])  # the requester
        response = self.client.get(self.meeting.get_absolute_url())
        self.assertContains(response, 'segregation of duties keeps you from voting')
        self.assertNotContains(response, 'data-testid="vote-form"')
        url = reverse('changes:cabmeeting_vote', args=[self.meeting.pk, change.number])
        response = self.client.post(url, {'vote': 'approve'}, headers=HX)
        self.assertHttpStatus(response, 403)
        self.assertContains(response, 'segregation of duties', status_code=403)
        self.assertFalse(CabVote.objects.exists())

    def test_a_change_routed_elsewhere_keeps_its_board_and_offers_no_vote(self):
        self.add_changes(1)
        change = self.meeting.agenda.get().change
        other = CabFactory(members=[self.members[1]])
        Change.objects.filter(pk=change.pk).update(cab=other)
        self.client.force_login(self.members[1])
        response = self.client.get(self.meeting.get_absolute_url())
        self.assertContains(response, f'{change.number} is now routed to another board.')
        self.assertNotContains(response, 'data-testid="vote-form"')
        self.assertEqual(Change.objects.get(pk=change.pk).cab, other)

    def test_a_policy_that_can_no_longer_be_met_offers_the_change_manager_the_rejection(self):
        self.add_changes(1)
        item = self.meeting.agenda.get()
        self.client.force_login(self.members[2])
        response = self.client.get(self.meeting.get_absolute_url())
        self.assertNotContains(response, 'data-testid="cannot-authorise"')
        # Two voting members (the requester is not counted): a majority needs both, so one rejection settles it.
        make_vote('reject', item=item, voter=self.members[1], comment='Not now.')
        response = self.client.get(self.meeting.get_absolute_url())
        self.assertContains(response, 'data-testid="cannot-authorise"')
        self.assertNotContains(response, 'data-testid="reject-change"')
        self.client.force_login(make_user(Role.CHANGE_MANAGER))
        response = self.client.get(self.meeting.get_absolute_url())
        self.assertContains(response, reverse('changes:change_reject', args=[item.change.number]))

    def test_build_agenda_button_for_change_managers_only(self):
        self.add_changes(0)
        url = reverse('changes:cabmeeting_build_agenda', args=[self.meeting.pk])
        self.client.force_login(self.members[1])
        self.assertHttpStatus(self.client.post(url), 403)
        self.assertNotContains(self.client.get(self.meeting.get_absolute_url()), 'data-testid="build-agenda"')
        self.client.force_login(make_user(Role.CHANGE_MANAGER))
        awaiting_authorisation(self.cab, start=self.meeting.window_start + dt.timedelta(hours=2))
        response = self.client.post(url, follow=True)
        self.assertContains(response, 'Agenda built: 1 change.')
        self.assertEqual(self.meeting.agenda.count(), 1)

    def test_requesters_and_people_without_roles_see_no_cab_page(self):
        for user in (make_user(Role.REQUESTER),):
            self.client.force_login(user)
            self.assertHttpStatus(self.client.get(self.meeting.get_absolute_url()), 403)
            self.assertHttpStatus(self.client.get(reverse('changes:cab_list')), 403)


class EmergencyVotePanelTests(ItsmTestCase):
    def test_emergency_members_vote_on_the_change_page(self):
        member = make_user(Role.CAB_MEMBER)
        ecab = CabFactory(kind=CabKind.EMERGENCY, policy='any', members=[member, make_user(Role.CAB_MEMBER)])
        change = awaiting_authorisation(ecab, change_type=ChangeType.EMERGENCY)
        self.client.force_login(member)
        context = cabs_panel(member, change)
        self.assertTrue(context['may_vote'])
        response = self.client.post(
            reverse('changes:cab_vote', args=[change.number]), {'vote': 'approve', 'comment': ''}, headers=HX
        )
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'authorised')
        change.refresh_from_db()
        self.assertIsNotNone(change.authorized_at)

    def test_a_regular_board_does_not_vote_from_the_change_page(self):
        member = make_user(Role.CAB_MEMBER)
        change = awaiting_authorisation(CabFactory(members=[member]))
        self.client.force_login(member)
        self.assertFalse(cabs_panel(member, change)['may_vote'])
        response = self.client.post(reverse('changes:cab_vote', args=[change.number]), {'vote': 'approve'}, follow=True)
        self.assertContains(response, 'votes in its meetings')
        self.assertFalse(CabVote.objects.exists())


def cabs_panel(user, change):
    """The change page's CAB panel as `user` gets it."""
    from django.test import RequestFactory

    from changes.views.cab import votes_panel

    request = RequestFactory().get('/')
    request.user = user
    return votes_panel(request, change)


# ------------------------------------------------------------------------------------------------ registers
class AgendaItemAPITests(APITestCases.ModelAPITestCase):
    model = AgendaItem
    basename = 'agendaitem'
    write_roles = MANAGER
    read_only_roles = (Role.CAB_MEMBER,)

    def make_object(self, **kwargs):
        return make_agenda_item(**kwargs)

    def create_data(self):
        item = make_agenda_item()
        return {'meeting': item.meeting.pk, 'change': item.change.number, 'position': 10}

    def filter_cases(self):
        item, other = make_agenda_item(), make_agenda_item()
        return [({'change': item.change.number}, [item]), ({'meeting': str(other.meeting.pk)}, [other])]

    def assert_not_allowed(self, response):
        self.assertHttpStatus(response, 405)

    def test_create_writes_record_and_timeline(self):
        response = self.api_client(self.writer()).post(self.list_url(), self.create_data(), format='json')
        self.assert_not_allowed(response)  # the agenda is built from the meeting (build-agenda)

    def test_create_without_permission_is_forbidden(self):
        self.test_create_writes_record_and_timeline()

    def test_create_rejects_malformed_json(self):
        response = self.api_client(self.writer()).post(self.list_url(), '{"x', content_type='application/json')
        self.assert_not_allowed(response)

    def test_update_records_field_changes(self):
        item = self.make_object()
        self.assert_not_allowed(self.api_client(self.writer()).patch(self.detail_url(item), {'position': 5}))

    def test_read_only_fields_are_not_writable(self):
        self.test_update_records_field_changes()

    def test_a_change_voted_on_in_the_meeting_stays(self):
        item = self.make_object()
        make_vote(item=item)
        response = self.api_client(self.writer()).delete(self.detail_url(item))
        self.assertHttpStatus(response, 409)


class AgendaItemViewTests(ViewTestCases.ModelViewTestCase):
    """Agenda items are listed and shown; the meeting's "Build agenda" makes them."""

    model = AgendaItem

    def make_object(self, **kwargs):
        return make_agenda_item(**kwargs)

    def assert_not_routed(self, action):
        with self.assertRaises(NoReverseMatch):
            reverse(f'changes:agendaitem_{action}', kwargs={'pk': 1})

    def test_add(self):
        with self.assertRaises(NoReverseMatch):
            reverse('changes:agendaitem_add')

    def test_add_without_permission_is_forbidden(self):
        self.test_add()

    def test_add_invalid_keeps_input_and_shows_errors(self):
        self.test_add()

    def test_edit(self):
        self.assert_not_routed('edit')

    def test_edit_without_permission_is_forbidden(self):
        self.assert_not_routed('edit')

    def test_delete(self):
        self.assert_not_routed('delete')


class CabVoteAPITests(APITestCases.ModelAPITestCase):
    model = CabVote
    basename = 'cabvote'
    write_roles = (Role.CAB_MEMBER,)
    read_only_roles = (Role.SERVICE_DESK_AGENT,)
    supports_delete = False

    def setUp(self):
        super().setUp()
        self.item = make_agenda_item()
        self.member = self.item.meeting.cab.members.order_by('pk').last()

    def writer(self):
        return self.member

    def make_object(self, **kwargs):
        return make_vote(**kwargs)

    def create_data(self):
        return {'change': self.item.change.number, 'vote': 'abstain', 'meeting': self.item.meeting.pk}

    def filter_cases(self):
        approve, reject = make_vote(), make_vote('reject', comment='Too risky.')
        return [({'vote': 'reject'}, [reject]), ({'change': approve.change.number}, [approve])]

    def test_update_records_field_changes(self):
        vote = self.make_object()
        response = self.api_client(self.writer()).patch(self.detail_url(vote), {'vote': 'reject'}, format='json')
        self.assertHttpStatus(response, 405)  # vote again instead: the new vote replaces it

    def test_read_only_fields_are_not_writable(self):
        self.test_update_records_field_changes()

    def test_segregation_of_duties_and_the_meeting_rule_over_the_api(self):
        change = self.item.change
        Change.objects.filter(pk=change.pk).update(requester=self.member)
        response = self.api_client(self.member).post(self.list_url(), self.create_data(), format='json')
        self.assertHttpStatus(response, 403)
        self.assertIn('segregation of duties', response.data['detail'])
        other = self.item.meeting.cab.members.order_by('pk').first()
        data = {'change': change.number, 'vote': 'approve'}
        response = self.api_client(other).post(self.list_url(), data, format='json')
        self.assertHttpStatus(response, 409)
        self.assertEqual(response.data['code'], 'vote_in_meeting')
        data = {**data, 'vote': 'reject', 'meeting': self.item.meeting.pk}
        response = self.api_client(other).post(self.list_url(), data, format='json')
        self.assertHttpStatus(response, 400)


class CabVoteViewTests(ViewTestCases.ModelViewTestCase):
    """Votes are listed and shown; they are cast on the meeting page (or the change page for the emergency CAB)."""

    model = CabVote

    def make_object(self, **kwargs):
        return make_vote(**kwargs)

    def assert_not_routed(self, action):
        with self.assertRaises(NoReverseMatch):
            reverse(f'changes:cabvote_{action}', kwargs={'pk': 1})

    def test_add(self):
        with self.assertRaises(NoReverseMatch):
            reverse('changes:cabvote_add')

    def test_add_without_permission_is_forbidden(self):
        self.test_add()

    def test_add_invalid_keeps_input_and_shows_errors(self):
        self.test_add()

    def test_edit(self):
        self.assert_not_routed('edit')

    def test_edit_without_permission_is_forbidden(self):
        self.assert_not_routed('edit')

    def test_delete(self):
        self.assert_not_routed('delete')


class RolesTests(ItsmTestCase):
    def test_who_may_what(self):
        item = make_agenda_item()
        for role, codes in {
            Role.CHANGE_MANAGER: {'view_cab', 'add_cab', 'change_cabmeeting', 'add_cabrule'},
            Role.CAB_MEMBER: {'view_cab', 'view_cabmeeting', 'add_cabvote'},
            Role.L2_ENGINEER: {'view_cab', 'view_cabmeeting'},
        }.items():
            user = make_user(role)
            for code in codes:
                self.assertTrue(user.has_perm(f'changes.{code}'), f'{role} lacks {code}')
        engineer = make_user(Role.L2_ENGINEER)
        self.assertFalse(engineer.has_perm('changes.add_cab'))
        self.assertFalse(engineer.has_perm('changes.add_cabvote'))
        self.client.force_login(engineer)
        url = reverse('changes:cabmeeting_vote', args=[item.meeting.pk, item.change.number])
        self.assertHttpStatus(self.client.post(url, {'vote': 'approve'}), 403)
        self.assertHttpStatus(self.client.get(reverse('changes:cab_add')), 403)
        self.assertHttpStatus(self.client.get(reverse('changes:cabmeeting_list')), 200)


class CabAdminTests(ItsmTestCase):
    def setUp(self):
        self.admin = make_user(Role.ADMINISTRATOR, is_staff=True, is_superuser=True)
        self.client.force_login(self.admin)

    def test_boards_are_saved_through_the_service_and_checked_against_the_members(self):
        members = [make_user(Role.CAB_MEMBER) for _ in range(2)]
        data = {'name': 'Admin CAB', 'kind': 'regular', 'policy': 'n_of_m', 'required_approvals': 3}
        data['members'] = [m.pk for m in members]
        data['active'] = 'on'
        response = self.client.post(reverse('admin:changes_cab_add'), data)
        self.assertHttpStatus(response, 200)
        self.assertContains(response, '3 approvals cannot be reached with 2 members')
        response = self.client.post(reverse('admin:changes_cab_add'), {**data, 'required_approvals': 2})
        self.assertHttpStatus(response, 302)
        cab = Cab.objects.get(name='Admin CAB')
        self.assertEqual(set(cab.members.all()), set(members))
        self.assertTrue(self.timeline(cab).exists())

    def test_votes_are_read_only(self):
        vote = make_vote()
        self.assertHttpStatus(self.client.get(reverse('admin:changes_cabvote_changelist')), 200)
        self.assertHttpStatus(self.client.get(reverse('admin:changes_cabmeeting_change', args=[vote.meeting.pk])), 200)
        self.assertHttpStatus(self.client.post(reverse('admin:changes_cabvote_delete', args=[vote.pk])), 403)


class ChangeVoteEndpointTests(ItsmTestCase):
    def test_members_vote_on_the_change_and_others_are_refused(self):
        member, engineer = make_user(Role.CAB_MEMBER), make_user(Role.L2_ENGINEER)
        ecab = CabFactory(kind=CabKind.EMERGENCY, policy='any', members=[member, engineer])
        change = awaiting_authorisation(ecab, change_type=ChangeType.EMERGENCY)
        url = reverse('api:change-cab-vote', args=[change.number])
        response = self.api_client(engineer).post(url, {'vote': 'approve'}, format='json')
        self.assertHttpStatus(response, 403)  # a member of the board, but engineers hold no vote right
        response = self.api_client(member).post(url, {'vote': 'reject'}, format='json')
        self.assertHttpStatus(response, 400)
        response = self.api_client(member).post(url, {'vote': 'approve', 'comment': 'Go.'}, format='json')
        self.assertHttpStatus(response, 201)
        self.assertEqual((response.data['voter'], response.data['vote']), (member.username, 'approve'))
        change.refresh_from_db()
        self.assertIsNotNone(change.authorized_at)
        response = self.api_client(member).post(url, {'vote': 'approve'}, format='json')
        self.assertHttpStatus(response, 409)
        requester = make_user(Role.REQUESTER)
        self.assertHttpStatus(self.api_client(requester).post(url, {'vote': 'approve'}, format='json'), 403)


class ChangePagePanelTests(ItsmTestCase):
    def test_the_change_page_shows_the_cab_panel(self):
        member = make_user(Role.CAB_MEMBER)
        ecab = CabFactory(kind=CabKind.EMERGENCY, name='Night ECAB', policy='any', members=[member])
        change = awaiting_authorisation(ecab, change_type=ChangeType.EMERGENCY)
        self.client.force_login(member)
        response = self.client.get(change.get_absolute_url())
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'data-testid="cab-votes"')
        self.assertContains(response, 'Night ECAB')
        self.assertContains(response, 'Vote as the emergency CAB')
