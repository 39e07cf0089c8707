"""Replies reach the agent: the caller's comments resume a ticket waiting on them, tell whoever works it and mark it
"customer replied" in the queues; a rejected resolution marks it "reopened"; the marker stays until someone who
works the ticket opens its page.
"""

import re

import pytest
from django.core import mail
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from incidents import services
from incidents.choices import PendingReason, TicketState
from incidents.models import Ticket
from itsm.audit import Actor
from itsm.choices import Attention, Role, TimelineKind
from itsm.services import record_flag, record_seen
from sla.choices import ClockState
from sla.models import SlaClock
from tests.base import ItsmTestCase
from tests.browser import login, remote_requests, screenshot, switch_person
from tests.factories import make_group_with_agent, make_ticket, make_user
from tests.sla.factories import all_priorities

S = TicketState


def portal_url(ticket, action=''):
    name = f'incidents:portal_{action}' if action else 'incidents:portal_ticket'
    return reverse(name, args=[ticket.number])


class RepliesTestCase(ItsmTestCase):
    def setUp(self):
        self.desk, self.agent = make_group_with_agent(name='Service Desk')
        self.desk.email = 'desk@example.com'
        self.desk.save()
        self.agent.email = 'sam@example.com'
        self.agent.save()
        self.robin = make_user(Role.REQUESTER, username='robin', first_name='Robin', email='robin@example.com')

    def ticket(self, state=S.ACCEPTED, **fields):
        return make_ticket(state=state, caller=self.robin, group=self.desk, agent=self.agent, **fields)

    def reply(self, ticket, body='Here is the screenshot you asked for.'):
        """The caller answers in the portal; returns the messages sent once the reply committed."""
        self.client.force_login(self.robin)
        mail.outbox.clear()
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(portal_url(ticket, 'comment'), {'body': body})
        self.assertHttpStatus(response, 302)
        return list(mail.outbox)

    def reload(self, ticket) -> Ticket:
        return Ticket.objects.get(pk=ticket.pk)


