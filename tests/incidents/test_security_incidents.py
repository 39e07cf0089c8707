"""Security incidents: a ticket marked as one is seen only by security groups, incident managers (and
administrators), its caller and its assignee; everyone else finds it nowhere (tested like requester isolation).

Each read path is asked by an ordinary agent of another group (`outsider`), who must not find the ticket, and by a
security-group member, an incident manager and the caller, who must."""

from __future__ import annotations

import csv
import io

from django.core import mail
from django.urls import reverse

from incidents import selectors
from incidents.choices import TicketState
from incidents.models import Ticket
from itsm import notify, search
from itsm.audit import Actor
from itsm.choices import Role, TicketKind, Tier, TimelineKind
from itsm.models import SupportGroup
from tests.base import ItsmTestCase, load_related
from tests.factories import make_group_with_agent, make_ticket, make_user

SECRET = 'Ransomware note on the finance laptop'
PLAIN = 'Printer on the 3rd floor prints blank pages'


def mark(ticket, user, value=True, reason='Looks like ransomware'):
    from incidents import services

    return services.ticket_set_security(
        ticket=ticket, actor=Actor(user=user, channel='ui'), security_incident=value, reason=reason
    )


class SecurityIncidentTestCase(ItsmTestCase):
    @classmethod
    def setUpTestData(cls):
        cls.desk, cls.outsider = make_group_with_agent(name='Service Desk')
        cls.security, cls.analyst = make_group_with_agent(
            name='Security Operations', tier=Tier.L3, role=Role.L3_ENGINEER
        )
        SupportGroup.objects.filter(pk=cls.security.pk).update(security=True, email='security@pitcrew.example')
        SupportGroup.objects.filter(pk=cls.desk.pk).update(email='desk@pitcrew.example')
        cls.security.refresh_from_db()
        cls.desk.refresh_from_db()
        cls.manager = make_user(Role.INCIDENT_MANAGER)
        cls.admin = make_user(Role.ADMINISTRATOR)
        cls.reader = make_user(Role.MANAGER)  # dashboards: every figure, but no clearance
        cls.caller = make_user(Role.REQUESTER)
        cls.other_requester = make_user(Role.REQUESTER)
        # Held by the desk group without an owner: its members are not cleared by holding it.
        cls.plain = make_ticket(
            caller=cls.caller, state=TicketState.ASSIGNED, group=cls.desk, agent=cls.outsider, short_description=PLAIN
        )
        cls.secret = make_ticket(
            caller=cls.caller, state=TicketState.ASSIGNED, group=cls.desk, agent=cls.outsider, short_description=SECRET
        )
        cls.secret = mark(cls.secret, cls.manager)

    def client_for(self, user):
        self.client.force_login(user)
        return self.client

    def cleared(self):
        return {'analyst': self.analyst, 'manager': self.manager, 'admin': self.admin}


class VisibilityRuleTests(SecurityIncidentTestCase):
    def test_visible_to_is_the_one_rule(self):
        def numbers(user):
            return set(Ticket.objects.visible_to(user).values_list('number', flat=True))

        self.assertEqual(numbers(self.outsider), {self.plain.number})
        self.assertEqual(numbers(self.reader), {self.plain.number})
        self.assertEqual(numbers(self.other_requester), set())
        for user in (self.analyst, self.manager, self.admin, self.caller):
            self.assertEqual(numbers(user), {self.plain.number, self.secret.number}, user)

    def test_is_visible_to_agrees_with_the_queryset(self):
        for user in (self.outsider, self.reader, self.other_requester, self.analyst, self.manager, self.caller):
            expected = Ticket.objects.visible_to(user).filter(pk=self.secret.pk).exists()
            self.assertEqual(self.secret.is_visible_to(user), expected, user)
            self.assertTrue(self.plain.is_visible_to(user) or user.is_requester_only)

    def test_the_assignee_sees_it_and_an_inactive_security_group_clears_nobody(self):
        Ticket.objects.filter(pk=self.secret.pk).update(assignee=self.outsider)
        self.assertTrue(Ticket.objects.visible_to(self.outsider).filter(pk=self.secret.pk).exists())
        SupportGroup.objects.filter(pk=self.security.pk).update(active=False)
        analyst = type(self.analyst).objects.get(pk=self.analyst.pk)
        self.assertFalse(Ticket.objects.visible_to(analyst).filter(pk=self.secret.pk).exists())

    def test_an_unmarked_ticket_is_everyone_s_again(self):
        mark(self.secret, self.analyst, value=False, reason='False alarm: a test page')
        self.assertTrue(Ticket.objects.visible_to(self.outsider).filter(pk=self.secret.pk).exists())


