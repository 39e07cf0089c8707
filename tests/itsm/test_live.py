"""Live pages: the "changed since" endpoint (204 while nothing changed, one indexed query), the include on record,
queue and dashboard pages, and the event an action's htmx answer sends so the SLA panel refreshes itself."""

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from incidents import services
from itsm.audit import Actor
from itsm.choices import Role
from tests.base import ItsmTestCase
from tests.factories import make_group_with_agent, make_ticket

HX = {'HX-Request': 'true'}


class LiveEndpointTests(ItsmTestCase):
    @classmethod
    def setUpTestData(cls):
        cls.group, cls.agent = make_group_with_agent()
        cls.other = cls.make_user(cls, Role.SERVICE_DESK_AGENT)
        cls.caller = cls.make_user(cls, Role.REQUESTER)
        cls.ticket = make_ticket(caller=cls.caller, state='assigned', group=cls.group)

    def setUp(self):
        self.client.force_login(self.agent)

    def ask(self, since=None, *, scope='incidents.ticket', pk=None, user=None):
        if user is not None:
            self.client.force_login(user)
        params = {'scope': scope, **({'since': since} if since is not None else {}), **({'id': pk} if pk else {})}
        return self.client.get(reverse('live'), params)

    def test_a_queue_scope_answers_204_until_someone_else_acts(self):
        version = self.ask().json()['version']
        self.assertHttpStatus(self.ask(version), 204)
        services.ticket_comment(ticket=self.ticket, actor=Actor(user=self.other), body='On my way', internal=True)
        response = self.ask(version)
        self.assertHttpStatus(response, 200)
        self.assertNotEqual(response.json()['version'], version)
        self.assertEqual(response['Cache-Control'], 'no-store')

    def test_a_record_scope_follows_that_record_only(self):
        version = self.ask(pk=self.ticket.pk).json()['version']
        make_ticket()  # another record changing leaves this one's version alone
        self.assertHttpStatus(self.ask(version, pk=self.ticket.pk), 204)
        services.ticket_accept(ticket=self.ticket, actor=Actor(user=self.agent))
        self.assertHttpStatus(self.ask(version, pk=self.ticket.pk), 200)

    def test_the_answer_costs_the_same_few_queries_however_much_history(self):
        version = self.ask().json()['version']
        record_version = self.ask(pk=self.ticket.pk).json()['version']
        queue = self.count_queries(lambda: self.assertHttpStatus(self.ask(version), 204))
        record = self.count_queries(lambda: self.assertHttpStatus(self.ask(record_version, pk=self.ticket.pk), 204))
        for _ in range(5):
            make_ticket()
        services.ticket_comment(ticket=self.ticket, actor=Actor(user=self.other), body='Still on it', internal=True)
        version = self.ask().json()['version']
        record_version = self.ask(pk=self.ticket.pk).json()['version']
        self.assertEqual(self.count_queries(lambda: self.ask(version)), queue)
        self.assertEqual(self.count_queries(lambda: self.ask(record_version, pk=self.ticket.pk)), record)
        # Session, person, their permissions (two) and roles, then the one version query.
        self.assertLessEqual(queue, 6)
        self.assertLessEqual(record, 6)

    def test_requesters_follow_their_own_records_only(self):
        self.assertHttpStatus(self.ask(pk=self.ticket.pk, user=self.caller), 200)
        self.assertHttpStatus(self.ask(pk=make_ticket().pk, user=self.caller), 404)
        self.assertHttpStatus(self.ask(user=self.caller), 403)

    def test_bad_questions_are_400_and_strangers_403(self):
        self.assertHttpStatus(self.ask(scope='nope.nothing'), 400)
        self.assertHttpStatus(self.ask(scope='incidents'), 400)
        self.assertHttpStatus(self.ask(pk='x1'), 400)
        self.assertHttpStatus(self.ask(scope='itsm.user', user=self.caller), 403)
        self.client.logout()
        self.assertHttpStatus(self.client.get(reverse('live'), {'scope': 'incidents.ticket'}), 403)


