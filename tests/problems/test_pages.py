"""Problem pages: the list with its tabs and filters, the problem page and its sections, create and edit, who sees
which actions, and the category priority pages."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse

from cmdb.choices import CIClass
from itsm.choices import Impact, Role, Tier, TimelineKind, Urgency
from problems import services
from problems.choices import ProblemState
from problems.models import CategoryPriority, Problem
from tests.base import ItsmTestCase, ViewTestCases
from tests.cmdb.factories import make_ci
from tests.factories import make_group_with_agent, make_user
from tests.problems.factories import SYSTEM, CategoryPriorityFactory, close_blockers, make_category, make_problem

S = ProblemState


class ProblemViewTests(ViewTestCases.ModelViewTestCase):
    model = Problem
    view_roles = (Role.SERVICE_DESK_AGENT,)
    write_roles = (Role.PROBLEM_MANAGER,)
    read_only_roles = (Role.MANAGER,)  # reads every problem, works none
    query_rows = (2, 8)

    def make_object(self, **kwargs):
        kwargs.setdefault('services', [make_ci(CIClass.SERVICE)])
        kwargs.setdefault('cis', [make_ci(CIClass.SERVER)])
        return make_problem(category=make_category(), **kwargs)

    def form_data(self):
        service = make_ci(CIClass.SERVICE, name='E-mail')
        server = make_ci(CIClass.SERVER, name='mail-gw-01')
        return {
            'short_description': 'Mail clients lose their connection',
            'description': 'Twelve incidents this week.',
            'category': make_category('Messaging').pk,
            'services': [service.pk],
            'cis': server.number,
            'owner': make_user(Role.PROBLEM_MANAGER).pk,
            'symptoms': 'Outlook shows "Disconnected" every few minutes.',
        }

    def edit_data(self, obj):
        group, _ = make_group_with_agent(name=f'Messaging team {obj.pk}', tier=Tier.L2, role=Role.L2_ENGINEER)
        return {
            'short_description': 'Mail gateway drops idle sessions',
            'description': obj.description,
            'services': [item.pk for item in obj.services.all()],
            'cis': ', '.join(item.number for item in obj.cis.all()),
            'assignment_group': group.pk,
            'vendor': 'Mailgate Ltd',
            'vendor_reference': 'MG-4471',
        }

    def test_delete(self):
        """Problems are never deleted: a problem manager cancels them, with a reason."""
        with self.assertRaises(NoReverseMatch):
            reverse('problems:problem_delete', kwargs={'number': 'PRB0001001'})
        problem = self.make_object()
        self.login(*self.write_roles)
        response = self.client.post(reverse('problems:problem_cancel', args=[problem.number]), {'reason': 'Duplicate'})
        self.assertHttpStatus(response, 302)
        problem = Problem.objects.get(pk=problem.pk)
        self.assertEqual((problem.state, problem.cancel_reason), (S.CANCELLED, 'Duplicate'))

    # -- the list
    def test_tabs(self):
        manager = self.login(Role.PROBLEM_MANAGER)
        mine = make_problem(S.ASSESSED, owner=manager, short_description='Owned by me')
        waiting = services.problem_await_vendor(
            problem=make_problem(S.ASSESSED, short_description='On the supplier'), actor=SYSTEM, vendor='Acme'
        )
        closed = make_problem(S.CLOSED, short_description='Long closed')
        new = make_problem(short_description='Just logged')
        expected = {
            'open': {mine, waiting, new},
            'mine': {mine},
            'vendor': {waiting},
            'unassessed': {new},
            'all': {mine, waiting, closed, new},
        }
        for queue, problems in expected.items():
            with self.subTest(queue=queue):
                response = self.client.get(self.url('list'), {'queue': queue})
                self.assertHttpStatus(response, 200)
                self.assertEqual(set(response.context['object_list']), problems)

    def test_filters(self):
        self.login(*self.view_roles)
        server = make_ci(CIClass.SERVER, name='core-sw-01')
        wifi = make_problem(S.ROOT_CAUSE_ANALYSIS, short_description='Wi-Fi drops', cis=[server])
        make_problem(short_description='Printer spooler hangs')
        for params in ({'state': S.ROOT_CAUSE_ANALYSIS}, {'ci': server.number}, {'q': 'wi-fi'}, {'priority': '3'}):
            with self.subTest(params=params):
                response = self.client.get(self.url('list'), {**params, 'queue': 'all'})
                self.assertHttpStatus(response, 200)
                found = set(response.context['object_list'])
                self.assertIn(wifi, found)
                if 'priority' not in params:
                    self.assertEqual(found, {wifi})

    def test_list_queries_do_not_grow_with_services_and_cis(self):
        self.login(*self.view_roles)
        self.make_object()
        url = f'{self.url("list")}?columns=services,cis'
        self.client.get(url)
        small = self.count_queries(lambda: self.assertHttpStatus(self.client.get(url), 200))
        for _ in range(4):
            self.make_object(services=[make_ci(CIClass.SERVICE), make_ci(CIClass.SERVICE)])
        large = self.count_queries(lambda: self.assertHttpStatus(self.client.get(url), 200))
        self.assertEqual(small, large)

    # -- the problem page
    def test_page_shows_the_analysis_workaround_supplier_and_resolution(self):
        problem = make_problem(S.RESOLVED)
        services.problem_update(problem=problem, actor=SYSTEM, vendor='Mailgate Ltd', vendor_reference='MG-4471')
        self.login(*self.view_roles)
        response = self.client.get(problem.get_absolute_url())
        self.assertHttpStatus(response, 200)
        for text in (
            'Root-cause analysis',
            'A certificate expired on the load balancer.',
            'Configuration error',
            '5 whys',
            'Workaround',
            'Restart the client after accepting the new certificate.',
            'Mailgate Ltd',
            'MG-4471',
            'Certificate renewal automated.',
        ):
            self.assertContains(response, text)

    def test_page_queries_do_not_grow_with_services_and_cis(self):
        problem = self.make_object()
        self.login(*self.view_roles)
        url = problem.get_absolute_url()
        self.client.get(url)
        small = self.count_queries(lambda: self.assertHttpStatus(self.client.get(url), 200))
        problem.services.add(*[make_ci(CIClass.SERVICE) for _ in range(3)])
        problem.cis.add(*[make_ci(CIClass.SERVER) for _ in range(3)])
        large = self.count_queries(lambda: self.assertHttpStatus(self.client.get(url), 200))
        self.assertEqual(small, large)

    def test_the_edit_panel_saves_with_htmx(self):
        problem = self.make_object()
        self.login(Role.PROBLEM_MANAGER)
        url = reverse('problems:problem_edit', args=[problem.number])
        response = self.client.get(url, headers={'HX-Request': 'true'})
        self.assertHttpStatus(response, 200)
        self.assertContains(response, problem.cis.get().number)
        data = {**self.edit_data(problem), 'vendor': 'Mailgate <Ltd>'}
        response = self.client.post(url, data, headers={'HX-Request': 'true'})
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'Mailgate &lt;Ltd&gt;')
        self.assertEqual(Problem.objects.get(pk=problem.pk).vendor, 'Mailgate <Ltd>')

    def test_user_content_is_escaped(self):
        problem = make_problem(S.ASSESSED, short_description='<script>alert(1)</script>')
        self.login(*self.view_roles)
        response = self.client.get(problem.get_absolute_url())
        self.assertNotContains(response, '<script>alert(1)</script>')
        self.assertContains(response, '&lt;script&gt;alert(1)&lt;/script&gt;')

    def test_requesters_are_refused(self):
        problem = self.make_object()
        self.login(Role.REQUESTER)
        self.assertHttpStatus(self.client.get(problem.get_absolute_url()), 403)
        self.assertHttpStatus(self.client.get(self.url('add')), 403)

    def test_each_person_sees_the_actions_they_may_take(self):
        group, analyst = make_group_with_agent(name='Platform Engineering', tier=Tier.L3, role=Role.L3_ENGINEER)
        manager = make_user(Role.PROBLEM_MANAGER)
        problem = make_problem(S.ROOT_CAUSE_ANALYSIS, assignment_group=group)
        url = problem.get_absolute_url()

        def labels(user):
            self.client.force_login(user)
            response = self.client.get(url)
            self.assertHttpStatus(response, 200)
            return {a.label for a in response.context['toolbar_actions']}

        # Without a root cause, neither the fix nor the resolution is offered.
        self.assertEqual(labels(analyst) & {'Start the fix', 'Resolve'}, set())
        self.assertEqual(labels(manager) & {'Start the fix', 'Resolve'}, set())
        self.assertIn('Record analysis', labels(analyst))
        services.problem_record_analysis(problem=problem, actor=SYSTEM, root_cause='Idle sessions are dropped.')
        self.assertIn('Start the fix', labels(analyst))
        self.assertNotIn('Resolve', labels(analyst))
        self.assertTrue({'Record analysis', 'Start the fix', 'Resolve'} <= labels(manager))
        self.assertEqual(labels(make_user(Role.SERVICE_DESK_AGENT)), set())

    def test_recording_the_analysis_with_htmx_refreshes_the_page(self):
        problem = make_problem(S.ROOT_CAUSE_ANALYSIS)
        self.login(Role.PROBLEM_MANAGER)
        url = reverse('problems:problem_record_analysis', args=[problem.number])
        response = self.client.post(
            url,
            {'root_cause': 'Idle <sessions> are dropped', 'root_cause_category': 'software', 'workaround': 'Reconnect'},
            headers={'HX-Request': 'true'},
        )
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'Idle &lt;sessions&gt; are dropped')
        self.assertEqual(response['HX-Trigger'], 'pc-record-changed')
        problem = Problem.objects.get(pk=problem.pk)
        self.assertEqual((problem.root_cause_category, problem.workaround), ('software', 'Reconnect'))

    def test_a_refused_action_keeps_the_input_and_says_why(self):
        problem = make_problem(S.ROOT_CAUSE_ANALYSIS)
        self.login(Role.PROBLEM_MANAGER)
        url = reverse('problems:problem_resolve', args=[problem.number])
        response = self.client.post(url, {'resolution': 'Rebooted the gateway.'})
        self.assertHttpStatus(response, 400)
        self.assertContains(response, 'Record the root cause before you resolve the problem.', status_code=400)
        self.assertContains(response, 'Rebooted the gateway.', status_code=400)
        self.assertEqual(Problem.objects.get(pk=problem.pk).state, S.ROOT_CAUSE_ANALYSIS)

    def test_close_blockers_show_on_the_page_and_refuse_closing(self):
        problem = make_problem(S.RESOLVED)

        def blocker(record):
            return ['CHG0009001 is not closed yet.']

        with close_blockers(blocker):
            self.login(Role.PROBLEM_MANAGER)
            response = self.client.get(problem.get_absolute_url())
            self.assertContains(response, 'Not ready to close')
            self.assertContains(response, 'CHG0009001 is not closed yet.')
            response = self.client.post(reverse('problems:problem_close', args=[problem.number]), {})
            self.assertHttpStatus(response, 409)
        self.assertEqual(Problem.objects.get(pk=problem.pk).state, S.RESOLVED)

    def test_create_computes_the_priority_from_the_category(self):
        row = CategoryPriorityFactory(impact=Impact.SEVERE, urgency=Urgency.CRITICAL)
        self.login(Role.SERVICE_DESK_AGENT)
        response = self.client.post(
            self.url('add'), {'short_description': 'Payroll export fails', 'category': row.category.pk}
        )
        self.assertHttpStatus(response, 302)
        problem = Problem.objects.get()
        self.assertEqual(problem.priority, 1)
        self.assertEqual(response['Location'], problem.get_absolute_url())

    def test_unknown_configuration_items_are_named(self):
        self.login(*self.write_roles)
        response = self.client.post(self.url('add'), {'short_description': 'Anything', 'cis': 'CI9999999'})
        self.assertHttpStatus(response, 200)
        self.assertIn('cis', response.context['form'].errors)
        self.assertContains(response, 'CI9999999')
        self.assertFalse(Problem.objects.exists())

    def test_menu_has_problem_management_for_staff_only(self):
        self.login(Role.SERVICE_DESK_AGENT)
        self.assertContains(self.client.get(reverse('itsm:home'), follow=True), 'Problem management')
        self.login(Role.REQUESTER)
        response = self.client.get(reverse('incidents:portal'), follow=True)
        self.assertHttpStatus(response, 200)
        self.assertNotContains(response, 'Problem management')


class CategoryPriorityViewTests(ViewTestCases.ModelViewTestCase):
    model = CategoryPriority
    view_roles = (Role.SERVICE_DESK_AGENT,)
    write_roles = (Role.ADMINISTRATOR,)
    read_only_roles = (Role.PROBLEM_MANAGER,)

    def make_object(self, **kwargs):
        return CategoryPriorityFactory(**kwargs)

    def form_data(self):
        return {'category': make_category('Telephony').pk, 'impact': 'high', 'urgency': 'critical'}

    def edit_data(self, obj):
        return {'category': obj.category_id, 'impact': 'severe', 'urgency': 'immediate'}

    def test_saving_a_row_reprioritises_the_open_problems_of_the_category(self):
        row = self.make_object(impact=Impact.LOW, urgency=Urgency.NORMAL)
        problem = make_problem(S.ROOT_CAUSE_ANALYSIS, category=row.category)
        self.login(*self.write_roles)
        response = self.client.get(self.url('detail', row))
        self.assertContains(response, 'Open problems of the category')
        response = self.client.post(self.url('edit', row), self.edit_data(row))
        self.assertHttpStatus(response, 302)
        problem = Problem.objects.get(pk=problem.pk)
        self.assertEqual(problem.priority, 0)
        entry = self.timeline(problem, TimelineKind.FIELD_CHANGE).last()
        self.assertIn('priority', {c['field'] for c in entry.changes})

    def test_a_subcategory_is_refused_with_a_message(self):
        self.login(*self.write_roles)
        sub = make_category('Wi-Fi', parent=make_category('Network'))
        response = self.client.post(self.url('add'), {'category': sub.pk, 'impact': 'low', 'urgency': 'normal'})
        self.assertHttpStatus(response, 200)
        self.assertTrue(response.context['form'].errors)
        self.assertFalse(CategoryPriority.objects.exists())


class ProblemSearchTests(ItsmTestCase):
    def test_the_search_box_finds_a_problem_by_number(self):
        problem = make_problem()
        self.client.force_login(make_user(Role.SERVICE_DESK_AGENT))
        response = self.client.get(reverse('itsm:search'), {'q': problem.number.lower()})
        self.assertRedirects(response, problem.get_absolute_url(), fetch_redirect_response=False)


class ProblemAdminTests(ItsmTestCase):
    def test_admin_lists_problems_read_only_and_saves_priorities_through_the_service(self):
        problem = make_problem(S.ASSESSED, category=make_category('Messaging'))
        admin_user = make_user(Role.ADMINISTRATOR, is_staff=True, is_superuser=True)
        self.client.force_login(admin_user)
        response = self.client.get(reverse('admin:problems_problem_changelist'))
        self.assertContains(response, problem.number)
        self.assertHttpStatus(self.client.get(reverse('admin:problems_problem_add')), 403)
        response = self.client.post(
            reverse('admin:problems_categorypriority_add'),
            {'category': problem.category_id, 'impact': 'severe', 'urgency': 'immediate'},
        )
        self.assertHttpStatus(response, 302)
        self.assertEqual(Problem.objects.get(pk=problem.pk).priority, 0)
        self.assertTrue(self.timeline(CategoryPriority.objects.get(), TimelineKind.CREATED).exists())
