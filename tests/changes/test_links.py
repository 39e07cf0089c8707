"""Changes with problems and incidents: a problem raises a request for change (page and API), a problem closes only
once its changes are finished, an incident is recorded as caused by a change (page and API, shown on both pages);
and the recorded causes (`IncidentCause`) through the generic API and page tests."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse

from changes import links
from changes.choices import ChangeState, ChangeType
from changes.models import Change, IncidentCause
from changes.services import change_cancel
from itsm.audit import Actor
from itsm.choices import Role, TicketKind
from problems import services as problem_services
from problems.choices import ProblemState
from tests.base import APITestCases, ItsmTestCase, ViewTestCases, load_related
from tests.cmdb.factories import make_ci, make_service
from tests.factories import make_ticket, make_user
from tests.problems.factories import make_problem

from .factories import SYSTEM, IncidentCauseFactory, make_change, make_implemented_change

S = ChangeState
P = ProblemState


class RaiseRfcTests(ItsmTestCase):
    def setUp(self):
        self.ci = make_ci(environment='production')
        self.service = make_service().ci
        self.problem = make_problem(P.ROOT_CAUSE_ANALYSIS, cis=[self.ci], services=[self.service])
        self.engineer = make_user(Role.L3_ENGINEER)

    def assert_raised(self, change: Change):
        self.assertEqual(change.state, S.DRAFT)
        self.assertEqual(change.change_type, ChangeType.NORMAL)
        self.assertEqual(list(change.problems.all()), [self.problem])
        self.assertEqual(list(change.cis.all()), [self.ci])
        self.assertEqual(list(change.services.all()), [self.service])
        self.assertEqual(change.environment, 'production')
        self.assertIn(f'Removes the cause of {self.problem.number}', change.justification)
        entry = self.timeline(self.problem, 'link').get()
        self.assertIn(f'Request for change {change.number} raised', entry.message)

    def test_the_problem_page_offers_raise_rfc_and_raises_a_draft(self):
        self.client.force_login(self.engineer)
        page = self.client.get(self.problem.get_absolute_url())
        url = reverse('changes:problem_raise_rfc', kwargs={'number': self.problem.number})
        self.assertContains(page, url)
        form = self.client.get(url)
        self.assertContains(form, f'Fix for {self.problem.number}')
        response = self.client.post(url, {'short_description': 'Renew the certificate automatically'})
        change = Change.objects.get()
        self.assertRedirects(response, change.get_absolute_url(), fetch_redirect_response=False)
        self.assertEqual(change.short_description, 'Renew the certificate automatically')
        self.assert_raised(change)
        # The problem page lists it.
        self.assertContains(self.client.get(self.problem.get_absolute_url()), change.number)

    def test_the_api_raises_one(self):
        client = self.api_client(self.engineer)
        response = client.post(f'/api/v1/problems/{self.problem.number.lower()}/raise-rfc/', {}, format='json')
        self.assertHttpStatus(response, 201)
        change = Change.objects.get()
        self.assertEqual(response.data['number'], change.number)
        self.assertEqual(response.data['problems'], [self.problem.number])
        self.assertEqual(response.data['cis'], [self.ci.number])
        self.assert_raised(change)

    def test_a_closed_or_cancelled_problem_raises_nothing(self):
        problem = make_problem(P.CANCELLED)
        client = self.api_client(self.engineer)
        response = client.post(f'/api/v1/problems/{problem.number}/raise-rfc/', {}, format='json')
        self.assertHttpStatus(response, 409)
        self.client.force_login(self.engineer)
        self.assertNotContains(self.client.get(problem.get_absolute_url()), 'data-testid="raise-rfc"')
        self.assertFalse(Change.objects.exists())

    def test_who_may_raise(self):
        for role in (Role.REQUESTER, Role.CAB_MEMBER, Role.SERVICE_OWNER):
            with self.subTest(role=role):
                client = self.api_client(make_user(role))
                response = client.post(f'/api/v1/problems/{self.problem.number}/raise-rfc/', {}, format='json')
                self.assertHttpStatus(response, 403)
        self.assertFalse(Change.objects.exists())
        reader = make_user(Role.SERVICE_OWNER)
        self.client.force_login(reader)
        page = self.client.get(self.problem.get_absolute_url())
        self.assertContains(page, 'data-testid="problem-changes"')
        self.assertNotContains(page, 'data-testid="raise-rfc"')


class CloseBlockerTests(ItsmTestCase):
    def test_a_problem_closes_once_its_changes_are_finished(self):
        problem = make_problem(P.RESOLVED)
        change = make_change(S.DRAFT, problems=[problem])
        self.assertEqual(
            links.open_changes_block_close(problem),
            [f'Linked changes are still in progress ({change.number}): close or cancel them first.'],
        )
        manager = self.api_client(make_user(Role.PROBLEM_MANAGER))
        response = manager.post(f'/api/v1/problems/{problem.number}/close/', {}, format='json')
        self.assertHttpStatus(response, 409)
        self.assertIn(change.number, str(response.data))
        change_cancel(change=change, actor=SYSTEM, reason='Fixed by the vendor patch instead.')
        self.assertEqual(links.open_changes_block_close(problem), [])
        problem_services.problem_close(problem=problem, actor=SYSTEM)
        problem.refresh_from_db()
        self.assertEqual(problem.state, P.CLOSED)


class CausedByTests(ItsmTestCase):
    def setUp(self):
        self.change = make_implemented_change()
        self.incident = make_ticket()
        self.agent = make_user(Role.SERVICE_DESK_AGENT)

    def test_the_api_records_the_cause_shown_on_both_pages(self):
        client = self.api_client(self.agent)
        url = f'/api/v1/incidents/{self.incident.number}/caused-by-change/'
        response = client.post(url, {'change': self.change.number.lower()}, format='json')
        self.assertHttpStatus(response, 201)
        self.assertEqual(response.data['change'], self.change.number)
        self.assertEqual(response.data['incident'], self.incident.number)
        cause = IncidentCause.objects.get()
        self.assertEqual((cause.incident, cause.change, cause.recorded_by), (self.incident, self.change, self.agent))
        self.assertIn(f'Caused by change {self.change.number}', self.timeline(self.incident, 'link').get().message)
        self.assertIn(f'Caused incident {self.incident.number}', self.timeline(self.change, 'link').get().message)
        self.client.force_login(self.agent)
        incident_page = load_related(self.client, self.client.get(self.incident.get_absolute_url()))
        self.assertContains(incident_page, 'data-testid="incident-caused-by"')
        self.assertContains(incident_page, self.change.number)
        change_page = self.client.get(self.change.get_absolute_url())
        self.assertContains(change_page, 'data-testid="caused-incidents"')
        self.assertContains(change_page, self.incident.number)
        # A second cause is a conflict.
        other = make_implemented_change()
        self.assertHttpStatus(client.post(url, {'change': other.number}, format='json'), 409)

    def test_the_incident_page_records_the_cause(self):
        self.client.force_login(self.agent)
        page = load_related(self.client, self.client.get(self.incident.get_absolute_url()))
        url = reverse('changes:incident_caused_by', kwargs={'number': self.incident.number})
        self.assertContains(page, url)
        response = self.client.post(url, {'change': 'CHG0999999'})
        self.assertContains(response, 'No change CHG0999999', status_code=400)
        response = self.client.post(url, {'change': self.change.number})
        self.assertRedirects(response, self.incident.get_absolute_url(), fetch_redirect_response=False)
        self.assertTrue(IncidentCause.objects.filter(incident=self.incident, change=self.change).exists())

    def test_refusals(self):
        client = self.api_client(self.agent)
        draft = make_change(S.DRAFT)
        response = client.post(
            f'/api/v1/incidents/{self.incident.number}/caused-by-change/', {'change': draft.number}, format='json'
        )
        self.assertHttpStatus(response, 400)
        self.assertIn('never implemented', str(response.data))
        case = make_ticket(kind=TicketKind.CASE)
        response = client.post(
            f'/api/v1/incidents/{case.number}/caused-by-change/', {'change': self.change.number}, format='json'
        )
        self.assertHttpStatus(response, 400)
        requester = self.api_client(make_user(Role.REQUESTER))
        response = requester.post(
            f'/api/v1/incidents/{self.incident.number}/caused-by-change/',
            {'change': self.change.number},
            format='json',
        )
        self.assertHttpStatus(response, 403)
        self.assertFalse(IncidentCause.objects.exists())

    def test_cases_get_no_card(self):
        case = make_ticket(kind=TicketKind.CASE)
        self.client.force_login(self.agent)
        page = load_related(self.client, self.client.get(case.get_absolute_url()))
        self.assertContains(page, 'data-testid="related-records"')
        self.assertNotContains(page, 'data-testid="incident-caused-by"')

    def test_removing_a_cause_writes_both_histories(self):
        cause = IncidentCauseFactory(incident=self.incident, change=self.change)
        links.remove_cause(cause=cause, actor=Actor(user=make_user(Role.CHANGE_MANAGER)))
        self.assertFalse(IncidentCause.objects.exists())
        self.assertIn('No longer recorded', self.timeline(self.incident, 'link').order_by('-pk').first().message)


class IncidentCauseAPITests(APITestCases.ModelAPITestCase):
    model = IncidentCause
    basename = 'incidentcause'
    view_roles = (Role.SERVICE_DESK_AGENT,)
    write_roles = (Role.CHANGE_MANAGER,)
    denied_roles = (Role.REQUESTER,)

    def make_object(self, **kwargs):
        return IncidentCauseFactory(**kwargs)

    def create_data(self):
        return {'incident': make_ticket().number, 'change': make_implemented_change().number}

    def filter_cases(self):
        first, second = self.make_object(), self.make_object()
        return [
            ({'change': first.change.number}, [first]),
            ({'incident': second.incident.number.lower()}, [second]),
            ({'change_type': 'normal'}, [first, second]),
        ]

    def test_update_records_field_changes(self):
        """A cause is not edited: it is removed and recorded again."""
        cause = self.make_object()
        response = self.api_client(self.writer()).patch(self.detail_url(cause), {'change': 'CHG1'}, format='json')
        self.assertHttpStatus(response, 405)

    def test_read_only_fields_are_not_writable(self):
        self.test_update_records_field_changes()

    def test_update_without_permission_is_forbidden(self):
        cause = self.make_object()
        response = self.api_client(self.user_without('change')).patch(self.detail_url(cause), {}, format='json')
        self.assertHttpStatus(response, 405)
        self.assertEqual(IncidentCause.objects.get().change, cause.change)

    def test_the_endpoints_are_in_the_schema(self):
        response = self.api_client(self.viewer()).get('/api/v1/schema/', {'format': 'json'})
        self.assertHttpStatus(response, 200)
        paths = response.json()['paths']
        for path in (
            '/api/v1/incident-causes/',
            '/api/v1/incidents/{number}/caused-by-change/',
            '/api/v1/problems/{number}/raise-rfc/',
        ):
            self.assertIn(path, paths)


class IncidentCauseViewTests(ViewTestCases.ModelViewTestCase):
    model = IncidentCause
    view_roles = (Role.SERVICE_DESK_AGENT,)
    write_roles = (Role.CHANGE_MANAGER,)
    denied_roles = (Role.REQUESTER,)

    def make_object(self, **kwargs):
        return IncidentCauseFactory(**kwargs)

    def form_data(self):
        return {'incident': make_ticket().number, 'change': make_implemented_change().number}

    def test_list_and_detail(self):
        cause = self.make_object()
        self.login(*self.view_roles)
        for url in (self.url('list'), self.url('detail', cause)):
            response = self.client.get(url)
            self.assertContains(response, cause.incident.number)
            self.assertContains(response, cause.change.number)

    def test_add_invalid_keeps_input_and_shows_errors(self):
        self.login(*self.write_roles)
        data = {**self.form_data(), 'incident': 'INC0999999'}
        response = self.client.post(self.url('add'), data)
        self.assertContains(response, 'No incident INC0999999', status_code=400)
        self.assertContains(response, 'is-invalid', status_code=400)

    def assert_not_routed(self, action):
        with self.assertRaises(NoReverseMatch):
            reverse(f'changes:incidentcause_{action}', kwargs={'pk': 1})

    def test_edit(self):
        self.assert_not_routed('edit')

    def test_edit_without_permission_is_forbidden(self):
        self.assert_not_routed('edit')
