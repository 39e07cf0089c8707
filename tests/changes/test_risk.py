"""Change risk: the questionnaire's band, each signal from a hand-built CMDB and desk, the rules that raise the level
and the reasons the change manager reads."""

from __future__ import annotations

import datetime as dt
from unittest import mock

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.utils import timezone

from changes import risk
from changes.choices import ChangeOutcome, ChangeState, ChangeType, RiskLevel, RiskSignal
from changes.models import Change, ChangeModel, RiskAnswer, RiskAssessment, RiskBand, RiskQuestion, RiskRule
from cmdb.choices import CIClass, RelationshipType
from incidents.choices import TicketState
from incidents.models import Ticket
from itsm.audit import Actor
from itsm.choices import Impact, Role
from itsm.errors import Conflict, NotAllowed
from sla.models import BusinessCalendar, SlaClock
from tests.base import ItsmTestCase
from tests.changes.factories import CleanRiskData
from tests.cmdb.factories import link, make_ci, make_service
from tests.factories import make_ticket
from tests.major_incidents.factories import make_major

S = RiskSignal


def make_change(*cis, services=(), state=ChangeState.DRAFT, start=None, hours=2, **fields) -> Change:
    """A change on `cis` put straight in `state` (risk reads data; the lifecycle has its own tests)."""
    now = timezone.now()
    change = Change.objects.create(
        short_description=fields.pop('short_description', 'Patch the payroll server'),
        change_type=fields.pop('change_type', ChangeType.NORMAL),
        opened_at=now,
        planned_start=start,
        planned_end=start + dt.timedelta(hours=hours) if start else None,
        **fields,
    )
    if state != ChangeState.DRAFT:
        Change.objects.filter(pk=change.pk).update(state=state)
        change.refresh_from_db()
    change.cis.set(cis)
    change.services.set(services)
    return change


def make_questionnaire():
    """Two questions and three bands: 0 → low, 3 → moderate, 6 → high."""
    q1 = RiskQuestion.objects.create(position=10, text='Has this been done before?')
    q1_yes = RiskAnswer.objects.create(question=q1, position=10, label='Yes, often', score=0)
    q1_no = RiskAnswer.objects.create(question=q1, position=20, label='Never', score=4)
    q2 = RiskQuestion.objects.create(position=20, text='Is there a tested backout?')
    q2_yes = RiskAnswer.objects.create(question=q2, position=10, label='Yes', score=0)
    q2_no = RiskAnswer.objects.create(question=q2, position=20, label='No', score=3)
    RiskBand.objects.create(min_score=0, level=RiskLevel.LOW)
    RiskBand.objects.create(min_score=3, level=RiskLevel.MODERATE)
    RiskBand.objects.create(min_score=6, level=RiskLevel.HIGH)
    return {'q1': q1, 'q1_yes': q1_yes, 'q1_no': q1_no, 'q2': q2, 'q2_yes': q2_yes, 'q2_no': q2_no}


class DeskMixin:
    """Payroll (a service) depends on the payroll app, which runs on srv-pay; Mail is a service elsewhere."""

    def build_desk(self):
        self.server = make_ci(CIClass.SERVER, name='srv-pay')
        self.app = make_ci(CIClass.APPLICATION, name='Payroll app')
        self.payroll = make_service(name='Payroll').ci
        self.mail = make_service(name='Mail').ci
        self.lonely = make_ci(CIClass.SERVER, name='srv-lonely')
        link(self.app, RelationshipType.RUNS_ON, self.server)
        link(self.payroll, RelationshipType.DEPENDS_ON, self.app)
        self.manager = self.make_user(Role.CHANGE_MANAGER)
        self.engineer = self.make_user(Role.L2_ENGINEER)


