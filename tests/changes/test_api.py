"""The changes API: /api/v1/changes/ (CRUD by number, filters, refusals), implementation tasks at
/api/v1/change-tasks/, and the standard-change catalogue at /api/v1/change-models/ and /api/v1/change-model-tasks/."""

from __future__ import annotations

from changes.choices import ChangeState, ChangeType
from changes.models import Change, ChangeModel, ChangeModelTask, ChangeTask
from cmdb.choices import CIClass
from itsm.choices import Role, Tier
from tests.base import APITestCases, ItsmTestCase
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


class ChangeAPITests(APITestCases.ModelAPITestCase):
    model = Change
    basename = 'change'
    view_roles = (Role.SERVICE_DESK_AGENT,)
    write_roles = (Role.CHANGE_MANAGER,)
    read_only_roles = (Role.MANAGER,)
    update_data = {'short_description': 'Upgrade the mail relays to 9.4', 'backout_plan': 'Reinstall 9.3.'}
    read_only_fields = {'state': 'closed', 'risk_level': 'very_high', 'outcome': 'failed', 'tests_passed': True}
    supports_delete = False

    def make_object(self, **kwargs):
        return make_change(services=[make_ci(CIClass.SERVICE)], cis=[make_ci(CIClass.SERVER)], **kwargs)

    def create_data(self):
        start, end = window()
        return {
            'short_description': 'Upgrade the mail relays',
            'change_type': 'normal',
            'description': 'Both relays move to the supported release.',
            'cis': [make_ci(CIClass.SERVER, name='relay-01').number],
            'services': [make_ci(CIClass.SERVICE, name='E-mail').number],
            'planned_start': start.isoformat(),
            'planned_end': end.isoformat(),
            'backout_plan': 'Restore the snapshot.',
        }

    def filter_cases(self):
        group, _ = make_group_with_agent(name='Platform Engineering', tier=Tier.L3, role=Role.L3_ENGINEER)
        owner = make_user(Role.CHANGE_MANAGER, username='carla')
        server = make_ci(CIClass.SERVER, name='core-sw-01')
        service = make_ci(CIClass.SERVICE, name='Wi-Fi')
        start, end = window(days=30)
        a = make_change(
            S.SCHEDULED,
            short_description='Replace the core switch',
            owner=owner,
            assignment_group=group,
            cis=[server],
            services=[service],
            planned_start=start,
            planned_end=end,
        )
        b = make_change(short_description='Patch the print server', change_type=ChangeType.EMERGENCY)
        c = make_change(S.CANCELLED, short_description='Retire the fax gateway')
        Change.objects.filter(pk=a.pk).update(risk_level='high')
        return [
            ({'state': 'scheduled'}, [a]),
            ({'open': 'false'}, [c]),
            ({'change_type': 'emergency'}, [b]),
            ({'risk': 'high'}, [a]),
            ({'owner': 'carla'}, [a]),
            ({'group': 'Platform Engineering'}, [a]),
            ({'ci': server.number}, [a]),
            ({'service': 'Wi-Fi'}, [a]),
            ({'planned_from': start.isoformat(), 'planned_to': end.isoformat()}, [a]),
            ({'q': 'print server'}, [b]),
        ]

    def test_requesters_never_see_changes(self):
        self.make_object()
        response = self.api_client(make_user(Role.REQUESTER)).get(self.list_url())
        self.assertHttpStatus(response, 403)

    def test_a_standard_change_without_a_model_is_400(self):
        data = {'short_description': 'Renew a certificate', 'change_type': 'standard'}
        response = self.api_client(self.writer()).post(self.list_url(), data, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('change_model', str(response.data))

    def test_a_standard_change_copies_its_model(self):
        model = ChangeModelFactory(tasks=3)
        data = {'short_description': 'Renew a certificate', 'change_type': 'standard', 'change_model': model.name}
        response = self.api_client(self.make_user(Role.L2_ENGINEER)).post(self.list_url(), data, format='json')
        self.assertHttpStatus(response, 201)
        self.assertEqual(response.data['backout_plan'], model.backout_plan)
        self.assertEqual([t['short_description'] for t in response.data['tasks']], ['Step 1', 'Step 2', 'Step 3'])

    def test_submit_without_a_backout_plan_is_400_naming_it(self):
        change = make_change(backout_plan='')
        response = self.api_client(self.writer()).post(f'/api/v1/changes/{change.number}/submit/', {}, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('backout_plan', response.data)
        self.assertEqual(Change.objects.get(pk=change.pk).state, S.DRAFT)

    def test_starting_a_production_change_without_passing_tests_is_409(self):
        change = make_change(S.SCHEDULED, cis=[make_ci(CIClass.SERVER)])
        Change.objects.filter(pk=change.pk).update(tests_passed=False)
        response = self.api_client(self.writer()).post(f'/api/v1/changes/{change.number}/start/', {}, format='json')
        self.assertHttpStatus(response, 409)
        self.assertEqual(response.data['code'], 'test_gate')

    def test_actions_are_in_the_schema(self):
        response = self.api_client(self.viewer()).get('/api/v1/schema/', {'format': 'json'})
        self.assertHttpStatus(response, 200)
        paths = response.json()['paths'] if hasattr(response, 'json') else {}
        for slug in ('submit', 'assess', 'schedule', 'start', 'complete', 'close', 'cancel', 'record-tests'):
            self.assertIn(f'/api/v1/changes/{{number}}/{slug}/', paths)


class ChangeTaskAPITests(APITestCases.ModelAPITestCase):
    model = ChangeTask
    basename = 'changetask'
    view_roles = (Role.SERVICE_DESK_AGENT,)
    write_roles = (Role.CHANGE_MANAGER,)
    read_only_roles = (Role.MANAGER,)
    update_data = {'short_description': 'Drain relay-02', 'position': 30}
    read_only_fields = {'state': 'done'}
    supports_delete = False

    def make_object(self, **kwargs):
        return ChangeTaskFactory(**kwargs)

    def create_data(self):
        return {'change': make_change().number, 'short_description': 'Drain relay-01', 'position': 10}

    def filter_cases(self):
        group, _ = make_group_with_agent(name='Messaging', tier=Tier.L2, role=Role.L2_ENGINEER)
        a = ChangeTaskFactory(assignment_group=group)
        b = ChangeTaskFactory(short_description='Check the queues')
        return [({'group': 'Messaging'}, [a]), ({'change': b.change.number}, [b]), ({'q': 'queues'}, [b])]


class ChangeModelAPITests(APITestCases.ModelAPITestCase):
    model = ChangeModel
    basename = 'changemodel'
    view_roles = (Role.SERVICE_DESK_AGENT,)
    write_roles = (Role.CHANGE_MANAGER,)
    read_only_roles = (Role.MANAGER,)
    update_data = {'description': 'Any internal zone.', 'risk_level': 'moderate'}

    def make_object(self, **kwargs):
        return ChangeModelFactory(tasks=2, **kwargs)

    def create_data(self):
        return {'name': 'Add a DNS record', 'risk_level': 'low', 'backout_plan': 'Delete the record.', 'active': True}

    def filter_cases(self):
        a = ChangeModelFactory(name='Patch a web server')
        b = ChangeModelFactory(name='Old model', active=False)
        return [({'active': 'false'}, [b]), ({'q': 'web server'}, [a])]

    def test_tasks_are_nested_in_order(self):
        model = self.make_object()
        response = self.api_client(self.viewer()).get(self.detail_url(model))
        self.assertEqual([t['title'] for t in response.data['tasks']], ['Step 1', 'Step 2'])


class ChangeModelTaskAPITests(APITestCases.ModelAPITestCase):
    model = ChangeModelTask
    basename = 'changemodeltask'
    view_roles = (Role.SERVICE_DESK_AGENT,)
    write_roles = (Role.CHANGE_MANAGER,)
    read_only_roles = (Role.MANAGER,)
    update_data = {'title': 'Import the new certificate', 'position': 40}

    def make_object(self, **kwargs):
        return ChangeModelTaskFactory(**kwargs)

    def create_data(self):
        return {'change_model': ChangeModelFactory().name, 'position': 10, 'title': 'Export the old certificate'}


class ChangeAPIRefusalTests(ItsmTestCase):
    def test_unknown_ci_is_400(self):
        client = self.api_client(make_user(Role.CHANGE_MANAGER))
        data = {'short_description': 'x', 'change_type': 'normal', 'cis': ['CI9999999']}
        self.assertHttpStatus(client.post('/api/v1/changes/', data, format='json'), 400)
