"""`/api/v1/incidents/` and `/api/v1/cases/`: shape, filters, actions, errors, visibility."""

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from incidents.choices import TicketState
from incidents.models import Case, Category, PriorityMatrixEntry, ResponseTemplate, Ticket
from itsm.choices import Role, TimelineKind
from itsm.models import User
from tests.base import APITestCases, ItsmTestCase
from tests.factories import make_group_with_agent, make_ticket, make_user

S = TicketState


class IncidentAPITests(APITestCases.ModelAPITestCase):
    # Incidents and cases share the Ticket table; this class covers it through /api/v1/incidents/.
    model = Ticket
    basename = 'incident'
    view_roles = (Role.SERVICE_DESK_AGENT,)
    write_roles = (Role.SERVICE_DESK_AGENT,)
    read_only_roles = (Role.MANAGER,)  # reads every ticket, works none
    update_data = {'short_description': 'Printer on the 3rd floor is jammed', 'urgency': 'urgent'}
    read_only_fields = {'state': 'closed', 'reopen_count': 7}
    supports_delete = False
    query_rows = (2, 10)

    def make_object(self, **kwargs):
        return make_ticket(kind='incident', **kwargs)

    def create_data(self):
        caller = make_user(Role.REQUESTER, username='caller.one')
        return {'short_description': 'Cannot print', 'caller': caller.username, 'impact': 'low', 'urgency': 'normal'}

    def outsider(self):
        # Every role may at least read its own tickets, so "no permission" means a person without any role.
        return User.objects.create(username='plain.person')

    def filter_cases(self):
        group, agent = make_group_with_agent(name='Network')
        a = make_ticket(impact='high', urgency='critical', channel='phone', state=S.ASSIGNED, group=group, agent=agent)
        b = make_ticket(short_description='Wi-Fi slow in canteen', channel='email')
        return [
            ({'state': 'assigned'}, [a]),
            ({'priority': '1'}, [a]),
            ({'group': 'Network'}, [a]),
            ({'channel': 'email'}, [b]),
            ({'q': 'canteen'}, [b]),
            ({'caller': b.caller.username}, [b]),
        ]


class CaseAPITests(IncidentAPITests):
    model = Case
    basename = 'case'

    def make_object(self, **kwargs):
        return make_ticket(kind='case', **kwargs)

    def filter_cases(self):
        a = make_ticket(kind='case', channel='phone')
        make_ticket(kind='incident', channel='phone')
        return [({'channel': 'phone'}, [a])]


