"""Major incidents on other records' pages: the incident card in its three forms, linking from it, the CI and
service card, and the change risk signal."""

from __future__ import annotations

from django.test import RequestFactory
from django.urls import reverse

from changes import risk
from changes.choices import RiskSignal
from cmdb.choices import CIClass, Criticality
from itsm.audit import Actor
from itsm.choices import Impact, Role, Urgency
from major_incidents import links, services
from major_incidents.models import MajorIncidentCandidate, MajorIncidentChild
from tests.base import ItsmTestCase, load_related
from tests.changes.factories import make_change
from tests.cmdb.factories import make_ci, make_service
from tests.factories import make_ticket, make_user

SYSTEM = Actor.system()
P0 = {'impact': Impact.SEVERE, 'urgency': Urgency.IMMEDIATE}


def declare(*, services_=(), cis=(), title='Mail outage'):
    return services.major_declare(actor=SYSTEM, short_description=title, services=services_, cis=cis)


class IncidentCardTests(ItsmTestCase):
    def setUp(self):
        self.mail = make_service('Mail').ci
        self.manager = make_user(Role.INCIDENT_MANAGER)
        self.agent = make_user(Role.SERVICE_DESK_AGENT)

    def card(self, ticket, user):
        request = RequestFactory().get('/')
        request.user = user
        return links.incident_card(request, ticket)

    def test_a_child_says_which_major_incident_and_its_stage(self):
        ticket = make_ticket(service=self.mail, short_description='No mail')
        major = declare(services_=[self.mail])
        services.major_link_children(major=major, actor=SYSTEM, incidents=[ticket])
        self.client.force_login(self.agent)
        response = load_related(self.client, self.client.get(ticket.get_absolute_url()))
        self.assertContains(response, 'data-testid="major-parent"')
        self.assertContains(response, f'href="{major.get_absolute_url()}"')
        self.assertContains(response, major.get_state_display())
        self.assertNotContains(response, 'data-testid="link-to-major"')

    def test_a_candidate_links_to_its_candidate(self):
        critical = make_service('Payroll', criticality=Criticality.CRITICAL).ci
        ticket = make_ticket(service=critical, **P0)
        candidate = MajorIncidentCandidate.objects.get(incident=ticket)
        self.client.force_login(self.agent)
        response = load_related(self.client, self.client.get(ticket.get_absolute_url()))
        self.assertContains(response, 'data-testid="major-candidate"')
        self.assertContains(response, f'href="{candidate.get_absolute_url()}"')

    def test_open_major_incidents_on_its_service_are_offered_with_one_click_link(self):
        major = declare(services_=[self.mail])
        ticket = make_ticket(service=self.mail, short_description='Outlook cannot send')
        self.client.force_login(self.agent)
        response = load_related(self.client, self.client.get(ticket.get_absolute_url()))
        self.assertContains(response, 'data-testid="major-offers"')
        self.assertContains(response, f'Link to {major.number}')
        self.assertNotContains(response, 'data-testid="declare-major"')

    def test_incident_managers_may_declare_from_the_incident(self):
        ticket = make_ticket(service=self.mail)
        self.client.force_login(self.manager)
        response = load_related(self.client, self.client.get(ticket.get_absolute_url()))
        self.assertContains(response, f'{reverse("major_incidents:majorincident_add")}?incident={ticket.number}')

    def test_agents_see_no_card_when_there_is_nothing_to_offer(self):
        ticket = make_ticket(service=self.mail)
        self.assertIsNone(self.card(ticket, self.agent))

    def test_cases_and_requesters_get_no_card(self):
        case = make_ticket(kind='case', service=self.mail)
        self.assertIsNone(self.card(case, self.manager))
        ticket = make_ticket(service=self.mail)
        self.assertIsNone(self.card(ticket, make_user(Role.REQUESTER)))

    def test_the_card_costs_at_most_three_queries_whatever_is_open(self):
        ticket = make_ticket(service=self.mail)
        declare(services_=[self.mail])
        self.card(ticket, self.manager)  # the person's roles and permissions, read once per request
        one = self.count_queries(lambda: self.card(ticket, self.manager))
        for n in range(3):
            declare(services_=[self.mail], title=f'Mail outage {n}')
        many = self.count_queries(lambda: self.card(ticket, self.manager))
        self.assertEqual(one, many)
        self.assertEqual(many, 3)  # child link, candidate, open major incidents


