"""Risk data over the API and the pages (the generic model tests), the change's risk endpoints and its panel."""

from __future__ import annotations

from django.urls import reverse

from changes.choices import RiskLevel, RiskSignal
from changes.models import RiskAnswer, RiskAssessment, RiskBand, RiskQuestion, RiskRule
from itsm.choices import Role
from tests.base import APITestCases, ItsmTestCase, ViewTestCases
from tests.changes.factories import (
    ChangeFactory,
    CleanRiskData,
    RiskAnswerFactory,
    RiskBandFactory,
    RiskQuestionFactory,
    RiskRuleFactory,
    make_risk_assessment,
)
from tests.cmdb.factories import make_ci, make_service
from tests.factories import make_ticket

MANAGER = (Role.CHANGE_MANAGER,)


# ------------------------------------------------------------------------------------------ API
class RiskQuestionAPITests(CleanRiskData, APITestCases.ModelAPITestCase):
    model = RiskQuestion
    basename = 'riskquestion'
    write_roles = MANAGER
    update_data = {'text': 'Is the change reversible within the window?'}

    def make_object(self, **kwargs):
        question = RiskQuestionFactory(**kwargs)
        RiskAnswerFactory(question=question)
        return question

    def create_data(self):
        return {'position': 5, 'text': 'Has it been tested in staging?', 'help_text': 'With production data.'}

    def filter_cases(self):
        on, off = (
            RiskQuestionFactory(text='Downtime needed?'),
            RiskQuestionFactory(text='Vendor on site?', active=False),
        )
        return [({'active': 'false'}, [off]), ({'q': 'downtime'}, [on])]

    def test_questions_list_their_answers(self):
        question = self.make_object()
        response = self.api_client(self.viewer()).get(self.detail_url(question))
        self.assertEqual([a['label'] for a in response.data['answers']], [question.answers.get().label])


class RiskAnswerAPITests(CleanRiskData, APITestCases.ModelAPITestCase):
    model = RiskAnswer
    basename = 'riskanswer'
    write_roles = MANAGER
    update_data = {'score': 5}

    def make_object(self, **kwargs):
        return RiskAnswerFactory(**kwargs)

    def create_data(self):
        return {'question': RiskQuestionFactory().pk, 'label': 'Never done before', 'score': 4, 'position': 1}


class RiskBandAPITests(CleanRiskData, APITestCases.ModelAPITestCase):
    model = RiskBand
    basename = 'riskband'
    write_roles = MANAGER
    update_data = {'level': RiskLevel.HIGH}

    def make_object(self, **kwargs):
        return RiskBandFactory(**kwargs)

    def create_data(self):
        return {'min_score': 12, 'level': RiskLevel.VERY_HIGH}

    def filter_cases(self):
        high = RiskBandFactory(level=RiskLevel.HIGH)
        return [({'level': RiskLevel.HIGH}, [high])]


class RiskRuleAPITests(CleanRiskData, APITestCases.ModelAPITestCase):
    model = RiskRule
    basename = 'riskrule'
    write_roles = MANAGER
    update_data = {'threshold': 3}

    def make_object(self, **kwargs):
        return RiskRuleFactory(**kwargs)

    def create_data(self):
        return {'name': 'Failed here before', 'signal': RiskSignal.FAILED_CHANGES, 'threshold': 1, 'raise_to': 'high'}

    def filter_cases(self):
        clocks = RiskRuleFactory(signal=RiskSignal.CLOCKS_AT_RISK)
        return [({'signal': RiskSignal.CLOCKS_AT_RISK}, [clocks])]