class CustomerReplyTests(RepliesTestCase):
    def test_reply_to_a_ticket_waiting_on_the_customer_resumes_it_and_tells_the_assignee(self):
        all_priorities()
        ticket = self.ticket(S.PENDING)
        self.assertEqual(ticket.pending_reason, PendingReason.CUSTOMER)
        clocks = SlaClock.objects.filter(object_id=ticket.pk)
        self.assertTrue(clocks.filter(state=ClockState.PAUSED).exists())
        before = timezone.now()
        sent = self.reply(ticket)
        ticket = self.reload(ticket)
        self.assertEqual((ticket.state, ticket.pending_reason), (S.ACCEPTED, ''))
        self.assertFalse(clocks.filter(state=ClockState.PAUSED).exists())
        self.assertTrue(clocks.filter(state=ClockState.RUNNING).exists())
        self.assertEqual(ticket.attention, Attention.CUSTOMER_REPLIED)
        self.assertGreaterEqual(ticket.attention_since, before)
        resumed = self.timeline(ticket, TimelineKind.TRANSITION).filter(data__action='resume').get()
        self.assertIsNone(resumed.actor)  # the desk's rule resumed it, not the caller
        self.assertEqual([m.to for m in sent], [['sam@example.com']])
        self.assertIn('Customer replied', sent[0].subject)
        self.assertIn('Here is the screenshot you asked for.', sent[0].body)
        self.assertIn(ticket.get_absolute_url(), sent[0].body)  # the desk's page, not the portal's
        notice = self.timeline(ticket, TimelineKind.NOTIFICATION).get(data__event='customer_replied')
        self.assertFalse(notice.public)

    def test_reply_on_an_open_ticket_marks_it_and_tells_the_assignee_only(self):
        ticket = self.ticket(S.ACCEPTED)
        sent = self.reply(ticket)
        ticket = self.reload(ticket)
        self.assertEqual((ticket.state, ticket.attention), (S.ACCEPTED, Attention.CUSTOMER_REPLIED))
        self.assertEqual([m.to for m in sent], [['sam@example.com']])

    def test_without_an_assignee_the_group_hears_of_it(self):
        ticket = self.ticket(S.ASSIGNED)
        sent = self.reply(ticket)
        self.assertEqual([m.to for m in sent], [['desk@example.com']])
        self.assertEqual(self.reload(ticket).attention, Attention.CUSTOMER_REPLIED)

    def test_waiting_on_a_vendor_stays_on_hold_but_is_marked(self):
        ticket = self.ticket(S.ACCEPTED)
        services.ticket_pend(ticket=ticket, actor=Actor(user=self.agent), reason=PendingReason.VENDOR)
        self.reply(ticket)
        ticket = self.reload(ticket)
        self.assertEqual((ticket.state, ticket.pending_reason), (S.PENDING, PendingReason.VENDOR))
        self.assertEqual(ticket.attention, Attention.CUSTOMER_REPLIED)

    def test_a_second_reply_keeps_since_when_the_ticket_waits(self):
        ticket = self.ticket(S.ACCEPTED)
        self.reply(ticket)
        first = self.reload(ticket).attention_since
        sent = self.reply(ticket, 'And another thing.')
        self.assertEqual(self.reload(ticket).attention_since, first)
        self.assertEqual(len(sent), 1)  # each reply is told

    def test_a_closed_ticket_is_left_alone(self):
        ticket = self.ticket(S.CLOSED)
        services.ticket_comment(ticket=ticket, actor=Actor(user=self.robin), body='Thanks again!')
        self.assertEqual(self.reload(ticket).attention, '')

    def test_a_reply_through_the_api_reaches_the_desk_too(self):
        ticket = self.ticket(S.PENDING)
        with self.captureOnCommitCallbacks(execute=True):
            response = self.api_client(self.robin).post(
                f'/api/v1/incidents/{ticket.number}/comments/', {'body': 'Sent it by mail.'}, format='json'
            )
        self.assertHttpStatus(response, 201)
        ticket = self.reload(ticket)
        self.assertEqual((ticket.state, ticket.attention), (S.ACCEPTED, Attention.CUSTOMER_REPLIED))

    def test_staff_comments_set_no_marker_and_reach_the_caller(self):
        ticket = self.ticket(S.PENDING)
        mail.outbox.clear()
        with self.captureOnCommitCallbacks(execute=True):
            services.ticket_comment(ticket=ticket, actor=Actor(user=self.agent), body='Any news?')
        ticket = self.reload(ticket)
        self.assertEqual((ticket.state, ticket.attention), (S.PENDING, ''))
        self.assertEqual([m.to for m in mail.outbox], [['robin@example.com']])

    def test_an_agent_who_logged_the_ticket_speaks_for_the_desk(self):
        ticket = services.ticket_create(
            actor=Actor(user=self.agent), caller=self.robin, short_description='Phone: VPN drops', channel='phone'
        )
        mail.outbox.clear()
        with self.captureOnCommitCallbacks(execute=True):
            services.ticket_comment(ticket=ticket, actor=Actor(user=self.agent), body='We are on it.')
        self.assertEqual(self.reload(ticket).attention, '')
        self.assertEqual([m.to for m in mail.outbox], [['robin@example.com']])

    def test_work_notes_set_no_marker(self):
        ticket = self.ticket(S.ACCEPTED)
        services.ticket_comment(ticket=ticket, actor=Actor(user=self.agent), body='internal', internal=True)
        self.assertEqual(self.reload(ticket).attention, '')


class ReopenTests(RepliesTestCase):
    def test_rejecting_the_resolution_marks_it_reopened_and_tells_assignee_and_group(self):
        ticket = self.ticket(S.COMPLETED)
        self.client.force_login(self.robin)
        mail.outbox.clear()
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(portal_url(ticket, 'reject'), {'reason': 'The fan is still loud'})
        ticket = self.reload(ticket)
        self.assertEqual((ticket.state, ticket.attention), (S.ACCEPTED, Attention.REOPENED))
        self.assertIsNotNone(ticket.attention_since)
        self.assertEqual([sorted(m.to) for m in mail.outbox], [['desk@example.com', 'sam@example.com']])
        self.assertIn('Reopened', mail.outbox[0].subject)
        self.assertIn('The fan is still loud', mail.outbox[0].body)
        reopening = self.timeline(ticket, TimelineKind.TRANSITION).get(data__action='reject')
        self.assertIn('attention', {change['field'] for change in reopening.changes})  # the history says so

    def test_a_reopening_outranks_a_reply_and_a_reply_does_not_hide_it(self):
        ticket = self.ticket(S.ACCEPTED)
        record_flag(ticket, Attention.CUSTOMER_REPLIED)
        since = ticket.attention_since
        record_flag(ticket, Attention.REOPENED)
        record_flag(ticket, Attention.CUSTOMER_REPLIED)
        ticket = self.reload(ticket)
        self.assertEqual((ticket.attention, ticket.attention_since), (Attention.REOPENED, since))