class PageAndApiTests(SecurityIncidentTestCase):
    def test_ticket_page_is_a_404_to_others(self):
        url = self.secret.get_absolute_url()
        self.assertHttpStatus(self.client_for(self.outsider).get(url), 404)
        self.assertHttpStatus(self.client_for(self.reader).get(url), 404)
        for user in self.cleared().values():
            response = self.client_for(user).get(url)
            self.assertHttpStatus(response, 200)
            self.assertContains(response, 'Security incident')
        # The caller is sent to their portal page, which shows it.
        response = self.client_for(self.caller).get(url)
        self.assertRedirects(response, reverse('incidents:portal_ticket', args=[self.secret.number]))
        self.assertContains(self.client_for(self.caller).get(response.url), SECRET)

    def test_its_action_comment_and_file_pages_are_404_too(self):
        client = self.client_for(self.outsider)
        for what in ('accept', 'comment', 'assign'):
            url = reverse(f'incidents:ticket_{what}', kwargs={'number': self.secret.number})
            self.assertHttpStatus(client.post(url, {'body': 'hello', 'visibility': 'internal'}), 404)
        self.assertEqual(self.timeline(self.secret, TimelineKind.COMMENT).count(), 0)

    def test_api_detail_is_a_404_and_the_list_leaves_it_out(self):
        detail = f'/api/v1/incidents/{self.secret.number}/'
        self.assertHttpStatus(self.api_client(self.outsider).get(detail), 404)
        self.assertHttpStatus(self.api_client(self.outsider).get(f'{detail}timeline/'), 404)
        self.assertHttpStatus(self.api_client(self.other_requester).get(detail), 404)
        listed = [r['number'] for r in self.api_client(self.outsider).get('/api/v1/incidents/').data['results']]
        self.assertEqual(listed, [self.plain.number])
        for user in (*self.cleared().values(), self.caller):
            response = self.api_client(user).get(detail)
            self.assertHttpStatus(response, 200)
            listed = [r['number'] for r in self.api_client(user).get('/api/v1/incidents/').data['results']]
            self.assertIn(self.secret.number, listed, user)
        self.assertIs(self.api_client(self.analyst).get(detail).data['security_incident'], True)
        filtered = self.api_client(self.manager).get('/api/v1/incidents/', {'security_incident': 'true'}).data
        self.assertEqual([r['number'] for r in filtered['results']], [self.secret.number])

    def test_api_list_query_count_is_unchanged_by_the_rule(self):
        def count(user):
            client = self.api_client(user)
            client.get('/api/v1/incidents/')
            return self.count_queries(lambda: self.assertHttpStatus(client.get('/api/v1/incidents/'), 200))

        marked = {'outsider': count(self.outsider), 'analyst': count(self.analyst)}
        mark(self.secret, self.manager, value=False, reason='Not a security matter')
        self.assertEqual(marked, {'outsider': count(self.outsider), 'analyst': count(self.analyst)})


class ListTests(SecurityIncidentTestCase):
    def numbers_on(self, user, url, params=None):
        response = self.client_for(user).get(url, params or {})
        self.assertHttpStatus(response, 200)
        return [t.number for t in response.context['object_list']]

    def test_shared_queues_and_lists_leave_it_out(self):
        urls = [
            (reverse('incidents:queue'), {'q': 'all'}),
            (reverse('incidents:queue'), {'q': 'unassigned'}),
            (reverse('incidents:queue_group', args=[self.desk.pk]), {}),
            (reverse('incidents:ticket_list'), {}),
            (reverse('incidents:incident_list'), {}),
            (reverse('incidents:ticket_list'), {'q': 'Ransomware'}),
        ]
        for url, params in urls:
            with self.subTest(url=url, params=params):
                self.assertNotIn(self.secret.number, self.numbers_on(self.outsider, url, params))
                self.assertIn(self.plain.number, self.numbers_on(self.outsider, url, params) + [self.plain.number])
                for user in (self.analyst, self.manager):
                    self.assertIn(self.secret.number, self.numbers_on(user, url, params), user)

    def test_queue_counts_count_what_the_queue_lists(self):
        counts = selectors.queue_counts(user=self.outsider)
        self.assertEqual((counts['all'], counts['unassigned'], counts['groups'][self.desk.pk]), (1, 1, 1))
        counts = selectors.queue_counts(user=self.analyst)
        self.assertEqual((counts['all'], counts['unassigned']), (2, 2))

    def test_queue_page_query_count_is_unchanged_by_the_rule(self):
        url = reverse('incidents:queue')

        def count(user):
            client = self.client_for(user)
            client.get(url, {'q': 'all'})
            return self.count_queries(lambda: self.assertHttpStatus(client.get(url, {'q': 'all'}), 200))

        marked = {'outsider': count(self.outsider), 'analyst': count(self.analyst)}
        mark(self.secret, self.manager, value=False, reason='Not a security matter')
        self.assertEqual(marked, {'outsider': count(self.outsider), 'analyst': count(self.analyst)})

    def test_bulk_changes_cannot_reach_it(self):
        response = self.client_for(self.outsider).post(
            reverse('incidents:queue') + '?q=all',
            {'tickets': [self.secret.pk], 'operation': 'comment', 'body': 'Anyone?', 'visibility': 'internal'},
        )
        self.assertIn(response.status_code, (302, 400))
        self.assertEqual(self.timeline(self.secret, TimelineKind.COMMENT).count(), 0)
        self.assertEqual(self.timeline(self.secret, TimelineKind.WORK_NOTE).count(), 0)

    def test_portal_and_api_of_another_requester_leave_it_out(self):
        response = self.client_for(self.other_requester).get(reverse('incidents:portal'))
        self.assertNotContains(response, self.secret.number)
        portal = self.client_for(self.other_requester).get(
            reverse('incidents:portal_ticket', args=[self.secret.number])
        )
        self.assertHttpStatus(portal, 404)
        response = self.client_for(self.caller).get(reverse('incidents:portal'))
        self.assertContains(response, self.secret.number)