class SignalTests(CleanRiskData, DeskMixin, ItsmTestCase):
    def setUp(self):
        super().setUp()
        self.build_desk()

    def test_services_downstream_of_the_affected_cis_with_their_path(self):
        change = make_change(self.server)
        result = risk.risk_signals(change)[S.DOWNSTREAM_SERVICES]
        self.assertEqual(result.count, 1)
        [item] = result.items
        self.assertIn('Payroll', item.text)
        self.assertEqual(item.note, ' → '.join([self.server.number, self.app.number, self.payroll.number]))
        self.assertEqual(item.url, self.payroll.get_absolute_url())
        self.assertEqual(risk.risk_signals(make_change(self.lonely))[S.DOWNSTREAM_SERVICES].count, 0)

    def test_the_walk_from_a_hub_stops_at_the_cap_and_says_so(self):
        other = make_ci(CIClass.APPLICATION, name='Timesheets app')
        link(other, RelationshipType.RUNS_ON, self.server)
        change = make_change(self.server)
        # Two CIs one step away pass a cap of one: the walk ends there, before Payroll two steps away.
        with mock.patch.object(risk, 'IMPACT_CAP', 1):
            result = risk.risk_signals(change)[S.DOWNSTREAM_SERVICES]
        self.assertEqual(result.count, 0)
        self.assertIn('the walk from srv-pay stopped after more than 1 CIs', result.label)
        result = risk.risk_signals(change)[S.DOWNSTREAM_SERVICES]
        self.assertEqual(result.count, 1)
        self.assertNotIn('stopped', result.label)

    def test_open_incidents_on_the_cis_and_the_services_reached(self):
        change = make_change(self.server)
        on_service = make_ticket(short_description='Payslips missing', service=self.payroll)
        on_server = make_ticket(short_description='srv-pay slow', ci=self.server)
        make_ticket(short_description='Mail down', service=self.mail)  # not in scope
        make_ticket(short_description='Old payroll fault', service=self.payroll, state=TicketState.COMPLETED)
        make_ticket(kind='case', short_description='Payroll access request', service=self.payroll)
        result = risk.risk_signals(change)[S.OPEN_INCIDENTS]
        self.assertEqual(result.count, 2)
        self.assertEqual(
            {item.url for item in result.items}, {on_service.get_absolute_url(), on_server.get_absolute_url()}
        )
        self.assertIn('Payroll', result.on_names)

    def test_open_major_incidents_in_scope_count_and_say_so(self):
        change = make_change(self.app)
        major = make_major(short_description='Payroll down for everyone', services=[self.payroll])
        make_major(short_description='Mail slow', services=[self.mail])
        make_ticket(short_description='Payroll down', service=self.payroll, impact=Impact.SEVERE, urgency='immediate')
        result = risk.risk_signals(change)[S.MAJOR_INCIDENTS]
        self.assertEqual(result.count, 1)  # a P0 incident alone is no major incident; Mail is out of scope
        self.assertEqual(result.items[0].url, major.get_absolute_url())
        self.assertIn('Major incidents', result.label)

    def test_registered_major_incident_sources_add_up(self):
        change = make_change(self.app)
        make_major(short_description='Payroll outage', services=[self.payroll])
        seen = {}

        def source(change, ci_ids, names):
            seen['ids'] = set(ci_ids)
            return risk.SignalResult(1, [risk.SignalItem('EXT-101 Payroll outage', on='Payroll')], 'Elsewhere')

        risk.register_major_incident_source(source)
        self.addCleanup(risk.unregister_major_incident_source, source)
        result = risk.risk_signals(change)[S.MAJOR_INCIDENTS]
        self.assertEqual(result.count, 2)
        self.assertEqual(seen['ids'], {self.app.pk, self.payroll.pk})

    def test_clocks_at_risk_on_open_incidents_in_scope(self):
        change = make_change(self.server)
        ticket = make_ticket(short_description='Payslips missing', service=self.payroll)
        calm = make_ticket(short_description='Payroll question', service=self.payroll)
        now = timezone.now()
        ticket_type = ContentType.objects.get_for_model(Ticket)
        SlaClock.objects.filter(content_type=ticket_type).delete()
        calendar = BusinessCalendar.objects.builtin_24x7()
        common = {
            'content_type': ticket_type,
            'calendar': calendar,
            'target_minutes': 60,
            'started_at': now,
            'run_started_at': now,
        }
        SlaClock.objects.create(object_id=ticket.pk, kind='resolution', name='Resolution', warned_at=now, **common)
        SlaClock.objects.create(object_id=calm.pk, kind='resolution', name='Resolution', **common)
        stopped = {**common, 'warned_at': now, 'stopped_at': now}
        SlaClock.objects.create(object_id=calm.pk, kind='response', name='Response', **stopped)
        result = risk.risk_signals(change)[S.CLOCKS_AT_RISK]
        self.assertEqual(result.count, 1)
        self.assertEqual(result.items[0].url, ticket.get_absolute_url())
        self.assertEqual(result.items[0].note, 'past its warning')

    def test_failed_changes_on_the_same_cis_in_the_last_90_days(self):
        change = make_change(self.server)
        now = timezone.now()
        failed = make_change(self.server, short_description='Kernel update', state=ChangeState.CLOSED)
        backed_out = make_change(self.server, short_description='Firmware', state=ChangeState.CLOSED)
        old = make_change(self.server, short_description='Old failure', state=ChangeState.CLOSED)
        fine = make_change(self.server, short_description='Went well', state=ChangeState.CLOSED)
        elsewhere = make_change(self.lonely, short_description='Elsewhere', state=ChangeState.CLOSED)
        Change.objects.filter(pk__in=[failed.pk, elsewhere.pk]).update(outcome=ChangeOutcome.FAILED, actual_end=now)
        Change.objects.filter(pk=backed_out.pk).update(outcome=ChangeOutcome.BACKED_OUT, closed_at=now)
        Change.objects.filter(pk=old.pk).update(outcome=ChangeOutcome.FAILED, actual_end=now - dt.timedelta(days=91))
        Change.objects.filter(pk=fine.pk).update(outcome=ChangeOutcome.SUCCESSFUL, actual_end=now)
        result = risk.risk_signals(change)[S.FAILED_CHANGES]
        self.assertEqual(result.count, 2)
        self.assertEqual({item.text.split()[0] for item in result.items}, {failed.number, backed_out.number})
        self.assertEqual(result.on_names, ['srv-pay'])

    def test_overlapping_changes_on_a_related_ci(self):
        start = timezone.now() + dt.timedelta(days=3)
        change = make_change(self.server, start=start, state=ChangeState.SCHEDULED)
        other = make_change(
            self.app, start=start + dt.timedelta(hours=1), state=ChangeState.SCHEDULED, short_description='App release'
        )
        make_change(self.lonely, start=start, state=ChangeState.SCHEDULED)  # unrelated CI
        make_change(self.app, start=start + dt.timedelta(days=1), state=ChangeState.SCHEDULED)  # another day
        result = risk.risk_signals(change)[S.OVERLAPPING_CHANGES]
        self.assertEqual(result.count, 1)
        self.assertEqual(result.items[0].url, other.get_absolute_url())
        self.assertEqual(risk.risk_signals(make_change(self.server))[S.OVERLAPPING_CHANGES].count, 0)  # no plan

    def test_a_change_without_cis_has_no_signals(self):
        signals = risk.risk_signals(make_change())
        self.assertEqual(set(signals), set(RiskSignal.values))
        self.assertTrue(all(result.count == 0 for result in signals.values()))


