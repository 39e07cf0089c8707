"""CABs: routing by the CAB rules (data: the standard and non-production skips), each approval policy (all, any,
majority, N of M, with abstentions and rejections), segregation of duties, the emergency CAB voting outside
meetings, agendas built from the changes awaiting authorisation in a meeting's window, and who may do what."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError

from changes import cab as cabs
from changes.choices import ApprovalPolicy, CabKind, CabRoute, ChangeState, ChangeType, MeetingStatus, Vote
from changes.models import AgendaItem, Cab, CabRule, CabVote, Change
from cmdb.choices import Environment
from itsm.audit import Actor
from itsm.choices import Role
from itsm.errors import Conflict, NotAllowed
from tests.base import ItsmTestCase
from tests.cmdb.factories import make_ci
from tests.factories import make_user

UTC = dt.UTC
T0 = dt.datetime(2026, 12, 14, 20, 0, tzinfo=UTC)
SYSTEM = Actor.system()


def board(n: int = 3, *, policy=ApprovalPolicy.MAJORITY, kind=CabKind.REGULAR, required=None, name=None):
    """A board of `n` fresh CAB members; returns (cab, members)."""
    members = [make_user(Role.CAB_MEMBER) for _ in range(n)]
    cab = cabs.cab_create(
        actor=SYSTEM,
        name=name or f'CAB {Cab.objects.count() + 1}',
        kind=kind,
        policy=policy,
        required_approvals=required,
        members=members,
    )
    return cab, members


def awaiting_change(cab=None, *, start=T0, state=ChangeState.AUTHORIZATION, cis=(), **fields):
    """A change put straight in `state` (default: awaiting authorisation by `cab`), planned from `start`."""
    change = Change.objects.create(
        short_description=fields.pop('short_description', 'Upgrade the mail relay'),
        change_type=fields.pop('change_type', ChangeType.NORMAL),
        opened_at=start - dt.timedelta(days=7),
        planned_start=start,
        planned_end=start + dt.timedelta(hours=2),
        cab=cab,
        cab_route=(CabRoute.EMERGENCY_CAB if cab and cab.kind == CabKind.EMERGENCY else CabRoute.CAB) if cab else '',
        **fields,
    )
    Change.objects.filter(pk=change.pk).update(state=state)
    change.refresh_from_db()
    if cis:
        change.cis.set(cis)
    return change


def meeting_for(cab, *, start=T0 - dt.timedelta(days=2), days=7):
    return cabs.meeting_create(
        actor=SYSTEM, cab=cab, starts_at=start, window_start=start, window_end=start + dt.timedelta(days=days)
    )


def vote(change, member, choice=Vote.APPROVE, *, meeting=None, comment=''):
    if choice == Vote.REJECT and not comment:
        comment = 'The backout plan is not tested.'
    return cabs.cast_vote(change=change, actor=Actor(user=member), vote=choice, comment=comment, meeting=meeting)


class VotingCase(ItsmTestCase):
    policy = ApprovalPolicy.MAJORITY
    size = 5
    required = None

    def setUp(self):
        self.cab, self.members = board(self.size, policy=self.policy, required=self.required)
        self.change = awaiting_change(self.cab)
        self.meeting = meeting_for(self.cab)

    def cast(self, *choices):
        for member, choice in zip(self.members, choices, strict=False):
            vote(self.change, member, choice, meeting=self.meeting)
        self.change.refresh_from_db()
        return cabs.tally(self.change)


# ------------------------------------------------------------------------------------------------ policies
class AllPolicyTests(VotingCase):
    policy, size = ApprovalPolicy.ALL, 3

    def test_every_member_must_approve(self):
        counted = self.cast(Vote.APPROVE, Vote.APPROVE)
        self.assertFalse(counted.met)
        self.assertFalse(cabs.authorization_met(self.change))
        counted = self.cast(Vote.APPROVE, Vote.APPROVE, Vote.APPROVE)
        self.assertTrue(counted.met)
        self.assertIsNotNone(self.change.authorized_at)
        self.assertTrue(cabs.authorization_met(self.change))
        self.assertTrue(
            self.timeline(self.change).filter(message=f'Authorised by {self.cab}: 3 of 3 approved.').exists()
        )

    def test_an_abstention_counts_against_and_makes_it_impossible(self):
        counted = self.cast(Vote.APPROVE, Vote.ABSTAIN)
        self.assertTrue(counted.impossible)
        self.assertTrue(self.timeline(self.change).filter(data__cab_blocked=True).exists())
        self.assertIsNone(self.change.authorized_at)

    def test_one_rejection_makes_it_impossible(self):
        self.assertTrue(self.cast(Vote.REJECT).impossible)


class AnyPolicyTests(VotingCase):
    policy, size = ApprovalPolicy.ANY, 3

    def test_one_approval_is_enough(self):
        counted = self.cast(Vote.REJECT, Vote.APPROVE)
        self.assertTrue(counted.met)
        self.assertIn('1 of 3 approved', self.timeline(self.change).last().message)

    def test_impossible_once_everyone_voted_without_approving(self):
        self.assertFalse(self.cast(Vote.REJECT, Vote.ABSTAIN).impossible)
        self.assertTrue(self.cast(Vote.REJECT, Vote.ABSTAIN, Vote.REJECT).impossible)


class MajorityPolicyTests(VotingCase):
    policy, size = ApprovalPolicy.MAJORITY, 5

    def test_more_than_half_of_the_members(self):
        self.assertFalse(self.cast(Vote.APPROVE, Vote.APPROVE, Vote.ABSTAIN).met)
        counted = self.cast(Vote.APPROVE, Vote.APPROVE, Vote.ABSTAIN, Vote.APPROVE)
        self.assertTrue(counted.met)
        self.assertEqual((counted.needed, counted.summary), (3, '3 of 5 approved'))

    def test_impossible_when_the_rest_cannot_make_a_majority(self):
        self.assertFalse(self.cast(Vote.REJECT, Vote.REJECT).impossible)
        self.assertTrue(self.cast(Vote.REJECT, Vote.REJECT, Vote.ABSTAIN).impossible)

    def test_even_boards_need_more_than_half(self):
        cab, members = board(4, policy=ApprovalPolicy.MAJORITY)
        change = awaiting_change(cab)
        meeting = meeting_for(cab)
        for member in members[:2]:
            vote(change, member, meeting=meeting)
        self.assertFalse(cabs.tally(change).met)
        vote(change, members[2], meeting=meeting)
        self.assertTrue(cabs.tally(change).met)


class NOfMPolicyTests(VotingCase):
    policy, size, required = ApprovalPolicy.N_OF_M, 5, 2

    def test_n_approvals_whatever_the_rejections(self):
        self.assertFalse(self.cast(Vote.APPROVE, Vote.REJECT, Vote.ABSTAIN).met)
        self.assertTrue(self.cast(Vote.APPROVE, Vote.REJECT, Vote.ABSTAIN, Vote.APPROVE).met)

    def test_impossible_when_too_few_members_are_left(self):
        self.assertFalse(self.cast(Vote.REJECT, Vote.REJECT, Vote.ABSTAIN).impossible)
        self.assertTrue(self.cast(Vote.REJECT, Vote.REJECT, Vote.ABSTAIN, Vote.REJECT).impossible)

    def test_required_approvals_are_validated_against_the_members(self):
        with self.assertRaises(ValidationError) as caught:
            board(2, policy=ApprovalPolicy.N_OF_M, required=3)
        self.assertIn('required_approvals', caught.exception.message_dict)
        with self.assertRaises(ValidationError):
            board(2, policy=ApprovalPolicy.N_OF_M, required=None)
        with self.assertRaises(ValidationError):
            cabs.cab_update(cab=self.cab, actor=SYSTEM, members=self.members[:1])


class VoteRulesTests(VotingCase):
    policy, size = ApprovalPolicy.ALL, 3

    def test_a_new_vote_replaces_the_earlier_one(self):
        vote(self.change, self.members[0], Vote.ABSTAIN, meeting=self.meeting)
        vote(self.change, self.members[0], Vote.APPROVE, meeting=self.meeting)
        self.assertEqual(list(CabVote.objects.filter(change=self.change).values_list('vote', flat=True)), ['approve'])

    def test_a_rejection_needs_its_reason(self):
        with self.assertRaises(ValidationError) as caught:
            cabs.cast_vote(
                change=self.change, actor=Actor(user=self.members[0]), vote=Vote.REJECT, meeting=self.meeting
            )
        self.assertIn('comment', caught.exception.message_dict)

    def test_the_impossible_policy_tells_the_change_managers(self):
        manager = make_user(Role.CHANGE_MANAGER, email='cm@example.com')
        with self.captureOnCommitCallbacks(execute=True):
            self.cast(Vote.REJECT)
        from itsm.models import TimelineEntry

        told = TimelineEntry.objects.filter(object_id=self.change.pk, data__event='cab_cannot_authorise')
        self.assertTrue(told.exists())
        self.assertIn(manager.email, told.get().data.get('recipients', [manager.email]))

    def test_only_members_vote_and_only_while_awaiting_authorisation(self):
        outsider = make_user(Role.CAB_MEMBER)
        with self.assertRaisesMessage(NotAllowed, f'You are not a member of {self.cab}'):
            vote(self.change, outsider, meeting=self.meeting)
        Change.objects.filter(pk=self.change.pk).update(state=ChangeState.SCHEDULED)
        self.change.refresh_from_db()
        with self.assertRaisesMessage(Conflict, 'is not awaiting authorisation'):
            vote(self.change, self.members[0], meeting=self.meeting)

    def test_a_regular_cab_votes_in_a_meeting_with_the_change_on_its_agenda(self):
        with self.assertRaises(Conflict) as caught:
            vote(self.change, self.members[0])
        self.assertEqual(caught.exception.code, 'vote_in_meeting')
        other = meeting_for(self.cab, start=T0 + dt.timedelta(days=30))
        with self.assertRaises(Conflict) as caught:
            vote(self.change, self.members[0], meeting=other)
        self.assertEqual(caught.exception.code, 'not_on_agenda')


class SegregationOfDutiesTests(ItsmTestCase):
    def test_nobody_votes_on_a_change_they_requested_or_own(self):
        cab, members = board(3, policy=ApprovalPolicy.ALL)
        change = awaiting_change(cab, requester=members[0], owner=members[1])
        meeting = meeting_for(cab)
        self.assertIn('You requested', cabs.may_vote(change, members[0]))
        self.assertIn('You own', cabs.may_vote(change, members[1]))
        self.assertIsNone(cabs.may_vote(change, members[2]))
        for member in members[:2]:
            with self.assertRaisesMessage(NotAllowed, 'segregation of duties'):
                vote(change, member, meeting=meeting)
        self.assertFalse(CabVote.objects.exists())
        # The requester and the owner are not counted: "all" means the one member left.
        vote(change, members[2], meeting=meeting)
        change.refresh_from_db()
        self.assertTrue(cabs.tally(change).met)
        self.assertIsNotNone(change.authorized_at)


class EmergencyCabTests(ItsmTestCase):
    def test_emergency_members_vote_outside_meetings(self):
        cab, members = board(2, policy=ApprovalPolicy.ANY, kind=CabKind.EMERGENCY)
        change = awaiting_change(cab, change_type=ChangeType.EMERGENCY)
        vote(change, members[0])
        change.refresh_from_db()
        self.assertTrue(cabs.authorization_met(change))
        self.assertIsNone(CabVote.objects.get().meeting)


# ------------------------------------------------------------------------------------------------ routing
class RoutingTests(ItsmTestCase):
    def setUp(self):
        self.cab, _ = board(3, name='Weekly CAB')
        self.ecab, _ = board(2, kind=CabKind.EMERGENCY, name='Emergency CAB')
        self.rules = cabs.seed_default_rules(actor=SYSTEM, cab=self.cab, emergency_cab=self.ecab)

    def change(self, change_type=ChangeType.NORMAL, environment=Environment.PRODUCTION):
        return awaiting_change(
            state=ChangeState.ASSESSMENT, change_type=change_type, cis=[make_ci(environment=environment)]
        )

    def test_the_default_rules(self):
        self.assertEqual([r.name for r in self.rules], [name for _, name, _, _ in cabs.DEFAULT_RULES])
        standard = cabs.route_for(self.change(ChangeType.STANDARD))
        self.assertEqual((standard.route, standard.cab, standard.rule.name), ('skip', None, 'Standard changes skip'))
        outside = cabs.route_for(self.change(environment=Environment.TEST))
        self.assertEqual((outside.route, outside.rule.name), ('skip', 'Outside production skips'))
        self.assertIn('Outside production skips', outside.describe())
        emergency = cabs.route_for(self.change(ChangeType.EMERGENCY))
        self.assertEqual((emergency.route, emergency.cab), ('emergency_cab', self.ecab))
        normal = cabs.route_for(self.change())
        self.assertEqual((normal.route, normal.cab, normal.rule.name), ('cab', self.cab, '→ CAB'))

    def test_a_change_with_one_production_ci_is_in_production(self):
        change = self.change(environment=Environment.TEST)
        change.cis.add(make_ci(environment=Environment.PRODUCTION))
        self.assertEqual(cabs.route_for(change).route, CabRoute.CAB)

    def test_rules_are_data(self):
        rule = CabRule.objects.get(name='Outside production skips')
        cabs.cab_rule_update(rule=rule, actor=SYSTEM, active=False)
        self.assertEqual(cabs.route_for(self.change(environment=Environment.TEST)).route, CabRoute.CAB)
        cabs.cab_rule_create(
            actor=SYSTEM, position=1, name='Emergencies skip too', change_type=ChangeType.EMERGENCY, route='skip'
        )
        self.assertEqual(cabs.route_for(self.change(ChangeType.EMERGENCY)).rule.name, 'Emergencies skip too')

    def test_without_rules_the_built_in_defaults(self):
        CabRule.objects.all().delete()
        self.assertEqual(cabs.route_for(self.change(ChangeType.STANDARD)).route, CabRoute.SKIP)
        self.assertEqual(cabs.route_for(self.change(ChangeType.EMERGENCY)).cab, self.ecab)
        self.assertEqual(cabs.route_for(self.change()).cab, self.cab)

    def test_rules_naming_the_wrong_board_are_refused(self):
        with self.assertRaises(ValidationError):
            cabs.cab_rule_create(actor=SYSTEM, name='x', route=CabRoute.EMERGENCY_CAB, cab=self.cab)
        with self.assertRaises(ValidationError):
            cabs.cab_rule_create(actor=SYSTEM, name='y', route=CabRoute.SKIP, cab=self.cab)

    def test_a_skipped_route_is_authorised(self):
        change = self.change(ChangeType.STANDARD)
        change.cab_route = CabRoute.SKIP
        self.assertTrue(cabs.authorization_met(change))


# ------------------------------------------------------------------------------------------------ agendas
class AgendaTests(ItsmTestCase):
    def test_the_agenda_lists_changes_awaiting_the_board_in_the_window_by_planned_start(self):
        cab, members = board(3)
        other, _ = board(3)
        later = awaiting_change(cab, start=T0 + dt.timedelta(days=2))
        sooner = awaiting_change(cab, start=T0)
        awaiting_change(cab, start=T0 + dt.timedelta(days=20))  # outside the window
        awaiting_change(other, start=T0)  # another board
        awaiting_change(cab, start=T0, state=ChangeState.SCHEDULED)  # not awaiting
        meeting = meeting_for(cab, start=T0 - dt.timedelta(days=1))
        self.assertEqual([i.change for i in meeting.agenda.all()], [sooner, later])
        self.assertEqual([i.position for i in meeting.agenda.all()], [10, 20])

        newer = awaiting_change(cab, start=T0 + dt.timedelta(days=1))
        Change.objects.filter(pk=later.pk).update(state=ChangeState.CANCELLED)
        vote(sooner, members[0], meeting=meeting)
        Change.objects.filter(pk=sooner.pk).update(state=ChangeState.SCHEDULED)
        cabs.build_agenda(meeting=meeting, actor=SYSTEM)
        # The change voted on here stays; the cancelled one leaves; the new one joins in order.
        self.assertEqual([i.change for i in meeting.agenda.all()], [sooner, newer])
        self.assertTrue(self.timeline(meeting).filter(message__startswith='Agenda built: 2 changes').exists())

    def test_meeting_times_are_validated(self):
        cab, _ = board(1)
        with self.assertRaises(ValidationError) as caught:
            cabs.meeting_create(actor=SYSTEM, cab=cab, starts_at=T0, ends_at=T0 - dt.timedelta(hours=1))
        self.assertIn('ends_at', caught.exception.message_dict)
        with self.assertRaises(ValidationError) as caught:
            cabs.meeting_create(actor=SYSTEM, cab=cab, starts_at=T0, window_start=T0, window_end=T0)
        self.assertIn('window_end', caught.exception.message_dict)

    def test_a_cancelled_meeting_builds_no_agenda_and_takes_no_votes(self):
        cab, members = board(1)
        change = awaiting_change(cab)
        meeting = meeting_for(cab)
        cabs.meeting_update(meeting=meeting, actor=SYSTEM, status=MeetingStatus.CANCELLED)
        with self.assertRaises(Conflict):
            cabs.build_agenda(meeting=meeting, actor=SYSTEM)
        with self.assertRaises(Conflict):
            vote(change, members[0], meeting=meeting)
        self.assertTrue(AgendaItem.objects.filter(meeting=meeting, change=change).exists())


class WhoMayTests(ItsmTestCase):
    def test_only_change_managers_define_boards_rules_and_meetings(self):
        cab, _ = board(1)
        for role in (Role.CAB_MEMBER, Role.L2_ENGINEER):
            actor = Actor(user=make_user(role))
            with self.assertRaises(NotAllowed):
                cabs.cab_create(actor=actor, name='Mine')
            with self.assertRaises(NotAllowed):
                cabs.cab_rule_create(actor=actor, name='Mine', route=CabRoute.SKIP)
            with self.assertRaises(NotAllowed):
                cabs.meeting_create(actor=actor, cab=cab, starts_at=T0)
        manager = Actor(user=make_user(Role.CHANGE_MANAGER))
        self.assertEqual(cabs.cab_create(actor=manager, name='Mine').name, 'Mine')


class DemoDataTests(ItsmTestCase):
    def test_the_demo_boards_and_default_rules_load_once(self):
        for username in ('change.manager', 'cab', 'service.owner'):
            make_user(Role.CAB_MEMBER, username=username)
        cabs.load_demo(log=lambda message: None)
        cabs.load_demo(log=lambda message: None)
        board = Cab.objects.get(name='Change advisory board')
        self.assertEqual((board.policy, board.members.count()), (ApprovalPolicy.MAJORITY, 3))
        self.assertEqual(Cab.objects.get(name='Emergency CAB').members.count(), 2)
        self.assertEqual(
            list(CabRule.objects.values_list('name', 'route', 'cab__name')),
            [
                ('Standard changes skip', 'skip', None),
                ('Outside production skips', 'skip', None),
                ('Emergency → emergency CAB', 'emergency_cab', 'Emergency CAB'),
                ('→ CAB', 'cab', 'Change advisory board'),
            ],
        )
