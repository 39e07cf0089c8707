"""Banners under the page header: the core registry, and the incident managers' "candidates waiting" banner."""

from __future__ import annotations

from django.test import RequestFactory
from django.urls import reverse

from cmdb.choices import Criticality
from itsm import banners
from itsm.choices import Impact, Role, Urgency
from major_incidents import candidates
from tests.base import ItsmTestCase
from tests.cmdb.factories import make_service
from tests.factories import make_ticket, make_user

P0 = {'impact': Impact.SEVERE, 'urgency': Urgency.IMMEDIATE}


class RegistryTests(ItsmTestCase):
    def setUp(self):
        self.calls = []

    def source(self, request):
        self.calls.append(request.path)
        return {'text': 'Two <things> waiting', 'url': '/somewhere/', 'label': 'See them', 'level': 'warning'}

    def register(self, source):
        banners.register(source)
        self.addCleanup(banners.unregister, source)

    def request_for(self, user):
        request = RequestFactory().get('/')
        request.user = user
        return request

    def test_a_source_answers_banners_for_staff(self):
        self.register(self.source)
        found = banners.banners_for(self.request_for(make_user(Role.SERVICE_DESK_AGENT)))
        self.assertIn(banners.Banner('Two <things> waiting', '/somewhere/', 'See them', 'warning'), found)

    def test_nothing_for_requesters_and_anonymous_people(self):
        from django.contrib.auth.models import AnonymousUser

        self.register(self.source)
        self.assertEqual(banners.banners_for(self.request_for(make_user(Role.REQUESTER))), [])
        self.assertEqual(banners.banners_for(self.request_for(AnonymousUser())), [])
        self.assertEqual(self.calls, [])

    def test_registering_twice_asks_once(self):
        self.register(self.source)
        banners.register(self.source)
        banners.banners_for(self.request_for(make_user(Role.SERVICE_DESK_AGENT)))
        self.assertEqual(len(self.calls), 1)

    def test_the_page_shows_them_escaped_and_asks_once(self):
        self.register(self.source)
        self.client.force_login(make_user(Role.SERVICE_DESK_AGENT))
        response = self.client.get(reverse('incidents:incident_list'))
        self.assertContains(response, 'data-testid="page-banner"')
        self.assertContains(response, 'Two &lt;things&gt; waiting')
        self.assertContains(response, 'href="/somewhere/"')
        self.assertEqual(len(self.calls), 1)

    def test_the_context_processor_asks_nobody_until_a_template_reads_it(self):
        self.register(self.source)
        request = self.request_for(make_user(Role.SERVICE_DESK_AGENT))
        context = banners.banners(request)
        self.assertEqual(self.calls, [])
        self.assertEqual(len(list(context['page_banners'])), 1)
        banners.banners(request)  # a second render in the same request reuses the answer
        list(banners.banners(request)['page_banners'])
        self.assertEqual(len(self.calls), 1)


class CandidatesWaitingBannerTests(ItsmTestCase):
    def setUp(self):
        self.service = make_service(criticality=Criticality.CRITICAL).ci
        self.manager = make_user(Role.INCIDENT_MANAGER)
        self.home = reverse('incidents:incident_list')

    def test_incident_managers_see_how_many_wait(self):
        make_ticket(service=self.service, **P0)
        make_ticket(service=self.service, **P0)
        self.client.force_login(self.manager)
        response = self.client.get(self.home)
        self.assertContains(response, '2 major-incident candidates waiting')
        self.assertContains(response, f'{reverse("major_incidents:candidate_list")}?status=proposed')

    def test_one_candidate_in_the_singular(self):
        make_ticket(service=self.service, **P0)
        self.client.force_login(self.manager)
        self.assertContains(self.client.get(self.home), '1 major-incident candidate waiting')

    def test_no_banner_without_candidates(self):
        self.client.force_login(self.manager)
        self.assertNotContains(self.client.get(self.home), 'data-testid="page-banner"')

    def test_other_roles_see_no_banner(self):
        make_ticket(service=self.service, **P0)
        for role in (Role.SERVICE_DESK_AGENT, Role.PROBLEM_MANAGER, Role.MANAGER):
            self.client.force_login(make_user(role))
            self.assertNotContains(self.client.get(self.home), 'major-incident candidate')

    def cost(self, url: str, *, with_banner: bool) -> int:
        if not with_banner:
            banners.unregister(candidates.waiting_banner)
            self.addCleanup(banners.register, candidates.waiting_banner)
        self.client.get(url)  # warm caches (session, priority matrix, content types)
        count = self.count_queries(lambda: self.client.get(url))
        if not with_banner:
            banners.register(candidates.waiting_banner)
        return count

    def test_the_banner_costs_one_query_for_incident_managers(self):
        make_ticket(service=self.service, **P0)
        self.client.force_login(self.manager)
        self.assertEqual(self.cost(self.home, with_banner=True), self.cost(self.home, with_banner=False) + 1)

    def test_the_banner_costs_nothing_on_other_staff_pages(self):
        make_ticket(service=self.service, **P0)
        self.client.force_login(make_user(Role.SERVICE_DESK_AGENT))
        self.assertEqual(self.cost(self.home, with_banner=True), self.cost(self.home, with_banner=False))

    def test_the_banner_costs_nothing_on_requester_and_anonymous_pages(self):
        make_ticket(service=self.service, **P0)
        self.client.force_login(make_user(Role.REQUESTER))
        portal = reverse('incidents:portal')
        self.assertEqual(self.cost(portal, with_banner=True), self.cost(portal, with_banner=False))
        self.client.logout()
        login = reverse('itsm:login')
        self.assertEqual(self.cost(login, with_banner=True), self.cost(login, with_banner=False))
