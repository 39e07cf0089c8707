"""The requester's conversation: a thread of the desk's and the requester's words, state changes in plain words,
never internal notes or staff-only fields; the expected resolution from how long similar tickets took; and the
desk's forms saying which of their fields the caller reads.
"""

import datetime as dt

from django.test import TestCase, override_settings
from django.urls import reverse
from django.utils import timezone

from incidents import services
from incidents.actions import TICKET_ACTIONS
from incidents.choices import REQUESTER_PHRASES, PendingReason, TicketState, requester_phrase
from incidents.models import Ticket
from incidents.views.portal import expected_resolution
from itsm.audit import Actor
from itsm.choices import Role
from predictions.services import predictions_tick
from tests.base import ItsmTestCase
from tests.factories import make_group_with_agent, make_ticket, make_user

S = TicketState


def portal_url(ticket, action=''):
    name = f'incidents:portal_{action}' if action else 'incidents:portal_ticket'
    return reverse(name, args=[ticket.number])


class ConversationTestCase(ItsmTestCase):
    def setUp(self):
        self.desk, self.agent = make_group_with_agent(name='Service Desk')
        self.agent.first_name, self.agent.last_name = 'Sam', 'Agent'
        self.agent.save()
        self.robin = make_user(Role.REQUESTER, username='robin', first_name='Robin', last_name='Reed')
        self.client.force_login(self.robin)

    def ticket(self, state=S.ACCEPTED, **fields):
        return make_ticket(state=state, caller=self.robin, group=self.desk, agent=self.agent, **fields)


class ThreadTests(ConversationTestCase):
    def test_a_thread_of_both_sides_in_plain_words_without_internal_entries(self):
        ticket = self.ticket(S.ACCEPTED)
        desk = Actor(user=self.agent)
        services.ticket_override_priority(ticket=ticket, actor=desk, priority=1, reason='VIP on the board')
        services.ticket_comment(ticket=ticket, actor=desk, body='Internal: token expired', internal=True)
        services.ticket_comment(ticket=ticket, actor=desk, body='Could you send a screenshot?')
        services.ticket_pend(
            ticket=Ticket.objects.get(pk=ticket.pk), actor=desk, reason=PendingReason.CUSTOMER, note='Screenshot?'
        )
        services.ticket_comment(ticket=ticket, actor=Actor(user=self.robin), body='Attached it just now.')
        page = self.client.get(portal_url(ticket))
        self.assertHttpStatus(page, 200)
        items = page.context['conversation']
        comments = [(i['author'], i['mine'], i['entry'].message) for i in items if i['kind'] == 'comment']
        self.assertEqual(
            comments,
            [('Sam Agent', False, 'Could you send a screenshot?'), ('You', True, 'Attached it just now.')],
        )
        phrases = [i['phrase'] for i in items if i['kind'] == 'transition']
        self.assertEqual(
            phrases,
            [
                'A specialist team is working on it.',  # accepted
                'Waiting for your reply.',  # put on hold for the caller, with the note for them
                'Back with the desk: a specialist team is working on it again.',  # the reply resumed it
            ],
        )
        self.assertContains(page, 'Screenshot?')
        self.assertContains(page, 'pc-convo-item pc-convo-comment pc-convo-mine')
        for hidden in ('token expired', 'VIP on the board', 'Accepted by', 'E-mail sent to you', 'Assigned <i'):
            self.assertNotContains(page, hidden)
        self.assertEqual(page.context['state_help'], 'Back with the desk: we have your reply.')

    def test_the_portal_says_the_ticket_is_back_with_the_desk_until_the_desk_opens_it(self):
        ticket = self.ticket(S.PENDING)
        self.assertEqual(self.client.get(portal_url(ticket)).context['state_help'], 'Waiting for your reply.')
        self.assertContains(self.client.get(portal_url(ticket)), 'The desk is waiting for your reply')
        self.client.post(portal_url(ticket, 'comment'), {'body': 'Here it is.'})
        page = self.client.get(portal_url(ticket))
        self.assertEqual(page.context['state_help'], 'Back with the desk: we have your reply.')
        self.assertNotContains(page, 'The desk is waiting for your reply')
        self.client.force_login(self.agent)
        self.client.get(ticket.get_absolute_url())
        self.client.force_login(self.robin)
        page = self.client.get(portal_url(ticket))
        self.assertEqual(page.context['state_help'], 'A specialist team is working on it.')

    def test_the_page_costs_the_same_however_long_the_conversation(self):
        ticket = self.ticket(S.ACCEPTED)
        url = portal_url(ticket)

        def talk(n):
            for i in range(n):
                services.ticket_comment(ticket=ticket, actor=Actor(user=self.agent), body=f'Question {i}')
                services.ticket_comment(ticket=ticket, actor=Actor(user=self.robin), body=f'Answer {i}')

        talk(1)
        self.client.get(url)
        short = self.count_queries(lambda: self.assertHttpStatus(self.client.get(url), 200))
        talk(6)
        long = self.count_queries(lambda: self.assertContains(self.client.get(url), 'Answer 5'))
        self.assertEqual(short, long)

    def test_user_content_is_escaped(self):
        ticket = self.ticket(S.ACCEPTED)
        services.ticket_comment(ticket=ticket, actor=Actor(user=self.agent), body='<script>alert(1)</script>')
        page = self.client.get(portal_url(ticket))
        self.assertNotContains(page, '<script>alert(1)</script>')
        self.assertContains(page, '&lt;script&gt;alert(1)&lt;/script&gt;')