class SearchTests(SecurityIncidentTestCase):
    def hits(self, user, query):
        return [hit.number for result in search.search(user, query) for hit in result.hits if hasattr(hit, 'number')]

    def test_global_search_finds_it_only_for_those_who_may_see_it(self):
        self.assertNotIn(self.secret.number, self.hits(self.outsider, 'Ransomware'))
        self.assertIsNone(search.find_by_number(self.outsider, self.secret.number))
        self.assertIn(self.plain.number, self.hits(self.outsider, 'Printer'))
        for user in (self.analyst, self.manager, self.caller):
            self.assertIn(self.secret.number, self.hits(user, 'Ransomware'), user)
            self.assertEqual(search.find_by_number(user, self.secret.number), self.secret)

    def test_search_page(self):
        response = self.client_for(self.outsider).get(reverse('itsm:search'), {'q': self.secret.number})
        self.assertHttpStatus(response, 200)
        self.assertNotContains(response, SECRET)
        response = self.client_for(self.analyst).get(reverse('itsm:search'), {'q': self.secret.number})
        self.assertRedirects(response, self.secret.get_absolute_url(), fetch_redirect_response=False)


class RelatedTicketTests(SecurityIncidentTestCase):
    def test_other_open_tickets_of_the_caller(self):
        self.assertEqual(selectors.caller_open_tickets(self.plain, user=self.outsider), [])
        self.assertEqual(selectors.caller_open_tickets(self.plain, user=self.analyst), [self.secret])
        outsider = self.client_for(self.outsider)
        page = load_related(outsider, outsider.get(self.plain.get_absolute_url()))
        self.assertHttpStatus(page, 200)
        self.assertContains(page, 'data-testid="related-records"')
        self.assertNotContains(page, self.secret.number)
        manager = self.client_for(self.manager)
        self.assertContains(load_related(manager, manager.get(self.plain.get_absolute_url())), self.secret.number)

    def test_children_of_a_parent(self):
        parent = make_ticket(kind=TicketKind.INCIDENT, short_description='Finance share unreachable')
        Ticket.objects.filter(pk=self.secret.pk).update(parent=parent)
        outsider = self.client_for(self.outsider)
        page = load_related(outsider, outsider.get(parent.get_absolute_url()))
        self.assertContains(page, 'data-testid="related-records"')
        self.assertNotContains(page, self.secret.number)
        analyst = self.client_for(self.analyst)
        self.assertContains(load_related(analyst, analyst.get(parent.get_absolute_url())), self.secret.number)
        url = f'/api/v1/incidents/{parent.number}/'
        self.assertEqual(self.api_client(self.outsider).get(url).data['children'], [])
        self.assertEqual(self.api_client(self.manager).get(url).data['children'], [self.secret.number])
        listed = self.api_client(self.outsider).get('/api/v1/incidents/', {'parent': parent.number}).data
        self.assertEqual(listed['count'], 0)

    def test_problem_incidents_card_and_links_list(self):
        from problems.models import ProblemIncident
        from tests.problems.factories import make_problem

        problem = make_problem()
        ProblemIncident.objects.create(problem=problem, incident=self.secret, linked_by=self.manager)
        ProblemIncident.objects.create(problem=problem, incident=self.plain, linked_by=self.manager)
        engineer = make_user(Role.L2_ENGINEER)
        page = self.client_for(engineer).get(problem.get_absolute_url())
        self.assertHttpStatus(page, 200)
        self.assertContains(page, self.plain.number)
        self.assertNotContains(page, self.secret.number)
        self.assertContains(self.client_for(self.manager).get(problem.get_absolute_url()), self.secret.number)
        listed = self.client_for(engineer).get(reverse('problems:problemincident_list'))
        self.assertEqual([link.incident_id for link in listed.context['object_list']], [self.plain.pk])

    def test_children_of_a_major_incident(self):
        from major_incidents.models import MajorIncidentChild
        from tests.major_incidents.factories import make_major

        major = make_major()
        MajorIncidentChild.objects.create(major_incident=major, incident=self.secret, linked_by=self.manager)
        page = self.client_for(self.outsider).get(major.get_absolute_url())
        self.assertHttpStatus(page, 200)
        self.assertNotContains(page, self.secret.number)
        self.assertContains(self.client_for(self.analyst).get(major.get_absolute_url()), self.secret.number)

    def test_incidents_card_of_a_change(self):
        from tests.changes.factories import make_change

        change = make_change()
        change.incidents.add(self.secret, self.plain)
        page = self.client_for(self.outsider).get(change.get_absolute_url())
        self.assertHttpStatus(page, 200)
        self.assertContains(page, self.plain.number)
        self.assertNotContains(page, self.secret.number)
        self.assertContains(self.client_for(self.manager).get(change.get_absolute_url()), self.secret.number)


class DashboardTests(SecurityIncidentTestCase):
    def rows(self, user, **params):
        response = self.client_for(user).get(reverse('reports:tickets'), params)
        self.assertHttpStatus(response, 200)
        return [t.number for t in response.context['page_obj'].object_list]

    def test_drill_down_lists_leave_it_out(self):
        for params in ({'measure': 'backlog'}, {'measure': 'volume', 'part': 'opened'}):
            with self.subTest(params=params):
                self.assertEqual(self.rows(self.reader, **params), [self.plain.number])
                self.assertEqual(sorted(self.rows(self.manager, **params)), [self.plain.number, self.secret.number])

    def test_csv_export_leaves_it_out(self):
        def exported(user):
            params = {'measure': 'backlog', 'format': 'csv'}
            response = self.client_for(user).get(reverse('reports:tickets'), params)
            self.assertHttpStatus(response, 200)
            return [row['number'] for row in csv.DictReader(io.StringIO(response.content.decode()))]

        self.assertEqual(exported(self.reader), [self.plain.number])
        self.assertEqual(sorted(exported(self.manager)), [self.plain.number, self.secret.number])


