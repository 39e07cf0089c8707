"""Take in one click: assign to me and accept, from the service, the API, the record page and the queue rows."""

import html
import re

import pytest
from django.test import Client
from django.urls import reverse

from incidents import services
from incidents.choices import TicketState
from incidents.models import Ticket
from itsm.audit import Actor
from itsm.choices import Role, Tier, TimelineKind
from itsm.errors import ApplicationError, Conflict, InvalidTransition, NotAllowed
from itsm.models import TimelineEntry
from sla.choices import ClockKind, ClockState
from sla.models import SlaClock
from tests.base import ItsmTestCase
from tests.concurrency import run_in_parallel
from tests.factories import SupportGroupFactory, make_group_with_agent, make_ticket, make_user
from tests.sla.factories import make_sla

S = TicketState
QUEUE = reverse('incidents:queue')
WAITING = reverse('incidents:queue_waiting')


class TakeTestCase(ItsmTestCase):
    def setUp(self):
        self.desk, self.agent = make_group_with_agent(name='Service Desk')
        self.l2, self.engineer = make_group_with_agent(name='Network L2', tier=Tier.L2, role=Role.L2_ENGINEER)
        self.caller = make_user(Role.REQUESTER, first_name='Robin', last_name='Reed')

    def ticket(self, state=S.NEW, group=None, agent=None, **fields):
        fields.setdefault('caller', self.caller)
        return make_ticket(state=state, group=group or self.desk, agent=agent or self.agent, **fields)

    def transitions(self, ticket):
        entries = TimelineEntry.objects.for_object(ticket).filter(kind=TimelineKind.TRANSITION).order_by('id')
        return [(e.data['action'], e.data['from'], e.data['to'], e.actor_id) for e in entries]


class TakeServiceTests(TakeTestCase):
    def test_a_new_ticket_goes_to_my_desk_group_and_to_me_accepted_with_both_transitions(self):
        make_sla(priority=3, response=60, resolution=480)
        other_l2 = SupportGroupFactory(name='Another L2', tier=Tier.L2, members=[self.agent])
        ticket = self.ticket(impact='low', urgency='normal')
        taken = services.ticket_take(ticket=ticket, actor=Actor(user=self.agent, channel='ui'))
        taken.refresh_from_db()
        self.assertEqual((taken.state, taken.assignee, taken.assignment_group), (S.ACCEPTED, self.agent, self.desk))
        self.assertNotEqual(taken.assignment_group, other_l2)
        self.assertIsNotNone(taken.assigned_at)
        self.assertIsNotNone(taken.accepted_at)
        self.assertEqual(
            self.transitions(taken),
            [('assign', S.NEW, S.ASSIGNED, self.agent.pk), ('accept', S.ASSIGNED, S.ACCEPTED, self.agent.pk)],
        )
        response = SlaClock.objects.filter(ticket=taken, kind=ClockKind.RESPONSE).latest('id')
        self.assertEqual(response.state, ClockState.MET)

    def test_an_assigned_ticket_of_my_group_is_accepted_by_me(self):
        ticket = self.ticket(S.ASSIGNED)
        before = len(self.transitions(ticket))
        services.ticket_take(ticket=ticket, actor=Actor(user=self.agent))
        ticket.refresh_from_db()
        self.assertEqual((ticket.state, ticket.assignee), (S.ACCEPTED, self.agent))
        self.assertEqual(self.transitions(ticket)[before:], [('accept', S.ASSIGNED, S.ACCEPTED, self.agent.pk)])

    def test_refusals(self):
        outsider = make_user(Role.SERVICE_DESK_AGENT)
        new, assigned = self.ticket(), self.ticket(S.ASSIGNED)
        accepted = self.ticket(S.ACCEPTED)
        for who, ticket, error, words in (
            (outsider, assigned, NotAllowed, 'Only a member of Service Desk can take'),
            (self.engineer, new, NotAllowed, 'Only service desk agents can take'),
            (outsider, new, NotAllowed, 'You belong to no support group'),
            (self.caller, new, NotAllowed, 'Only service desk staff can take tickets'),
            (self.agent, accepted, InvalidTransition, 'it is Accepted'),
        ):
            with self.subTest(who=who.username, state=ticket.state), self.assertRaisesMessage(error, words):
                services.ticket_take(ticket=ticket, actor=Actor(user=who))
        self.assertEqual(Ticket.objects.get(pk=new.pk).state, S.NEW)
        self.assertIsNone(Ticket.objects.get(pk=assigned.pk).assignee)

    def test_a_ticket_assigned_to_someone_else_is_a_conflict(self):
        colleague = make_user(Role.SERVICE_DESK_AGENT)
        self.desk.members.add(colleague)
        ticket = self.ticket(S.NEW)
        services.ticket_assign(ticket=ticket, actor=Actor(user=self.agent), group=self.desk, assignee=colleague)
        with self.assertRaises(Conflict) as caught:
            services.ticket_take(ticket=Ticket.objects.get(pk=ticket.pk), actor=Actor(user=self.agent))
        self.assertEqual(caught.exception.code, 'assigned_to_other')
        services.ticket_take(ticket=Ticket.objects.get(pk=ticket.pk), actor=Actor(user=colleague))
        self.assertEqual(Ticket.objects.get(pk=ticket.pk).assignee, colleague)