class LivePagesTests(ItsmTestCase):
    @classmethod
    def setUpTestData(cls):
        cls.group, cls.agent = make_group_with_agent()
        cls.manager = cls.make_user(cls, Role.INCIDENT_MANAGER)
        cls.ticket = make_ticket(state='assigned', group=cls.group)

    def marker(self, response) -> dict:
        html = response.content.decode()
        found = re.search(r'<div hidden data-pc-live ([^>]*)>', html)
        self.assertIsNotNone(found, 'the page does not include includes/_live.html')
        self.assertIn('pitcrew/live.js', html)
        return dict(re.findall(r'data-([a-z]+)="([^"]*)"', found.group(1)))

    def test_the_record_page_follows_its_record_and_names_its_regions(self):
        self.client.force_login(self.agent)
        marker = self.marker(self.client.get(self.ticket.get_absolute_url()))
        self.assertEqual((marker['scope'], marker['id']), ('incidents.ticket', str(self.ticket.pk)))
        self.assertIn('#ticket-timeline', marker['regions'])
        self.assertIn('#ticket-facts', marker['regions'])  # they ask again for the related records and SLA panel
        live = self.client.get(reverse('live'), {'scope': 'incidents.ticket', 'id': self.ticket.pk})
        self.assertEqual(marker['version'], live.json()['version'])

    def test_the_record_page_gives_the_version_of_what_it_shows_without_asking_again(self):
        services.ticket_accept(ticket=self.ticket, actor=Actor(user=self.agent))
        services.ticket_comment(ticket=self.ticket, actor=Actor(user=self.agent), body='Looking', internal=True)
        self.client.force_login(self.agent)
        with CaptureQueriesContext(connection) as seen:
            marker = self.marker(self.client.get(self.ticket.get_absolute_url()))
        asked_again = [q for q in seen.captured_queries if '"newest"' in q['sql']]  # before the next request
        live = self.client.get(reverse('live'), {'scope': 'incidents.ticket', 'id': self.ticket.pk})
        self.assertEqual(marker['version'], live.json()['version'])
        self.assertEqual(asked_again, [], 'the version was read again')

    def test_the_queue_and_the_dashboard_follow_all_tickets(self):
        self.client.force_login(self.agent)
        marker = self.marker(self.client.get(reverse('incidents:queue')))
        self.assertEqual((marker['scope'], marker['id'], marker['mode']), ('incidents.ticket', '', 'swap'))
        self.assertIn('#object-table', marker['regions'])
        self.client.force_login(self.manager)
        marker = self.marker(self.client.get(reverse('reports:overview')))
        self.assertEqual((marker['mode'], marker['interval']), ('reload', '60'))  # a dashboard is costlier to draw

    def test_an_action_and_a_comment_tell_the_page_its_record_changed(self):
        self.client.force_login(self.agent)
        url = reverse('incidents:ticket_accept', kwargs={'number': self.ticket.number})
        response = self.client.post(url, {}, headers=HX)
        self.assertHttpStatus(response, 200)
        self.assertEqual(response['HX-Trigger'], 'pc-record-changed')
        url = reverse('incidents:ticket_comment', kwargs={'number': self.ticket.number})
        response = self.client.post(url, {'body': 'Looking', 'visibility': 'internal'}, headers=HX)
        self.assertHttpStatus(response, 200)
        self.assertEqual(response['HX-Trigger'], 'pc-record-changed')
        refused = self.client.post(url, {'body': '', 'visibility': 'internal'}, headers=HX)
        self.assertFalse(refused.has_header('HX-Trigger'), 'nothing changed: the page is not told so')

    def test_the_sla_panel_comes_again_with_the_facts_after_each_change(self):
        self.client.force_login(self.agent)
        related = reverse('incidents:ticket_related', kwargs={'number': self.ticket.number})
        url = reverse('incidents:ticket_comment', kwargs={'number': self.ticket.number})
        answer = self.client.post(url, {'body': 'Looking', 'visibility': 'internal'}, headers={'HX-Request': 'true'})
        self.assertHttpStatus(answer, 200)
        slot = re.search(r'<div id="ticket-related"[^>]*>', answer.content.decode()).group(0)
        self.assertIn(f'hx-get="{related}"', slot)
        self.assertIn('hx-trigger="load"', slot)
        fragment = self.client.get(related, headers={'HX-Request': 'true'}).content.decode()
        self.assertRegex(fragment, r'<div id="sla-panel-live" hx-swap-oob="true">\s*<div class="card')
