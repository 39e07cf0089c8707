"""The problems API: /api/v1/problems/ (CRUD by number, filters, actions, refusals) and the category priorities at
/api/v1/problem-category-priorities/."""

from __future__ import annotations

from cmdb.choices import CIClass
from itsm.choices import Impact, Role, Tier, TimelineKind, Urgency
from itsm.models import User
from problems.choices import ProblemState
from problems.models import CategoryPriority, Problem
from tests.base import APITestCases, ItsmTestCase
from tests.cmdb.factories import make_ci
from tests.factories import make_group_with_agent, make_user
from tests.problems.factories import CategoryPriorityFactory, close_blockers, make_category, make_problem

S = ProblemState


class ProblemAPITests(APITestCases.ModelAPITestCase):
    model = Problem
    basename = 'problem'
    view_roles = (Role.SERVICE_DESK_AGENT,)
    write_roles = (Role.PROBLEM_MANAGER,)
    read_only_roles = (Role.MANAGER,)  # reads every problem, works none
    update_data = {'short_description': 'Mail gateway drops idle sessions', 'vendor': 'Mailgate Ltd'}
    read_only_fields = {'state': 'closed', 'priority': 0, 'root_cause': 'Set outside the analysis'}
    supports_delete = False
    query_rows = (2, 8)

    def make_object(self, **kwargs):
        service = make_ci(CIClass.SERVICE)
        return make_problem(services=[service], cis=[make_ci(CIClass.SERVER)], **kwargs)

    def create_data(self):
        category = make_category('Messaging')
        service = make_ci(CIClass.SERVICE, name='E-mail')
        return {
            'short_description': 'Mail clients lose their connection',
            'description': 'Twelve incidents this week.',
            'category': category.name,
            'services': [service.number],
            'symptoms': 'Outlook shows "Disconnected" every few minutes.',
        }

    def filter_cases(self):
        group, _ = make_group_with_agent(name='Platform Engineering', tier=Tier.L3, role=Role.L3_ENGINEER)
        manager = make_user(Role.PROBLEM_MANAGER, username='marta')
        row = CategoryPriorityFactory(category=make_category('Network'), impact=Impact.HIGH, urgency=Urgency.URGENT)
        server = make_ci(CIClass.SERVER, name='core-sw-01')
        service = make_ci(CIClass.SERVICE, name='Wi-Fi')
        a = make_problem(
            S.ROOT_CAUSE_ANALYSIS,
            short_description='Wi-Fi drops in building B',
            category=row.category,
            owner=manager,
            assignment_group=group,
            cis=[server],
            services=[service],
        )
        b = make_problem(short_description='Printer spooler hangs')
        c = make_problem(S.CLOSED, short_description='Old certificate expiry')
        Problem.objects.filter(pk=b.pk).update(opened_at=b.opened_at.replace(year=b.opened_at.year - 1))
        return [
            ({'state': 'root_cause_analysis'}, [a]),
            ({'open': 'false'}, [c]),
            ({'priority': '2'}, [a]),
            ({'owner': 'marta'}, [a]),
            ({'group': 'Platform Engineering'}, [a]),
            ({'category': 'Network'}, [a]),
            ({'ci': server.number}, [a]),
            ({'service': 'Wi-Fi'}, [a]),
            ({'age': '90'}, [b]),
            ({'q': 'spooler'}, [b]),
            ({'root_cause_known': 'true'}, [c]),
        ]

    # -- beyond CRUD
    def test_requesters_never_see_problems(self):
        problem = self.make_object()
        client = self.api_client(make_user(Role.REQUESTER))
        self.assertHttpStatus(client.get(self.list_url()), 403)
        self.assertHttpStatus(client.get(self.detail_url(problem)), 403)

    def test_owner_filter_me(self):
        manager = make_user(Role.PROBLEM_MANAGER)
        mine = make_problem(S.ASSESSED, owner=manager)
        make_problem(S.ASSESSED)
        response = self.api_client(manager).get(self.list_url(), {'owner': 'me'})
        self.assertEqual(self.result_keys(response), {mine.number})

    def test_actions_run_through_the_api_with_their_refusals(self):
        group, analyst = make_group_with_agent(name='Platform Engineering', tier=Tier.L3, role=Role.L3_ENGINEER)
        manager = make_user(Role.PROBLEM_MANAGER)
        problem = make_problem(S.ROOT_CAUSE_ANALYSIS, assignment_group=group, owner=manager)
        url = f'{self.detail_url(problem)}'
        # The analyst records the analysis; resolving is the problem manager's.
        response = self.api_client(analyst).post(
            f'{url}record-analysis/',
            {'root_cause': 'Gateway firmware drops idle sessions.', 'root_cause_category': 'software'},
            format='json',
        )
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.data['root_cause'], 'Gateway firmware drops idle sessions.')
        self.assertIsNotNone(response.data['root_cause_found_at'])
        response = self.api_client(analyst).post(f'{url}resolve/', {'resolution': 'Upgraded.'}, format='json')
        self.assertHttpStatus(response, 403)
        self.assertEqual(response.data['code'], 'permission_denied')
        response = self.api_client(manager).post(f'{url}resolve/', {}, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('resolution', response.data)
        response = self.api_client(manager).post(f'{url}close/', {}, format='json')
        self.assertHttpStatus(response, 409)
        self.assertEqual(response.data['code'], 'invalid_transition')
        response = self.api_client(manager).post(f'{url}resolve/', {'resolution': 'Upgraded.'}, format='json')
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.data['state'], S.RESOLVED)

    def test_close_blocked_by_a_registered_blocker_is_a_409(self):
        problem = make_problem(S.RESOLVED)

        def blocker(record):
            return ['CHG0009001 is not closed yet.']

        with close_blockers(blocker):
            response = self.api_client(self.writer()).post(f'{self.detail_url(problem)}close/', {}, format='json')
        self.assertHttpStatus(response, 409)
        self.assertEqual(response.data['code'], 'close_blocked')
        self.assertIn('CHG0009001', response.data['detail'])
        self.assertEqual(Problem.objects.get(pk=problem.pk).state, S.RESOLVED)

    def test_bad_input_is_a_400_naming_the_field(self):
        client = self.api_client(self.writer())
        cases = [
            ({'short_description': 'x', 'category': 'No such category'}, 'category'),
            ({'short_description': 'x', 'services': [make_ci(CIClass.SERVER).number]}, 'services'),
            ({'short_description': 'x', 'owner': make_user(Role.SERVICE_DESK_AGENT).username}, 'owner'),
            ({'description': 'no short description'}, 'short_description'),
        ]
        for data, field in cases:
            with self.subTest(field=field):
                response = client.post(self.list_url(), data, format='json')
                self.assertHttpStatus(response, 400)
                self.assertIn(field, response.data)
        self.assertFalse(Problem.objects.exists())

    def test_comments_and_timeline(self):
        problem = self.make_object()
        client = self.api_client(self.writer())
        response = client.post(f'{self.detail_url(problem)}comments/', {'body': 'Gateway logs attached.'})
        self.assertHttpStatus(response, 201)
        response = client.get(f'{self.detail_url(problem)}timeline/')
        self.assertHttpStatus(response, 200)
        self.assertEqual([e['kind'] for e in response.data][:1], [TimelineKind.CREATED])

    def test_the_actions_are_in_the_schema(self):
        response = self.api_client(self.viewer()).get('/api/v1/schema/', {'format': 'json'})
        self.assertHttpStatus(response, 200)
        paths = response.json()['paths']
        for slug in ('assess', 'analyse', 'record-analysis', 'start-fix', 'resolve', 'close', 'reopen', 'cancel'):
            self.assertIn(f'/api/v1/problems/{{number}}/{slug}/', paths)
        self.assertIn('/api/v1/problem-category-priorities/', paths)