class SeenTests(RepliesTestCase):
    def test_the_agent_opening_the_page_clears_the_marker_once(self):
        ticket = self.ticket(S.ACCEPTED)
        self.reply(ticket)
        self.client.force_login(self.agent)
        first = self.client.get(ticket.get_absolute_url())
        self.assertHttpStatus(first, 200)
        badge = 'pc-attention" title="Customer replied'
        self.assertContains(first, badge)  # this page still says why it was marked
        self.assertEqual(self.reload(ticket).attention, '')
        self.assertIsNone(self.reload(ticket).attention_since)
        self.assertNotIn('pc-attention', self.client.get(ticket.get_absolute_url()).content.decode())

    def test_readers_who_do_not_work_tickets_leave_the_marker(self):
        ticket = self.ticket(S.ACCEPTED)
        self.reply(ticket)
        self.client.force_login(make_user(Role.MANAGER))
        page = self.client.get(ticket.get_absolute_url())
        self.assertHttpStatus(page, 200)
        self.assertContains(page, 'message-circle-exclamation me-1" aria-hidden="true"></i>Customer replied')
        self.assertEqual(self.reload(ticket).attention, Attention.CUSTOMER_REPLIED)

    def test_record_seen_costs_one_update_and_nothing_without_a_marker(self):
        ticket = self.ticket(S.ACCEPTED)
        self.agent.has_role(Role.SERVICE_DESK_AGENT)  # roles read once per request, as pages do
        with self.assertNumQueries(0):
            self.assertIsNone(record_seen(ticket, self.agent))
        record_flag(ticket, Attention.REOPENED)
        with self.assertNumQueries(1):
            seen = record_seen(ticket, self.agent)
        self.assertEqual((seen['attention'], seen['label']), ('reopened', 'Reopened'))
        self.assertEqual(ticket.attention, '')
        self.assertEqual(self.reload(ticket).attention, '')


class QueueMarkerTests(RepliesTestCase):
    def setUp(self):
        super().setUp()
        self.client.force_login(self.agent)

    def marked(self, n, attention=Attention.CUSTOMER_REPLIED):
        tickets = [self.ticket(S.ACCEPTED, short_description=f'Marked {i}') for i in range(n)]
        for ticket in tickets:
            record_flag(ticket, attention)
        return tickets

    def test_lists_show_the_marker_and_filter_by_it(self):
        replied = self.marked(1)[0]
        reopened = self.marked(1, Attention.REOPENED)[0]
        quiet = self.ticket(S.ACCEPTED, short_description='Nothing new here')
        page = self.client.get(reverse('incidents:incident_list'))
        self.assertContains(page, 'Customer replied', count=1)
        self.assertContains(page, 'Reopened', count=1)
        for url in (reverse('incidents:incident_list'), reverse('incidents:queue') + '?q=all'):
            with self.subTest(url=url):
                joiner = '&' if '?' in url else '?'
                page = self.client.get(f'{url}{joiner}attention=customer_replied')
                self.assertHttpStatus(page, 200)
                numbers = {t.number for t in page.context['object_list']}
                self.assertEqual(numbers, {replied.number})
        self.assertNotEqual(quiet.number, reopened.number)
        api = self.api_client(self.agent).get('/api/v1/incidents/', {'attention': 'reopened'})
        self.assertHttpStatus(api, 200)
        self.assertEqual([row['number'] for row in api.data['results']], [reopened.number])
        self.assertHttpStatus(self.api_client(self.agent).get('/api/v1/incidents/', {'attention': 'bogus'}), 400)

    def test_the_filtered_queue_costs_the_same_whatever_its_length(self):
        url = reverse('incidents:queue') + '?q=all&attention=customer_replied'
        self.marked(1)
        self.client.get(url)  # warm caches (content types, roles)
        one = self.count_queries(lambda: self.client.get(url))
        self.marked(4)
        five = self.count_queries(lambda: self.client.get(url))
        self.assertEqual(one, five)


