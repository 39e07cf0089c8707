"""Candidate pages: who sees them, what the list and a candidate's page show, dismissing from the page."""

from __future__ import annotations

from django.test import override_settings
from django.urls import NoReverseMatch, reverse

from cmdb.choices import Criticality
from itsm.audit import Actor
from itsm.choices import Impact, Role, Urgency
from major_incidents import candidates
from major_incidents.choices import CandidateReason, CandidateStatus
from major_incidents.models import MajorIncidentCandidate
from tests.base import ItsmTestCase, ViewTestCases
from tests.cmdb.factories import make_service
from tests.factories import make_ticket, make_user

P0 = {'impact': Impact.SEVERE, 'urgency': Urgency.IMMEDIATE}


@override_settings(MAJOR_CANDIDATE_FLOOD_COUNT=3, MAJOR_CANDIDATE_FLOOD_MINUTES=10)
class CandidatePageTests(ItsmTestCase):
    def setUp(self):
        self.service = make_service('Payroll <b>pay</b>', criticality=Criticality.CRITICAL).ci
        self.ticket = make_ticket(service=self.service, short_description='Payroll <script>x()</script>', **P0)
        self.candidate = MajorIncidentCandidate.objects.get(incident=self.ticket)
        self.manager = make_user(Role.INCIDENT_MANAGER)
        self.agent = make_user(Role.SERVICE_DESK_AGENT)
        self.list_url = reverse('major_incidents:candidate_list')
        self.detail_url = reverse('major_incidents:candidate_detail', args=[self.candidate.pk])
        self.dismiss_url = reverse('major_incidents:candidate_dismiss', args=[self.candidate.pk])

    def test_requesters_see_nothing(self):
        self.client.force_login(make_user(Role.REQUESTER))
        for url in (self.list_url, self.detail_url, self.dismiss_url):
            self.assertHttpStatus(self.client.get(url), 403)
        self.assertHttpStatus(self.client.post(self.dismiss_url, {'reason': 'no'}), 403)

    def test_anonymous_people_are_sent_to_sign_in(self):
        response = self.client.get(self.list_url)
        self.assertEqual(response.status_code, 302)
        self.assertIn('login', response['Location'])

    def test_the_list_shows_proposed_first_and_filters_by_status(self):
        older = make_ticket(service=self.service, short_description='Payroll slow', **P0)
        older_candidate = MajorIncidentCandidate.objects.get(incident=older)
        candidates.candidate_dismiss(candidate=older_candidate, actor=Actor(user=self.manager), reason='Duplicate')
        self.client.force_login(self.agent)
        response = self.client.get(self.list_url)
        self.assertHttpStatus(response, 200)
        rows = list(response.context['object_list'])
        self.assertEqual(rows, [self.candidate, older_candidate])
        self.assertContains(response, 'Payroll &lt;b&gt;pay&lt;/b&gt;')
        self.assertNotContains(response, '<b>pay</b>')
        response = self.client.get(self.list_url, {'status': CandidateStatus.DISMISSED})
        self.assertEqual(list(response.context['object_list']), [older_candidate])

    def test_the_list_costs_the_same_whatever_it_holds(self):
        self.client.force_login(self.agent)
        self.client.get(self.list_url)
        few = self.count_queries(lambda: self.client.get(self.list_url))
        for n in range(4):
            make_ticket(service=self.service, short_description=f'Payroll fault {n}', **P0)
        many = self.count_queries(lambda: self.client.get(self.list_url))
        self.assertEqual(few, many)

    def test_an_agent_reads_a_candidate_but_neither_declares_nor_dismisses(self):
        self.client.force_login(self.agent)
        response = self.client.get(self.detail_url)
        self.assertHttpStatus(response, 200)
        self.assertContains(response, self.ticket.get_absolute_url())
        self.assertContains(response, 'Payroll &lt;script&gt;')
        self.assertNotContains(response, 'Declare major incident')
        self.assertNotContains(response, 'data-testid="dismiss-candidate"')
        self.assertHttpStatus(self.client.post(self.dismiss_url, {'reason': 'not mine'}), 403)

    def test_an_incident_manager_is_offered_declare_and_dismiss(self):
        self.client.force_login(self.manager)
        response = self.client.get(self.detail_url)
        self.assertContains(response, f'{reverse("major_incidents:majorincident_add")}?candidate={self.candidate.pk}')
        self.assertContains(response, 'data-testid="dismiss-candidate"')

    def test_the_detail_page_costs_the_same_whatever_the_incidents(self):
        self.client.force_login(self.manager)
        for _ in range(3):
            make_ticket(service=make_service().ci, short_description='Mail bounce')
        flood_service = make_service('Mail').ci
        for _ in range(3):
            make_ticket(service=flood_service, short_description='Mail down')
        flood = MajorIncidentCandidate.objects.get(scope=f'service:{flood_service.pk}')
        url = reverse('major_incidents:candidate_detail', args=[flood.pk])
        self.client.get(url)
        few = self.count_queries(lambda: self.client.get(url))
        for _ in range(4):
            make_ticket(service=flood_service, short_description='Mail down')
        self.assertEqual(self.count_queries(lambda: self.client.get(url)), few)

    def test_dismissing_from_the_page(self):
        self.client.force_login(self.manager)
        response = self.client.post(self.dismiss_url, {'reason': 'One payslip, not an outage'})
        self.assertRedirects(response, self.detail_url, fetch_redirect_response=False)
        self.candidate.refresh_from_db()
        self.assertEqual(self.candidate.status, CandidateStatus.DISMISSED)
        page = self.client.get(self.detail_url)
        self.assertContains(page, 'One payslip, not an outage')
        self.assertNotContains(page, 'Declare major incident')

    def test_dismissing_needs_a_reason(self):
        self.client.force_login(self.manager)
        response = self.client.post(self.dismiss_url, {'reason': ''})
        self.assertHttpStatus(response, 400)
        self.assertTrue(response.context['form'].errors['reason'])
        self.candidate.refresh_from_db()
        self.assertEqual(self.candidate.status, CandidateStatus.PROPOSED)

    def test_dismissing_a_decided_candidate_is_refused(self):
        candidates.candidate_dismiss(candidate=self.candidate, actor=Actor(user=self.manager), reason='Once')
        self.client.force_login(self.manager)
        response = self.client.post(self.dismiss_url, {'reason': 'Twice'})
        self.assertHttpStatus(response, 409)
        self.assertContains(response, 'already dismissed', status_code=409)

    def test_an_unknown_candidate_is_404(self):
        self.client.force_login(self.manager)
        self.assertHttpStatus(self.client.get(reverse('major_incidents:candidate_detail', args=[999999])), 404)