class NotificationTests(SecurityIncidentTestCase):
    def test_group_wide_mail_of_a_non_security_group_goes_to_cleared_members_only(self):
        self.assertEqual(notify.resolve(self.plain, ['group']), {'group': ['desk@pitcrew.example']})
        # The desk's shared address is not told, nor its members, none of whom may see it.
        self.assertEqual(notify.resolve(self.secret, ['group']), {})
        cleared = make_user(Role.SERVICE_DESK_AGENT, email='cleared@pitcrew.example')
        self.desk.members.add(cleared)
        self.security.members.add(cleared)
        self.assertEqual(notify.resolve(self.secret, ['group']), {'group': ['cleared@pitcrew.example']})

    def test_a_security_group_hears_at_its_address(self):
        self.assertEqual(
            notify.resolve(self.secret, ['group'], group=self.security), {'group': ['security@pitcrew.example']}
        )

    def test_the_group_manager_hears_only_when_cleared(self):
        SupportGroup.objects.filter(pk=self.desk.pk).update(manager=self.outsider)
        secret = Ticket.objects.get(pk=self.secret.pk)
        self.assertEqual(notify.resolve(secret, ['manager']), {})
        SupportGroup.objects.filter(pk=self.desk.pk).update(manager=self.manager)
        secret = Ticket.objects.get(pk=self.secret.pk)
        self.assertEqual(notify.resolve(secret, ['manager']), {'manager': [self.manager.email]})

    def test_escalating_it_to_a_non_security_group_mails_nobody_there(self):
        from incidents import services

        l2, engineer = make_group_with_agent(name='Desktop L2', tier=Tier.L2, role=Role.L2_ENGINEER)
        SupportGroup.objects.filter(pk=l2.pk).update(email='l2@pitcrew.example')
        l2.refresh_from_db()
        mail.outbox.clear()
        with self.captureOnCommitCallbacks(execute=True):
            services.ticket_assign(ticket=self.secret, actor=Actor(user=self.manager, channel='ui'), group=l2)
        told = {address for message in mail.outbox for address in message.to}
        self.assertNotIn('l2@pitcrew.example', told)
        self.assertNotIn(engineer.email, told)

    def test_mentioning_someone_who_may_not_see_it_tells_them_nothing(self):
        from inbox.services import may_see

        self.assertFalse(may_see(self.secret, self.outsider, public=False))
        self.assertTrue(may_see(self.secret, self.analyst, public=False))
        self.assertTrue(may_see(self.plain, self.outsider, public=False))


class MarkingTests(SecurityIncidentTestCase):
    def post(self, user, ticket, data):
        return self.api_client(user).post(f'/api/v1/incidents/{ticket.number}/security/', data, format='json')

    def test_who_may_mark_and_unmark(self):
        data = {'security_incident': True, 'reason': 'Suspicious'}
        self.assertHttpStatus(self.post(self.outsider, self.plain, data), 403)
        self.assertHttpStatus(self.post(self.reader, self.plain, data), 403)
        self.assertHttpStatus(self.post(self.caller, self.plain, data), 403)  # their own ticket: they see it
        self.assertHttpStatus(self.post(self.other_requester, self.plain, data), 403)
        self.assertFalse(Ticket.objects.get(pk=self.plain.pk).security_incident)
        for user in (self.analyst, self.manager, self.admin):
            with self.subTest(user=user):
                self.assertHttpStatus(self.post(user, self.plain, data), 200)
                self.assertTrue(Ticket.objects.get(pk=self.plain.pk).security_incident)
                undo = {'security_incident': False, 'reason': 'Not a security matter'}
                self.assertHttpStatus(self.post(user, self.plain, undo), 200)
                self.assertFalse(Ticket.objects.get(pk=self.plain.pk).security_incident)

    def test_the_timeline_says_who_marked_it_and_why(self):
        entry = self.timeline(self.secret, TimelineKind.FIELD_CHANGE).latest('id')
        self.assertEqual(entry.actor, self.manager)
        self.assertEqual(entry.message, 'Marked as a security incident: Looks like ransomware')
        self.assertEqual([c['field'] for c in entry.changes], ['security_incident'])
        self.assertFalse(entry.public)
        mark(self.secret, self.analyst, value=False, reason='False alarm')
        entry = self.timeline(self.secret, TimelineKind.FIELD_CHANGE).latest('id')
        self.assertEqual((entry.actor, entry.message), (self.analyst, 'Security marking removed: False alarm'))

    def test_input_is_checked(self):
        self.assertHttpStatus(self.post(self.manager, self.plain, {'security_incident': True}), 400)
        response = self.post(self.manager, self.secret, {'security_incident': True, 'reason': 'Again'})
        self.assertHttpStatus(response, 409)
        self.assertEqual(response.data['code'], 'security_unchanged')

    def test_the_page_action(self):
        url = reverse('incidents:ticket_security', kwargs={'number': self.plain.number})
        response = self.client_for(self.manager).get(self.plain.get_absolute_url())
        self.assertContains(response, 'Mark as security incident')
        self.assertNotContains(self.client_for(self.outsider).get(self.plain.get_absolute_url()), url)
        response = self.client_for(self.analyst).post(url, {'security_incident': 'true', 'reason': 'Phishing'})
        self.assertIn(response.status_code, (200, 302))
        self.assertTrue(Ticket.objects.get(pk=self.plain.pk).security_incident)
        self.assertContains(self.client_for(self.manager).get(self.plain.get_absolute_url()), 'Remove security marking')

    def test_security_groups_are_data(self):
        group = SupportGroup.objects.get(pk=self.desk.pk)
        response = self.api_client(self.admin).patch(f'/api/v1/groups/{group.pk}/', {'security': True}, format='json')
        self.assertHttpStatus(response, 200)
        self.assertTrue(SupportGroup.objects.get(pk=group.pk).security)
        outsider = type(self.outsider).objects.get(pk=self.outsider.pk)
        self.assertTrue(Ticket.objects.visible_to(outsider).filter(pk=self.secret.pk).exists())


