"""Assignment queues: which tickets each shows and in what order, counts, filters, Accept, Accept next, bulk."""

from django.urls import reverse

from incidents.choices import TicketState
from incidents.models import Ticket
from itsm.choices import Role, Tier
from tests.base import ItsmTestCase
from tests.factories import make_group_with_agent, make_ticket, make_user

S = TicketState
HX = {'HX-Request': 'true'}
QUEUE = reverse('incidents:queue')


class QueueTestCase(ItsmTestCase):
    def setUp(self):
        self.desk, self.agent = make_group_with_agent(name='Service Desk')
        self.l2, self.engineer = make_group_with_agent(name='Network L2', tier=Tier.L2, role=Role.L2_ENGINEER)
        self.caller = make_user(first_name='Robin', last_name='Reed')
        self.client.force_login(self.agent)

    def ticket(self, state=S.NEW, group=None, agent=None, **fields):
        fields.setdefault('caller', self.caller)
        return make_ticket(state=state, group=group or self.desk, agent=agent or self.agent, **fields)

    def numbers(self, response) -> list[str]:
        return [ticket.number for ticket in response.context['object_list']]


class QueueContentTests(QueueTestCase):
    def test_each_queue_shows_its_tickets_highest_priority_then_oldest(self):
        mine_low = self.ticket(S.ACCEPTED, impact='low', urgency='normal')
        mine_high = self.ticket(S.ACCEPTED, impact='high', urgency='critical')
        waiting = self.ticket(S.ASSIGNED)
        new = self.ticket()
        elsewhere = self.ticket(S.ACCEPTED, group=self.l2, agent=self.engineer)
        self.ticket(S.CLOSED)

        mine = self.client.get(QUEUE)
        self.assertHttpStatus(mine, 200)
        self.assertEqual(self.numbers(mine), [mine_high.number, mine_low.number])
        self.assertEqual(mine.context['title'], 'My work')
        self.assertEqual(self.numbers(self.client.get(QUEUE, {'q': 'unassigned'})), [waiting.number, new.number])
        everything = self.numbers(self.client.get(QUEUE, {'q': 'all'}))
        self.assertEqual(everything[0], mine_high.number)
        self.assertEqual(
            set(everything), {mine_low.number, mine_high.number, waiting.number, new.number, elsewhere.number}
        )
        group = self.client.get(reverse('incidents:queue_group', args=[self.l2.pk]))
        self.assertEqual(self.numbers(group), [elsewhere.number])
        self.assertContains(group, 'Other group')

    def test_counts_in_the_sidebar(self):
        self.ticket(S.ACCEPTED)
        self.ticket(S.ASSIGNED)
        self.ticket(S.ASSIGNED, group=self.l2, agent=self.engineer)
        response = self.client.get(QUEUE)
        links = {name: count for name, _, count in response.context['queue_links']}
        self.assertEqual(links, {'mine': 1, 'unassigned': 2, 'all': 3})
        self.assertEqual([(g.name, g.open_count) for g in response.context['my_groups']], [('Service Desk', 2)])

    def test_the_page_count_is_what_the_queue_lists_filtered_or_not(self):
        self.ticket(S.ASSIGNED, impact='high', urgency='critical')
        self.ticket(S.ASSIGNED)
        self.ticket(S.ACCEPTED, group=self.l2, agent=self.engineer)
        self.ticket(S.CLOSED)

        def count(url, **params):
            return self.client.get(url, params).context['page_obj'].paginator.count

        self.assertEqual(count(QUEUE, q='all'), 3)
        self.assertEqual(count(QUEUE, q='unassigned'), 2)
        self.assertEqual(count(QUEUE, q='all', priority='1'), 1)
        self.assertEqual(count(QUEUE, q='all', search='no such words'), 0)
        self.assertEqual(count(QUEUE, q='all', likely_to_breach='true'), 0)
        # A group the agent is not a member of, and one without open tickets.
        self.assertEqual(count(reverse('incidents:queue_group', args=[self.l2.pk])), 1)
        empty, _ = make_group_with_agent(name='Empty')
        self.assertEqual(count(reverse('incidents:queue_group', args=[empty.pk])), 0)

    def test_rows_show_badges_people_and_age(self):
        ticket = self.ticket(S.ASSIGNED, impact='high', urgency='critical', short_description='Core switch <down>')
        response = self.client.get(QUEUE, {'q': 'all'})
        self.assertContains(response, 'Core switch &lt;down&gt;')
        self.assertContains(response, 'bg-orange text-white')  # P1
        self.assertContains(response, '>Assigned<')
        self.assertContains(response, 'Robin Reed')
        self.assertContains(response, f'title="{ticket.number} Core switch &lt;down&gt;"')
        self.assertContains(response, '0m</time>')

    def test_filters_and_search_swap_the_table(self):
        scanner = self.ticket(S.ASSIGNED, short_description='Scanner offline', impact='high', urgency='critical')
        self.ticket(S.ASSIGNED, short_description='Mouse broken')
        response = self.client.get(QUEUE, {'q': 'unassigned', 'search': 'scanner'}, headers=HX)
        self.assertHttpStatus(response, 200)
        self.assertNotContains(response, '<html')
        self.assertEqual(self.numbers(response), [scanner.number])
        self.assertEqual(self.numbers(self.client.get(QUEUE, {'q': 'unassigned', 'priority': '1'})), [scanner.number])
        self.assertEqual(self.numbers(self.client.get(QUEUE, {'q': 'all', 'state': 'new'})), [])
        bad = self.client.get(QUEUE, {'q': 'all', 'state': 'bogus'})
        self.assertHttpStatus(bad, 200)
        self.assertContains(bad, 'Select a valid choice')

    def test_unknown_group_is_404(self):
        self.assertHttpStatus(self.client.get(reverse('incidents:queue_group', args=[999999])), 404)

    def test_query_count_does_not_grow_with_rows(self):
        for name, url in (
            ('mine', QUEUE),
            ('all', f'{QUEUE}?q=all'),
            ('group', reverse('incidents:queue_group', args=[self.desk.pk])),
        ):
            with self.subTest(queue=name):
                self.ticket(S.ACCEPTED)
                self.ticket(S.ASSIGNED)
                self.client.get(url)
                small = self.count_queries(lambda url=url: self.assertHttpStatus(self.client.get(url), 200))
                for _ in range(3):
                    self.ticket(S.ACCEPTED, caller=make_user())
                    self.ticket(S.ASSIGNED, caller=make_user())
                large = self.count_queries(lambda url=url: self.assertHttpStatus(self.client.get(url), 200))
                self.assertEqual(small, large, f'{name}: queries grew from {small} to {large}')

    def test_only_desk_staff(self):
        self.client.force_login(make_user(Role.REQUESTER))
        self.assertHttpStatus(self.client.get(QUEUE), 403)
        self.client.force_login(make_user(Role.SERVICE_OWNER))
        self.assertHttpStatus(self.client.get(QUEUE), 403)


