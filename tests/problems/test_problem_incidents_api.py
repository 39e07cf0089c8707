"""The incident links (`ProblemIncident`) through the generic API and page tests: read, created and deleted through
the link services only (no edits: unlink and link again)."""

from django.urls import NoReverseMatch, reverse

from itsm.choices import Role
from problems.models import ProblemIncident
from tests.base import APITestCases, ViewTestCases
from tests.factories import make_ticket

from .factories import ProblemIncidentFactory, make_problem


class ProblemIncidentAPITests(APITestCases.ModelAPITestCase):
    model = ProblemIncident
    basename = 'problemincident'
    view_roles = (Role.SERVICE_DESK_AGENT,)
    write_roles = (Role.PROBLEM_MANAGER,)
    denied_roles = (Role.REQUESTER,)

    def make_object(self, **kwargs):
        return ProblemIncidentFactory(**kwargs)

    def create_data(self):
        return {'problem': make_problem().number, 'incident': make_ticket().number}

    def filter_cases(self):
        first, second = self.make_object(), self.make_object()
        return [
            ({'problem': first.problem.number}, [first]),
            ({'incident': second.incident.number.lower()}, [second]),
            ({'problem_state': 'new'}, [first, second]),
        ]

    def test_update_records_field_changes(self):
        """A link is not edited: it is removed and made again."""
        link = self.make_object()
        response = self.api_client(self.writer()).patch(self.detail_url(link), {'problem': 'PRB1'}, format='json')
        self.assertHttpStatus(response, 405)

    def test_read_only_fields_are_not_writable(self):
        self.test_update_records_field_changes()

    def test_update_without_permission_is_forbidden(self):
        link = self.make_object()
        response = self.api_client(self.user_without('change')).patch(self.detail_url(link), {}, format='json')
        self.assertHttpStatus(response, 405)
        self.assertEqual(ProblemIncident.objects.get().problem, link.problem)

    def test_the_endpoints_are_in_the_schema(self):
        response = self.api_client(self.viewer()).get('/api/v1/schema/', {'format': 'json'})
        self.assertHttpStatus(response, 200)
        paths = response.json()['paths']
        for path in (
            '/api/v1/problem-incidents/',
            '/api/v1/incidents/{number}/raise-problem/',
            '/api/v1/incidents/{number}/link-problem/',
            '/api/v1/problem-review/',
            '/api/v1/problem-review/{number}/reviewed/',
            '/api/v1/problems/{number}/complete-incidents/',
        ):
            self.assertIn(path, paths)

    def test_an_incident_linked_elsewhere_is_a_conflict(self):
        link = self.make_object()
        data = {'problem': make_problem().number, 'incident': link.incident.number}
        response = self.api_client(self.writer()).post(self.list_url(), data, format='json')
        self.assertHttpStatus(response, 409)
        self.assertEqual(ProblemIncident.objects.get().problem, link.problem)


class ProblemIncidentViewTests(ViewTestCases.ModelViewTestCase):
    model = ProblemIncident
    view_roles = (Role.SERVICE_DESK_AGENT,)
    write_roles = (Role.PROBLEM_MANAGER,)
    denied_roles = (Role.REQUESTER,)

    def make_object(self, **kwargs):
        return ProblemIncidentFactory(**kwargs)

    def form_data(self):
        return {'problem': make_problem().pk, 'incident': make_ticket().number}

    def test_list_and_detail(self):
        link = self.make_object()
        self.login(*self.view_roles)
        for url in (self.url('list'), self.url('detail', link)):
            response = self.client.get(url)
            self.assertContains(response, link.incident.number)
            self.assertContains(response, link.problem.number)

    def test_add_invalid_keeps_input_and_shows_errors(self):
        self.login(*self.write_roles)
        data = {**self.form_data(), 'incident': 'INC0999999'}
        response = self.client.post(self.url('add'), data)
        self.assertHttpStatus(response, 400)
        self.assertContains(response, 'No incident INC0999999', status_code=400)
        self.assertContains(response, 'is-invalid', status_code=400)

    def assert_not_routed(self, action):
        with self.assertRaises(NoReverseMatch):
            reverse(f'problems:problemincident_{action}', kwargs={'pk': 1})

    def test_edit(self):
        self.assert_not_routed('edit')

    def test_edit_without_permission_is_forbidden(self):
        self.assert_not_routed('edit')