class CandidateViewTests(ViewTestCases.ModelViewTestCase):
    """The generic page checks. Candidates come from the rules, never from a form: no add, edit or delete page."""

    model = MajorIncidentCandidate
    PAGES = {'list': 'candidate_list', 'detail': 'candidate_detail'}

    def make_object(self, **kwargs):
        # Also called outside the test's own setUp (the crawl seeds kinds the demo leaves empty from here).
        service = make_service(
            f'Payroll {MajorIncidentCandidate.objects.count() + 1}', criticality=Criticality.CRITICAL
        )
        ticket = make_ticket(service=service.ci, short_description='Payroll down', **P0)
        return MajorIncidentCandidate.objects.get(incident=ticket, reason=CandidateReason.CRITICAL_SERVICE)

    def form_data(self):
        return {'reason': 'Planned maintenance.'}

    def url(self, action: str, obj=None) -> str:
        name = f'major_incidents:{self.PAGES.get(action, f"majorincidentcandidate_{action}")}'
        return reverse(name, args=[obj.pk] if obj is not None else [])

    def test_add(self):
        with self.assertRaises(NoReverseMatch):
            reverse('major_incidents:majorincidentcandidate_add')

    test_add_without_permission_is_forbidden = test_add
    test_add_invalid_keeps_input_and_shows_errors = test_add

    def test_edit(self):
        with self.assertRaises(NoReverseMatch):
            reverse('major_incidents:majorincidentcandidate_edit', args=[1])

    test_edit_without_permission_is_forbidden = test_edit

    def test_delete(self):
        with self.assertRaises(NoReverseMatch):
            reverse('major_incidents:majorincidentcandidate_delete', args=[1])