class AcceptTests(QueueTestCase):
    def test_take_button_only_where_i_may_take(self):
        mine = self.ticket(S.ASSIGNED)
        theirs = self.ticket(S.ASSIGNED, group=self.l2, agent=self.engineer)
        response = self.client.get(QUEUE, {'q': 'all'})
        self.assertContains(response, reverse('incidents:ticket_take', args=[mine.number]))
        self.assertNotContains(response, reverse('incidents:ticket_take', args=[theirs.number]))

    def test_accept_from_the_row_comes_back_to_the_queue(self):
        ticket = self.ticket(S.ASSIGNED)
        back = f'{QUEUE}?q=unassigned'
        response = self.client.post(
            reverse('incidents:ticket_accept', args=[ticket.number]), {'next': back}, follow=True
        )
        self.assertRedirects(response, back)
        self.assertContains(response, f'You accepted {ticket.number}')
        self.assertEqual(Ticket.objects.get(pk=ticket.pk).assignee, self.agent)

    def test_accept_next_takes_the_most_urgent_then_reports_nothing_waiting(self):
        low = self.ticket(S.ASSIGNED, impact='low', urgency='normal')
        high = self.ticket(S.ASSIGNED, impact='high', urgency='critical')
        self.ticket(S.ASSIGNED, group=self.l2, agent=self.engineer, impact='severe', urgency='immediate')
        url = reverse('incidents:accept_next')
        first = self.client.post(url, {'next': QUEUE}, follow=True)
        self.assertRedirects(first, high.get_absolute_url())
        self.assertContains(first, f'You accepted {high.number}')
        self.assertRedirects(self.client.post(url), low.get_absolute_url())
        nothing = self.client.post(url, {'next': f'{QUEUE}?q=unassigned'}, follow=True)
        self.assertRedirects(nothing, f'{QUEUE}?q=unassigned')
        self.assertContains(nothing, 'Nothing is waiting in your groups')
        self.assertHttpStatus(self.client.get(url), 405)


class BulkTests(QueueTestCase):
    def test_bulk_assign_reports_each_refusal(self):
        a, b = self.ticket(), self.ticket(S.ASSIGNED)
        closed = self.ticket(S.CLOSED)
        url = f'{QUEUE}?q=all'
        data = {'tickets': [a.pk, b.pk, closed.pk], 'operation': 'assign', 'group': self.l2.pk, 'reason': 'Network'}
        response = self.client.post(url, data, follow=True)
        self.assertRedirects(response, url)
        self.assertContains(response, f'2 tickets assigned to Network L2: {a.number}, {b.number}.')
        self.assertContains(response, f'{closed.number}: cannot assign: it is Closed')
        self.assertEqual(
            list(Ticket.objects.filter(pk__in=[a.pk, b.pk]).values_list('assignment_group', flat=True)),
            [self.l2.pk, self.l2.pk],
        )
        self.assertEqual(Ticket.objects.get(pk=b.pk).reassignment_count, 1)

    def test_bulk_assign_to_a_person(self):
        ticket = self.ticket()
        data = {'tickets': [ticket.pk], 'operation': 'assign', 'group': self.l2.pk, 'assignee': self.engineer.pk}
        self.assertHttpStatus(self.client.post(QUEUE, data), 302)
        self.assertEqual(Ticket.objects.get(pk=ticket.pk).assignee, self.engineer)

    def test_bulk_priority_needs_a_reason_and_keeps_the_selection(self):
        a, b = self.ticket(S.ASSIGNED), self.ticket(S.ASSIGNED)
        data = {'tickets': [a.pk, b.pk], 'operation': 'priority', 'priority': '1', 'reason': ''}
        response = self.client.post(f'{QUEUE}?q=unassigned', data)
        self.assertHttpStatus(response, 400)
        self.assertContains(response, 'A reason is required to override the priority.', status_code=400)
        self.assertContains(
            response, f'value="{a.pk}" form="bulk-form" aria-label="Select {a.number}" checked', status_code=400
        )
        data['reason'] = 'Board meeting at 10'
        self.assertHttpStatus(self.client.post(f'{QUEUE}?q=unassigned', data), 302)
        for ticket in (a, b):
            ticket.refresh_from_db()
            self.assertEqual((ticket.priority, ticket.priority_override_reason), (1, 'Board meeting at 10'))

    def test_nothing_selected(self):
        response = self.client.post(QUEUE, {'operation': 'assign', 'group': self.desk.pk})
        self.assertHttpStatus(response, 400)
        self.assertContains(response, 'Select at least one ticket.', status_code=400)