class RiskAssessmentAPITests(CleanRiskData, APITestCases.ModelAPITestCase):
    model = RiskAssessment
    basename = 'riskassessment'
    view_roles = (Role.L2_ENGINEER,)
    write_roles = (Role.L2_ENGINEER,)

    def make_object(self, **kwargs):
        obj = make_risk_assessment(**kwargs)
        self.other_answer = RiskAnswerFactory(question=obj.question)  # what the update answers instead
        return obj

    @property
    def update_data(self):
        return {'answer': self.other_answer.pk}

    def create_data(self):
        answer = RiskAnswerFactory()
        return {'change': ChangeFactory().number, 'question': answer.question_id, 'answer': answer.pk}

    def filter_cases(self):
        mine = make_risk_assessment()
        return [({'change': mine.change.number}, [mine])]

    def test_an_answer_of_another_question_is_refused(self):
        data = self.create_data()
        data['answer'] = RiskAnswerFactory().pk
        response = self.api_client(self.writer()).post(self.list_url(), data, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('answer', response.data)


class ChangeRiskAPITests(CleanRiskData, ItsmTestCase):
    def setUp(self):
        super().setUp()
        self.payroll = make_service(name='Payroll').ci
        self.server = make_ci(name='srv-pay')
        self.engineer = self.make_user(Role.L2_ENGINEER)
        self.change = ChangeFactory(cis=[self.server], services=[self.payroll])
        self.question = RiskQuestionFactory(text='Done before?')
        self.never = RiskAnswerFactory(question=self.question, label='Never', score=7)
        RiskBand.objects.create(min_score=0, level=RiskLevel.LOW)
        RiskBand.objects.create(min_score=5, level=RiskLevel.HIGH)

    def url(self, what):
        return reverse(f'api:change-risk-{what}', args=[self.change.number])

    def test_the_assessment_lists_the_signals_and_their_items(self):
        incident = make_ticket(short_description='Payslips missing', service=self.payroll)
        response = self.api_client(self.engineer).get(self.url('risk'))
        self.assertHttpStatus(response, 200)
        signals = {row['signal']: row for row in response.data['signals']}
        self.assertEqual(signals['open_incidents']['count'], 1)
        self.assertEqual(signals['open_incidents']['items'][0]['url'], incident.get_absolute_url())
        self.assertEqual(response.data['stored_level'], '')

    def test_answering_through_the_api_stores_the_level(self):
        response = self.api_client(self.engineer).post(
            self.url('risk-answers'), {'answers': {str(self.question.pk): self.never.pk}}, format='json'
        )
        self.assertHttpStatus(response, 200)
        self.assertEqual((response.data['questionnaire_level'], response.data['stored_level']), ('high', 'high'))
        self.change.refresh_from_db()
        self.assertEqual(self.change.risk_level, RiskLevel.HIGH)

    def test_bad_answers_are_a_400_and_the_wrong_people_a_403(self):
        other = RiskAnswerFactory()
        client = self.api_client(self.engineer)
        response = client.post(self.url('risk-answers'), {'answers': {str(self.question.pk): other.pk}}, format='json')
        self.assertHttpStatus(response, 400)
        response = client.post(self.url('risk-answers'), {'answers': {'x': 1}}, format='json')
        self.assertHttpStatus(response, 400)
        cab = self.api_client(self.make_user(Role.CAB_MEMBER))
        response = cab.post(
            self.url('risk-answers'), {'answers': {str(self.question.pk): self.never.pk}}, format='json'
        )
        self.assertHttpStatus(response, 403)
        self.assertHttpStatus(client.post(self.url('risk-refresh')), 403)
        self.assertHttpStatus(self.api_client(self.make_user(Role.REQUESTER)).get(self.url('risk')), 403)

    def test_refresh_by_a_change_manager(self):
        manager = self.make_user(Role.CHANGE_MANAGER)
        response = self.api_client(manager).post(self.url('risk-refresh'))
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.data['stored_level'], RiskLevel.LOW)


# ------------------------------------------------------------------------------------------ pages
class RiskQuestionPageTests(CleanRiskData, ViewTestCases.ModelViewTestCase):
    model = RiskQuestion
    write_roles = MANAGER

    def make_object(self, **kwargs):
        return RiskQuestionFactory(**kwargs)

    def form_data(self):
        return {'position': 30, 'text': 'Does it need downtime?', 'help_text': '', 'active': 'on'}


class RiskAnswerPageTests(CleanRiskData, ViewTestCases.ModelViewTestCase):
    model = RiskAnswer
    write_roles = MANAGER

    def make_object(self, **kwargs):
        return RiskAnswerFactory(**kwargs)

    def form_data(self):
        return {'question': RiskQuestionFactory().pk, 'position': 1, 'label': 'Yes, with downtime', 'score': 3}


class RiskBandPageTests(CleanRiskData, ViewTestCases.ModelViewTestCase):
    model = RiskBand
    write_roles = MANAGER

    def make_object(self, **kwargs):
        return RiskBandFactory(**kwargs)

    def form_data(self):
        return {'min_score': 9, 'level': RiskLevel.HIGH}


class RiskRulePageTests(CleanRiskData, ViewTestCases.ModelViewTestCase):
    model = RiskRule
    write_roles = MANAGER

    def make_object(self, **kwargs):
        return RiskRuleFactory(**kwargs)

    def form_data(self):
        return {
            'name': 'Downstream reach',
            'signal': RiskSignal.DOWNSTREAM_SERVICES,
            'threshold': 3,
            'raise_to': RiskLevel.HIGH,
            'active': 'on',
        }


class RiskAssessmentPageTests(CleanRiskData, ViewTestCases.ModelViewTestCase):
    model = RiskAssessment
    view_roles = (Role.L2_ENGINEER,)
    write_roles = (Role.L2_ENGINEER,)

    def make_object(self, **kwargs):
        return make_risk_assessment(**kwargs)

    def form_data(self):
        answer = RiskAnswerFactory()
        return {'change': ChangeFactory().number, 'question': answer.question_id, 'answer': answer.pk}

    def edit_data(self, obj):
        return {'answer': RiskAnswerFactory(question=obj.question).pk}