class AssessmentTests(CleanRiskData, DeskMixin, ItsmTestCase):
    def setUp(self):
        super().setUp()
        self.build_desk()
        self.qs = make_questionnaire()

    def answer(self, change, *answers, actor=None):
        return risk.answer_questionnaire(
            change=change,
            actor=Actor(user=actor or self.engineer, channel='ui'),
            answers={a.question_id: a.pk for a in answers},
        )

    def test_the_band_the_score_reaches_gives_the_questionnaire_level(self):
        change = make_change(self.lonely)
        self.assertEqual(risk.assess_risk(change).questionnaire_level, RiskLevel.LOW)
        self.answer(change, self.qs['q1_yes'], self.qs['q2_no'])
        self.assertEqual(risk.assess_risk(change).questionnaire_level, RiskLevel.MODERATE)
        self.answer(change, self.qs['q1_no'])  # replaces the first answer: 4 + 3
        result = risk.assess_risk(change)
        self.assertEqual((result.score, result.answered, result.questions), (7, 2, 2))
        self.assertEqual(result.level, RiskLevel.HIGH)
        self.assertEqual(RiskAssessment.objects.filter(change=change).count(), 2)
        self.assertIn('score 7 (2 of 2 questions answered) → High', result.reasons[0])

    def test_answering_stores_the_assessment_and_writes_the_timeline(self):
        change = make_change(self.server)
        self.answer(change, self.qs['q2_no'])
        change.refresh_from_db()
        self.assertEqual((change.questionnaire_level, change.risk_level), (RiskLevel.MODERATE, RiskLevel.MODERATE))
        self.assertIsNotNone(change.risk_assessed_at)
        self.assertTrue(any('Moderate' in entry.message for entry in self.timeline(change)))

    def test_a_rule_raises_the_level_and_says_why(self):
        RiskRule.objects.create(
            name='Incidents open on what we touch', signal=S.OPEN_INCIDENTS, threshold=2, raise_to=RiskLevel.HIGH
        )
        change = make_change(self.server)
        make_ticket(short_description='Payslips missing', service=self.payroll)
        self.assertEqual(risk.assess_risk(change).level, RiskLevel.LOW)  # one incident: below the threshold
        make_ticket(short_description='Payslips late', service=self.payroll)
        result = risk.assess_risk(change)
        self.assertEqual((result.questionnaire_level, result.level), (RiskLevel.LOW, RiskLevel.HIGH))
        self.assertIn(
            'Raised to High: 2 open incidents on Payroll (rule "Incidents open on what we touch")', result.reasons
        )

    def test_the_highest_rule_wins_and_rules_below_the_questionnaire_add_no_reason(self):
        RiskRule.objects.create(name='Reach', signal=S.DOWNSTREAM_SERVICES, threshold=1, raise_to=RiskLevel.MODERATE)
        RiskRule.objects.create(name='Majors', signal=S.MAJOR_INCIDENTS, threshold=1, raise_to=RiskLevel.VERY_HIGH)
        RiskRule.objects.create(name='Off', signal=S.DOWNSTREAM_SERVICES, threshold=1, raise_to='high', active=False)
        change = make_change(self.server)
        make_major(short_description='Payroll down', services=[self.payroll])
        result = risk.assess_risk(change)
        self.assertEqual(result.level, RiskLevel.VERY_HIGH)
        self.assertEqual([rule.name for rule in result.fired], ['Reach', 'Majors'])
        raised = [reason for reason in result.reasons if reason.startswith('Raised')]
        self.assertEqual(len(raised), 2)
        self.assertEqual(raised[0], 'Raised to Moderate: 1 service reached downstream of srv-pay (rule "Reach")')
        self.assertIn('1 open major incident on Payroll', raised[1])
        # A questionnaire already at High: the moderate rule no longer explains anything.
        self.answer(change, self.qs['q1_no'], self.qs['q2_no'])
        raised = [reason for reason in risk.assess_risk(change).reasons if reason.startswith('Raised')]
        self.assertEqual(raised, [r for r in raised if 'Very high' in r])
        self.assertEqual(len(raised), 1)

    def test_a_standard_change_starts_from_its_models_level(self):
        model = ChangeModel.objects.create(name='Restart a web node', risk_level=RiskLevel.MODERATE)
        change = make_change(self.lonely, change_type=ChangeType.STANDARD, change_model=model)
        result = risk.assess_risk(change)
        self.assertEqual(result.questionnaire_level, RiskLevel.MODERATE)
        self.assertTrue(any('Restart a web node' in reason for reason in result.reasons))

    def test_answers_are_checked(self):
        change = make_change(self.server)
        with self.assertRaises(ValidationError):
            self.answer_raw(change, {self.qs['q1'].pk: self.qs['q2_no'].pk})  # an answer of another question
        with self.assertRaises(ValidationError):
            self.answer_raw(change, {999999: self.qs['q2_no'].pk})
        with self.assertRaises(ValidationError):
            self.answer_raw(change, {})
        self.assertFalse(RiskAssessment.objects.exists())

    def answer_raw(self, change, answers, user=None):
        return risk.answer_questionnaire(
            change=change, actor=Actor(user=user or self.engineer, channel='api'), answers=answers
        )

    def test_who_answers_and_until_when(self):
        change = make_change(self.server)
        with self.assertRaises(NotAllowed):
            self.answer_raw(change, {self.qs['q1'].pk: self.qs['q1_no'].pk}, user=self.make_user(Role.CAB_MEMBER))
        authorizing = make_change(self.server, state=ChangeState.AUTHORIZATION)
        with self.assertRaises(Conflict):
            self.answer_raw(authorizing, {self.qs['q1'].pk: self.qs['q1_no'].pk})

    def test_refresh_is_for_change_managers_and_picks_up_new_signals(self):
        RiskRule.objects.create(name='Any incident', signal=S.OPEN_INCIDENTS, threshold=1, raise_to=RiskLevel.HIGH)
        change = make_change(self.server, state=ChangeState.ASSESSMENT)
        risk.risk_refresh(change=change, actor=Actor(user=self.manager, channel='ui'))
        change.refresh_from_db()
        self.assertEqual(change.risk_level, RiskLevel.LOW)
        make_ticket(short_description='Payslips missing', service=self.payroll)
        risk.risk_refresh(change=change, actor=Actor(user=self.manager, channel='ui'))
        change.refresh_from_db()
        self.assertEqual(change.risk_level, RiskLevel.HIGH)
        self.assertTrue(any(reason.startswith('Raised to High') for reason in change.risk_reasons))
        with self.assertRaises(NotAllowed):
            risk.risk_refresh(change=change, actor=Actor(user=self.engineer, channel='ui'))
        closed = make_change(self.server, state=ChangeState.CLOSED)
        with self.assertRaises(Conflict):
            risk.risk_refresh(change=closed, actor=Actor(user=self.manager, channel='ui'))


