"""Change pages: the list with its tabs and filters, the change page (plans, tests and the gate, tasks in order,
scope, links), create (a standard change from a model) and edit; implementation task pages; the catalogue."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse

from changes.choices import ChangeState, ChangeType, TaskState
from changes.models import Change, ChangeModel, ChangeModelTask, ChangeTask
from cmdb.choices import CIClass
from itsm.choices import Role, Tier, TimelineKind
from tests.base import ItsmTestCase, ViewTestCases
from tests.changes.factories import (
    ChangeModelFactory,
    ChangeModelTaskFactory,
    ChangeTaskFactory,
    make_change,
    window,
)
from tests.cmdb.factories import make_ci
from tests.factories import make_group_with_agent, make_user

S = ChangeState


class ChangeViewTests(ViewTestCases.ModelViewTestCase):
    model = Change
    view_roles = (Role.SERVICE_DESK_AGENT,)
    write_roles = (Role.CHANGE_MANAGER,)
    read_only_roles = (Role.MANAGER,)  # reads every change, works none

    def make_object(self, **kwargs):
        kwargs.setdefault('services', [make_ci(CIClass.SERVICE)])
        kwargs.setdefault('cis', [make_ci(CIClass.SERVER)])
        return make_change(**kwargs)

    def form_data(self):
        return {
            'change_type': ChangeType.NORMAL,
            'short_description': 'Upgrade the mail relays',
            'description': 'Both relays move to the supported release.',
            'cis': make_ci(CIClass.SERVER, name='relay-01').number,
            'services': [make_ci(CIClass.SERVICE, name='E-mail').pk],
            'implementation_plan': 'Drain, upgrade, re-enable, one relay at a time.',
            'backout_plan': 'Restore the snapshot taken before the upgrade.',
        }

    def edit_data(self, obj):
        group, _ = make_group_with_agent(name=f'Messaging team {obj.pk}', tier=Tier.L2, role=Role.L2_ENGINEER)
        return {
            'short_description': 'Upgrade the mail relays to 9.4',
            'description': obj.description,
            'cis': ', '.join(item.number for item in obj.cis.all()),
            'services': [item.pk for item in obj.services.all()],
            'assignment_group': group.pk,
            'backout_plan': 'Reinstall 9.3 from the package cache.',
        }

    def test_delete(self):
        """Changes are never deleted: they are cancelled, with a reason."""
        with self.assertRaises(NoReverseMatch):
            reverse('changes:change_delete', kwargs={'number': 'CHG0001001'})
        change = self.make_object()
        self.login(*self.write_roles)
        response = self.client.post(reverse('changes:change_cancel', args=[change.number]), {'reason': 'Superseded'})
        self.assertHttpStatus(response, 302)
        change = Change.objects.get(pk=change.pk)
        self.assertEqual((change.state, change.cancel_reason), (S.CANCELLED, 'Superseded'))

    def test_create_derives_the_environment_from_the_cis(self):
        self.login(*self.write_roles)
        data = {**self.form_data(), 'cis': f'{make_ci(CIClass.SERVER, environment="staging").number}'}
        self.client.post(reverse('changes:change_add'), data)
        self.assertEqual(Change.objects.get().environment, 'staging')

    def test_a_standard_change_from_the_catalogue_copies_the_plans_and_tasks(self):
        model = ChangeModelFactory(tasks=2)
        self.login(Role.L2_ENGINEER)
        page = self.client.get(reverse('changes:change_add') + f'?model={model.pk}')
        self.assertEqual(page.context['form'].initial['change_model'], model.pk)
        data = {'change_type': 'standard', 'change_model': model.pk, 'short_description': 'Renew the portal cert'}
        response = self.client.post(reverse('changes:change_add'), data)
        self.assertHttpStatus(response, 302)
        change = Change.objects.get()
        self.assertEqual(change.backout_plan, model.backout_plan)
        self.assertEqual([t.short_description for t in change.tasks.all()], ['Step 1', 'Step 2'])

    def test_a_standard_change_without_a_model_is_refused_with_a_message(self):
        self.login(Role.L2_ENGINEER)
        data = {'change_type': 'standard', 'short_description': 'Renew the portal cert'}
        response = self.client.post(reverse('changes:change_add'), data)
        self.assertHttpStatus(response, 200)
        self.assertIn('change_model', response.context['form'].errors)
        self.assertFalse(Change.objects.exists())

    def test_the_planned_window_is_stored(self):
        self.login(*self.write_roles)
        start, end = window()
        data = {**self.form_data(), 'planned_start': start.strftime('%Y-%m-%dT%H:%M')}
        data['planned_end'] = end.strftime('%Y-%m-%dT%H:%M')
        self.assertHttpStatus(self.client.post(reverse('changes:change_add'), data), 302)
        change = Change.objects.get()
        self.assertEqual((change.planned_start, change.planned_end), (start, end))

    def test_planned_end_before_start_is_refused_with_a_message(self):
        self.login(*self.write_roles)
        start, end = window()
        data = {**self.form_data(), 'planned_start': end.strftime('%Y-%m-%dT%H:%M')}
        data['planned_end'] = start.strftime('%Y-%m-%dT%H:%M')
        response = self.client.post(reverse('changes:change_add'), data)
        self.assertHttpStatus(response, 200)
        self.assertIn('planned_end', response.context['form'].errors)

    def test_page_shows_plans_tests_tasks_and_links(self):
        change = make_change(S.IMPLEMENTATION, cis=[make_ci(CIClass.SERVER)])
        ChangeTaskFactory(change=change, short_description='Drain relay-01')
        self.login(Role.SERVICE_DESK_AGENT)
        response = self.client.get(change.get_absolute_url())
        self.assertContains(response, 'Drain, upgrade, re-enable.')
        self.assertContains(response, 'Restore the snapshot taken before the upgrade.')
        self.assertContains(response, 'Rehearsed on staging.')
        self.assertContains(response, 'Drain relay-01')
        self.assertContains(response, 'id="change-links"')

    def test_page_says_why_the_testing_gate_is_closed(self):
        change = make_change(S.SCHEDULED, cis=[make_ci(CIClass.SERVER)])
        Change.objects.filter(pk=change.pk).update(tests_passed=None)
        self.login(Role.CHANGE_MANAGER)
        response = self.client.get(change.get_absolute_url())
        self.assertContains(response, 'production changes start only after passing tests')

    def test_page_queries_do_not_grow_with_tasks_cis_and_services(self):
        change = make_change(S.IMPLEMENTATION, cis=[make_ci(CIClass.SERVER)], services=[make_ci(CIClass.SERVICE)])
        ChangeTaskFactory(change=change)
        self.login(Role.CHANGE_MANAGER)
        url = change.get_absolute_url()
        self.client.get(url)
        small = self.count_queries(lambda: self.client.get(url))
        for _ in range(4):
            ChangeTaskFactory(change=change)
            change.cis.add(make_ci(CIClass.SERVER))
            change.services.add(make_ci(CIClass.SERVICE))
        large = self.count_queries(lambda: self.client.get(url))
        self.assertEqual(small, large)

    def test_user_content_is_escaped(self):
        change = self.make_object(short_description='<script>alert(1)</script>')
        self.login(Role.SERVICE_DESK_AGENT)
        for url in (change.get_absolute_url(), reverse('changes:change_list')):
            response = self.client.get(url)
            self.assertNotContains(response, '<script>alert(1)</script>')
            self.assertContains(response, '&lt;script&gt;alert(1)&lt;/script&gt;')

    def test_requesters_are_refused(self):
        change = self.make_object()
        self.login(Role.REQUESTER)
        self.assertHttpStatus(self.client.get(change.get_absolute_url()), 403)
        self.assertHttpStatus(self.client.get(reverse('changes:changetask_list')), 403)

    def test_each_person_sees_the_actions_they_may_take(self):
        group, engineer = make_group_with_agent(name='Platform', tier=Tier.L3, role=Role.L3_ENGINEER)
        change = make_change(S.SUBMITTED, assignment_group=group)

        def labels(user):
            self.client.force_login(user)
            return [a.label for a in self.client.get(change.get_absolute_url()).context['toolbar_actions']]

        self.assertIn('Assess', labels(make_user(Role.CHANGE_MANAGER)))
        self.assertNotIn('Assess', labels(engineer))
        self.assertEqual(labels(make_user(Role.MANAGER)), [])

    def test_tabs_and_filters(self):
        mine = make_change(short_description='Patch the firewall')
        other = make_change(S.SCHEDULED, short_description='Move the file share', change_type=ChangeType.EMERGENCY)
        user = self.login(Role.L2_ENGINEER)
        Change.objects.filter(pk=mine.pk).update(owner=user)

        def rows(**params):
            response = self.client.get(reverse('changes:change_list'), params)
            return {row.pk for row in response.context['object_list']}

        self.assertEqual(rows(queue='mine'), {mine.pk})
        self.assertEqual(rows(queue='upcoming'), {other.pk})
        self.assertEqual(rows(change_type='emergency'), {other.pk})
        self.assertEqual(rows(q='firewall'), {mine.pk})
        self.assertEqual(rows(state='scheduled'), {other.pk})

    def test_menu_has_change_management_for_staff_only(self):
        self.login(Role.L2_ENGINEER)
        self.assertContains(self.client.get(reverse('changes:change_list')), 'Change management')


class ChangeTaskViewTests(ViewTestCases.ModelViewTestCase):
    model = ChangeTask
    view_roles = (Role.SERVICE_DESK_AGENT,)
    write_roles = (Role.CHANGE_MANAGER,)
    read_only_roles = (Role.MANAGER,)

    def make_object(self, **kwargs):
        return ChangeTaskFactory(**kwargs)

    def form_data(self):
        return {'change': make_change().pk, 'title': 'Drain relay-01', 'position': 10}

    def edit_data(self, obj):
        return {'short_description': 'Drain relay-02', 'description': 'First the queues.', 'position': 20}

    def test_delete(self):
        """Tasks are never deleted: they are cancelled, with a reason."""
        task = self.make_object()
        self.login(*self.write_roles)
        response = self.client.post(reverse('changes:changetask_cancel', args=[task.number]), {'reason': 'Not needed'})
        self.assertHttpStatus(response, 302)
        self.assertEqual(ChangeTask.objects.get(pk=task.pk).state, TaskState.CANCELLED)


class ChangeModelViewTests(ViewTestCases.ModelViewTestCase):
    model = ChangeModel
    view_roles = (Role.SERVICE_DESK_AGENT,)
    write_roles = (Role.CHANGE_MANAGER,)
    read_only_roles = (Role.MANAGER,)

    def make_object(self, **kwargs):
        return ChangeModelFactory(**kwargs)

    def form_data(self):
        return {
            'name': 'Add a DNS record',
            'description': 'A new A or CNAME record in an internal zone.',
            'risk_level': 'low',
            'implementation_plan': 'Add the record through the IPAM.',
            'backout_plan': 'Delete the record.',
            'test_plan': 'Resolve it from two sites.',
            'active': 'on',
        }

    def edit_data(self, obj):
        return {**self.form_data(), 'name': obj.name, 'risk_level': 'moderate'}

    def test_detail_lists_the_tasks_in_order_and_offers_a_standard_change(self):
        model = self.make_object()
        ChangeModelTaskFactory(change_model=model, position=20, title='Second')
        ChangeModelTaskFactory(change_model=model, position=10, title='First')
        self.login(Role.L2_ENGINEER)
        response = self.client.get(reverse('changes:changemodel_detail', args=[model.pk]))
        self.assertEqual([t.title for t in response.context['tasks']], ['First', 'Second'])
        self.assertContains(response, f'?model={model.pk}')


class ChangeModelTaskViewTests(ViewTestCases.ModelViewTestCase):
    model = ChangeModelTask
    view_roles = (Role.SERVICE_DESK_AGENT,)
    write_roles = (Role.CHANGE_MANAGER,)
    read_only_roles = (Role.MANAGER,)

    def make_object(self, **kwargs):
        return ChangeModelTaskFactory(**kwargs)

    def form_data(self):
        return {'change_model': ChangeModelFactory().pk, 'position': 10, 'title': 'Export the old certificate'}

    def edit_data(self, obj):
        return {'change_model': obj.change_model_id, 'position': 30, 'title': 'Import the new certificate'}


class ChangeSearchTests(ItsmTestCase):
    def test_the_search_box_finds_a_change_by_number(self):
        change = make_change()
        self.client.force_login(make_user(Role.SERVICE_DESK_AGENT))
        response = self.client.get(reverse('itsm:search'), {'q': change.number})
        self.assertRedirects(response, change.get_absolute_url(), fetch_redirect_response=False)


class ChangePeopleCardTests(ItsmTestCase):
    def test_the_people_card_names_each_role_once_and_links_the_people(self):
        requester = make_user(Role.L2_ENGINEER)
        change = make_change(requester=requester)
        self.client.force_login(make_user(Role.CHANGE_MANAGER))
        html = self.client.get(change.get_absolute_url()).content.decode()
        people = html[html.index('>People<') : html.index('Scope and authorisation')]
        self.assertEqual(people.count('<dt>Group</dt>'), 1)
        self.assertEqual(people.count('<dt>Assignee</dt>'), 1)
        self.assertIn(f'href="{requester.get_absolute_url()}"', people)


class ChangeAdminTests(ItsmTestCase):
    def test_admin_lists_changes_read_only_and_keeps_the_catalogue_on_the_timeline(self):
        change = make_change()
        self.client.force_login(make_user(Role.ADMINISTRATOR, is_staff=True, is_superuser=True))
        self.assertContains(self.client.get(reverse('admin:changes_change_changelist')), change.number)
        self.assertHttpStatus(self.client.get(reverse('admin:changes_change_add')), 403)
        self.assertHttpStatus(self.client.get(reverse('admin:changes_changetask_add')), 403)
        data = {
            'name': 'Restart a web node',
            'risk_level': 'low',
            'active': 'on',
            'tasks-TOTAL_FORMS': '1',
            'tasks-INITIAL_FORMS': '0',
            'tasks-0-position': '10',
            'tasks-0-title': 'Take the node out of the pool',
        }
        response = self.client.post(reverse('admin:changes_changemodel_add'), data)
        self.assertHttpStatus(response, 302)
        model = ChangeModel.objects.get(name='Restart a web node')
        self.assertEqual([t.title for t in model.tasks.all()], ['Take the node out of the pool'])
        self.assertTrue(self.timeline(model, TimelineKind.CREATED).exists())
