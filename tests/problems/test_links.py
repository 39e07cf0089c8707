"""Raising a problem from an incident and linking incidents to problems: pages, API, refusals and the cards on the
incident and problem pages."""

from unittest import mock

from django.urls import reverse

from incidents.choices import TicketState
from itsm.audit import Actor
from itsm.choices import Role, TicketKind, TimelineKind
from problems.choices import ProblemState
from problems.incident_links import link_incident
from problems.models import Problem, ProblemIncident
from tests.base import ItsmTestCase, load_related
from tests.factories import make_ticket

from .factories import make_problem


class RaiseAndLinkTests(ItsmTestCase):
    def setUp(self):
        self.agent = self.make_user(Role.SERVICE_DESK_AGENT)
        self.incident = make_ticket(short_description='VPN drops every <b>hour</b>', symptom='vpn drops')

    def test_an_agent_raises_a_problem_from_the_incident_page(self):
        self.client.force_login(self.agent)
        url = reverse('problems:incident_raise', kwargs={'number': self.incident.number})
        page = self.client.get(url)
        self.assertHttpStatus(page, 200)
        self.assertContains(page, 'VPN drops every &lt;b&gt;hour&lt;/b&gt;')  # the incident's text, escaped
        response = self.client.post(url, {'short_description': 'VPN tunnel drops hourly', 'symptoms': 'drops'})
        self.assertRedirects(response, self.incident.get_absolute_url(), fetch_redirect_response=False)
        link = ProblemIncident.objects.select_related('problem').get(incident=self.incident)
        self.assertEqual(link.problem.short_description, 'VPN tunnel drops hourly')
        self.assertEqual(link.linked_by, self.agent)
        self.assertTrue(self.timeline(self.incident, TimelineKind.LINK).filter(data__problem=link.problem.number))
        self.assertTrue(self.timeline(link.problem, TimelineKind.LINK).filter(data__incident=self.incident.number))
        page = load_related(self.client, self.client.get(self.incident.get_absolute_url()))
        self.assertContains(page, 'data-testid="incident-problem"')
        self.assertContains(page, link.problem.number)
        self.assertNotContains(page, reverse('problems:incident_raise', kwargs={'number': self.incident.number}))

    def test_the_incident_page_offers_raise_and_link_to_agents_only(self):
        self.client.force_login(self.agent)
        page = load_related(self.client, self.client.get(self.incident.get_absolute_url()))
        self.assertContains(page, reverse('problems:incident_raise', kwargs={'number': self.incident.number}))
        self.assertContains(page, reverse('problems:incident_link', kwargs={'number': self.incident.number}))
        # Nobody is offered what would refuse them: integrations log problems but do not link incidents; readers
        # do neither.
        raise_url = reverse('problems:incident_raise', kwargs={'number': self.incident.number})
        link_url = reverse('problems:incident_link', kwargs={'number': self.incident.number})
        for role, offered in ((Role.INTEGRATION, True), (Role.SERVICE_OWNER, False)):
            self.client.force_login(self.make_user(role))
            page = load_related(self.client, self.client.get(self.incident.get_absolute_url()))
            self.assertHttpStatus(page, 200)
            self.assertNotContains(page, link_url)
            self.assertEqual(raise_url in page.content.decode(), offered, role)

    def test_linking_through_the_api_and_refusals(self):
        problem = make_problem()
        client = self.api_client(self.agent)
        url = f'/api/v1/incidents/{self.incident.number}/link-problem/'
        response = client.post(url, {'problem': problem.number.lower()}, format='json')
        self.assertHttpStatus(response, 201)
        self.assertEqual((response.data['problem'], response.data['incident']), (problem.number, self.incident.number))
        # An incident belongs to at most one problem.
        other = make_problem()
        response = client.post(url, {'problem': other.number}, format='json')
        self.assertHttpStatus(response, 409)
        self.assertEqual(response.data['code'], 'already_linked')
        self.assertIn(problem.number, response.data['detail'])
        response = client.post(f'/api/v1/incidents/{self.incident.number}/raise-problem/', {}, format='json')
        self.assertHttpStatus(response, 409)
        self.assertEqual(Problem.objects.count(), 2)

    def test_cases_closed_problems_and_requesters_are_refused(self):
        client = self.api_client(self.agent)
        case = make_ticket(kind=TicketKind.CASE)
        response = client.post(f'/api/v1/incidents/{case.number}/raise-problem/', {}, format='json')
        self.assertHttpStatus(response, 409)
        self.assertEqual(response.data['code'], 'not_an_incident')
        closed = make_problem(state=ProblemState.CANCELLED)
        url = f'/api/v1/incidents/{self.incident.number}/link-problem/'
        self.assertHttpStatus(client.post(url, {'problem': closed.number}, format='json'), 409)
        requester = self.incident.caller
        self.assertHttpStatus(self.api_client(requester).post(url, {'problem': make_problem().number}), 403)
        self.assertFalse(ProblemIncident.objects.exists())

    def test_raising_through_the_api_takes_the_incident_fields(self):
        response = self.api_client(self.agent).post(
            f'/api/v1/incidents/{self.incident.number}/raise-problem/', {}, format='json'
        )
        self.assertHttpStatus(response, 201)
        problem = Problem.objects.get(number=response.data['problem'])
        self.assertEqual(problem.short_description, self.incident.short_description)
        self.assertEqual(problem.symptoms, 'vpn drops')

    def test_a_refused_link_on_the_page_keeps_the_form_with_the_reason(self):
        problem = make_problem()
        link_incident(problem=problem, incident=self.incident, actor=Actor(user=self.agent))
        self.client.force_login(self.agent)
        response = self.client.post(
            reverse('problems:incident_link', kwargs={'number': self.incident.number}), {'problem': problem.pk}
        )
        self.assertHttpStatus(response, 409)
        self.assertContains(response, 'already linked', status_code=409)

    def test_the_card_is_refreshed_with_the_facts_after_a_change_on_the_page(self):
        link_incident(problem=make_problem(), incident=self.incident, actor=Actor(user=self.agent))
        self.client.force_login(self.agent)
        url = reverse('incidents:ticket_comment', kwargs={'number': self.incident.number})
        response = self.client.post(url, {'body': 'Checked', 'visibility': 'internal'}, headers={'HX-Request': 'true'})
        self.assertHttpStatus(response, 200)
        # The facts come back with the related-records slot, which asks for the card again.
        response = load_related(self.client, response)
        self.assertContains(response, 'data-testid="incident-problem"')
        self.assertContains(response, self.incident.problem_link.problem.number)

    def test_unlink_from_the_problem_page(self):
        problem = make_problem()
        link_incident(problem=problem, incident=self.incident, actor=Actor(user=self.agent))
        self.client.force_login(self.agent)
        url = reverse(
            'problems:problem_unlink_incident', kwargs={'number': problem.number, 'incident': self.incident.number}
        )
        self.client.post(url)
        self.assertFalse(ProblemIncident.objects.exists())
        self.assertTrue(self.timeline(self.incident, TimelineKind.LINK).filter(data__unlinked=True).exists())