class TakeThroughPagesAndApiTests(TakeTestCase):
    def test_the_api_endpoint(self):
        ticket = self.ticket()
        url = f'/api/v1/incidents/{ticket.number}/take/'
        refused = self.api_client(self.engineer).post(url, format='json')
        self.assertHttpStatus(refused, 403)
        response = self.api_client(self.agent).post(url, format='json')
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.data['state'], 'accepted')
        self.assertEqual(Ticket.objects.get(pk=ticket.pk).assignee, self.agent)
        again = self.api_client(self.agent).post(url, format='json')
        self.assertHttpStatus(again, 409)

    def test_the_record_page_offers_take_and_the_button_works(self):
        ticket = self.ticket()
        self.client.force_login(self.agent)
        url = reverse('incidents:ticket_take', args=[ticket.number])
        self.assertContains(self.client.get(ticket.get_absolute_url()), f'action="{url}"')
        response = self.client.post(url, follow=True)
        self.assertRedirects(response, ticket.get_absolute_url())
        self.assertContains(response, f'You took {ticket.number}: it is assigned to you and accepted.')
        self.assertNotContains(response, f'action="{url}"')

    def test_queue_rows_offer_take_where_the_guard_allows(self):
        new, assigned = self.ticket(), self.ticket(S.ASSIGNED)
        theirs = self.ticket(S.ASSIGNED, group=self.l2, agent=self.engineer)
        mine = self.ticket(S.ACCEPTED)
        self.client.force_login(self.agent)
        response = self.client.get(QUEUE, {'q': 'all'})
        for ticket, offered in ((new, True), (assigned, True), (theirs, False), (mine, False)):
            with self.subTest(ticket=ticket.state):
                url = reverse('incidents:ticket_take', args=[ticket.number])
                (self.assertContains if offered else self.assertNotContains)(response, url)
        self.assertContains(response, f'aria-label="Take {new.number}"')

    def test_a_row_take_form_carries_its_token_and_the_page_it_was_drawn_on(self):
        ticket = self.ticket()
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.agent)
        page = f'{QUEUE}?q=all&sort=number'
        drawn = client.get(page).content.decode()
        url = reverse('incidents:ticket_take', args=[ticket.number])
        form = re.search(rf'<form method="post" action="{re.escape(url)}"[^>]*>(.*?)</form>', drawn, re.S)
        fields = {name: html.unescape(value) for name, value in re.findall(r'name="(\w+)" value="([^"]*)"', form[1])}
        self.assertEqual(set(fields), {'csrfmiddlewaretoken', 'next'})
        self.assertEqual(fields['next'], page)
        self.assertRedirects(client.post(url, fields), page, fetch_redirect_response=False)
        self.assertEqual(Ticket.objects.get(pk=ticket.pk).assignee, self.agent)

    def test_take_from_a_row_comes_back_to_the_queue(self):
        ticket, theirs = self.ticket(S.ASSIGNED), self.ticket(S.ASSIGNED, group=self.l2, agent=self.engineer)
        back = f'{QUEUE}?q=unassigned'
        self.client.force_login(self.agent)
        response = self.client.post(reverse('incidents:ticket_take', args=[ticket.number]), {'next': back}, follow=True)
        self.assertRedirects(response, back)
        self.assertContains(response, f'You took {ticket.number}')
        refused = self.client.post(reverse('incidents:ticket_take', args=[theirs.number]), {'next': back}, follow=True)
        self.assertRedirects(refused, back)
        self.assertContains(refused, f'Only a member of Network L2 can take {theirs.number}.')
        self.assertEqual(Ticket.objects.get(pk=theirs.pk).state, S.ASSIGNED)

    def test_the_take_buttons_cost_no_query_per_row(self):
        self.client.force_login(self.agent)
        self.ticket()
        self.ticket(S.ASSIGNED)
        self.client.get(QUEUE, {'q': 'all'})
        small = self.count_queries(lambda: self.client.get(QUEUE, {'q': 'all'}))
        for _ in range(3):
            self.ticket(caller=make_user())
            self.ticket(S.ASSIGNED, caller=make_user())
            self.ticket(S.ASSIGNED, group=self.l2, agent=self.engineer, caller=make_user())
        large = self.count_queries(lambda: self.client.get(QUEUE, {'q': 'all'}))
        self.assertEqual(small, large)