class SlaClockTests(SecurityIncidentTestCase):
    @classmethod
    def setUpTestData(cls):
        from tests.sla.factories import all_priorities

        all_priorities()
        super().setUpTestData()

    def test_sla_monitor_and_clock_api_leave_its_clocks_out(self):
        from sla.models import SlaClock

        self.assertTrue(SlaClock.objects.filter(ticket=self.secret).exists())
        self.assertTrue(SlaClock.objects.filter(ticket=self.plain).exists())
        secret_clock = SlaClock.objects.filter(ticket=self.secret).first()

        def numbers(user):
            rows = self.api_client(user).get('/api/v1/sla-clocks/').data['results']
            return {row['ticket'] for row in rows}

        self.assertNotIn(self.secret.number, numbers(self.outsider))
        self.assertIn(self.plain.number, numbers(self.outsider))
        self.assertIn(self.secret.number, numbers(self.analyst))
        self.assertHttpStatus(self.api_client(self.outsider).get(f'/api/v1/sla-clocks/{secret_clock.pk}/'), 404)
        page = self.client_for(self.outsider).get(reverse('sla:slaclock_list'))
        self.assertHttpStatus(page, 200)
        self.assertNotIn(secret_clock, list(page.context['object_list']))
        page = self.client_for(self.manager).get(reverse('sla:slaclock_list'))
        self.assertIn(secret_clock, list(page.context['object_list']))