class PhraseTests(TestCase):
    def test_every_state_has_words_and_pending_reasons_refine_them(self):
        for state in S.values:
            with self.subTest(state=state):
                self.assertTrue(requester_phrase(state))
        for reason in PendingReason.values:
            with self.subTest(reason=reason):
                self.assertIn((S.PENDING, reason), REQUESTER_PHRASES)
        self.assertEqual(requester_phrase(S.PENDING, PendingReason.CUSTOMER), 'Waiting for your reply.')
        self.assertEqual(requester_phrase(S.COMPLETED), 'Resolved: please confirm or reopen.')
        self.assertEqual(requester_phrase(S.ASSIGNED), requester_phrase(S.ACCEPTED))
        self.assertEqual(requester_phrase(S.ACCEPTED, attention='reopened'), 'Reopened: back with the desk.')
        self.assertEqual(requester_phrase(S.CLOSED, attention='customer_replied'), 'Closed.')


def completed_ticket(hours: float, *, priority_fields=None, kind='incident', days_ago: float = 1, group, agent):
    """A ticket completed `days_ago` days ago after `hours` hours open."""
    ticket = make_ticket(state=S.COMPLETED, kind=kind, group=group, agent=agent, **(priority_fields or {}))
    completed = timezone.now() - dt.timedelta(days=days_ago)
    Ticket.objects.filter(pk=ticket.pk).update(completed_at=completed, opened_at=completed - dt.timedelta(hours=hours))
    return ticket


LOW = {'impact': 'low', 'urgency': 'normal'}  # P3
MEDIUM = {'impact': 'medium', 'urgency': 'urgent'}  # P2