class DefaultRiskDataTests(ItsmTestCase):
    """Migration changes 0002: what a fresh desk starts with."""

    def test_a_fresh_desk_has_a_questionnaire_bands_and_rules(self):
        questions = list(RiskQuestion.objects.prefetch_related('answers'))
        self.assertEqual(len(questions), 5)
        self.assertTrue(all(question.answers.count() >= 3 for question in questions))
        self.assertEqual(
            list(RiskBand.objects.values_list('min_score', 'level')),
            [(0, 'low'), (4, 'moderate'), (8, 'high'), (12, 'very_high')],
        )
        self.assertEqual(set(RiskRule.objects.values_list('signal', flat=True)), set(RiskSignal.values))

    def test_the_worst_answers_make_a_very_high_risk(self):
        change = make_change()
        worst = {q.pk: max(q.answers.all(), key=lambda a: a.score).pk for q in RiskQuestion.objects.all()}
        engineer = self.make_user(Role.L2_ENGINEER)
        result = risk.answer_questionnaire(change=change, actor=Actor(user=engineer, channel='ui'), answers=worst)
        self.assertEqual(result.questionnaire_level, RiskLevel.VERY_HIGH)
        self.assertEqual(risk.assess_risk(make_change()).level, RiskLevel.LOW)  # nothing answered, no signal