class LinkFromCardTests(ItsmTestCase):
    def setUp(self):
        self.mail = make_service('Mail').ci
        self.major = declare(services_=[self.mail])
        self.ticket = make_ticket(service=self.mail, short_description='Mail bounces')
        self.url = reverse('major_incidents:incident_link', kwargs={'number': self.ticket.number})

    def test_an_agent_links_the_incident_in_one_click(self):
        self.client.force_login(make_user(Role.SERVICE_DESK_AGENT))
        response = self.client.post(self.url, {'major': self.major.number})
        self.assertRedirects(response, self.ticket.get_absolute_url(), fetch_redirect_response=False)
        link = MajorIncidentChild.objects.get(incident=self.ticket)
        self.assertEqual(link.major_incident, self.major)
        page = load_related(self.client, self.client.get(self.ticket.get_absolute_url()))
        self.assertContains(page, f'is now part of {self.major.number}')
        self.assertContains(page, 'data-testid="major-parent"')

    def test_htmx_is_told_where_to_go(self):
        self.client.force_login(make_user(Role.SERVICE_DESK_AGENT))
        response = self.client.post(self.url, {'major': self.major.number}, headers={'HX-Request': 'true'})
        self.assertHttpStatus(response, 200)
        self.assertEqual(response['HX-Redirect'], self.ticket.get_absolute_url())
        self.assertTrue(MajorIncidentChild.objects.filter(incident=self.ticket).exists())

    def test_a_refusal_comes_back_as_a_message(self):
        self.client.force_login(make_user(Role.SERVICE_DESK_AGENT))
        self.client.post(self.url, {'major': self.major.number})
        other = declare(services_=[self.mail], title='Second mail outage')
        response = self.client.post(self.url, {'major': other.number}, follow=True)
        self.assertContains(response, 'was not linked')
        self.assertEqual(MajorIncidentChild.objects.get(incident=self.ticket).major_incident, self.major)

    def test_an_unknown_major_incident_is_said_so(self):
        self.client.force_login(make_user(Role.SERVICE_DESK_AGENT))
        response = self.client.post(self.url, {'major': 'MIR9999999'}, follow=True)
        self.assertContains(response, 'Choose an open major incident')
        self.assertFalse(MajorIncidentChild.objects.exists())

    def test_requesters_and_readers_may_not(self):
        for user in (make_user(Role.REQUESTER), make_user(Role.SERVICE_OWNER)):
            self.client.force_login(user)
            self.assertHttpStatus(self.client.post(self.url, {'major': self.major.number}), 403)
        self.assertFalse(MajorIncidentChild.objects.exists())

    def test_get_is_not_allowed(self):
        self.client.force_login(make_user(Role.SERVICE_DESK_AGENT))
        self.assertHttpStatus(self.client.get(self.url), 405)


class ItemPanelTests(ItsmTestCase):
    def test_a_service_page_lists_its_open_and_last_closed_major_incidents(self):
        mail = make_service('Mail').ci
        server = make_ci(CIClass.SERVER, name='mx1')
        open_major = declare(services_=[mail], title='Mail down now')
        on_server = declare(cis=[server], title='mx1 disk full')
        cancelled = declare(services_=[mail], title='Not an outage')
        services.major_cancel(major=cancelled, actor=SYSTEM, reason='False alarm')
        self.client.force_login(make_user(Role.SERVICE_DESK_AGENT))
        response = self.client.get(mail.get_absolute_url(), follow=True)
        self.assertContains(response, 'data-testid="item-major-incidents"')
        [panel] = [p for p in response.context['item_panels'] if p['template'] == 'major_incidents/_item_panel.html']
        self.assertEqual(panel['majors_open'], [open_major])
        self.assertEqual(panel['majors_closed'], [])  # a cancelled one was never a major incident
        response = self.client.get(server.get_absolute_url())
        [panel] = [p for p in response.context['item_panels'] if p['template'] == 'major_incidents/_item_panel.html']
        self.assertEqual(panel['majors_open'], [on_server])
        self.assertContains(response, f'href="{on_server.get_absolute_url()}" class="fw-medium"')

    def test_restored_ones_follow_the_open_ones_at_most_five(self):
        mail = make_service('Mail').ci
        manager = make_user(Role.INCIDENT_MANAGER)
        restored = []
        for n in range(6):
            major = declare(services_=[mail], title=f'Mail outage {n}')
            services.major_activate(major=major, actor=SYSTEM, incident_manager=manager)
            services.major_assess(major=major, actor=SYSTEM)
            services.major_contain(major=major, actor=SYSTEM)
            restored.append(services.major_resolve(major=major, actor=SYSTEM, resolution='Relay restarted'))
        still_open = declare(services_=[mail], title='Mail down again')
        request = RequestFactory().get('/')
        request.user = make_user(Role.SERVICE_DESK_AGENT)
        panel = links.item_panel(request, mail)
        self.assertEqual(panel['majors_open'], [still_open])
        self.assertEqual(panel['majors_closed'], list(reversed(restored))[:5])

    def test_the_panel_costs_two_queries_and_requesters_get_none(self):
        mail = make_service('Mail').ci
        agent = make_user(Role.SERVICE_DESK_AGENT)
        request = RequestFactory().get('/')
        request.user = agent
        declare(services_=[mail])
        links.item_panel(request, mail)  # the person's permissions, read once per request
        few = self.count_queries(lambda: links.item_panel(request, mail))
        for n in range(3):
            declare(services_=[mail], title=f'Outage {n}')
        self.assertEqual(self.count_queries(lambda: links.item_panel(request, mail)), few)
        self.assertEqual(few, 2)
        request.user = make_user(Role.REQUESTER)
        self.assertIsNone(links.item_panel(request, mail))


class ChangeRiskTests(ItsmTestCase):
    def test_open_major_incidents_on_the_changes_cis_and_services_are_the_signal(self):
        mail = make_service('Mail').ci
        server = make_ci(CIClass.SERVER, name='mx1')
        wiki = make_service('Wiki').ci
        on_mail = declare(services_=[mail], title='Mail down')
        on_server = declare(cis=[server], title='mx1 disk full')
        declare(services_=[wiki], title='Wiki down')  # out of scope
        done = declare(services_=[mail], title='Old mail outage')
        services.major_cancel(major=done, actor=SYSTEM, reason='Duplicate')
        make_ticket(service=mail, **P0)  # an open P0 no longer counts by itself
        change = make_change(cis=[server], services=[mail])
        result = risk.risk_signals(change)[RiskSignal.MAJOR_INCIDENTS]
        self.assertEqual(result.count, 2)
        self.assertEqual(
            {item.url for item in result.items}, {on_mail.get_absolute_url(), on_server.get_absolute_url()}
        )
        self.assertEqual(result.label, links.RISK_LABEL)
        self.assertEqual(set(result.on_names), {'Mail', 'mx1'})

    def test_no_major_incident_no_signal(self):
        mail = make_service('Mail').ci
        change = make_change(services=[mail])
        self.assertEqual(risk.risk_signals(change)[RiskSignal.MAJOR_INCIDENTS].count, 0)