class ChangeRiskPanelTests(CleanRiskData, ItsmTestCase):
    def setUp(self):
        super().setUp()
        self.payroll = make_service(name='Payroll').ci
        self.server = make_ci(name='srv-pay')
        self.change = ChangeFactory(cis=[self.server], services=[self.payroll])
        self.question = RiskQuestionFactory(text='Done before?')
        self.never = RiskAnswerFactory(question=self.question, label='Never', score=7)
        RiskAnswerFactory(question=self.question, label='Often', score=0)
        RiskBand.objects.create(min_score=5, level=RiskLevel.HIGH)

    def test_the_panel_shows_signals_with_links_and_the_questionnaire(self):
        incident = make_ticket(short_description='Payslips <missing>', service=self.payroll)
        self.client.force_login(self.make_user(Role.L2_ENGINEER))
        response = self.client.get(reverse('changes:change_risk', args=[self.change.number]))
        self.assertHttpStatus(response, 200)
        self.assertContains(response, incident.get_absolute_url())
        self.assertContains(response, 'Payslips &lt;missing&gt;')  # escaped
        self.assertContains(response, 'Done before?')
        self.assertNotContains(response, 'Assess again')  # change managers only
        self.assertContains(response, 'hx-trigger="pc-record-changed from:body"')  # refreshed after each action

    def test_answering_from_the_panel(self):
        self.client.force_login(self.make_user(Role.L2_ENGINEER))
        url = reverse('changes:change_risk_answers', args=[self.change.number])
        response = self.client.post(url, {f'q{self.question.pk}': self.never.pk}, headers={'HX-Request': 'true'})
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'High')
        self.change.refresh_from_db()
        self.assertEqual(self.change.questionnaire_level, RiskLevel.HIGH)
        response = self.client.post(url, {f'q{self.question.pk}': 'nonsense'}, headers={'HX-Request': 'true'})
        self.assertHttpStatus(response, 400)
        self.assertContains(response, 'is-invalid', status_code=400)

    def test_the_change_manager_assesses_again(self):
        self.client.force_login(self.make_user(Role.CHANGE_MANAGER))
        self.assertContains(self.client.get(reverse('changes:change_risk', args=[self.change.number])), 'Assess again')
        response = self.client.post(reverse('changes:change_risk_refresh', args=[self.change.number]))
        self.assertHttpStatus(response, 302)
        self.change.refresh_from_db()
        self.assertIsNotNone(self.change.risk_assessed_at)

    def test_requesters_and_cab_members_cannot_answer(self):
        self.client.force_login(self.make_user(Role.REQUESTER))
        self.assertHttpStatus(self.client.get(reverse('changes:change_risk', args=[self.change.number])), 403)
        self.client.force_login(self.make_user(Role.CAB_MEMBER))
        url = reverse('changes:change_risk_answers', args=[self.change.number])
        self.assertHttpStatus(self.client.post(url, {f'q{self.question.pk}': self.never.pk}), 403)
        self.assertFalse(RiskAssessment.objects.exists())

    def test_panel_queries_do_not_grow_with_signals_or_questions(self):
        self.client.force_login(self.make_user(Role.L2_ENGINEER))
        url = reverse('changes:change_risk', args=[self.change.number])
        make_ticket(short_description='Payroll fault', service=self.payroll)
        self.client.get(url)
        few = self.count_queries(lambda: self.assertHttpStatus(self.client.get(url), 200))
        for n in range(4):
            make_ticket(short_description=f'Payroll fault {n}', service=self.payroll)
            question = RiskQuestionFactory()
            RiskAnswerFactory(question=question)
            RiskAnswerFactory(question=question)
        many = self.count_queries(lambda: self.assertHttpStatus(self.client.get(url), 200))
        self.assertEqual(few, many)


class ChangePageRiskCardTests(CleanRiskData, ItsmTestCase):
    def test_the_change_page_loads_the_risk_card_after_the_page(self):
        change = ChangeFactory()
        self.client.force_login(self.make_user(Role.L2_ENGINEER))
        response = self.client.get(change.get_absolute_url())
        self.assertHttpStatus(response, 200)
        self.assertContains(response, f'hx-get="{reverse("changes:change_risk", args=[change.number])}"')


class RiskAdminTests(CleanRiskData, ItsmTestCase):
    def setUp(self):
        super().setUp()
        self.admin = self.make_user(Role.ADMINISTRATOR, is_staff=True, is_superuser=True)
        self.client.force_login(self.admin)

    def test_risk_data_is_listed_and_edits_are_on_the_timeline(self):
        question = RiskQuestionFactory(text='Needs a reboot?')
        for model in ('riskquestion', 'riskanswer', 'riskband', 'riskrule', 'riskassessment'):
            self.assertHttpStatus(self.client.get(reverse(f'admin:changes_{model}_changelist')), 200)
        response = self.client.post(
            reverse('admin:changes_riskquestion_change', args=[question.pk]),
            {
                'position': 10,
                'text': 'Needs a reboot of the host?',
                'help_text': '',
                'active': 'on',
                'answers-TOTAL_FORMS': 0,
                'answers-INITIAL_FORMS': 0,
            },
        )
        self.assertHttpStatus(response, 302)
        self.assertTrue(self.timeline(question).filter(message='Changed in the admin site').exists())

    def test_a_changes_answers_are_read_only_in_the_admin(self):
        self.assertHttpStatus(self.client.get(reverse('admin:changes_riskassessment_add')), 403)
