"""Policy: every incident escalated to the last tier is recorded with problem management. It is listed in the
"Needs problem review" queue (page and API) until it is linked to a problem or a problem manager reviews it."""

from django.urls import reverse

from incidents import services as ticket_services
from incidents.choices import TicketState
from itsm import audit
from itsm.audit import Actor
from itsm.choices import Role, Tier, TimelineKind
from problems.incident_links import link_incident, review_queue
from tests.base import ItsmTestCase
from tests.factories import SupportGroupFactory, make_group_with_agent, make_ticket

from .factories import make_problem


class ReviewQueueTests(ItsmTestCase):
    def setUp(self):
        self.desk, self.agent = make_group_with_agent(name='Service Desk')
        self.l2 = SupportGroupFactory(name='Network L2', tier=Tier.L2)
        self.l3 = SupportGroupFactory(name='Network experts', tier=Tier.L3)
        self.manager = self.make_user(Role.PROBLEM_MANAGER)

    def escalate(self, group):
        ticket = make_ticket(state=TicketState.ACCEPTED, group=self.desk, agent=self.agent)
        return ticket_services.ticket_escalate(
            ticket=ticket, actor=Actor(user=self.agent), reason='Beyond the desk', group=group
        )

    def test_an_l3_escalation_is_listed_until_linked(self):
        listed, other = self.escalate(self.l3), self.escalate(self.l2)
        self.assertEqual(list(review_queue()), [listed])
        response = self.api_client(self.manager).get('/api/v1/problem-review/')
        self.assertHttpStatus(response, 200)
        self.assertEqual([row['number'] for row in response.data['results']], [listed.number])
        self.client.force_login(self.manager)
        page = self.client.get(reverse('problems:review_queue'))
        self.assertContains(page, listed.number)
        self.assertNotContains(page, other.number)
        self.assertContains(page, reverse('problems:review_reviewed', kwargs={'number': listed.number}))
        link_incident(problem=make_problem(), incident=listed, actor=Actor(user=self.agent))
        self.assertFalse(review_queue().exists())
        page = self.client.get(reverse('problems:review_queue'))
        self.assertContains(page, 'There are no escalations awaiting problem review yet.')

    def test_a_history_written_without_the_services_counts_too(self):
        """Imported or generated histories have the escalation's transition, not the review note."""
        held = make_ticket(state=TicketState.ASSIGNED, group=self.l3, agent=self.agent)
        moved_on = make_ticket(state=TicketState.ASSIGNED, group=self.l2, agent=self.agent)
        for ticket in (held, moved_on):
            audit.record(
                ticket,
                actor=Actor.system(),
                kind=TimelineKind.TRANSITION,
                data={'action': 'escalate', 'from': 'accepted', 'to': 'assigned'},
            )
        self.assertEqual(list(review_queue()), [held])

    def test_a_problem_manager_marks_it_reviewed_with_a_reason(self):
        ticket = self.escalate(self.l3)
        url = f'/api/v1/problem-review/{ticket.number}/reviewed/'
        response = self.api_client(self.manager).post(url, {}, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('reason', response.data)
        # Agents see the queue and may link or raise, but the decision is the problem manager's.
        self.assertHttpStatus(self.api_client(self.agent).post(url, {'reason': 'One-off'}, format='json'), 403)
        self.assertTrue(review_queue().filter(pk=ticket.pk).exists())
        response = self.api_client(self.manager).post(url, {'reason': 'A one-off cabling fault'}, format='json')
        self.assertHttpStatus(response, 200)
        self.assertFalse(review_queue().exists())
        note = self.timeline(ticket).filter(data__problem_review='reviewed').get()
        self.assertEqual((note.actor, note.data['reason']), (self.manager, 'A one-off cabling fault'))
        # Reviewed twice: nothing left to review.
        self.assertHttpStatus(self.api_client(self.manager).post(url, {'reason': 'Again'}, format='json'), 409)

    def test_escalated_again_after_a_review_it_comes_back(self):
        ticket = self.escalate(self.l3)
        self.client.force_login(self.manager)
        url = reverse('problems:review_reviewed', kwargs={'number': ticket.number})
        self.assertHttpStatus(self.client.post(url, {'reason': ''}), 400)
        self.assertRedirects(self.client.post(url, {'reason': 'Cable'}), reverse('problems:review_queue'))
        self.assertFalse(review_queue().exists())
        ticket_services.ticket_assign(ticket=ticket, actor=Actor(user=self.agent), group=self.desk)
        ticket = ticket_services.ticket_escalate(
            ticket=ticket, actor=Actor(user=self.agent), reason='Back again', group=self.l3
        )
        self.assertEqual(list(review_queue()), [ticket])

    def test_the_review_page_is_for_staff_and_its_decisions_for_problem_managers(self):
        ticket = self.escalate(self.l3)
        self.client.force_login(self.agent)
        page = self.client.get(reverse('problems:review_queue'))
        self.assertContains(page, reverse('problems:incident_link', kwargs={'number': ticket.number}))
        self.assertNotContains(page, reverse('problems:review_reviewed', kwargs={'number': ticket.number}))
        url = reverse('problems:review_reviewed', kwargs={'number': ticket.number})
        self.assertHttpStatus(self.client.get(url), 403)
        self.client.force_login(self.make_user(Role.REQUESTER))
        self.assertHttpStatus(self.client.get(reverse('problems:review_queue')), 403)
        self.assertHttpStatus(self.api_client(self.make_user(Role.REQUESTER)).get('/api/v1/problem-review/'), 403)

    def test_the_review_page_costs_the_same_with_more_rows(self):
        self.client.force_login(self.manager)
        self.escalate(self.l3)
        self.client.get(reverse('problems:review_queue'))
        few = self.count_queries(lambda: self.client.get(reverse('problems:review_queue')))
        for _ in range(4):
            self.escalate(self.l3)
        many = self.count_queries(lambda: self.client.get(reverse('problems:review_queue')))
        self.assertEqual(few, many)