@override_settings(PREDICTION_MINIMUM_SAMPLES=5)
class TypicalResolutionTests(ConversationTestCase):
    """The portal's "expected resolution" is the ticket's prediction (predictions.selectors.requester_text)."""

    def history(self, hours, **kwargs):
        return [completed_ticket(h, group=self.desk, agent=self.agent, **kwargs) for h in hours]

    def predicted(self, ticket):
        predictions_tick()
        ticket.refresh_from_db()
        return ticket

    def test_the_median_of_similar_completed_tickets(self):
        self.history([1, 2, 3, 4, 10], priority_fields=LOW)
        self.history([100] * 3, priority_fields=LOW, days_ago=200)  # older than the window
        self.history([100] * 5, priority_fields=LOW, kind='case')  # another kind
        reopened = self.history([100], priority_fields=LOW)[0]
        services.ticket_reject(ticket=reopened, actor=Actor(user=reopened.caller), reason='Not fixed')
        mine = self.predicted(self.ticket(S.ACCEPTED, **LOW))
        self.assertEqual(mine.priority, 3)
        self.assertEqual(expected_resolution(mine), 'Similar requests are usually resolved within about 3 hours.')
        page = self.client.get(portal_url(mine))
        self.assertEqual(page.context['expected'], 'Similar requests are usually resolved within about 3 hours.')
        self.assertContains(page, 'usually resolved within about 3 hours')

    def test_too_few_tickets_say_so_plainly_and_finished_tickets_expect_nothing(self):
        mine = self.predicted(self.ticket(S.ACCEPTED, **LOW))
        page = self.client.get(portal_url(mine))
        self.assertEqual(
            page.context['expected'],
            'Too few similar requests were resolved recently to say how long this usually takes.',
        )
        done = self.ticket(S.COMPLETED)
        self.assertEqual(self.client.get(portal_url(done)).context['expected'], '')

    def test_an_eta_wins_over_the_prediction(self):
        self.history([1, 2, 3, 4, 10], priority_fields=LOW)
        mine = self.predicted(self.ticket(S.ACCEPTED, **LOW))
        eta = timezone.now() + dt.timedelta(days=2)
        services.ticket_update(ticket=mine, actor=Actor(user=self.agent), eta=eta)
        page = self.client.get(portal_url(mine))
        self.assertEqual(page.context['expected'], '')
        self.assertContains(page, 'Expected by')

    def test_days_for_long_times(self):
        self.history([72] * 5, priority_fields=LOW)
        mine = self.predicted(self.ticket(S.ACCEPTED, **LOW))
        self.assertEqual(expected_resolution(mine), 'Similar requests are usually resolved within about 3 days.')

    def test_my_requests_show_the_typical_time_at_a_constant_cost(self):
        self.history([1, 2, 3, 4, 10], priority_fields=LOW)
        self.ticket(S.ACCEPTED, **LOW)
        predictions_tick()
        home = reverse('incidents:portal')
        self.client.get(home)  # the session and the person's roles

        def cost():
            return self.count_queries(lambda: self.assertHttpStatus(self.client.get(home), 200))

        one = cost()
        self.assertContains(self.client.get(home), 'within about 3 hours')
        self.ticket(S.ASSIGNED, **LOW)
        self.ticket(S.NEW, **MEDIUM)
        self.ticket(S.PENDING, kind='case')
        predictions_tick()
        self.assertEqual(cost(), one)


class PublicFieldTests(ConversationTestCase):
    def setUp(self):
        super().setUp()
        self.client.force_login(self.agent)

    def form_of(self, ticket, action):
        url = reverse(f'incidents:ticket_{action}', args=[ticket.number])
        return self.client.get(url, headers={'HX-Request': 'true'})

    def test_forms_whose_text_reaches_the_caller_say_so_next_to_the_field(self):
        ticket = self.ticket(S.ACCEPTED)
        pend = self.form_of(ticket, 'pend')
        self.assertHttpStatus(pend, 200)
        self.assertContains(pend, 'id="id_note_public"')
        self.assertContains(pend, 'The caller sees this.', count=2)  # what is awaited, and the note
        complete = self.form_of(ticket, 'complete')
        self.assertContains(complete, 'id="id_resolution_notes_public"')
        self.assertNotContains(self.form_of(ticket, 'escalate'), 'The caller sees this.')
        self.assertNotContains(self.form_of(ticket, 'assign'), 'The caller sees this.')

    def test_declared_public_fields_are_fields_of_the_action_forms(self):
        ticket = self.ticket(S.ACCEPTED)
        declared = [action for action in TICKET_ACTIONS if action.public_fields]
        self.assertEqual({a.name for a in declared}, {'pend', 'complete', 'resume', 'reject'})
        for action in declared:
            with self.subTest(action=action.name):
                form = action.form_class()(record=ticket, user=self.agent)
                self.assertLessEqual(set(action.public_fields), set(form.fields))