class MarkerWithoutPagesTests(TestCase):
    def test_record_flag_and_seen_work_on_any_process_record(self):
        group, agent = make_group_with_agent(name='Desk')
        ticket = make_ticket(state=S.ACCEPTED, group=group, agent=agent)
        record_flag(ticket, Attention.CUSTOMER_REPLIED)
        self.assertIsNone(record_seen(ticket, ticket.caller))  # requesters do not clear it
        self.assertEqual(Ticket.objects.get(pk=ticket.pk).attention, Attention.CUSTOMER_REPLIED)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_reply_in_the_portal_shows_in_the_agents_queue_until_the_agent_opens_it(live_server, page):
    desk, sam = make_group_with_agent(name='Service Desk')
    robin = make_user(Role.REQUESTER, username='robin', first_name='Robin', last_name='Reed')
    ticket = make_ticket(state=S.PENDING, caller=robin, group=desk, agent=sam, short_description='VPN drops every hour')
    make_ticket(state=S.ACCEPTED, group=desk, agent=sam, short_description='Printer jammed')  # nothing new on it

    # The requester answers the desk's question in the portal.
    login(page, live_server, 'robin', 'pitcrew-test-pw')
    page.goto(f'{live_server.url}/portal/{ticket.number}/')
    expect_text = page.locator('.pc-portal .card-body p.mb-3')
    assert expect_text.inner_text() == 'Waiting for your reply.'
    page.get_by_label('Add a comment').fill('It drops at 10:00 sharp; error 809.')
    page.get_by_role('button', name='Send comment').click()
    page.wait_for_url(re.compile(f'/portal/{ticket.number}/$'))
    assert expect_text.inner_text() == 'Back with the desk: we have your reply.'
    mine = page.locator('#portal-conversation .pc-convo-mine')
    assert 'It drops at 10:00 sharp; error 809.' in mine.last.inner_text()
    screenshot(page, 'portal-reply-back-with-desk')

    # The agent's queue marks the ticket, and only that one, until the agent opens it.
    switch_person(page, live_server, sam.username, 'pitcrew-test-pw')
    page.goto(f'{live_server.url}/queues/?q=mine')
    row = page.locator('#object-table tbody tr', has_text=ticket.number)
    assert 'Customer replied' in row.inner_text()
    assert page.locator('#object-table tbody tr', has_text='Printer jammed').inner_text().count('Customer') == 0
    page.goto(f'{live_server.url}/queues/?q=mine&attention=customer_replied')
    assert page.locator('#object-table tbody tr').count() == 1
    screenshot(page, 'queue-customer-replied')
    page.locator('#object-table tbody tr').get_by_role('link', name=ticket.number, exact=True).click()
    header = page.locator('#ticket-header')
    header.wait_for()
    assert 'Customer replied' in header.inner_text()  # this first look still says why it was marked
    assert 'Accepted' in header.inner_text()  # resumed by the reply
    page.goto(f'{live_server.url}/queues/?q=mine')
    row = page.locator('#object-table tbody tr', has_text=ticket.number)
    assert 'Customer replied' not in row.inner_text()
    assert Ticket.objects.get(pk=ticket.pk).attention == ''
    assert remote_requests(page) == []


class AttentionInTheApiAndTheFilterBarTests(ItsmTestCase):
    def test_the_api_shows_the_marker_and_the_filter_bar_counts_it_as_a_filter(self):
        ticket = make_ticket()
        Ticket.objects.filter(pk=ticket.pk).update(attention=Attention.CUSTOMER_REPLIED, attention_since=timezone.now())
        agent = make_user(Role.SERVICE_DESK_AGENT)
        body = self.api_client(agent).get(f'/api/v1/incidents/{ticket.number}/').json()
        self.assertEqual(body['attention'], 'customer_replied')
        self.assertIsNotNone(body['attention_since'])
        self.client.force_login(agent)
        page = self.client.get('/incidents/', {'attention': 'customer_replied'})
        self.assertContains(page, '>Clear</a>')