class ProblemLinkApiTests(SecurityIncidentTestCase):
    """The problem–incident links over the API and the link forms by number."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        from problems.models import ProblemIncident
        from tests.problems.factories import make_problem

        cls.problem = make_problem()
        cls.secret_link = ProblemIncident.objects.create(
            problem=cls.problem, incident=cls.secret, linked_by=cls.manager
        )
        cls.plain_link = ProblemIncident.objects.create(problem=cls.problem, incident=cls.plain, linked_by=cls.manager)

    def test_list_and_detail_leave_it_out(self):
        def numbers(user, **params):
            response = self.api_client(user).get('/api/v1/problem-incidents/', params)
            self.assertHttpStatus(response, 200)
            return sorted(row['incident'] for row in response.data['results'])

        self.assertEqual(numbers(self.outsider), [self.plain.number])
        self.assertEqual(numbers(self.outsider, incident=self.secret.number), [])
        self.assertEqual(numbers(self.analyst), sorted([self.plain.number, self.secret.number]))
        self.assertEqual(numbers(self.manager, incident=self.secret.number), [self.secret.number])
        url = f'/api/v1/problem-incidents/{self.secret_link.pk}/'
        self.assertHttpStatus(self.api_client(self.outsider).get(url), 404)
        self.assertHttpStatus(self.api_client(self.analyst).get(url), 200)

    def test_linking_it_by_number_is_not_found_like_an_unknown_number(self):
        from problems.models import ProblemIncident
        from tests.problems.factories import make_problem

        ProblemIncident.objects.filter(pk=self.secret_link.pk).delete()
        other = make_problem()

        def refusal(number):
            data = {'problem': other.number, 'incident': number}
            response = self.api_client(self.outsider).post('/api/v1/problem-incidents/', data, format='json')
            self.assertHttpStatus(response, 400)
            return str(response.data['incident'][0]).replace(number, '<number>')

        self.assertEqual(refusal(self.secret.number), refusal('INC9999999'))
        response = self.api_client(self.outsider).post(
            f'/api/v1/incidents/{self.secret.number}/link-problem/', {'problem': other.number}, format='json'
        )
        self.assertHttpStatus(response, 404)
        self.assertFalse(ProblemIncident.objects.filter(incident=self.secret).exists())

    def test_the_link_page_by_number(self):
        from problems.models import ProblemIncident
        from tests.problems.factories import make_problem

        ProblemIncident.objects.filter(pk=self.secret_link.pk).delete()
        other = make_problem()
        url = reverse('problems:problemincident_add')

        def errors(user, number):
            response = self.client_for(user).post(url, {'problem': other.pk, 'incident': number})
            return response.status_code, response.context['form'].errors.get('incident')

        self.assertEqual(errors(self.outsider, self.secret.number), (400, [f'No incident {self.secret.number}.']))
        self.assertEqual(errors(self.outsider, 'INC9999999'), (400, ['No incident INC9999999.']))
        self.assertFalse(ProblemIncident.objects.filter(incident=self.secret).exists())
        response = self.client_for(self.analyst).post(url, {'problem': other.pk, 'incident': self.secret.number})
        self.assertHttpStatus(response, 302)
        self.assertTrue(ProblemIncident.objects.filter(incident=self.secret, problem=other).exists())
        # The incident page's own link form is no way in either.
        page = reverse('problems:incident_link', kwargs={'number': self.secret.number})
        self.assertHttpStatus(self.client_for(self.outsider).get(page), 404)


class ChangeIncidentLinkTests(SecurityIncidentTestCase):
    """A change's incidents over the API and the incidents caused by changes (API and list page)."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        from changes.models import IncidentCause
        from tests.changes.factories import make_change

        cls.change = make_change()
        cls.change.incidents.add(cls.secret, cls.plain)
        cls.cause_change = make_change()
        cls.secret_cause = IncidentCause.objects.create(
            incident=cls.secret, change=cls.cause_change, recorded_by=cls.manager
        )
        IncidentCause.objects.create(incident=cls.plain, change=cls.cause_change, recorded_by=cls.manager)

    def test_the_change_api_names_it_only_to_those_who_may_see_it(self):
        url = f'/api/v1/changes/{self.change.number}/'
        self.assertEqual(self.api_client(self.outsider).get(url).data['incidents'], [self.plain.number])
        self.assertEqual(
            sorted(self.api_client(self.analyst).get(url).data['incidents']),
            sorted([self.plain.number, self.secret.number]),
        )
        listed = self.api_client(self.outsider).get('/api/v1/changes/').data['results']
        row = next(row for row in listed if row['number'] == self.change.number)
        self.assertEqual(row['incidents'], [self.plain.number])

    def test_editing_a_change_s_incidents_keeps_the_hidden_link(self):
        url = f'/api/v1/changes/{self.change.number}/'
        change_manager = make_user(Role.CHANGE_MANAGER)
        self.assertNotIn(self.secret.number, str(self.api_client(change_manager).get(url).data))
        response = self.api_client(change_manager).patch(url, {'incidents': [self.plain.number]}, format='json')
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.data['incidents'], [self.plain.number])
        self.assertEqual(set(self.change.incidents.all()), {self.plain, self.secret})
        response = self.api_client(change_manager).patch(url, {'incidents': [self.secret.number]}, format='json')
        self.assertHttpStatus(response, 400)

    def test_incident_causes_api_and_page(self):
        def numbers(user):
            response = self.api_client(user).get('/api/v1/incident-causes/')
            self.assertHttpStatus(response, 200)
            return sorted(row['incident'] for row in response.data['results'])

        self.assertEqual(numbers(self.outsider), [self.plain.number])
        self.assertEqual(numbers(self.analyst), sorted([self.plain.number, self.secret.number]))
        url = f'/api/v1/incident-causes/{self.secret_cause.pk}/'
        self.assertHttpStatus(self.api_client(self.outsider).get(url), 404)
        self.assertHttpStatus(self.api_client(self.manager).get(url), 200)

        def listed(user):
            page = self.client_for(user).get(reverse('changes:incidentcause_list'))
            self.assertHttpStatus(page, 200)
            return sorted(cause.incident.number for cause in page.context['object_list'])

        self.assertEqual(listed(self.outsider), [self.plain.number])
        self.assertEqual(listed(self.manager), sorted([self.plain.number, self.secret.number]))
        detail = reverse('changes:incidentcause_detail', args=[self.secret_cause.pk])
        self.assertHttpStatus(self.client_for(self.outsider).get(detail), 404)

    def test_recording_a_cause_by_its_number_is_not_found(self):
        from changes.models import IncidentCause

        IncidentCause.objects.filter(pk=self.secret_cause.pk).delete()
        response = self.api_client(self.outsider).post(
            f'/api/v1/incidents/{self.secret.number}/caused-by-change/', {'change': self.cause_change.number}
        )
        self.assertHttpStatus(response, 404)

        def refusal(number):
            data = {'incident': number, 'change': self.cause_change.number}
            response = self.api_client(self.outsider).post('/api/v1/incident-causes/', data, format='json')
            self.assertHttpStatus(response, 400)
            return str(response.data['incident'][0]).replace(number, '<number>')

        self.assertEqual(refusal(self.secret.number), refusal('INC9999999'))
        self.assertFalse(IncidentCause.objects.filter(incident=self.secret).exists())