class MyWorkTests(TakeTestCase):
    def test_my_tickets_then_the_unowned_tickets_of_my_groups_with_take(self):
        mine = self.ticket(S.ACCEPTED, short_description='Mine')
        waiting = self.ticket(S.ASSIGNED, short_description='Waiting <here>')
        colleague = make_user(Role.SERVICE_DESK_AGENT)
        self.desk.members.add(colleague)
        theirs = self.ticket(S.NEW)
        services.ticket_assign(ticket=theirs, actor=Actor(user=self.agent), group=self.desk, assignee=colleague)
        other_group = self.ticket(S.ASSIGNED, group=self.l2, agent=self.engineer)
        untriaged = self.ticket(S.NEW)
        self.client.force_login(self.agent)
        response = self.client.get(QUEUE)
        self.assertEqual([t.number for t in response.context['object_list']], [mine.number])
        # The section is on the page; its table comes after the page loads, from the URL the slot names.
        self.assertContains(response, 'Waiting in my groups')
        self.assertContains(response, f'hx-get="{WAITING}"')
        self.assertNotContains(response, 'Waiting &lt;here&gt;')

        table = self.client.get(WAITING, headers={'HX-Request': 'true'})
        self.assertEqual([t.number for t in table.context['waiting']], [waiting.number])
        self.assertContains(table, 'Waiting &lt;here&gt;')
        self.assertContains(table, reverse('incidents:ticket_take', args=[waiting.number]))
        self.assertContains(table, f'name="next" value="{QUEUE}"')  # Take comes back to my work, not the fragment
        for absent in (theirs, other_group, untriaged):
            self.assertNotIn(absent, table.context['waiting'])
        self.assertNotContains(self.client.get(QUEUE, {'q': 'all'}), 'Waiting in my groups')

    def test_nothing_waiting(self):
        self.client.force_login(self.agent)
        self.assertContains(self.client.get(WAITING), 'Every ticket of your groups has an owner.')

    def test_the_waiting_table_is_for_agents_only(self):
        requester = make_user(Role.REQUESTER)
        self.client.force_login(requester)
        self.assertIn(self.client.get(WAITING).status_code, (302, 403))
        self.client.logout()
        self.assertEqual(self.client.get(WAITING).status_code, 302)

    def test_my_work_and_its_waiting_table_cost_the_same_queries_whatever_is_waiting(self):
        self.client.force_login(self.agent)
        self.ticket(S.ACCEPTED)
        self.ticket(S.ASSIGNED)
        self.client.get(QUEUE)
        self.client.get(WAITING)
        small = self.count_queries(lambda: self.assertHttpStatus(self.client.get(QUEUE), 200))
        small_table = self.count_queries(lambda: self.assertHttpStatus(self.client.get(WAITING), 200))
        for _ in range(4):
            self.ticket(S.ACCEPTED, caller=make_user())
            self.ticket(S.ASSIGNED, caller=make_user())
        large = self.count_queries(lambda: self.assertHttpStatus(self.client.get(QUEUE), 200))
        large_table = self.count_queries(lambda: self.assertHttpStatus(self.client.get(WAITING), 200))
        self.assertEqual((small, small_table), (large, large_table))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_when_several_agents_take_at_once_exactly_one_wins():
    agents = [make_user(Role.SERVICE_DESK_AGENT) for _ in range(6)]
    SupportGroupFactory(name='Desk', members=agents)
    ticket = make_ticket(state=TicketState.NEW)

    results = run_in_parallel(
        [
            lambda a=a: services.ticket_take(ticket=Ticket.objects.get(pk=ticket.pk), actor=Actor(user=a))
            for a in agents
        ],
        refused=(ApplicationError,),
    )
    outcomes = [r[0] for r in results]
    assert outcomes.count('ok') == 1, results
    assert outcomes.count('refused') == len(agents) - 1, results
    assert all(r[1].code == 'invalid_transition' for r in results if r[0] == 'refused'), results
    ticket.refresh_from_db()
    winner = next(r[1] for r in results if r[0] == 'ok')
    assert ticket.state == TicketState.ACCEPTED and ticket.assignee_id == winner.assignee_id
    moves = TimelineEntry.objects.for_object(ticket).filter(kind=TimelineKind.TRANSITION)
    assert sorted(moves.values_list('data__action', flat=True)) == ['accept', 'assign']