class CategoryAPITests(APITestCases.ModelAPITestCase):
    model = Category
    basename = 'category'
    update_data = {'name': 'Printers and scanners'}

    def make_object(self, **kwargs):
        return Category.objects.create(name=kwargs.get('name', f'Category {Category.objects.count()}'))

    def create_data(self):
        return {'name': 'Telephony'}

    def test_top_level_names_are_unique_ignoring_case_and_nothing_half_written(self):
        # Two top-level "Hardware" categories made every lookup by name fail (MultipleObjectsReturned) on PostgreSQL.
        client = self.api_client(self.make_user(Role.ADMINISTRATOR))
        self.assertHttpStatus(client.post(self.list_url(), {'name': 'Peripherals'}, format='json'), 201)
        for name in ('Peripherals', 'Hardware'):
            with self.subTest(name=name):
                response = client.post(self.list_url(), {'name': name}, format='json')
                self.assertHttpStatus(response, 400)
                self.assertIn('already a top-level category with this name', str(response.json()))
        # The same name under a parent is another category (the parent is named: the lookup that failed before).
        response = client.post(self.list_url(), {'name': 'Peripherals', 'parent': 'Peripherals'}, format='json')
        self.assertHttpStatus(response, 201)
        self.assertEqual(Category.objects.filter(name='Peripherals').count(), 2)

    def test_kinds_must_be_a_list(self):
        client = self.api_client(self.make_user(Role.ADMINISTRATOR))
        response = client.post(self.list_url(), {'name': 'Phones', 'kinds': None}, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('kinds', response.json())


class PriorityMatrixAPITests(APITestCases.ModelAPITestCase):
    model = PriorityMatrixEntry
    basename = 'prioritymatrixentry'
    update_data = {'priority': 0}

    def setUp(self):
        # Start from an empty matrix (the migration seeds all 25 cells) so the generic tests can add cells.
        PriorityMatrixEntry.objects.all().delete()

    def make_object(self, **kwargs):
        free = [
            (i, u)
            for i in ('severe', 'high', 'medium', 'low', 'none')
            for u in ('immediate', 'critical', 'urgent', 'normal', 'negotiated')
            if not PriorityMatrixEntry.objects.filter(impact=i, urgency=u).exists()
        ]
        impact, urgency = free[0]
        return PriorityMatrixEntry.objects.create(impact=impact, urgency=urgency, priority=3)

    def create_data(self):
        return {'impact': 'low', 'urgency': 'urgent', 'priority': 1}


class ResponseTemplateAPITests(APITestCases.ModelAPITestCase):
    model = ResponseTemplate
    basename = 'responsetemplate'
    update_data = {'text': 'Hello {caller_name}, this is {agent_name}.'}

    def make_object(self, **kwargs):
        n = ResponseTemplate.objects.count()
        return ResponseTemplate.objects.create(name=f'Greeting {n}', kind='opening', text='Hello {caller_name},')

    def create_data(self):
        return {'name': 'Farewell', 'kind': 'closing', 'text': 'Kind regards, {agent_name}'}


class TicketActionTests(ItsmTestCase):
    def setUp(self):
        self.group, self.agent = make_group_with_agent(name='Service Desk')
        self.l2, self.engineer = make_group_with_agent(name='Desktop L2', tier='L2', role=Role.L2_ENGINEER)
        self.group.escalation_group = self.l2
        self.group.save()
        self.requester = make_user(Role.REQUESTER, username='robin')

    def post(self, user, number, action, data=None, kind='incidents'):
        return self.api_client(user).post(f'/api/v1/{kind}/{number}/{action}/', data or {}, format='json')

    def test_response_shape(self):
        ticket = make_ticket(caller=self.requester, impact='medium', urgency='urgent')
        response = self.api_client(self.agent).get(f'/api/v1/incidents/{ticket.number}/')
        self.assertHttpStatus(response, 200)
        for key in (
            'number',
            'state',
            'impact',
            'urgency',
            'priority',
            'priority_label',
            'group',
            'assignee',
            'caller',
            'reassignment_count',
            'reopen_count',
            'opened_at',
            'assigned_at',
            'accepted_at',
            'completed_at',
            'closed_at',
        ):
            self.assertIn(key, response.data)
        self.assertEqual((response.data['priority'], response.data['priority_label']), (2, 'P2'))
        self.assertEqual(response.data['caller'], 'robin')

    def test_a_requester_reads_the_portals_fields_only(self):
        from incidents import services as ticket_services
        from itsm.audit import Actor
        from tests.sla.factories import make_ola, make_sla

        make_sla(priority=1)
        make_sla(priority=2)
        make_ola(self.group)
        ticket = ticket_services.ticket_create(
            actor=Actor(user=self.agent), caller=self.requester, short_description='Screen flickers',
            impact='medium', urgency='urgent', assignment_group=self.group,
        )  # fmt: skip
        ticket_services.ticket_accept(ticket=ticket, actor=Actor(user=self.agent))
        ticket_services.ticket_override_priority(
            ticket=ticket, actor=Actor(user=self.agent), priority=1, reason='CEO laptop, board meeting at 10'
        )
        staff = self.api_client(self.agent).get(f'/api/v1/incidents/{ticket.number}/').data
        self.assertEqual(staff['assignee'], self.agent.username)
        self.assertIn('ola_resolve', {clock['kind'] for clock in staff['sla']})
        for url in (f'/api/v1/incidents/{ticket.number}/', '/api/v1/incidents/'):
            with self.subTest(url=url):
                response = self.api_client(self.requester).get(url)
                self.assertHttpStatus(response, 200)
                data = response.data if 'number' in response.data else response.data['results'][0]
                for hidden in ('assignee', 'opened_by', 'priority_override_reason', 'resolved_by', 'source_data'):
                    self.assertNotIn(hidden, data)
                self.assertNotIn(self.agent.username, str(data))
                self.assertNotIn('CEO laptop', str(data))
                self.assertEqual({clock['kind'] for clock in data['sla']}, {'response', 'resolution'})
                self.assertTrue(data['url'].endswith(f'/portal/{ticket.number}/'))
                self.assertEqual((data['priority'], data['group']), (1, 'Service Desk'))

    def test_full_journey_through_the_api(self):
        create = self.api_client(self.requester).post(
            '/api/v1/incidents/', {'short_description': 'Laptop will not boot', 'impact': 'low'}, format='json'
        )
        self.assertHttpStatus(create, 201)
        number = create.data['number']
        self.assertEqual((create.data['state'], create.data['channel'], create.data['caller']), ('new', 'api', 'robin'))
        self.assertHttpStatus(self.post(self.agent, number, 'assign', {'group': 'Service Desk'}), 200)
        accepted = self.post(self.agent, number, 'accept')
        self.assertHttpStatus(accepted, 200)
        self.assertEqual((accepted.data['state'], accepted.data['assignee']), ('accepted', self.agent.username))
        escalated = self.post(self.agent, number, 'escalate', {'reason': 'Hardware fault'})
        self.assertHttpStatus(escalated, 200)
        self.assertEqual((escalated.data['group'], escalated.data['reassignment_count']), ('Desktop L2', 1))
        self.assertHttpStatus(self.post(self.engineer, number, 'accept'), 200)
        pended = self.post(self.engineer, number, 'pend', {'reason': 'part', 'note': 'New disk ordered'})
        self.assertEqual(pended.data['state'], 'pending')
        self.assertHttpStatus(self.post(self.engineer, number, 'resume'), 200)
        done = self.post(
            self.engineer, number, 'complete', {'resolution_code': 'solved_permanently', 'resolution_notes': 'Disk.'}
        )
        self.assertEqual(done.data['state'], 'completed')
        rejected = self.post(self.requester, number, 'reject', {'reason': 'Still beeps'})
        self.assertEqual((rejected.data['state'], rejected.data['reopen_count']), ('accepted', 1))
        self.post(
            self.engineer, number, 'complete', {'resolution_code': 'solved_permanently', 'resolution_notes': 'Fan'}
        )
        closed = self.post(self.requester, number, 'confirm')
        self.assertHttpStatus(closed, 200)
        self.assertEqual(closed.data['state'], 'closed')
        self.assertIsNotNone(closed.data['closed_at'])

    def test_illegal_transition_is_409(self):
        ticket = make_ticket(caller=self.requester)
        response = self.post(
            self.agent, ticket.number, 'complete', {'resolution_code': 'duplicate', 'resolution_notes': 'x'}
        )
        self.assertHttpStatus(response, 409)
        self.assertEqual(response.data['code'], 'invalid_transition')
        self.assertIn('detail', response.data)

    def test_missing_transition_data_is_400_naming_the_field(self):
        ticket = make_ticket(caller=self.requester, state=S.ACCEPTED, group=self.group, agent=self.agent)
        response = self.post(self.agent, ticket.number, 'complete', {'resolution_code': 'duplicate'})
        self.assertHttpStatus(response, 400)
        self.assertIn('resolution_notes', response.data)
        response = self.post(self.agent, ticket.number, 'pend', {})
        self.assertHttpStatus(response, 400)
        self.assertIn('reason', response.data)

    def test_unknown_group_is_400(self):
        ticket = make_ticket(caller=self.requester)
        response = self.post(self.agent, ticket.number, 'assign', {'group': 'Nope'})
        self.assertHttpStatus(response, 400)
        self.assertIn('group', response.data)

    def test_non_member_accept_is_403(self):
        ticket = make_ticket(caller=self.requester, state=S.ASSIGNED, group=self.group, agent=self.agent)
        response = self.post(self.engineer, ticket.number, 'accept')
        self.assertHttpStatus(response, 403)
        self.assertEqual(response.data['code'], 'permission_denied')

    def test_accept_next_takes_the_highest_priority_of_my_groups(self):
        low = make_ticket(
            caller=self.requester, impact='low', urgency='normal', state=S.ASSIGNED, group=self.group, agent=self.agent
        )
        high = make_ticket(
            caller=self.requester,
            impact='high',
            urgency='critical',
            state=S.ASSIGNED,
            group=self.group,
            agent=self.agent,
        )
        make_ticket(
            caller=self.requester,
            impact='severe',
            urgency='immediate',
            state=S.ASSIGNED,
            group=self.l2,
            agent=self.engineer,
        )
        response = self.api_client(self.agent).post('/api/v1/incidents/accept-next/')
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.data['number'], high.number)
        self.assertEqual(self.api_client(self.agent).post('/api/v1/incidents/accept-next/').data['number'], low.number)
        self.assertHttpStatus(self.api_client(self.agent).post('/api/v1/incidents/accept-next/'), 204)

    def test_comments_and_work_notes(self):
        ticket = make_ticket(caller=self.requester)
        url = f'/api/v1/incidents/{ticket.number}/comments/'
        self.assertHttpStatus(self.api_client(self.agent).post(url, {'body': 'Internal only', 'internal': True}), 201)
        self.assertHttpStatus(self.api_client(self.agent).post(url, {'body': 'We are on it'}), 201)
        self.assertHttpStatus(self.api_client(self.requester).post(url, {'body': 'Thanks'}), 201)
        self.assertHttpStatus(self.api_client(self.requester).post(url, {'body': 'x', 'internal': True}), 403)
        agent_view = [c['body'] for c in self.api_client(self.agent).get(url).data]
        requester_view = [c['body'] for c in self.api_client(self.requester).get(url).data]
        self.assertEqual(agent_view, ['Internal only', 'We are on it', 'Thanks'])
        self.assertEqual(requester_view, ['We are on it', 'Thanks'])

    def test_timeline_kinds_and_requester_view(self):
        ticket = make_ticket(caller=self.requester, state=S.ACCEPTED, group=self.group, agent=self.agent)
        self.api_client(self.agent).post(
            f'/api/v1/incidents/{ticket.number}/comments/', {'body': 'n', 'internal': True}
        )
        full = self.api_client(self.agent).get(f'/api/v1/incidents/{ticket.number}/timeline/')
        self.assertHttpStatus(full, 200)
        kinds = {e['kind'] for e in full.data}
        self.assertTrue({'created', 'transition', 'work_note'} <= kinds, kinds)
        self.assertTrue(all({'kind', 'actor', 'channel', 'at'} <= set(e) for e in full.data))
        public = self.api_client(self.requester).get(f'/api/v1/incidents/{ticket.number}/timeline/')
        self.assertNotIn(TimelineKind.WORK_NOTE, {e['kind'] for e in public.data})

    def test_requester_never_sees_another_persons_ticket(self):
        mine = make_ticket(caller=self.requester)
        theirs = make_ticket()
        client = self.api_client(self.requester)
        listing = client.get('/api/v1/incidents/')
        self.assertEqual([row['number'] for row in listing.data['results']], [mine.number])
        for path in ('', 'timeline/', 'comments/'):
            self.assertHttpStatus(client.get(f'/api/v1/incidents/{theirs.number}/{path}'), 404)
        self.assertHttpStatus(client.post(f'/api/v1/incidents/{theirs.number}/comments/', {'body': 'hi'}), 404)

    def test_requester_cannot_report_for_someone_else(self):
        other = make_user(Role.REQUESTER, username='other')
        response = self.api_client(self.requester).post(
            '/api/v1/incidents/', {'short_description': 'x', 'caller': other.username}, format='json'
        )
        self.assertHttpStatus(response, 403)

    def test_requester_cannot_run_agent_actions(self):
        ticket = make_ticket(caller=self.requester)
        self.assertHttpStatus(self.post(self.requester, ticket.number, 'assign', {'group': 'Service Desk'}), 403)

    def test_backdating_needs_the_integration_role(self):
        past = (timezone.now() - dt.timedelta(days=2)).isoformat()
        data = {'short_description': 'Disk full on db01', 'caller': 'robin', 'opened_at': past}
        self.assertHttpStatus(self.api_client(self.agent).post('/api/v1/incidents/', data, format='json'), 403)
        bot = make_user(Role.INTEGRATION)
        response = self.api_client(bot).post('/api/v1/incidents/', data, format='json')
        self.assertHttpStatus(response, 201)
        self.assertEqual(response.data['opened_at'][:16], past[:16])

    def test_priority_override_through_patch_needs_reason(self):
        ticket = make_ticket(caller=self.requester)
        url = f'/api/v1/incidents/{ticket.number}/'
        self.assertHttpStatus(self.api_client(self.agent).patch(url, {'priority': 1}, format='json'), 400)
        response = self.api_client(self.agent).patch(url, {'priority': 1, 'priority_reason': 'VIP'}, format='json')
        self.assertHttpStatus(response, 200)
        self.assertEqual((response.data['priority'], response.data['priority_override_reason']), (1, 'VIP'))

    def test_case_actions_and_conversion(self):
        case = make_ticket(kind='case', caller=self.requester)
        self.assertHttpStatus(
            self.post(self.agent, case.number, 'assign', {'group': 'Service Desk'}, kind='cases'), 200
        )
        converted = self.post(self.agent, case.number, 'convert', {'to': 'incident'}, kind='cases')
        self.assertHttpStatus(converted, 200)
        self.assertTrue(converted.data['number'].startswith('INC'))
        self.assertEqual(converted.data['alternate_number'], case.number)
        self.assertHttpStatus(self.api_client(self.agent).get(f'/api/v1/incidents/{case.number}/'), 200)

    def test_email_channel_defaults_to_p4(self):
        response = self.api_client(self.agent).post(
            '/api/v1/incidents/', {'short_description': 'Mail', 'caller': 'robin', 'channel': 'email'}, format='json'
        )
        self.assertHttpStatus(response, 201)
        self.assertEqual(response.data['priority'], 4)

    def test_filters_by_dates_ci_and_assignee(self):
        ticket = make_ticket(caller=self.requester, state=S.ACCEPTED, group=self.group, agent=self.agent)
        Ticket.objects.filter(pk=ticket.pk).update(opened_at=timezone.now() - dt.timedelta(days=10))
        recent = make_ticket(caller=self.requester)
        client = self.api_client(self.agent)
        since = (timezone.now() - dt.timedelta(days=1)).isoformat()
        self.assertEqual(
            [r['number'] for r in client.get('/api/v1/incidents/', {'opened_after': since}).data['results']],
            [recent.number],
        )
        by_assignee = client.get('/api/v1/incidents/', {'assignee': self.agent.username}).data['results']
        self.assertEqual([r['number'] for r in by_assignee], [ticket.number])

    def test_bad_filter_value_is_400(self):
        response = self.api_client(self.agent).get('/api/v1/incidents/', {'state': 'bogus'})
        self.assertHttpStatus(response, 400)
        self.assertIn('state', response.data)

    def test_schema_lists_every_action(self):
        response = self.api_client(self.agent).get(reverse('api:schema'), {'format': 'json'})
        paths = response.json()['paths']
        for action in (
            'assign',
            'accept',
            'pend',
            'resume',
            'escalate',
            'complete',
            'confirm',
            'reject',
            'comments',
            'timeline',
        ):
            self.assertIn(f'/api/v1/incidents/{{number}}/{action}/', paths)
            self.assertIn(f'/api/v1/cases/{{number}}/{action}/', paths)