class HypercareTagTests(SecurityIncidentTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        from hypercare.models import HypercareIncident
        from tests.hypercare.factories import make_period, service_ci

        cls.period = make_period(service_ci())
        HypercareIncident.objects.create(period=cls.period, ticket=cls.secret)
        HypercareIncident.objects.create(period=cls.period, ticket=cls.plain)

    def test_the_dashboard_lists_it_only_for_those_who_may_see_it_and_counts_it_for_all(self):
        url = reverse('hypercare:hypercareperiod_detail', args=[self.period.pk])
        page = self.client_for(self.reader).get(url)
        self.assertHttpStatus(page, 200)
        self.assertEqual([tag.ticket for tag in page.context['tags']], [self.plain])
        self.assertNotContains(page, self.secret.number)
        self.assertEqual(page.context['board'].tagged, 2)
        page = self.client_for(self.manager).get(url)
        self.assertEqual({tag.ticket for tag in page.context['tags']}, {self.plain, self.secret})

    def test_the_api_lists_and_the_incident_filter(self):
        url = f'/api/v1/hypercare-periods/{self.period.pk}/incidents/'

        def tagged(user):
            response = self.api_client(user).get(url)
            self.assertHttpStatus(response, 200)
            return sorted(str(row) for row in response.data)

        self.assertNotIn(self.secret.number, ' '.join(tagged(self.reader)))
        self.assertIn(self.plain.number, ' '.join(tagged(self.reader)))
        self.assertIn(self.secret.number, ' '.join(tagged(self.manager)))

        def periods(user, number):
            response = self.api_client(user).get('/api/v1/hypercare-periods/', {'incident': number})
            self.assertHttpStatus(response, 200)
            return [row['id'] for row in response.data['results']]

        self.assertEqual(periods(self.reader, self.secret.number), [])
        self.assertEqual(periods(self.reader, self.plain.number), [self.period.pk])
        self.assertEqual(periods(self.manager, self.secret.number), [self.period.pk])
        detail = self.api_client(self.reader).get(f'/api/v1/hypercare-periods/{self.period.pk}/')
        self.assertEqual(detail.data['incident_count'], 2)


class CandidateTests(SecurityIncidentTestCase):
    """Problem and major-incident candidates, proposed children and the number lookups of the major-incident forms."""

    def test_problem_candidate_page_and_api(self):
        from tests.problems.factories import ProblemCandidateFactory

        candidate = ProblemCandidateFactory(size=3)
        candidate.incidents.add(self.secret)
        url = reverse('problems:problemcandidate_detail', args=[candidate.pk])
        page = self.client_for(self.outsider).get(url)
        self.assertHttpStatus(page, 200)
        self.assertEqual(len(page.context['incidents']), 3)
        self.assertNotContains(page, self.secret.number)
        self.assertContains(self.client_for(self.analyst).get(url), self.secret.number)
        api = f'/api/v1/problem-candidates/{candidate.pk}/'
        self.assertNotIn(self.secret.number, self.api_client(self.outsider).get(api).data['incidents'])
        self.assertIn(self.secret.number, self.api_client(self.manager).get(api).data['incidents'])
        listed = self.api_client(self.outsider).get('/api/v1/problem-candidates/').data['results']
        self.assertNotIn(self.secret.number, str(listed))

    def test_major_candidate_raised_by_it_and_its_flood(self):
        from major_incidents.choices import CandidateReason
        from major_incidents.models import MajorIncidentCandidate
        from tests.major_incidents.factories import CandidateFactory

        flood = CandidateFactory(size=2)
        flood.incidents.add(self.secret)
        own = MajorIncidentCandidate.objects.create(
            reason=CandidateReason.CRITICAL_SERVICE, incident=self.secret, scope='incident:secret', incident_count=1
        )
        page = self.client_for(self.outsider).get(reverse('major_incidents:candidate_list'))
        self.assertHttpStatus(page, 200)
        self.assertEqual(list(page.context['object_list']), [flood])
        self.assertNotContains(page, self.secret.number)
        page = self.client_for(self.manager).get(reverse('major_incidents:candidate_list'))
        self.assertEqual({c.pk for c in page.context['object_list']}, {flood.pk, own.pk})
        detail = reverse('major_incidents:candidate_detail', args=[own.pk])
        self.assertHttpStatus(self.client_for(self.outsider).get(detail), 404)
        page = self.client_for(self.outsider).get(reverse('major_incidents:candidate_detail', args=[flood.pk]))
        self.assertHttpStatus(page, 200)
        self.assertNotContains(page, self.secret.number)
        self.assertEqual(len(page.context['incidents']), 2)
        self.assertContains(
            self.client_for(self.analyst).get(reverse('major_incidents:candidate_detail', args=[flood.pk])),
            self.secret.number,
        )
        rows = self.api_client(self.outsider).get('/api/v1/major-incident-candidates/').data['results']
        self.assertEqual([row['id'] for row in rows], [flood.pk])
        self.assertNotIn(self.secret.number, str(rows))

    def test_proposed_children_and_other_incidents_by_number(self):
        from major_incidents.forms import LinkChildrenForm
        from tests.major_incidents.factories import make_major, make_public_service

        service = make_public_service('Payroll')
        started = min(self.secret.opened_at, self.plain.opened_at)
        major = make_major(outage_started_at=started, services=[service])
        Ticket.objects.filter(pk__in=[self.secret.pk, self.plain.pk]).update(service=service)
        proposed = LinkChildrenForm(record=major, user=self.outsider).proposed_incidents
        self.assertEqual(proposed, [self.plain])
        self.assertEqual(
            set(LinkChildrenForm(record=major, user=self.analyst).proposed_incidents), {self.plain, self.secret}
        )

        def errors(user, number):
            form = LinkChildrenForm({'others': number}, record=major, user=user)
            self.assertFalse(form.is_valid()) if user is self.outsider else None
            return form.errors.get('others')

        self.assertEqual(errors(self.outsider, self.secret.number), [f'There is no incident {self.secret.number}.'])
        self.assertEqual(errors(self.outsider, 'INC9999999'), ['There is no incident INC9999999.'])
        self.assertIsNone(errors(self.analyst, self.secret.number))

    def test_declaring_from_its_number(self):
        from major_incidents.forms import MajorDeclareForm

        data = {
            'short_description': 'Payroll is down',
            'priority': 1,
            'severity': 1,
            'service_impact': 'major_outage',
            'incident_manager': self.manager.pk,
        }

        def errors(user, number):
            form = MajorDeclareForm({**data, 'source_incident': number}, user=user)
            form.is_valid()
            return form.errors.get('source_incident')

        self.assertEqual(errors(self.outsider, self.secret.number), [f'There is no incident {self.secret.number}.'])
        self.assertEqual(errors(self.outsider, 'INC9999999'), ['There is no incident INC9999999.'])
        self.assertIsNone(errors(self.manager, self.secret.number))
        # Over the API (the API client role declares there): the same "does not exist" as for an unknown number.
        client = self.api_client(make_user(Role.INTEGRATION))

        def refusal(number):
            body = {**data, 'source_incident': number, 'incident_manager': self.manager.username}
            response = client.post('/api/v1/major-incidents/', body, format='json')
            self.assertHttpStatus(response, 400)
            return str(response.data['source_incident'][0]).replace(number, '<number>')

        self.assertEqual(refusal(self.secret.number), refusal('INC9999999'))
        # The declare page prefilled from its number says nothing of it to an incident manager's visitor either.
        page = self.client_for(self.manager).get(
            reverse('major_incidents:majorincident_add'), {'incident': self.secret.number}
        )
        self.assertEqual(page.context['source_incident'], self.secret)


class WebhookTests(SecurityIncidentTestCase):
    def test_events_about_it_go_only_to_cleared_subscriptions(self):
        from incidents import services
        from tests.webhooks.factories import make_subscription
        from webhooks.models import WebhookDelivery

        plain_hook = make_subscription(name='Plain')
        cleared_hook = make_subscription(name='Cleared')
        from webhooks import services as hooks

        hooks.subscription_update(
            subscription=cleared_hook, actor=Actor(user=self.admin, channel='ui'), security_incidents=True
        )
        l2, _ = make_group_with_agent(name='Desktop L2', tier=Tier.L2, role=Role.L2_ENGINEER)
        for ticket in (self.secret, self.plain):
            services.ticket_assign(ticket=ticket, actor=Actor(user=self.manager, channel='ui'), group=l2)

        def numbers(hook):
            return sorted(d.payload['record']['number'] for d in WebhookDelivery.objects.filter(subscription=hook))

        self.assertEqual(numbers(plain_hook), [self.plain.number])
        self.assertEqual(numbers(cleared_hook), sorted([self.plain.number, self.secret.number]))

    def test_only_administrators_clear_a_subscription(self):
        url = reverse('api:webhooksubscription-list')
        data = {'name': 'SIEM', 'url': 'https://93.184.215.14/hooks', 'events': ['record.created']}
        owner = make_user(Role.INTEGRATION)
        response = self.api_client(owner).post(url, {**data, 'security_incidents': True}, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('Only an administrator', response.data['security_incidents'][0])
        response = self.api_client(owner).post(url, data, format='json')
        self.assertHttpStatus(response, 201)
        self.assertFalse(response.data['security_incidents'])
        detail = reverse('api:webhooksubscription-detail', args=[response.data['id']])
        response = self.api_client(owner).patch(detail, {'security_incidents': True}, format='json')
        self.assertHttpStatus(response, 400)
        response = self.api_client(self.admin).patch(detail, {'security_incidents': True}, format='json')
        self.assertHttpStatus(response, 200)
        self.assertTrue(response.data['security_incidents'])
        form = self.client_for(self.admin).get(reverse('webhooks:webhooksubscription_add'))
        self.assertContains(form, 'security_incidents')
        self.assertNotContains(
            self.client_for(owner).get(reverse('webhooks:webhooksubscription_add')), 'security_incidents'
        )


class KnownErrorUseTests(SecurityIncidentTestCase):
    """Known errors applied to incidents: the uses' list, page and API leave out a security incident's use."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        from tests.problems.factories import KnownErrorFactory, KnownErrorUseFactory

        known_error = KnownErrorFactory(title='Mail client freezes')
        cls.secret_use = KnownErrorUseFactory(known_error=known_error, incident=cls.secret)
        cls.plain_use = KnownErrorUseFactory(known_error=known_error, incident=cls.plain)

    def test_the_api_and_pages_leave_it_out(self):
        def numbers(user, **params):
            response = self.api_client(user).get('/api/v1/known-error-uses/', params)
            self.assertHttpStatus(response, 200)
            return sorted(row['incident'] for row in response.data['results'])

        self.assertEqual(numbers(self.outsider), [self.plain.number])
        self.assertEqual(numbers(self.outsider, incident=self.secret.number), [])
        self.assertEqual(numbers(self.analyst), sorted([self.plain.number, self.secret.number]))
        url = f'/api/v1/known-error-uses/{self.secret_use.pk}/'
        self.assertHttpStatus(self.api_client(self.outsider).get(url), 404)
        self.assertHttpStatus(self.api_client(self.manager).get(url), 200)
        page = self.client_for(self.outsider).get(reverse('problems:knownerroruse_list'))
        self.assertContains(page, self.plain.number)
        self.assertNotContains(page, self.secret.number)
        detail = reverse('problems:knownerroruse_detail', kwargs={'pk': self.secret_use.pk})
        self.assertHttpStatus(self.client_for(self.outsider).get(detail), 404)
        self.assertHttpStatus(self.client_for(self.analyst).get(detail), 200)