class ProblemPageTests(ItsmTestCase):
    def test_linking_an_incident_from_the_problem_page(self):
        problem = make_problem()
        incident = make_ticket()
        self.client.force_login(self.make_user(Role.PROBLEM_MANAGER))
        url = reverse('problems:problemincident_add')
        page = self.client.get(url, {'problem': problem.pk})
        self.assertContains(page, f'<option value="{problem.pk}" selected>')
        response = self.client.post(url, {'problem': problem.pk, 'incident': incident.number.lower()})
        self.assertRedirects(response, problem.get_absolute_url(), fetch_redirect_response=False)
        self.assertEqual(ProblemIncident.objects.get().incident, incident)

    def test_the_problem_page_lists_its_incidents_in_constant_queries(self):
        agent = self.make_user(Role.SERVICE_DESK_AGENT)
        problem = make_problem()
        self.client.force_login(self.make_user(Role.PROBLEM_MANAGER))

        def add(count):
            for _ in range(count):
                link_incident(problem=problem, incident=make_ticket(), actor=Actor(user=agent))

        def measure():
            self.client.get(problem.get_absolute_url())
            return self.count_queries(lambda: self.assertHttpStatus(self.client.get(problem.get_absolute_url()), 200))

        add(2)
        few = measure()
        add(5)
        many = measure()
        self.assertEqual(few, many)
        page = self.client.get(problem.get_absolute_url())
        self.assertContains(page, 'data-testid="problem-incidents"')
        self.assertContains(page, f'{reverse("problems:problemincident_add")}?problem={problem.pk}')
        for link in ProblemIncident.objects.select_related('incident'):
            self.assertContains(page, link.incident.number)

    def test_a_long_list_of_incidents_shows_the_open_ones_first_and_links_to_the_rest(self):
        agent = self.make_user(Role.SERVICE_DESK_AGENT)
        problem = make_problem()
        with mock.patch('problems.incident_links.PANEL_SIZE', 2):
            open_one = make_ticket()
            link_incident(problem=problem, incident=open_one, actor=Actor(user=agent))
            for _ in range(3):
                link_incident(problem=problem, incident=make_ticket(state=TicketState.CLOSED), actor=Actor(user=agent))
            self.client.force_login(agent)
            page = self.client.get(problem.get_absolute_url())
        panel = next(p for p in page.context['record_panels'] if 'incident_links' in p)
        self.assertEqual([link.incident for link in panel['incident_links']][:1], [open_one])
        self.assertContains(page, 'and 2 more')
        self.assertContains(page, f'{reverse("problems:problemincident_list")}?problem={problem.number}')

    def test_the_incident_page_costs_the_same_with_a_problem(self):
        agent = self.make_user(Role.SERVICE_DESK_AGENT)
        self.client.force_login(agent)
        plain, linked = make_ticket(state=TicketState.NEW), make_ticket(state=TicketState.NEW)
        link_incident(problem=make_problem(), incident=linked, actor=Actor(user=agent))

        def measure(ticket):
            load_related(self.client, self.client.get(ticket.get_absolute_url()))
            return self.count_queries(
                lambda: self.assertHttpStatus(
                    load_related(self.client, self.client.get(ticket.get_absolute_url())), 200
                )
            )

        self.assertEqual(measure(plain), measure(linked))