class CategoryPriorityAPITests(APITestCases.ModelAPITestCase):
    model = CategoryPriority
    basename = 'categorypriority'
    view_roles = (Role.SERVICE_DESK_AGENT,)
    write_roles = (Role.ADMINISTRATOR,)
    read_only_roles = (Role.PROBLEM_MANAGER,)
    update_data = {'impact': 'severe', 'urgency': 'immediate'}

    def make_object(self, **kwargs):
        return CategoryPriorityFactory(**kwargs)

    def create_data(self):
        return {'category': make_category('Telephony').name, 'impact': 'high', 'urgency': 'critical'}

    def filter_cases(self):
        a = CategoryPriorityFactory(category=make_category('Telephony'), impact=Impact.LOW)
        b = CategoryPriorityFactory(category=make_category('Storage'), impact=Impact.SEVERE)
        return [({'impact': 'low'}, [a]), ({'q': 'stor'}, [b])]

    def test_a_second_row_for_a_category_is_a_409(self):
        row = self.make_object()
        response = self.api_client(self.writer()).post(
            self.list_url(), {'category': row.category.name, 'impact': 'low', 'urgency': 'normal'}, format='json'
        )
        self.assertHttpStatus(response, 409)
        self.assertEqual(CategoryPriority.objects.count(), 1)

    def test_the_answer_shows_the_priority_and_open_problems_follow(self):
        row = self.make_object(impact=Impact.MEDIUM, urgency=Urgency.NORMAL)
        problem = make_problem(S.ASSESSED, category=row.category)
        response = self.api_client(self.writer()).patch(
            self.detail_url(row), {'impact': 'severe', 'urgency': 'immediate'}, format='json'
        )
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.data['priority'], 0)
        self.assertEqual(Problem.objects.get(pk=problem.pk).priority, 0)


class ProblemRoleTests(ItsmTestCase):
    """Who may raise problems through the API: staff who work incidents and problem managers, not readers."""

    def test_agents_raise_and_readers_do_not(self):
        data = {'short_description': 'VPN drops every hour'}
        for role, status in ((Role.SERVICE_DESK_AGENT, 201), (Role.INCIDENT_MANAGER, 201), (Role.MANAGER, 403)):
            with self.subTest(role=role):
                response = self.api_client(make_user(role)).post('/api/v1/problems/', data, format='json')
                self.assertHttpStatus(response, status)
        self.assertEqual(Problem.objects.count(), 2)

    def test_a_person_without_a_role_reads_nothing(self):
        make_problem()
        response = self.api_client(User.objects.create(username='nobody')).get('/api/v1/problems/')
        self.assertHttpStatus(response, 403)
